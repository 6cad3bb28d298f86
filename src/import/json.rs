//! JSON input: JSON Lines (one object per line) and Django's `dumpdata` array, which is
//! streamed element by element through a serde visitor rather than read whole.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::lines::{Line, Lines, MAX_LINE_BYTES};
use super::options::{ImportOptions, Role};
use super::report::{Reason, Rejection};
use super::source::{Item, RawRow, Sink, io_error};
use crate::{Error, Result};

/// Reads one JSON object per line; blank lines are skipped.
pub(crate) fn read_lines(
    input: impl BufRead,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut lines = Lines::new(input);
    while let Some(line) = lines.next_line().map_err(io_error)? {
        let number = line.number();
        let item = match line {
            Line::TooLong { .. } => Item::Rejected(Rejection::new(
                number,
                Reason::LineTooLong,
                format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            )),
            Line::Text { bytes, .. } if bytes.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Text { bytes, .. } => parse_line(number, &bytes, options),
        };
        if !sink(item) {
            break;
        }
    }
    Ok(())
}

fn parse_line(line: u64, bytes: &[u8], options: &ImportOptions) -> Item {
    let reject = |reason, message: String| Item::Rejected(Rejection::new(line, reason, message));
    let Ok(text) = std::str::from_utf8(bytes) else {
        return reject(
            Reason::InvalidUtf8,
            "the line is not valid UTF-8 (export as UTF-8)".into(),
        );
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => to_row(RawRow::new(line, None), &object, options),
        Ok(_) => reject(
            Reason::MalformedJson,
            "the line is not a JSON object".into(),
        ),
        // The position only: serde_json's messages may quote the input.
        Err(e) => reject(
            Reason::MalformedJson,
            format!("malformed JSON at column {}", e.column()),
        ),
    }
}

/// Picks each role's field out of a JSON object: the first of its names that is present
/// and not null (a boolean column's `null`, when that is all there is, as empty text). Strings are taken as they are, numbers and booleans as their JSON text.
/// A key named with a column flag must be present (`null` counts, as no value): without
/// it a misspelt `--disabled-column` would import every account as enabled.
fn to_row(mut row: RawRow, object: &Map<String, Value>, options: &ImportOptions) -> Item {
    for role in Role::ALL {
        let (names, explicit) = options.columns.candidates(role, options.format);
        if explicit && let Some(name) = names.iter().find(|name| !object.contains_key(*name)) {
            let message = format!("the record has no `{name}` key (named by {})", role.flag());
            return Item::Rejected(row.reject(Reason::MissingField, message));
        }
        let found = names
            .iter()
            .find_map(|name| object.get(name).filter(|v| !v.is_null()).map(|v| (name, v)))
            // A boolean column's `null` is kept, as no text: what it means is the user's to say.
            .or_else(|| {
                let present = |name: &&String| object.contains_key(*name);
                let name = names.iter().find(present).filter(|_| role.is_flag())?;
                Some((name, &Value::Null))
            });
        let Some((name, value)) = found else {
            continue;
        };
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                let message = format!("field `{name}` must be a string, number or boolean");
                return Item::Rejected(row.reject(Reason::MalformedJson, message));
            }
        };
        if role.is_flag() {
            row.set_from(role, &Arc::from(name.as_str()), text);
        } else {
            row.set(role, text);
        }
    }
    // With both `is_active` and `disabled` present, Django's `is_active` wins.
    if row.get(Role::Active).is_some() {
        row.clear(Role::Disabled);
    }
    Item::Row(row)
}

/// Streams a Django `dumpdata` array: each `{"model", "pk", "fields": {…}}` becomes a row
/// whose fields are `fields` plus `pk`. A JSON syntax error ends the import, since nothing
/// after it can be located.
pub(crate) fn read_django(
    input: impl BufRead,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let newlines = Rc::new(Cell::new(0));
    let reader = NewlineCounting {
        inner: input,
        newlines: newlines.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let stopped = Cell::new(false);
    let visitor = Records {
        newlines: &newlines,
        options,
        sink,
        stopped: &stopped,
    };
    let result = de::Deserializer::deserialize_seq(&mut de, visitor).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(_) if stopped.get() => Ok(()),
        Err(e) if e.is_io() => Err(io_error(e.into())),
        Err(e) if e.is_data() => Err(Error::config(
            "a Django dumpdata file is a JSON array of records (dumpdata auth.user)",
        )),
        Err(e) => Err(Error::config(format!(
            "malformed JSON at line {}, column {}: the rest of the Django dumpdata file \
             cannot be read",
            e.line(),
            e.column()
        ))),
    }
}

/// Counts the newlines read through it: the line a record starts on.
pub(crate) struct NewlineCounting<R> {
    pub(crate) inner: R,
    pub(crate) newlines: Rc<Cell<u64>>,
}

impl<R: Read> Read for NewlineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.newlines.set(self.newlines.get() + newlines);
        Ok(n)
    }
}

struct Records<'a, 's> {
    newlines: &'a Cell<u64>,
    options: &'a ImportOptions,
    sink: &'a mut Sink<'s>,
    stopped: &'a Cell<bool>,
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of Django dumpdata records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut index = 0;
        while let Some((line, value)) = seq.next_element_seed(Element(self.newlines))? {
            index += 1;
            let row = RawRow::new(line, Some(index));
            let item = match value {
                Value::Object(mut record) => match record.remove("fields") {
                    Some(Value::Object(mut fields)) => {
                        if let Some(pk) = record.remove("pk") {
                            fields.entry("pk").or_insert(pk);
                        }
                        to_row(row, &fields, self.options)
                    }
                    _ => Item::Rejected(
                        row.reject(Reason::MalformedJson, "the record has no `fields` object"),
                    ),
                },
                _ => {
                    Item::Rejected(row.reject(Reason::MalformedJson, "the record is not an object"))
                }
            };
            if !(self.sink)(item) {
                self.stopped.set(true);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// One array element with the line it starts on: when serde_json hands over an element, it
/// has consumed the whitespace before it and exactly its first byte.
pub(crate) struct Element<'a>(pub(crate) &'a Cell<u64>);

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = (u64, Value);

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        let line = self.0.get() + 1;
        Ok((line, de::Deserialize::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::options::Format;
    use crate::passwords::Dialect;

    fn read(format: Format, input: &str) -> Result<Vec<Item>> {
        read_with(ImportOptions::new(format, Dialect::Django), input)
    }

    fn read_with(options: ImportOptions, input: &str) -> Result<Vec<Item>> {
        let format = options.format;
        let mut items = Vec::new();
        let mut sink = |item| {
            items.push(item);
            true
        };
        match format {
            Format::Django => read_django(input.as_bytes(), &options, &mut sink)?,
            _ => read_lines(input.as_bytes(), &options, &mut sink)?,
        }
        Ok(items)
    }

    fn row(item: &Item) -> &RawRow {
        match item {
            Item::Row(row) => row,
            Item::Rejected(r) => panic!("rejected: {r:?}"),
        }
    }

    #[test]
    fn django_records_stream_with_their_lines() {
        let input = r#"[
  {"model": "auth.user", "pk": 1, "fields": {"username": "kim", "email": "",
   "password": "pbkdf2_sha256$1$s$h", "is_active": true}},
  "not a record",
  {"model": "auth.user", "pk": 2, "fields": {"username": "lee", "is_active": false}}
]"#;
        let items = read(Format::Django, input).unwrap();
        assert_eq!(items.len(), 3);
        let first = row(&items[0]);
        assert_eq!((first.line, first.record), (2, Some(1)));
        assert_eq!(first.get(Role::Id), Some("1"));
        assert_eq!(first.get(Role::Email), Some(""));
        assert_eq!(first.get(Role::Active), Some("true"));
        assert!(matches!(&items[1], Item::Rejected(r) if r.line == 4 && r.record == Some(2)));
        let third = row(&items[2]);
        assert_eq!((third.line, third.get(Role::Username)), (5, Some("lee")));
        assert_eq!(third.get(Role::Password), None);
    }

    #[test]
    fn broken_django_json_stops_with_its_position() {
        let err = read(Format::Django, "[\n{\"pk\": 1,\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        let err = read(Format::Django, "{\"pk\": 1}").unwrap_err().to_string();
        assert!(err.contains("JSON array"), "{err}");
    }

    #[test]
    fn json_lines_take_scalars_and_refuse_the_rest() {
        let input = "{\"id\": 7, \"username\": \"kim\", \"password_hash\": \"x\"}\n\n\
                     {\"id\": [1]}\nnot json\n\"string\"\n";
        let items = read(Format::Jsonl, input).unwrap();
        let first = row(&items[0]);
        assert_eq!(first.get(Role::Id), Some("7"));
        assert_eq!(first.get(Role::Password), Some("x"));
        let refused: Vec<u64> = items[1..]
            .iter()
            .map(|i| match i {
                Item::Rejected(r) => r.line,
                Item::Row(_) => 0,
            })
            .collect();
        assert_eq!(refused, [3, 4, 5]);
    }

    #[test]
    fn a_key_named_by_a_flag_must_be_in_every_record() {
        use crate::import::options::Columns;
        let options = |format| ImportOptions {
            columns: Columns {
                disabled: Some("banned".into()),
                email: Some("mail".into()),
                ..Columns::default()
            },
            ..ImportOptions::new(format, Dialect::Django)
        };
        let lines = "{\"id\": 1, \"username\": \"kim\", \"mail\": null, \"banned\": true}\n\
                     {\"id\": 2, \"username\": \"lee\", \"mail\": \"l@x.org\", \"banend\": true}\n\
                     {\"id\": 3, \"username\": \"ann\", \"banned\": false}\n";
        let items = read_with(options(Format::Jsonl), lines).unwrap();
        let kim = row(&items[0]);
        assert_eq!(
            (kim.get(Role::Disabled), kim.get(Role::Email)),
            (Some("true"), None)
        );
        for (item, key) in items[1..].iter().zip(["banned", "mail"]) {
            let Item::Rejected(r) = item else {
                panic!("accepted without `{key}`");
            };
            assert_eq!(r.reason, Reason::MissingField);
            assert!(r.message.contains(&format!("`{key}`")), "{}", r.message);
        }

        let django = r#"[{"model": "auth.user", "pk": 1, "fields": {"username": "kim", "mail": "", "is_active": false}}]"#;
        let items = read_with(options(Format::Django), django).unwrap();
        assert!(
            matches!(&items[0], Item::Rejected(r) if r.reason == Reason::MissingField && r.message.contains("--disabled-column")),
            "{items:?}"
        );
        // Keys left at their defaults may be absent: that is what the defaults are for.
        let items = read(Format::Jsonl, "{\"id\": 4, \"username\": \"bo\"}\n").unwrap();
        assert_eq!(row(&items[0]).get(Role::Disabled), None);
    }
}

//! `mysql --batch` output, which is what the `mysql` client prints when its output is not a
//! terminal: a header line of column names, then one line per row, fields split on tabs and
//! nothing quoted. In values the client escapes the four bytes that would break that layout
//! (`\\`, `\t`, `\n`, `\0`) and prints SQL NULL as `NULL`; column names it prints as they are.

use std::io::BufRead;

use super::csv::{Table, read_table};
use super::framing::{Record, too_long};
use super::lines::{Line, Lines};
use super::options::ImportOptions;
use super::report::{Reason, Rejection};
use super::source::Sink;
use crate::Result;

/// Reads the header line and then every row, handing each to `sink`.
pub(crate) fn read(
    input: impl BufRead,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    read_table(BatchLines::new(input), options, sink)
}

/// The lines of `mysql --batch` output as records.
struct BatchLines<R> {
    lines: Lines<R>,
    /// The header's field count, once read.
    width: Option<usize>,
    /// The file's lines end in `\r\n`: a copy that went through a Windows tool.
    crlf: bool,
}

impl<R: BufRead> BatchLines<R> {
    fn new(input: R) -> BatchLines<R> {
        BatchLines {
            // The client ends lines with `\n` and leaves a `\r` in a value as it is.
            lines: Lines::keeping_cr(input),
            width: None,
            crlf: false,
        }
    }

    /// The next line that is not empty (a trailing blank line, say), without its `\r\n`
    /// in a file whose lines end so.
    fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            match self.lines.next_line()? {
                Some(Line::Text { number, mut bytes }) => {
                    if self.crlf && bytes.last() == Some(&b'\r') {
                        bytes.pop();
                    }
                    if !bytes.is_empty() {
                        return Ok(Some(Line::Text { number, bytes }));
                    }
                }
                other => return Ok(other),
            }
        }
    }
}

impl<R: BufRead> Table for BatchLines<R> {
    const NAME: &'static str = "mysql --batch";
    const EMPTY: &'static str = "the mysql --batch file is empty: it needs the header line \
                                 of column names (mysql prints none for a query that \
                                 returns no rows, nor with --skip-column-names)";

    fn header(&mut self) -> std::io::Result<Option<Record>> {
        let (number, mut bytes) = match self.next_line()? {
            None => return Ok(None),
            Some(Line::TooLong { number }) => return Ok(Some(Err(too_long(number)))),
            Some(Line::Text { number, bytes }) => (number, bytes),
        };
        // No column name ends in `\r`: a header that does was converted to `\r\n` line ends,
        // and every line loses its `\r`.
        if bytes.last() == Some(&b'\r') {
            self.crlf = true;
            bytes.pop();
        }
        let names = bytes.split(|&b| b == b'\t').map(<[u8]>::to_vec).collect();
        Ok(Some(utf8(number, names)))
    }

    fn expect_width(&mut self, width: usize) {
        self.width = Some(width);
    }

    fn next(&mut self) -> std::io::Result<Option<Record>> {
        let (number, bytes) = match self.next_line()? {
            None => return Ok(None),
            Some(Line::TooLong { number }) => return Ok(Some(Err(too_long(number)))),
            Some(Line::Text { number, bytes }) => (number, bytes),
        };
        let reject = |message| Err(Rejection::new(number, Reason::MalformedMysqlBatch, message));
        let fields = bytes.split(|&b| b == b'\t');
        let count = fields.clone().count();
        if let Some(width) = self.width
            && count != width
        {
            let message = format!("{count} fields where the header has {width}");
            return Ok(Some(reject(message)));
        }
        Ok(Some(match fields.map(unescape).collect() {
            Ok(fields) => utf8(number, fields),
            Err(message) => reject(message),
        }))
    }
}

/// A field's value, its escapes decoded as the mysql client writes them.
fn unescape(field: &[u8]) -> Result<Vec<u8>, String> {
    let mut value = Vec::with_capacity(field.len());
    let mut bytes = field.iter();
    while let Some(&byte) = bytes.next() {
        if byte != b'\\' {
            value.push(byte);
            continue;
        }
        value.push(match bytes.next() {
            Some(b'\\') => b'\\',
            Some(b't') => b'\t',
            Some(b'n') => b'\n',
            Some(b'0') => 0,
            other => {
                let what = match other {
                    None => "a field ends in a lone `\\`".to_string(),
                    Some(&c) if c.is_ascii_graphic() => format!("`\\{}`", char::from(c)),
                    Some(&c) => format!("`\\` followed by byte 0x{c:02x}"),
                };
                return Err(format!(
                    "{what}, which mysql --batch never writes (it escapes only `\\\\`, `\\t`, \
                     `\\n` and `\\0`): a file written with --raw, or by another tool, cannot \
                     be read exactly"
                ));
            }
        });
    }
    Ok(value)
}

fn utf8(line: u64, fields: Vec<Vec<u8>>) -> Record {
    let fields: Result<Vec<String>, _> = fields.into_iter().map(String::from_utf8).collect();
    fields.map(|f| (line, f)).map_err(|_| {
        Rejection::new(
            line,
            Reason::InvalidUtf8,
            "the line is not valid UTF-8 (export with mysql --default-character-set=utf8mb4)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::options::{Format, Role};
    use crate::import::source::{Item, RawRow};
    use crate::passwords::Dialect;

    fn value(field: &str) -> Result<String, String> {
        unescape(field.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn values_are_unescaped_as_the_client_escapes_them() {
        assert_eq!(value(r"a\tb\nc\\d\0e").unwrap(), "a\tb\nc\\d\0e");
        assert_eq!(
            value(r#"Kim "The Admin" Lee"#).unwrap(),
            r#"Kim "The Admin" Lee"#
        );
        assert_eq!(value(r"\\t").unwrap(), r"\t");
        assert_eq!(value("NULL").unwrap(), "NULL");
        assert_eq!(value("").unwrap(), "");
        assert_eq!(value("é\r").unwrap(), "é\r");
        for bad in [r"a\rb", r"a\", r"\N", "\\\u{e9}"] {
            let err = value(bad).unwrap_err();
            assert!(err.contains("never writes"), "{bad}: {err}");
        }
        assert!(value(r"a\").unwrap_err().contains("lone"));
        assert!(value(r"\N").unwrap_err().contains(r"`\N`"));
    }

    /// A record's line and fields, or the line and reason of its refusal.
    type Got = Result<(u64, Vec<String>), (u64, Reason)>;

    #[test]
    fn every_ascii_byte_the_client_wrote_comes_back() {
        // `SELECT n, value` of a table holding each byte 0–127 alone, as mysql --batch
        // printed it (tests/fixtures/README.md).
        let file = include_bytes!("../../tests/fixtures/import/bytes-mysql-batch.tsv");
        let got = records(file);
        assert_eq!(got.len(), 129);
        for (n, record) in got[1..].iter().enumerate() {
            let (line, fields) = record.as_ref().unwrap();
            assert_eq!(*line, n as u64 + 2);
            assert_eq!(fields[0], n.to_string());
            assert_eq!(fields[1].as_bytes(), [n as u8], "byte {n}");
        }
    }

    fn records(input: &[u8]) -> Vec<Got> {
        let mut table = BatchLines::new(input);
        let (_, header) = table.header().unwrap().unwrap().unwrap();
        table.expect_width(header.len());
        let mut all = vec![Ok((1, header))];
        while let Some(record) = table.next().unwrap() {
            all.push(record.map_err(|r| (r.line, r.reason)));
        }
        all
    }

    fn fields(line: u64, fields: &[&str]) -> Got {
        Ok((line, fields.iter().map(|f| f.to_string()).collect()))
    }

    #[test]
    fn lines_are_split_on_tabs_only_and_keep_their_numbers() {
        let input = b"id\tuser\\name\tnote\n1\tkim\t\"quoted\", with a comma\n\n\
                      2\tlee\tends in CR\r\n3\tonly two\n4\ta\tb\\x\n5\tbo\t\xff\n";
        assert_eq!(
            records(input),
            [
                fields(1, &["id", "user\\name", "note"]),
                fields(2, &["1", "kim", "\"quoted\", with a comma"]),
                fields(4, &["2", "lee", "ends in CR\r"]),
                Err((5, Reason::MalformedMysqlBatch)),
                Err((6, Reason::MalformedMysqlBatch)),
                Err((7, Reason::InvalidUtf8)),
            ]
        );
    }

    #[test]
    fn a_file_with_crlf_line_ends_loses_them() {
        let input = b"id\tname\r\n1\tkim\r\n2\tcr\r\r\n";
        assert_eq!(
            records(input),
            [
                fields(1, &["id", "name"]),
                fields(2, &["1", "kim"]),
                fields(3, &["2", "cr\r"]),
            ]
        );
    }

    #[test]
    fn a_wrong_field_count_says_so() {
        let mut table = BatchLines::new(&b"a\tb\n1\t2\t3\n"[..]);
        table.header().unwrap();
        table.expect_width(2);
        let refused = table.next().unwrap().unwrap().unwrap_err();
        assert_eq!(
            (refused.line, refused.reason),
            (2, Reason::MalformedMysqlBatch)
        );
        assert_eq!(refused.message, "3 fields where the header has 2");
    }

    #[test]
    fn null_is_absent_only_where_no_value_can_be_the_text() {
        let options = ImportOptions::new(Format::MysqlBatch, Dialect::Werkzeug);
        assert_eq!(options.nulls.text.as_deref(), Some("NULL"), "booleans");
        let input = "id\tusername\temail\tpassword\tis_active\tcreated_at\n\
                     NULL\tNULL\tNULL\tNULL\tNULL\tNULL\n";
        let mut rows: Vec<RawRow> = Vec::new();
        read(input.as_bytes(), &options, &mut |item| {
            match item {
                Item::Row(row) => rows.push(row),
                Item::Rejected(r) => panic!("rejected: {r:?}"),
            }
            true
        })
        .unwrap();
        let row = &rows[0];
        for role in [Role::Id, Role::Username, Role::Password, Role::Active] {
            assert_eq!(row.get(role), Some("NULL"), "{role:?}");
        }
        for role in [Role::Email, Role::Created] {
            assert_eq!(row.get(role), None, "{role:?}");
        }
    }
}

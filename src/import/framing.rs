//! CSV records as RFC 4180 defines them and PostgreSQL's `csv` format writes them. Records
//! are framed by quote parity over physical lines, so a quoted field may span lines, yet a
//! stray or unclosed `"` costs only its own line: the lines after it are read again as
//! records of their own. Quoting is checked strictly, never guessed.

use std::collections::VecDeque;
use std::io::BufRead;

use super::csv::Table;
use super::lines::{Line, Lines, MAX_LINE_BYTES};
use super::report::{Reason, Rejection};

/// Most physical lines one quoted record may span before its quote counts as unclosed.
const MAX_RECORD_LINES: usize = 100;

/// A record's first line and fields, or why it cannot be read.
pub(crate) type Record = Result<(u64, Vec<String>), Rejection>;

/// Frames physical lines into records.
pub(crate) struct Records<R> {
    lines: Lines<R>,
    /// Lines taken while looking for a closing quote that turned out not to belong to the
    /// record; they are read again.
    replay: VecDeque<Line>,
    delimiter: u8,
    /// The header's field count, once read.
    width: Option<usize>,
}

impl<R: BufRead> Records<R> {
    pub(crate) fn new(input: R, delimiter: u8) -> Records<R> {
        Records {
            lines: Lines::new(input),
            replay: VecDeque::new(),
            delimiter,
            width: None,
        }
    }

    fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        match self.replay.pop_front() {
            Some(line) => Ok(Some(line)),
            None => self.lines.next_line(),
        }
    }

    fn give_back(&mut self, lines: Vec<Line>) {
        for line in lines.into_iter().rev() {
            self.replay.push_front(line);
        }
    }

    /// The next record (its first line and fields), a refusal, or `None` at the end.
    fn record(&mut self) -> std::io::Result<Option<Record>> {
        let (line, mut bytes) = loop {
            match self.next_line()? {
                None => return Ok(None),
                Some(Line::TooLong { number }) => return Ok(Some(Err(too_long(number)))),
                Some(Line::Text { bytes, .. }) if bytes.is_empty() => continue,
                Some(Line::Text { number, bytes }) => break (number, bytes),
            }
        };
        let mut open = odd_quotes(&bytes);
        let mut more = Vec::new();
        let mut size = bytes.len();
        while open && more.len() < MAX_RECORD_LINES && size < MAX_LINE_BYTES {
            match self.next_line()? {
                Some(Line::Text {
                    number,
                    bytes: next,
                }) => {
                    open ^= odd_quotes(&next);
                    size += next.len() + 1;
                    more.push(Line::Text {
                        number,
                        bytes: next,
                    });
                }
                Some(too_long) => {
                    more.push(too_long);
                    break;
                }
                None => break,
            }
        }
        let reject = |message: String| Rejection::new(line, Reason::MalformedCsv, message);
        if open {
            self.give_back(more);
            return Ok(Some(Err(reject(
                "a quoted field is never closed (unbalanced `\"`)".into(),
            ))));
        }
        for next in &more {
            if let Line::Text { bytes: next, .. } = next {
                bytes.push(b'\n');
                bytes.extend_from_slice(next);
            }
        }
        let fields = match split(&bytes, self.delimiter) {
            Ok(fields) => fields,
            Err(problem) => {
                self.give_back(more);
                return Ok(Some(Err(reject(problem.into()))));
            }
        };
        if let Some(width) = self.width
            && fields.len() != width
        {
            // A record spanning lines with the wrong width most likely started at a
            // stray quote: only its first line is refused.
            self.give_back(more);
            return Ok(Some(Err(reject(format!(
                "{} fields where the header has {width}",
                fields.len()
            )))));
        }
        let fields: Result<Vec<String>, _> = fields.into_iter().map(String::from_utf8).collect();
        Ok(Some(fields.map(|f| (line, f)).map_err(|_| {
            Rejection::new(
                line,
                Reason::InvalidUtf8,
                "the record is not valid UTF-8 (export the table as UTF-8)",
            )
        })))
    }
}

impl<R: BufRead> Table for Records<R> {
    const NAME: &'static str = "CSV";
    const EMPTY: &'static str = "the CSV file is empty: it needs a header row";

    fn header(&mut self) -> std::io::Result<Option<Record>> {
        self.record()
    }

    fn expect_width(&mut self, width: usize) {
        self.width = Some(width);
    }

    fn next(&mut self) -> std::io::Result<Option<Record>> {
        self.record()
    }
}

/// The refusal of a line over [`MAX_LINE_BYTES`].
pub(crate) fn too_long(line: u64) -> Rejection {
    Rejection::new(
        line,
        Reason::LineTooLong,
        format!("the line is longer than {MAX_LINE_BYTES} bytes"),
    )
}

fn odd_quotes(bytes: &[u8]) -> bool {
    bytes.iter().filter(|&&b| b == b'"').count() % 2 == 1
}

/// Splits one record into fields: unquoted fields hold no `"`; quoted ones double every `"`
/// inside and end right before a delimiter or the end of the record.
fn split(record: &[u8], delimiter: u8) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        if record.get(i) == Some(&b'"') {
            let mut field = Vec::new();
            i += 1;
            loop {
                match record.get(i) {
                    None => return Err("a quoted field is never closed (unbalanced `\"`)"),
                    Some(b'"') if record.get(i + 1) == Some(&b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        field.push(b);
                        i += 1;
                    }
                }
            }
            if i < record.len() && record[i] != delimiter {
                return Err("text follows a closing quote (a `\"` inside a field must be doubled)");
            }
            fields.push(field);
        } else {
            let end = record[i..]
                .iter()
                .position(|&b| b == delimiter)
                .map_or(record.len(), |p| i + p);
            if record[i..end].contains(&b'"') {
                return Err(
                    "a `\"` inside an unquoted field (quote the field and double the `\"`)",
                );
            }
            fields.push(record[i..end].to_vec());
            i = end;
        }
        if i >= record.len() {
            return Ok(fields);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(record: &str) -> Vec<String> {
        split(record.as_bytes(), b',')
            .unwrap()
            .into_iter()
            .map(|f| String::from_utf8(f).unwrap())
            .collect()
    }

    #[test]
    fn fields_follow_rfc_4180() {
        assert_eq!(fields("1,kim,,x"), ["1", "kim", "", "x"]);
        assert_eq!(fields(r#"1,"a ""b"", c",x"#), ["1", r#"a "b", c"#, "x"]);
        assert_eq!(fields("\"\",a,"), ["", "a", ""]);
        assert_eq!(fields("\"multi\nline\""), ["multi\nline"]);
        for bad in [r#"1,"abc"def,x"#, r#"1,ab"c,x"#, r#"1,"abc"#] {
            assert!(split(bad.as_bytes(), b',').is_err(), "{bad}");
        }
    }

    fn records(input: &[u8], width: usize) -> Vec<Result<(u64, Vec<String>), u64>> {
        let mut records = Records {
            lines: Lines::new(input),
            replay: VecDeque::new(),
            delimiter: b',',
            width: Some(width),
        };
        std::iter::from_fn(|| records.next().unwrap())
            .map(|r| r.map_err(|rejection| rejection.line))
            .collect()
    }

    #[test]
    fn a_stray_quote_costs_only_its_own_line() {
        let input = b"1,a,b\n2,\"oops,c\n3,d,e\n4,\"two\nlines\",f\n5,g,h\n";
        let got = records(input, 3);
        assert_eq!(got[0], Ok((1, vec!["1".into(), "a".into(), "b".into()])));
        assert_eq!(got[1], Err(2));
        assert_eq!(got[2], Ok((3, vec!["3".into(), "d".into(), "e".into()])));
        assert_eq!(
            got[3],
            Ok((4, vec!["4".into(), "two\nlines".into(), "f".into()]))
        );
        assert_eq!(got[4], Ok((6, vec!["5".into(), "g".into(), "h".into()])));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn two_stray_quotes_do_not_swallow_the_lines_between() {
        let got = records(b"1,\"a,b\n2,c,d\n3,e\",f,g\n4,g,h\n", 3);
        let lines: Vec<_> = got.iter().map(|r| r.clone().map(|(l, _)| l)).collect();
        assert_eq!(lines, [Err(1), Ok(2), Err(3), Ok(4)]);
    }

    #[test]
    fn wrong_widths_and_encodings_are_refused_per_record() {
        let got = records(b"1,a\n2,b,c\n3,\xff\n", 2);
        assert_eq!(got[0], Ok((1, vec!["1".into(), "a".into()])));
        assert_eq!(got[1], Err(2));
        assert_eq!(got[2], Err(3));
        assert_eq!(got.len(), 3, "{got:?}");
    }
}

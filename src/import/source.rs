//! Opening the input and turning it, streamed, into rows: one [`RawRow`] per record with the
//! text of each field firegate uses, or a [`Rejection`] when the record cannot be read.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::database::{self, DatabaseQuery};
use super::lines::Counting;
use super::options::{Format, ImportOptions, Role};
use super::report::{Reason, Rejection};
use super::{batch, csv, json};
use crate::{Error, Result};

/// Where the rows come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file; `--strict` reads it twice.
    File(PathBuf),
    /// Standard input, read once.
    Stdin,
    /// A query in the legacy database; `--strict` runs it twice.
    Database(DatabaseQuery),
}

/// An opened source: text to parse, or a database to query.
pub(crate) enum Input {
    Text(Box<dyn BufRead + Send>),
    Database(DatabaseQuery),
}

impl Source {
    /// `-` means standard input.
    pub fn from_arg(path: &Path) -> Source {
        if path == Path::new("-") {
            Source::Stdin
        } else {
            Source::File(path.to_path_buf())
        }
    }

    /// The file size, for the progress bar.
    pub(crate) fn size(&self) -> Option<u64> {
        match self {
            Source::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Source::Stdin | Source::Database(_) => None,
        }
    }

    /// True for a source that can be read only once.
    pub(crate) fn is_stdin(&self) -> bool {
        matches!(self, Source::Stdin)
    }

    /// A buffered reader that counts the bytes it consumes into `bytes`, or the database
    /// query (connected when it is read).
    pub(crate) fn open(&self, bytes: Arc<AtomicU64>) -> Result<Input> {
        let raw: Box<dyn Read + Send> = match self {
            Source::File(path) => Box::new(
                File::open(path).map_err(Error::io(format!("cannot open {}", path.display())))?,
            ),
            Source::Stdin => Box::new(std::io::stdin()),
            Source::Database(query) => return Ok(Input::Database(query.clone())),
        };
        let mut reader = BufReader::with_capacity(256 << 10, Counting::new(raw, bytes));
        let start = reader.fill_buf().map_err(io_error)?;
        if looks_like_utf16(start) {
            // Windows tools (PowerShell's `>`, SSMS, Excel's "Unicode text") write UTF-16.
            return Err(Error::config(
                "the file looks like UTF-16 (a UTF-16 byte-order mark, or a NUL byte beside \
                 each character); save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)",
            ));
        }
        // Windows tools and Excel start UTF-8 files with a byte-order mark.
        if start.starts_with(b"\xef\xbb\xbf") {
            reader.consume(3);
        }
        Ok(Input::Text(Box::new(reader)))
    }
}

/// A UTF-16 byte-order mark, or ASCII with a NUL byte before or after each character (UTF-16
/// without a mark); no UTF-8 text export starts with a NUL.
fn looks_like_utf16(start: &[u8]) -> bool {
    if start.starts_with(b"\xff\xfe") || start.starts_with(b"\xfe\xff") {
        return true;
    }
    let pairs: Vec<&[u8]> = start.chunks_exact(2).take(32).collect();
    let interleaved = |nul: usize| {
        pairs
            .iter()
            .all(|pair| pair[nul] == 0 && pair[1 - nul].is_ascii())
            && pairs.iter().any(|pair| pair[1 - nul] != 0)
    };
    pairs.len() >= 2 && (interleaved(0) || interleaved(1))
}

/// A record as read: where it starts and the raw text of each field firegate uses.
#[derive(Debug, Default)]
pub(crate) struct RawRow {
    /// The line the record starts on (1-based).
    pub line: u64,
    /// For Django input, the record's position in the array (1-based).
    pub record: Option<u64>,
    values: [Option<String>; Role::ALL.len()],
    /// The column (or key) each boolean value was read from, for messages.
    flag_columns: [Option<Arc<str>>; 3],
}

impl RawRow {
    pub(crate) fn new(line: u64, record: Option<u64>) -> RawRow {
        RawRow {
            line,
            record,
            ..RawRow::default()
        }
    }

    /// The field's text as read (possibly empty), or `None` when the record has no such
    /// field or it is NULL.
    pub(crate) fn get(&self, role: Role) -> Option<&str> {
        self.values[role as usize].as_deref()
    }

    pub(crate) fn set(&mut self, role: Role, value: String) {
        self.values[role as usize] = Some(value);
    }

    /// Sets the field's text and, for a boolean, the column (or key) it was read from.
    pub(crate) fn set_from(&mut self, role: Role, column: &Arc<str>, value: String) {
        self.set(role, value);
        if let Some(slot) = flag_slot(role) {
            self.flag_columns[slot] = Some(column.clone());
        }
    }

    /// The column (or key) a boolean field was read from, when the reader said.
    pub(crate) fn column(&self, role: Role) -> Option<&str> {
        self.flag_columns[flag_slot(role)?].as_deref()
    }

    pub(crate) fn clear(&mut self, role: Role) {
        self.values[role as usize] = None;
    }

    /// A refusal of this row.
    pub(crate) fn reject(&self, reason: Reason, message: impl Into<String>) -> Rejection {
        Rejection {
            record: self.record,
            ..Rejection::new(self.line, reason, message)
        }
    }
}

fn flag_slot(role: Role) -> Option<usize> {
    match role {
        Role::Active => Some(0),
        Role::Disabled => Some(1),
        Role::EmailVerified => Some(2),
        _ => None,
    }
}

/// What a reader hands on for each record.
#[derive(Debug)]
pub(crate) enum Item {
    Row(RawRow),
    Rejected(Rejection),
}

/// Receives each record in file order; returning `false` stops the reading.
pub(crate) type Sink<'a> = dyn FnMut(Item) -> bool + 'a;

/// Reads every record of `input` in `options.format`. Problems with one record go to the
/// sink as rejections; an error is returned only when reading cannot go on (I/O, a header
/// without a required column, JSON that breaks a Django array).
pub(crate) fn read_rows(input: Input, options: &ImportOptions, sink: &mut Sink<'_>) -> Result<()> {
    let input = match input {
        Input::Database(query) => return database::read(&query, options, sink),
        Input::Text(input) => input,
    };
    match options.format {
        Format::Csv => csv::read(input, options, sink),
        Format::Jsonl => json::read_lines(input, options, sink),
        Format::Django => json::read_django(input, options, sink),
        Format::Firebase => super::firebase::read(input, options, sink),
        Format::MysqlBatch => batch::read(input, options, sink),
    }
}

/// Turns an I/O error while reading into the error that stops the import.
pub(crate) fn io_error(source: std::io::Error) -> Error {
    Error::Io {
        what: "cannot read the input".into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn utf16_is_told_from_utf8() {
        let utf16le: Vec<u8> = "id,username\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let utf16be: Vec<u8> = "id,username\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        for text in [
            &utf16le[..],
            &utf16be[..],
            b"\xff\xfei\0d\0",
            b"\xfe\xff\0i",
        ] {
            assert!(looks_like_utf16(text), "{text:?}");
        }
        for text in [
            &b"id,username\n"[..],
            b"\xef\xbb\xbfid,username\n",
            b"",
            b"i",
            "\u{e9}t\u{e9}".as_bytes(),
        ] {
            assert!(!looks_like_utf16(text), "{text:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_bytes_are_counted() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"\xef\xbb\xbfid,username\n").unwrap();
        let bytes = Arc::new(AtomicU64::new(0));
        let source = Source::File(file.path().to_path_buf());
        let mut text = String::new();
        let Input::Text(mut input) = source.open(bytes.clone()).unwrap() else {
            panic!("a file opens as text");
        };
        input.read_to_string(&mut text).unwrap();
        assert_eq!(text, "id,username\n");
        assert_eq!(bytes.load(Ordering::Relaxed), 15);
        assert_eq!(source.size(), Some(15));
    }
}

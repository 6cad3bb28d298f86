//! Reading an input file a physical line at a time with a bound on each line, so one
//! runaway line can neither exhaust memory nor hide the lines after it, and counting the
//! bytes consumed for the progress display.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest physical line kept; longer ones are skipped and reported.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Counts the bytes read through it into a shared counter.
pub(crate) struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R, bytes: Arc<AtomicU64>) -> Counting<R> {
        Counting { inner, bytes }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One physical line, without its line terminator.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    Text { number: u64, bytes: Vec<u8> },
    TooLong { number: u64 },
}

impl Line {
    pub(crate) fn number(&self) -> u64 {
        match self {
            Line::Text { number, .. } | Line::TooLong { number } => *number,
        }
    }
}

/// Yields the physical lines of a reader, numbered from 1.
pub(crate) struct Lines<R> {
    inner: R,
    number: u64,
    keep_cr: bool,
}

impl<R: BufRead> Lines<R> {
    /// Lines ended by `\n` or `\r\n`.
    pub(crate) fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            number: 0,
            keep_cr: false,
        }
    }

    /// Lines ended by `\n` alone: a `\r` before it is the line's last byte, for formats
    /// whose writer never ends a line with one but leaves one in a value as it is.
    pub(crate) fn keeping_cr(inner: R) -> Lines<R> {
        Lines {
            keep_cr: true,
            ..Lines::new(inner)
        }
    }

    /// The next line, without its `\n` (or `\r\n`, unless the `\r` is kept).
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut bytes = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], i + 1),
                None => (buf, buf.len()),
            };
            if bytes.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                bytes = Vec::new();
            } else if !too_long {
                bytes.extend_from_slice(chunk);
            }
            let ended = done > chunk.len();
            self.inner.consume(done);
            if ended {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        let number = self.number;
        if too_long {
            return Ok(Some(Line::TooLong { number }));
        }
        if !self.keep_cr && bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Ok(Some(Line::Text { number, bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Line> {
        let mut reader = Lines::new(std::io::BufReader::with_capacity(7, input));
        std::iter::from_fn(|| reader.next_line().unwrap()).collect()
    }

    fn text(number: u64, s: &str) -> Line {
        Line::Text {
            number,
            bytes: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lines_are_numbered_and_terminators_removed() {
        let got = lines(b"first line\r\nsecond\n\nlast without newline");
        let want = [
            text(1, "first line"),
            text(2, "second"),
            text(3, ""),
            text(4, "last without newline"),
        ];
        assert_eq!(got, want);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn a_carriage_return_can_be_kept() {
        let mut reader = Lines::keeping_cr(&b"a\r\nb\n"[..]);
        let got: Vec<Line> = std::iter::from_fn(|| reader.next_line().unwrap()).collect();
        assert_eq!(got, [text(1, "a\r"), text(2, "b")]);
    }

    #[test]
    fn an_overlong_line_is_skipped_not_kept() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext\n");
        let got = lines(&input);
        assert_eq!(got, [Line::TooLong { number: 1 }, text(2, "next")]);
    }
}

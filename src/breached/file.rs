//! An offline copy of Pwned Passwords, as the official downloader writes it
//! (`haveibeenpwned-downloader`: lines `SHA1HEX:COUNT`, sorted by hash), searched in place:
//! a bisection over byte offsets with positioned reads of a few dozen bytes, then one read of
//! at most a few KiB, so a lookup costs O(log n) reads and no memory in proportion to the
//! file (about 40 GB for the whole data set).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{BreachedError, PasswordSha1};

/// Below this many bytes between the bounds, the rest is read at once and scanned.
const SCAN_BYTES: u64 = 4096;
/// Longest line: 40 hex characters, a colon, a count and a line end.
const MAX_LINE: u64 = 64;

/// An open offline copy.
#[derive(Clone)]
pub struct OfflineFile {
    inner: Arc<Inner>,
}

struct Inner {
    file: File,
    path: PathBuf,
    len: u64,
    reads: AtomicU64,
}

impl std::fmt::Debug for OfflineFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineFile")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl OfflineFile {
    /// Opens `path` and checks that its first line is `SHA1HEX:COUNT`.
    pub fn open(path: &Path) -> Result<OfflineFile, BreachedError> {
        let fail = |why: String| BreachedError::File {
            file: path.to_path_buf(),
            why,
        };
        let file = File::open(path).map_err(|e| fail(format!("cannot open it: {e}")))?;
        let len = file
            .metadata()
            .map_err(|e| fail(format!("cannot read its size: {e}")))?
            .len();
        let opened = OfflineFile {
            inner: Arc::new(Inner {
                file,
                path: path.to_path_buf(),
                len,
                reads: AtomicU64::new(0),
            }),
        };
        let mut first = [0u8; MAX_LINE as usize];
        let n = opened.read_at(0, &mut first).map_err(fail)?;
        let line = first[..n].split(|b| *b == b'\n').next().unwrap_or_default();
        if parse_line(line).is_none() {
            return Err(fail(
                "its first line is not SHA1HEX:COUNT; download the SHA-1 hashes with \
                 `haveibeenpwned-downloader pwnedpasswords` (not -n, which writes NTLM)"
                    .into(),
            ));
        }
        Ok(opened)
    }

    /// Positioned reads made so far (the benchmark shows they grow as log n).
    pub fn reads(&self) -> u64 {
        self.inner.reads.load(Ordering::Relaxed)
    }

    /// The count of `sha1`, off the async runtime.
    pub(super) async fn count(&self, sha1: &PasswordSha1) -> Result<Option<u64>, BreachedError> {
        let this = self.clone();
        let target = *sha1.bytes();
        tokio::task::spawn_blocking(move || this.lookup(&target))
            .await
            .map_err(|e| self.fail(format!("the lookup task failed: {e}")))?
    }

    /// The count of the upper-case hex SHA-1 `target` (blocking).
    pub fn lookup(&self, target: &[u8; 40]) -> Result<Option<u64>, BreachedError> {
        let (mut lo, mut hi) = (0u64, self.inner.len);
        // Invariant: the target's line, if any, starts in [lo, hi), and lo starts a line.
        while hi - lo > SCAN_BYTES {
            let mid = lo + (hi - lo) / 2;
            match self.line_from(mid)? {
                Some((start, hash)) if start < hi => {
                    if hash.as_slice() <= target.as_slice() {
                        lo = start;
                    } else {
                        hi = start;
                    }
                }
                _ => hi = mid,
            }
        }
        let end = (hi + MAX_LINE).min(self.inner.len);
        let mut block = vec![0u8; usize::try_from(end - lo).unwrap_or(0)];
        let n = self.read_at(lo, &mut block).map_err(|why| self.fail(why))?;
        let mut offset = lo;
        for line in block[..n].split(|b| *b == b'\n') {
            if offset >= hi {
                break;
            }
            let next = offset + line.len() as u64 + 1;
            if let Some((hash, count)) = parse_line(line) {
                if hash == *target {
                    return Ok(Some(count));
                }
                if hash.as_slice() > target.as_slice() {
                    break;
                }
            }
            offset = next;
        }
        Ok(None)
    }

    /// The first whole line starting at or after `at`: where it starts and its hash.
    fn line_from(&self, at: u64) -> Result<Option<(u64, [u8; 40])>, BreachedError> {
        let mut buf = [0u8; 2 * MAX_LINE as usize];
        let from = at.saturating_sub(1);
        let n = self.read_at(from, &mut buf).map_err(|why| self.fail(why))?;
        let buf = &buf[..n];
        let skip = if at == 0 {
            0
        } else {
            match buf.iter().position(|b| *b == b'\n') {
                Some(i) => i + 1,
                None => return Ok(None),
            }
        };
        let line = buf[skip..]
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or_default();
        match parse_line(line) {
            Some((hash, _)) => Ok(Some((from + skip as u64, hash))),
            None if skip == buf.len() => Ok(None),
            None => Err(self.fail(format!(
                "the line at byte {} is not SHA1HEX:COUNT (is the file cut short or unsorted?)",
                from + skip as u64
            ))),
        }
    }

    fn read_at(&self, at: u64, buf: &mut [u8]) -> Result<usize, String> {
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
        let mut filled = 0;
        while filled < buf.len() {
            match self
                .inner
                .file
                .read_at(&mut buf[filled..], at + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read it: {e}")),
            }
        }
        Ok(filled)
    }

    fn fail(&self, why: String) -> BreachedError {
        BreachedError::File {
            file: self.inner.path.clone(),
            why,
        }
    }
}

/// A line's hash (upper case) and count, if it is `SHA1HEX:COUNT` (with an optional `\r`).
fn parse_line(line: &[u8]) -> Option<([u8; 40], u64)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (hash, count) = (line.get(..40)?, line.get(41..)?);
    if line[40] != b':' || !hash.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let count = std::str::from_utf8(count).ok()?.parse().ok()?;
    let mut upper = [0u8; 40];
    for (u, h) in upper.iter_mut().zip(hash) {
        *u = h.to_ascii_uppercase();
    }
    Some((upper, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A sorted file of `n` made-up hashes (and the real "password"'s), CRLF like the
    /// downloader's output.
    fn sorted_file(n: u64) -> (tempfile::NamedTempFile, Vec<[u8; 40]>) {
        let mut hashes: Vec<[u8; 40]> = (1..=n)
            .map(|i| {
                let text = format!(
                    "{:040X}",
                    u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C)
                );
                let mut h = [0u8; 40];
                h.copy_from_slice(&text.as_bytes()[..40]);
                h
            })
            .collect();
        hashes.push(*b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
        hashes.sort();
        hashes.dedup();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for (i, h) in hashes.iter().enumerate() {
            write!(file, "{}:{}\r\n", std::str::from_utf8(h).unwrap(), i + 1).unwrap();
        }
        file.flush().unwrap();
        (file, hashes)
    }

    #[test]
    fn every_hash_is_found_and_others_are_not() {
        let (file, hashes) = sorted_file(5000);
        let offline = OfflineFile::open(file.path()).unwrap();
        for (i, h) in hashes.iter().enumerate() {
            assert_eq!(offline.lookup(h).unwrap(), Some(i as u64 + 1), "line {i}");
        }
        let mut absent = hashes[100];
        absent[39] = if absent[39] == b'0' { b'1' } else { b'0' };
        if !hashes.contains(&absent) {
            assert_eq!(offline.lookup(&absent).unwrap(), None);
        }
        assert_eq!(offline.lookup(&[b'0'; 40]).unwrap(), None);
        assert_eq!(offline.lookup(&[b'F'; 40]).unwrap(), None);
    }

    #[test]
    fn a_lookup_reads_log_n_times() {
        let (file, hashes) = sorted_file(20_000);
        let offline = OfflineFile::open(file.path()).unwrap();
        let before = offline.reads();
        offline.lookup(&hashes[12_345]).unwrap();
        // ~1 MB: log2(1 MB / 4 KiB) = 8 bisection steps, then one scan.
        assert!(
            offline.reads() - before <= 12,
            "{}",
            offline.reads() - before
        );
    }

    #[test]
    fn a_file_of_another_format_is_refused() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "8846F7EAEE8FB117AD06BDD830B7586C:3").unwrap();
        let e = OfflineFile::open(file.path()).unwrap_err().to_string();
        assert!(e.contains("NTLM"), "{e}");
    }
}

//! Keeping a ring current without a restart: rescanning the keys directory (a file that
//! breaks keeps its last good key) and applying the recorded state, which may switch the
//! active key to another loaded key that can sign.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use tracing::{error, info, warn};

use super::ring::{KeyRing, RecordedState};
use super::{ServiceAccountKey, declared_kid, key_files, load_file};

impl KeyRing {
    /// Rescans the keys directory (loading new and changed files, keeping the last good key of
    /// a file that broke) and applies the recorded state. Never fails: problems are logged and
    /// kept for `keys list`; the active key only changes to a loaded key that can sign.
    #[expect(
        clippy::expect_used,
        reason = "the entry was just read under the same lock"
    )]
    pub fn refresh(&self, recorded: Option<&RecordedState>) {
        let scanned = self.scan();
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        for (file, result) in scanned {
            match result {
                Scan::Unchanged => {}
                Scan::Removed => {
                    let holds_active = inner
                        .files
                        .get(&file)
                        .and_then(|e| e.key.as_ref())
                        .is_some_and(|k| inner.is_active(&k.kid));
                    if holds_active {
                        let entry = inner.files.get_mut(&file).expect("present");
                        entry.problem = Some(format!(
                            "{}: file removed; the active key stays loaded",
                            file.display()
                        ));
                        error!(file = %file.display(), "the active key's file was removed; still signing with it");
                    } else {
                        inner.files.remove(&file);
                    }
                }
                Scan::Loaded(stamp, Ok(key)) => {
                    let duplicate = inner.files.iter().any(|(f, e)| {
                        f != &file && e.key.as_ref().is_some_and(|k| k.kid == key.kid)
                    });
                    let entry = inner.files.entry(file.clone()).or_default();
                    entry.stamp = stamp;
                    if duplicate {
                        entry.problem = Some(format!(
                            "{}: key id {} is already loaded from another file",
                            file.display(),
                            key.kid
                        ));
                        entry.declared_kid = Some(key.kid.clone());
                        warn!(file = %file.display(), kid = %key.kid, "duplicate key id ignored");
                    } else {
                        info!(file = %file.display(), kid = %key.kid, "key loaded");
                        entry.key = Some(Arc::new(key));
                        entry.declared_kid = None;
                        entry.problem = None;
                    }
                }
                Scan::Loaded(stamp, Err((problem, declared))) => {
                    let entry = inner.files.entry(file.clone()).or_default();
                    entry.stamp = stamp;
                    entry.declared_kid = declared;
                    error!(%problem, "key file cannot be loaded; keeping its last good key, if any");
                    entry.problem = Some(problem);
                }
            }
        }
        if let Some(recorded) = recorded {
            inner.retired = recorded.retired.clone();
            if let Some(kid) = recorded.active.as_deref()
                && !inner.is_active(kid)
            {
                let candidate = inner
                    .files
                    .values()
                    .filter_map(|e| e.key.as_ref())
                    .find(|k| k.kid == kid && inner.can_sign(k))
                    .cloned();
                match candidate {
                    Some(key) => {
                        let from = inner.active.as_ref().map(|a| a.kid.clone());
                        info!(from = from.as_deref().unwrap_or("none"), to = %key.kid, "signing key switched");
                        inner.active = Some(key);
                    }
                    None => error!(
                        kid,
                        "the recorded active key is not loaded here; still signing with the previous key"
                    ),
                }
            }
        }
    }

    fn scan(&self) -> Vec<(PathBuf, Scan)> {
        let files = match key_files(&self.dir) {
            Ok(files) => files,
            Err(e) => {
                error!(error = %crate::error::chain(&e), "cannot rescan the keys directory");
                return Vec::new();
            }
        };
        let known: Vec<(PathBuf, Option<(SystemTime, u64)>)> = self
            .read()
            .files
            .iter()
            .map(|(f, e)| (f.clone(), e.stamp))
            .collect();
        let mut out = Vec::new();
        for (file, old) in &known {
            if !files.contains(file) {
                out.push((file.clone(), Scan::Removed));
            } else if stamp(file) == *old {
                out.push((file.clone(), Scan::Unchanged));
            }
        }
        for file in files {
            let unchanged = known
                .iter()
                .any(|(f, old)| *f == file && stamp(&file) == *old);
            if !unchanged {
                let loaded = load_file(&file, self.allow_insecure)
                    .map_err(|e| (e.to_string(), declared_kid(&file)));
                out.push((file.clone(), Scan::Loaded(stamp(&file), loaded)));
            }
        }
        out
    }
}

enum Scan {
    Unchanged,
    Removed,
    /// A new or changed file: its key, or the problem and the key id it declares.
    Loaded(
        Option<(SystemTime, u64)>,
        Result<ServiceAccountKey, (String, Option<String>)>,
    ),
}

/// A file's modification time and length: a change of either means a reload.
pub(super) fn stamp(file: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

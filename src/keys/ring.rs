//! The key ring: every key file of the keys directory, their states, and the one key that
//! signs. The active key is swapped in place when the directory or the recorded state
//! changes, so rotation needs no restart; a file that breaks keeps its last good key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use jiff::Timestamp;
use serde::Serialize;
use tracing::{error, info, warn};

use super::{KeyError, ServiceAccountKey, key_files, load_file};

/// A key's role in rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Signs every new token (exactly one key).
    Active,
    /// Loaded and able to sign, waiting to be activated.
    Next,
    /// Kept for the record; never signs again.
    Retired,
    /// Generated locally; Google has not assigned it a key id yet.
    Pending,
}

/// Which key signs and which are retired, as recorded in Firestore for every instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedState {
    pub active: Option<String>,
    pub retired: BTreeSet<String>,
    /// Who made the last change (admin name or `cli:<user>`).
    pub changed_by: String,
    pub changed_at: Option<Timestamp>,
}

/// One key as `keys list` and the admin API show it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub client_email: String,
    pub project_id: String,
    pub state: KeyState,
    pub fingerprint: String,
    pub file: PathBuf,
    pub created: Option<Timestamp>,
    /// The latest load failure of its file, if any (the last good key stays in use).
    pub problem: Option<String>,
}

struct Entry {
    stamp: Option<(SystemTime, u64)>,
    key: Option<Arc<ServiceAccountKey>>,
    problem: Option<String>,
}

struct Inner {
    files: BTreeMap<PathBuf, Entry>,
    active: Arc<ServiceAccountKey>,
    retired: BTreeSet<String>,
}

/// The loaded keys and the active one. Reading the active key is a read lock and a clone of
/// an `Arc`; the lock is only written during a refresh.
pub struct KeyRing {
    dir: PathBuf,
    allow_insecure: bool,
    inner: RwLock<Inner>,
}

impl KeyRing {
    /// Builds the ring from keys loaded at start-up. The active key is the recorded one, or —
    /// when nothing is recorded — the only key able to sign.
    pub fn new(
        dir: &Path,
        allow_insecure: bool,
        keys: Vec<ServiceAccountKey>,
        recorded: Option<&RecordedState>,
    ) -> Result<KeyRing, KeyError> {
        let retired = recorded.map(|r| r.retired.clone()).unwrap_or_default();
        let mut files = BTreeMap::new();
        for key in keys {
            let stamp = stamp(&key.file);
            files.insert(
                key.file.clone(),
                Entry {
                    stamp,
                    key: Some(Arc::new(key)),
                    problem: None,
                },
            );
        }
        let signable: Vec<&Arc<ServiceAccountKey>> = files
            .values()
            .filter_map(|e| e.key.as_ref())
            .filter(|k| !k.is_pending() && !retired.contains(&k.kid))
            .collect();
        let wanted = recorded.and_then(|r| r.active.as_deref());
        let active = match (wanted, signable.as_slice()) {
            (Some(kid), _) => signable
                .iter()
                .find(|k| k.kid == kid)
                .map(|k| Arc::clone(k))
                .ok_or_else(|| KeyError::ActiveKeyMissing {
                    dir: dir.to_path_buf(),
                    kid: kid.to_string(),
                })?,
            (None, [only]) => Arc::clone(only),
            (None, []) => {
                return Err(KeyError::NoKeys {
                    dir: dir.to_path_buf(),
                });
            }
            (None, many) => {
                return Err(KeyError::NoActiveKey {
                    dir: dir.to_path_buf(),
                    count: many.len(),
                    kids: many
                        .iter()
                        .map(|k| k.kid.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        };
        Ok(KeyRing {
            dir: dir.to_path_buf(),
            allow_insecure,
            inner: RwLock::new(Inner {
                files,
                active,
                retired,
            }),
        })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> Arc<ServiceAccountKey> {
        Arc::clone(&self.read().active)
    }

    /// The loaded key with this id, if any.
    pub fn get(&self, kid: &str) -> Option<Arc<ServiceAccountKey>> {
        self.read()
            .files
            .values()
            .filter_map(|e| e.key.as_ref())
            .find(|k| k.kid == kid)
            .cloned()
    }

    /// Every key file with its state, in file-name order.
    pub fn list(&self) -> Vec<KeyInfo> {
        let inner = self.read();
        inner
            .files
            .iter()
            .filter_map(|(file, entry)| {
                let key = entry.key.as_ref()?;
                let state = if key.kid == inner.active.kid {
                    KeyState::Active
                } else if inner.retired.contains(&key.kid) {
                    KeyState::Retired
                } else if key.is_pending() {
                    KeyState::Pending
                } else {
                    KeyState::Next
                };
                Some(KeyInfo {
                    kid: key.kid.clone(),
                    client_email: key.client_email.clone(),
                    project_id: key.project_id.clone(),
                    state,
                    fingerprint: key.fingerprint(),
                    file: file.clone(),
                    created: entry.stamp.and_then(|(t, _)| Timestamp::try_from(t).ok()),
                    problem: entry.problem.clone(),
                })
            })
            .collect()
    }

    /// Problems of files that hold no usable key at all.
    pub fn problems(&self) -> Vec<String> {
        self.read()
            .files
            .iter()
            .filter(|(_, e)| e.key.is_none())
            .filter_map(|(f, e)| e.problem.as_ref().map(|p| format!("{}: {p}", f.display())))
            .collect()
    }

    /// Rescans the keys directory (loading new and changed files, keeping the last good key of
    /// a file that broke) and applies the recorded state. Never fails: problems are logged and
    /// kept for `keys list`; the active key only changes to a loaded key that can sign.
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
                        .is_some_and(|k| k.kid == inner.active.kid);
                    if holds_active {
                        let entry = inner.files.get_mut(&file).expect("present");
                        entry.problem = Some("file removed; the active key stays loaded".into());
                        error!(file = %file.display(), "the active key's file was removed; still signing with it");
                    } else {
                        inner.files.remove(&file);
                    }
                }
                Scan::Loaded(stamp, Ok(key)) => {
                    let duplicate = inner.files.iter().any(|(f, e)| {
                        f != &file && e.key.as_ref().is_some_and(|k| k.kid == key.kid)
                    });
                    let entry = inner.files.entry(file.clone()).or_insert(Entry {
                        stamp: None,
                        key: None,
                        problem: None,
                    });
                    entry.stamp = stamp;
                    if duplicate {
                        entry.problem = Some(format!(
                            "key id {} is already loaded from another file",
                            key.kid
                        ));
                        warn!(file = %file.display(), kid = %key.kid, "duplicate key id ignored");
                    } else {
                        info!(file = %file.display(), kid = %key.kid, "key loaded");
                        entry.key = Some(Arc::new(key));
                        entry.problem = None;
                    }
                }
                Scan::Loaded(stamp, Err(problem)) => {
                    let entry = inner.files.entry(file.clone()).or_insert(Entry {
                        stamp: None,
                        key: None,
                        problem: None,
                    });
                    entry.stamp = stamp;
                    error!(%problem, "key file cannot be loaded; keeping its last good key, if any");
                    entry.problem = Some(problem);
                }
            }
        }
        if let Some(recorded) = recorded {
            inner.retired = recorded.retired.clone();
            if let Some(kid) = recorded.active.as_deref()
                && kid != inner.active.kid
            {
                let candidate = inner
                    .files
                    .values()
                    .filter_map(|e| e.key.as_ref())
                    .find(|k| k.kid == kid && !k.is_pending() && !inner.retired.contains(kid))
                    .cloned();
                match candidate {
                    Some(key) => {
                        info!(from = %inner.active.kid, to = %key.kid, "signing key switched");
                        inner.active = key;
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
                error!(error = %e, "cannot rescan the keys directory");
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
                let loaded = load_file(&file, self.allow_insecure).map_err(|e| e.to_string());
                out.push((file.clone(), Scan::Loaded(stamp(&file), loaded)));
            }
        }
        out
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }
}

enum Scan {
    Unchanged,
    Removed,
    Loaded(Option<(SystemTime, u64)>, Result<ServiceAccountKey, String>),
}

fn stamp(file: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

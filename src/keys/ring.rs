//! The key ring: every key file of the keys directory, their states, and the one key that
//! signs. The active key is swapped in place when the directory or the recorded state
//! changes, so rotation needs no restart; a file that breaks keeps its last good key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use jiff::Timestamp;
use serde::Serialize;

use super::ServiceAccountKey;
use crate::error::KeyError;

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
    /// A key file that has never loaded (its `problem` says why); it cannot sign.
    Broken,
}

/// Which key signs and which are retired, as recorded in Firestore for every instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedState {
    pub active: Option<String>,
    /// The active key's project: the Firebase project that accepts the tokens, so a key can
    /// be checked against it where the active key is not loaded.
    pub project: Option<String>,
    pub retired: BTreeSet<String>,
    /// Who made the last change (admin name or `cli:<user>`).
    pub changed_by: String,
    pub changed_at: Option<Timestamp>,
}

/// One key file as `keys list` and the admin API show it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// The key id; for a broken file the id it declares, or empty.
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

#[derive(Default)]
pub(super) struct Entry {
    pub(super) stamp: Option<(SystemTime, u64)>,
    pub(super) key: Option<Arc<ServiceAccountKey>>,
    /// The key id a file without a loaded key declares, so it can still be named.
    pub(super) declared_kid: Option<String>,
    pub(super) problem: Option<String>,
    /// The load failure behind `problem`, kept as the cause of errors that name this file.
    pub(super) failure: Option<Arc<KeyError>>,
}

impl Entry {
    pub(super) fn kid(&self) -> Option<&str> {
        self.key
            .as_ref()
            .map(|k| k.kid.as_str())
            .or(self.declared_kid.as_deref())
    }
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) files: BTreeMap<PathBuf, Entry>,
    /// Always set in a serving ring ([`KeyRing::new`], or [`KeyRing::unsettled`] once
    /// settled); refresh never unsets it.
    pub(super) active: Option<Arc<ServiceAccountKey>>,
    pub(super) retired: BTreeSet<String>,
}

impl Inner {
    pub(super) fn is_active(&self, kid: &str) -> bool {
        self.active.as_ref().is_some_and(|a| a.kid == kid)
    }

    pub(super) fn can_sign(&self, key: &ServiceAccountKey) -> bool {
        !key.is_pending() && !self.retired.contains(&key.kid)
    }
}

/// The loaded keys and the active one. Reading the active key is a read lock and a clone of
/// an `Arc`; the lock is only written during a refresh.
pub struct KeyRing {
    pub(super) dir: PathBuf,
    pub(super) allow_insecure: bool,
    pub(super) inner: RwLock<Inner>,
}

impl KeyRing {
    /// The key that signs new tokens.
    ///
    /// # Panics
    ///
    /// On a ring from [`KeyRing::inspect`] that has no active key, and on a ring from
    /// [`KeyRing::unsettled`] before [`KeyRing::settle`]. A ring from [`KeyRing::new`] always
    /// has one; use [`KeyRing::try_active`] on the others.
    #[expect(
        clippy::expect_used,
        reason = "a serving ring is built with an active key"
    )]
    pub fn active(&self) -> Arc<ServiceAccountKey> {
        self.try_active()
            .expect("a serving key ring always has an active key")
    }

    /// The key that signs new tokens, if one is chosen.
    pub fn try_active(&self) -> Option<Arc<ServiceAccountKey>> {
        self.read().active.clone()
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

    /// The current problem of a file holding or declaring `kid`, if any — even when the last
    /// good copy of the key is still loaded. Problems name their file.
    pub fn problem(&self, kid: &str) -> Option<String> {
        self.read()
            .files
            .iter()
            .filter(|(_, e)| e.kid() == Some(kid))
            .find_map(|(_, e)| e.problem.clone())
    }

    /// Every key file with its state, in file-name order; files that never loaded as
    /// [`KeyState::Broken`].
    pub fn list(&self) -> Vec<KeyInfo> {
        let inner = self.read();
        inner
            .files
            .iter()
            .map(|(file, entry)| {
                let created = entry.stamp.and_then(|(t, _)| Timestamp::try_from(t).ok());
                let Some(key) = entry.key.as_ref() else {
                    return KeyInfo {
                        kid: entry.declared_kid.clone().unwrap_or_default(),
                        client_email: String::new(),
                        project_id: String::new(),
                        state: KeyState::Broken,
                        fingerprint: String::new(),
                        file: file.clone(),
                        created,
                        problem: entry.problem.clone(),
                    };
                };
                let state = if inner.is_active(&key.kid) {
                    KeyState::Active
                } else if inner.retired.contains(&key.kid) {
                    KeyState::Retired
                } else if key.is_pending() {
                    KeyState::Pending
                } else {
                    KeyState::Next
                };
                KeyInfo {
                    kid: key.kid.clone(),
                    client_email: key.client_email.clone(),
                    project_id: key.project_id.clone(),
                    state,
                    fingerprint: key.fingerprint(),
                    file: file.clone(),
                    created,
                    problem: entry.problem.clone(),
                }
            })
            .collect()
    }

    /// Problems of files that hold no usable key at all.
    pub fn problems(&self) -> Vec<String> {
        self.read()
            .files
            .values()
            .filter(|e| e.key.is_none())
            .filter_map(|e| e.problem.clone())
            .collect()
    }

    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }
}

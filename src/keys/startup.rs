//! Which key signs when a key ring is built: the one Firestore records as active, or — with
//! nothing recorded — the only key able to sign. A server refuses to start rather than sign
//! with a key that may not be published; the CLI's inspecting ring settles for none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tracing::warn;

use super::refresh::stamp;
use super::ring::{Entry, Inner, KeyRing, RecordedState};
use super::{KeyError, LoadedDir, ServiceAccountKey};

impl KeyRing {
    /// The ring a server signs with. The active key is the one Firestore records; with no
    /// record, the only key able to sign. Files that do not load are set aside with a warning,
    /// unless one of them holds the active key: then, as when the recorded key is not here at
    /// all, start-up fails, since signing with any other key could fail every login.
    pub fn new(
        dir: &Path,
        allow_insecure: bool,
        loaded: LoadedDir,
        recorded: Option<&RecordedState>,
    ) -> Result<KeyRing, KeyError> {
        let (mut ring, active) = KeyRing::start(dir, allow_insecure, loaded, recorded);
        let active = active?;
        for problem in ring.problems() {
            warn!(%problem, "key file set aside; it does not hold the active key");
        }
        ring.inner
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .active = Some(active);
        Ok(ring)
    }

    /// A server's ring before the recorded key state is read: it holds no key until
    /// [`KeyRing::settle`], and nothing may sign with it meanwhile (the service's start-up
    /// gate, `Service::ready`, sees to that).
    pub fn unsettled(dir: &Path, allow_insecure: bool) -> KeyRing {
        KeyRing {
            dir: dir.to_path_buf(),
            allow_insecure,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// Settles an [`KeyRing::unsettled`] ring as [`KeyRing::new`] would have built it from
    /// the same files and record, failing where it would.
    pub fn settle(
        &self,
        loaded: LoadedDir,
        recorded: Option<&RecordedState>,
    ) -> Result<(), KeyError> {
        let built = KeyRing::new(&self.dir, self.allow_insecure, loaded, recorded)?;
        *self.inner.write().unwrap_or_else(|p| p.into_inner()) =
            built.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok(())
    }

    /// The ring `firegate keys …` works on: every key with its state, and the active key when
    /// one can be told. Unlike [`KeyRing::new`] it never fails, so the commands that choose
    /// the active key work when none is chosen yet or the chosen one is not here.
    pub fn inspect(
        dir: &Path,
        allow_insecure: bool,
        loaded: LoadedDir,
        recorded: Option<&RecordedState>,
    ) -> KeyRing {
        let (mut ring, active) = KeyRing::start(dir, allow_insecure, loaded, recorded);
        ring.inner
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .active = active.ok();
        ring
    }

    /// The ring without an active key yet, and the key that should sign or why none can.
    fn start(
        dir: &Path,
        allow_insecure: bool,
        loaded: LoadedDir,
        recorded: Option<&RecordedState>,
    ) -> (KeyRing, Result<Arc<ServiceAccountKey>, KeyError>) {
        // Two files that both load under one key id may hold different private keys: which
        // one Google publishes cannot be told, so that id must not sign.
        let duplicated: Vec<(String, PathBuf, PathBuf)> = loaded
            .broken
            .iter()
            .filter_map(|b| match &b.error {
                KeyError::DuplicateKid { kid, first, second } => {
                    Some((kid.clone(), first.clone(), second.clone()))
                }
                _ => None,
            })
            .collect();
        let ring = KeyRing::assemble(dir, allow_insecure, loaded, recorded);
        let active = ring.choose(recorded).and_then(|key| {
            match duplicated.into_iter().find(|(kid, _, _)| *kid == key.kid) {
                Some((kid, first, second)) => Err(KeyError::DuplicateKid { kid, first, second }),
                None => Ok(key),
            }
        });
        (ring, active)
    }

    fn assemble(
        dir: &Path,
        allow_insecure: bool,
        loaded: LoadedDir,
        recorded: Option<&RecordedState>,
    ) -> KeyRing {
        let mut files = BTreeMap::new();
        for key in loaded.keys {
            let file = key.file.clone();
            let entry = Entry {
                stamp: stamp(&file),
                key: Some(Arc::new(key)),
                declared_kid: None,
                problem: None,
            };
            files.insert(file, entry);
        }
        for broken in loaded.broken {
            let entry = Entry {
                stamp: stamp(&broken.file),
                key: None,
                declared_kid: broken.kid,
                problem: Some(broken.error.to_string()),
            };
            files.insert(broken.file, entry);
        }
        KeyRing {
            dir: dir.to_path_buf(),
            allow_insecure,
            inner: RwLock::new(Inner {
                files,
                active: None,
                retired: recorded.map(|r| r.retired.clone()).unwrap_or_default(),
            }),
        }
    }

    /// The key that should sign, or why none can.
    fn choose(&self, recorded: Option<&RecordedState>) -> Result<Arc<ServiceAccountKey>, KeyError> {
        let inner = self.read();
        let keys: Vec<&Arc<ServiceAccountKey>> = inner
            .files
            .values()
            .filter_map(|e| e.key.as_ref())
            .collect();
        let chosen = match recorded.and_then(|r| r.active.as_deref()) {
            Some(kid) => match keys.iter().find(|k| k.kid == kid && inner.can_sign(k)) {
                Some(key) => Arc::clone(key),
                None => return Err(self.recorded_key_missing(&inner, kid)),
            },
            None => {
                let signable: Vec<&&Arc<ServiceAccountKey>> =
                    keys.iter().filter(|k| inner.can_sign(k)).collect();
                match signable.as_slice() {
                    [only] => Arc::clone(only),
                    [] if inner.files.is_empty() => {
                        return Err(KeyError::NoKeys {
                            dir: self.dir.clone(),
                        });
                    }
                    [] => {
                        return Err(KeyError::NoSigningKey {
                            dir: self.dir.clone(),
                            why: describe(&inner),
                        });
                    }
                    many => {
                        return Err(KeyError::NoActiveKey {
                            dir: self.dir.clone(),
                            count: many.len(),
                            kids: many
                                .iter()
                                .map(|k| k.kid.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
        };
        Ok(chosen)
    }

    fn recorded_key_missing(&self, inner: &Inner, kid: &str) -> KeyError {
        let broken = inner
            .files
            .iter()
            .find(|(_, e)| e.key.is_none() && e.declared_kid.as_deref() == Some(kid));
        match broken {
            Some((file, entry)) => KeyError::ActiveKeyBroken {
                file: file.clone(),
                kid: kid.to_string(),
                problem: entry.problem.clone().unwrap_or_default(),
            },
            None => KeyError::ActiveKeyMissing {
                dir: self.dir.clone(),
                kid: kid.to_string(),
                here: describe(inner),
            },
        }
    }
}

/// Every file of the ring in a few words, for errors: `kid (state)` or the file's problem.
fn describe(inner: &Inner) -> String {
    if inner.files.is_empty() {
        return "no key files".into();
    }
    inner
        .files
        .iter()
        .map(|(file, entry)| match &entry.key {
            Some(key) => {
                let state = if inner.retired.contains(&key.kid) {
                    "retired"
                } else if key.is_pending() {
                    "pending"
                } else {
                    "next"
                };
                format!("{} ({state})", key.kid)
            }
            None => entry
                .problem
                .clone()
                .unwrap_or_else(|| format!("{}: cannot be loaded", file.display())),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::keys::{KeyState, load_dir};

    /// A keys directory holding one generated key under each of `kids`, as `<kid>.json`
    /// (RSA generation is slow, so the key material is shared).
    fn dir_with(kids: &[&str]) -> tempfile::TempDir {
        static KEY: OnceLock<serde_json::Value> = OnceLock::new();
        let template = KEY.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let file = crate::keys::keygen::write_dev_key(dir.path(), "demo-test").unwrap();
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
        });
        let dir = tempfile::tempdir().unwrap();
        for kid in kids {
            let mut key = template.clone();
            key["private_key_id"] = (*kid).into();
            let text = serde_json::to_vec(&key).unwrap();
            crate::keys::keygen::write_secret_file(&dir.path().join(format!("{kid}.json")), &text)
                .unwrap();
        }
        dir
    }

    fn record(active: &str, retired: &[&str]) -> Option<RecordedState> {
        Some(RecordedState {
            active: Some(active.into()),
            retired: retired.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        })
    }

    fn start(dir: &tempfile::TempDir, recorded: Option<RecordedState>) -> Result<KeyRing, String> {
        let loaded = load_dir(dir.path(), false).unwrap();
        KeyRing::new(dir.path(), false, loaded, recorded.as_ref()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_lone_key_signs_only_when_nothing_else_is_recorded() {
        let dir = dir_with(&["k-new"]);
        assert_eq!(start(&dir, None).unwrap().active().kid, "k-new");
        assert_eq!(
            start(&dir, record("k-new", &[])).unwrap().active().kid,
            "k-new"
        );
        // The new key mounted in place of the active one: never sign with it.
        for recorded in [record("k-old", &[]), record("k-old", &["k-new"])] {
            let err = start(&dir, recorded).err().unwrap();
            assert!(
                err.contains("records k-old as the active signing key")
                    && err.contains("Add that key's file")
                    && err.contains("firegate keys activate"),
                "{err}"
            );
        }
        let err = start(&dir, record("k-old", &[])).err().unwrap();
        assert!(err.contains("k-new (next)"), "{err}");
        let err = start(&dir, record("k-old", &["k-new"])).err().unwrap();
        assert!(err.contains("k-new (retired)"), "{err}");
    }

    #[test]
    fn files_that_do_not_load_stop_start_up_only_when_they_hold_the_active_key() {
        let dir = dir_with(&["k-a", "k-b"]);
        let write = |name: &str, text: &[u8]| {
            crate::keys::keygen::write_secret_file(&dir.path().join(name), text).unwrap()
        };
        write("garbage.json", b"{not json");
        write(
            "k-c.json",
            br#"{"type": "service_account", "private_key_id": "k-c"}"#,
        );
        // A broken copy naming the active key cannot sign: set aside like the others.
        write(
            "k-a-copy.json",
            br#"{"type": "service_account", "private_key_id": "k-a"}"#,
        );
        let ring = start(&dir, record("k-a", &[])).unwrap();
        assert_eq!(ring.active().kid, "k-a");
        std::fs::remove_file(dir.path().join("k-a-copy.json")).unwrap();
        let ring = start(&dir, record("k-a", &[])).unwrap();
        let listed: Vec<(String, KeyState)> =
            ring.list().into_iter().map(|k| (k.kid, k.state)).collect();
        assert_eq!(
            listed,
            [
                ("".to_string(), KeyState::Broken),
                ("k-a".to_string(), KeyState::Active),
                ("k-b".to_string(), KeyState::Next),
                ("k-c".to_string(), KeyState::Broken),
            ]
        );
        assert!(ring.problem("k-c").unwrap().contains("k-c.json"));
        assert_eq!(ring.problems().len(), 2);

        let err = start(&dir, record("k-c", &[])).err().unwrap();
        assert!(
            err.contains("k-c.json: holds k-c")
                && err.contains("`project_id` is missing")
                && err.contains("firegate keys activate"),
            "{err}"
        );
    }

    #[test]
    fn several_keys_and_no_record_wait_for_an_activation_the_inspecting_ring_allows() {
        let dir = dir_with(&["k-a", "k-b"]);
        let err = start(&dir, None).err().unwrap();
        assert!(err.contains("firegate keys activate <kid>"), "{err}");
        let ring = KeyRing::inspect(
            dir.path(),
            false,
            load_dir(dir.path(), false).unwrap(),
            None,
        );
        assert!(ring.try_active().is_none());
        assert!(ring.list().iter().all(|k| k.state == KeyState::Next));
        // A retirement leaves one key able to sign.
        let retired = Some(RecordedState {
            retired: ["k-b".to_string()].into(),
            ..Default::default()
        });
        assert_eq!(start(&dir, retired).unwrap().active().kid, "k-a");
    }

    #[test]
    fn a_file_broken_at_runtime_keeps_its_key_and_reports_the_problem() {
        let dir = dir_with(&["k-a", "k-b"]);
        let ring = start(&dir, record("k-a", &[])).unwrap();
        std::fs::write(dir.path().join("k-b.json"), b"garbage").unwrap();
        ring.refresh(None);
        assert!(ring.get("k-b").is_some(), "the last good copy stays loaded");
        assert!(ring.problem("k-b").unwrap().contains("not a JSON"));
        assert!(ring.problem("k-a").is_none());
    }
}

//! The keys directory: its `*.json` files, loaded leniently. A file that does not load is set
//! aside with its problem rather than failing the load, because only the active key's file
//! must load (with zero minimum instances every cold start is a start).

use std::path::{Path, PathBuf};

use super::{KeyError, ServiceAccountKey, declared_kid, load_file};

/// The `*.json` files of the keys directory, sorted by name.
pub fn key_files(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let entries = std::fs::read_dir(dir).map_err(|source| KeyError::Directory {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// A key file set aside while loading the keys directory.
#[derive(Debug)]
pub struct BrokenFile {
    pub file: PathBuf,
    /// The `private_key_id` the file declares, when it is JSON naming one.
    pub kid: Option<String>,
    pub error: KeyError,
}

/// What loading the keys directory found: the keys that load, and the files that do not.
#[derive(Debug, Default)]
pub struct LoadedDir {
    pub keys: Vec<ServiceAccountKey>,
    pub broken: Vec<BrokenFile>,
}

impl LoadedDir {
    /// The project of the loaded keys: `configured` when given, else the one project they
    /// share. Fails, before any network call, when no key loads at all.
    #[expect(
        clippy::expect_used,
        reason = "the set was checked to hold exactly one project"
    )]
    pub fn project(&self, dir: &Path, configured: Option<&str>) -> Result<String, KeyError> {
        if self.keys.is_empty() {
            return Err(self.nothing_loads(dir));
        }
        if let Some(project) = configured {
            return Ok(project.to_string());
        }
        let projects: std::collections::BTreeSet<&str> =
            self.keys.iter().map(|k| k.project_id.as_str()).collect();
        if projects.len() > 1 {
            return Err(KeyError::MixedProjects {
                projects: projects.into_iter().collect::<Vec<_>>().join(", "),
            });
        }
        Ok(projects.into_iter().next().expect("one key").to_string())
    }

    fn nothing_loads(&self, dir: &Path) -> KeyError {
        match self.broken.as_slice() {
            [] => KeyError::NoKeys {
                dir: dir.to_path_buf(),
            },
            [_, ..] => KeyError::NoSigningKey {
                dir: dir.to_path_buf(),
                why: self
                    .broken
                    .iter()
                    .map(|b| b.error.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        }
    }
}

/// Loads every key of the directory. A file that does not load, or repeats a key id already
/// loaded, is set aside in [`LoadedDir::broken`] rather than failing the load: only the active
/// key must load, and the ring decides which that is. Fails only when the directory cannot be
/// listed.
pub fn load_dir(dir: &Path, allow_insecure: bool) -> Result<LoadedDir, KeyError> {
    let mut loaded = LoadedDir::default();
    for file in key_files(dir)? {
        let key = match load_file(&file, allow_insecure) {
            Ok(key) => key,
            Err(error) => {
                loaded.broken.push(BrokenFile {
                    kid: declared_kid(&file),
                    file,
                    error,
                });
                continue;
            }
        };
        if let Some(other) = loaded.keys.iter().find(|k| k.kid == key.kid) {
            loaded.broken.push(BrokenFile {
                kid: Some(key.kid.clone()),
                error: KeyError::DuplicateKid {
                    kid: key.kid,
                    first: other.file.clone(),
                    second: file.clone(),
                },
                file,
            });
            continue;
        }
        loaded.keys.push(key);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRing;
    use crate::keys::keygen;
    use std::os::unix::fs::PermissionsExt;

    fn dev_key_dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = keygen::write_dev_key(dir.path(), "demo-test").unwrap();
        (dir, path)
    }

    #[test]
    fn a_generated_key_loads_and_signs() {
        let (dir, _) = dev_key_dir();
        let key = load_dir(dir.path(), false).unwrap().keys.remove(0);
        assert_eq!(key.project_id, "demo-test");
        assert_eq!(key.kid.len(), 40);
        assert_eq!(key.fingerprint().len(), 64);
    }

    #[test]
    fn group_readable_keys_are_refused_unless_allowed() {
        let (dir, path) = dev_key_dir();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let loaded = load_dir(dir.path(), false).unwrap();
        assert!(loaded.keys.is_empty());
        let err = loaded.project(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("chmod 600") && err.contains("640"), "{err}");
        assert_eq!(load_dir(dir.path(), true).unwrap().keys.len(), 1);
    }

    #[test]
    fn an_empty_dir_and_duplicates_are_clear() {
        let empty = tempfile::tempdir().unwrap();
        let err = KeyRing::new(empty.path(), false, LoadedDir::default(), None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no service-account key"), "{err}");
        let err = load_dir(empty.path(), false)
            .unwrap()
            .project(empty.path(), Some("configured"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no service-account key"), "{err}");

        let missing = load_dir(&empty.path().join("nope"), false)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot list"), "{missing}");

        let (dir, first) = dev_key_dir();
        let second = dir.path().join("copy.json");
        std::fs::copy(&first, &second).unwrap();
        let loaded = load_dir(dir.path(), false).unwrap();
        assert_eq!(loaded.keys.len(), 1);
        let err = loaded.broken[0].error.to_string();
        assert!(err.contains("appears in both"), "{err}");
        // The duplicated id is the one that would sign: which private key Google publishes
        // cannot be told, so the ring refuses.
        let err = KeyRing::new(dir.path(), false, loaded, None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("appears in both"), "{err}");
    }

    #[test]
    fn broken_files_are_set_aside_with_the_key_id_they_declare() {
        let (dir, path) = dev_key_dir();
        let broken = dir.path().join("broken.json");
        let garbage = dir.path().join("garbage.json");
        std::fs::write(
            &broken,
            br#"{"type": "service_account", "private_key_id": "k-broken"}"#,
        )
        .unwrap();
        std::fs::write(&garbage, b"{not json").unwrap();
        for file in [&broken, &garbage] {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let loaded = load_dir(dir.path(), false).unwrap();
        assert_eq!(loaded.keys.len(), 1);
        assert_eq!(loaded.keys[0].file, path);
        let declared: Vec<(Option<&str>, String)> = loaded
            .broken
            .iter()
            .map(|b| (b.kid.as_deref(), b.error.to_string()))
            .collect();
        assert_eq!(declared.len(), 2, "{declared:?}");
        assert_eq!(declared[0].0, Some("k-broken"));
        assert!(declared[0].1.contains("broken.json"), "{declared:?}");
        assert_eq!(declared[1].0, None);
        assert!(declared[1].1.contains("not a JSON"), "{declared:?}");
        assert_eq!(loaded.project(dir.path(), None).unwrap(), "demo-test");
    }
}

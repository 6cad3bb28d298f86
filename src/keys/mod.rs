//! Service-account keys: loading the JSON key files Google issues (or `firegate keys
//! generate` writes) from the keys directory, with errors that name the file and the field at
//! fault; the ring of loaded keys and the one that signs; and their rotation.

mod certificate;
mod published;
mod ring;
mod rotation;

pub use certificate::{certificate_spki_der, public_key_spki_der, self_signed_certificate};
pub use published::{GOOGLE_X509_BASE, Publication};
pub use ring::{KeyInfo, KeyRing, KeyState, RecordedState};
pub use rotation::{GeneratedFiles, Rotation, generate, import_id};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::custom_token::TokenSigner;

/// A key-file problem. Messages name the file and field, never key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{file}: cannot read the key file: {reason}")]
    Unreadable { file: PathBuf, reason: String },
    #[error(
        "{file}: not a JSON service-account key ({reason}); download one with \
             `gcloud iam service-accounts keys create` or run `firegate keys generate`"
    )]
    NotJson { file: PathBuf, reason: String },
    #[error("{file}: field `{field}` {problem}")]
    Field {
        file: PathBuf,
        field: &'static str,
        problem: String,
    },
    #[error(
        "{file}: readable by group or others (mode {mode:03o}); run `chmod 600 {file}` \
             or pass --allow-insecure-key-permissions"
    )]
    Permissions { file: PathBuf, mode: u32 },
    #[error("{dir}: cannot list the keys directory: {reason}")]
    Directory { dir: PathBuf, reason: String },
    #[error(
        "{dir}: no service-account key (*.json); put one there, or run `firegate dev` \
             to create a development key"
    )]
    NoKeys { dir: PathBuf },
    #[error(
        "{dir}: {count} signing keys present ({kids}) and none is recorded as active; \
             choose one with `firegate keys activate <kid>`"
    )]
    NoActiveKey {
        dir: PathBuf,
        count: usize,
        kids: String,
    },
    #[error(
        "{dir}: the recorded active key {kid} is not among the loaded keys; copy its key \
             file here, or activate a key that is (`firegate keys activate <kid>`)"
    )]
    ActiveKeyMissing { dir: PathBuf, kid: String },
    #[error("the keys belong to different projects ({projects}); set --project-id")]
    MixedProjects { projects: String },
    #[error("key id `{kid}` appears in both {first} and {second}; remove one of the files")]
    DuplicateKid {
        kid: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// Prefix of the key id of a locally generated key that Google has not assigned an id to yet.
pub const PENDING_PREFIX: &str = "pending-";

/// A loaded service-account key, ready to sign.
#[derive(Debug)]
pub struct ServiceAccountKey {
    /// The file it was loaded from.
    pub file: PathBuf,
    /// `private_key_id`, the token header's `kid`.
    pub kid: String,
    /// `project_id`.
    pub project_id: String,
    /// `client_email`, the token's issuer.
    pub client_email: String,
    /// The parsed private key.
    pub signer: Arc<TokenSigner>,
}

impl ServiceAccountKey {
    /// SHA-256 of the DER `SubjectPublicKeyInfo`, hex, as `keys list` shows it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&public_key_spki_der(self.signer.public_key_der()))
    }

    /// True for a generated key whose public certificate Google has not assigned an id to.
    pub fn is_pending(&self) -> bool {
        self.kid.starts_with(PENDING_PREFIX)
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads one key file. Unless `allow_insecure`, a file readable by group or others is refused.
pub fn load_file(file: &Path, allow_insecure: bool) -> Result<ServiceAccountKey, KeyError> {
    let unreadable = |e: std::io::Error| KeyError::Unreadable {
        file: file.to_path_buf(),
        reason: e.to_string(),
    };
    let meta = std::fs::metadata(file).map_err(unreadable)?;
    let mode = meta.permissions().mode() & 0o777;
    if !allow_insecure && mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            file: file.to_path_buf(),
            mode,
        });
    }
    let bytes = Zeroizing::new(std::fs::read(file).map_err(unreadable)?);
    parse(file, &bytes)
}

/// Parses the JSON text of a key file; `file` only names it in errors.
pub fn parse(file: &Path, bytes: &[u8]) -> Result<ServiceAccountKey, KeyError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| KeyError::NotJson {
        file: file.to_path_buf(),
        // serde_json's message holds only a position, never the text.
        reason: e.to_string(),
    })?;
    let Value::Object(fields) = value else {
        return Err(KeyError::NotJson {
            file: file.to_path_buf(),
            reason: "the top level is not an object".into(),
        });
    };
    let field = |name: &'static str| text_field(file, &fields, name);
    let kind = field("type")?;
    if kind != "service_account" {
        return Err(field_error(
            file,
            "type",
            format!("is \"{kind}\", expected \"service_account\""),
        ));
    }
    let project_id = field("project_id")?.to_string();
    let kid = field("private_key_id")?.to_string();
    let client_email = field("client_email")?.to_string();
    if !client_email.contains('@') {
        return Err(field_error(
            file,
            "client_email",
            "is not an email address".into(),
        ));
    }
    let pem = pem::parse(field("private_key")?)
        .map_err(|e| field_error(file, "private_key", format!("is not a PEM block ({e})")))?;
    if !matches!(pem.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY") {
        return Err(field_error(
            file,
            "private_key",
            format!("holds a PEM `{}` block, expected `PRIVATE KEY`", pem.tag()),
        ));
    }
    let der = Zeroizing::new(pem.into_contents());
    let signer = TokenSigner::from_pkcs8_der(&kid, &client_email, &der)
        .map_err(|problem| field_error(file, "private_key", problem))?;
    Ok(ServiceAccountKey {
        file: file.to_path_buf(),
        kid,
        project_id,
        client_email,
        signer: Arc::new(signer),
    })
}

fn text_field<'a>(
    file: &Path,
    fields: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, KeyError> {
    match fields.get(name) {
        None => Err(field_error(file, name, "is missing".into())),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(field_error(file, name, "is empty".into()))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(field_error(file, name, "is not a string".into())),
    }
}

fn field_error(file: &Path, field: &'static str, problem: String) -> KeyError {
    KeyError::Field {
        file: file.to_path_buf(),
        field,
        problem,
    }
}

/// The `*.json` files of the keys directory, sorted by name.
pub fn key_files(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let entries = std::fs::read_dir(dir).map_err(|e| KeyError::Directory {
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Loads every key of the directory; a broken file or a duplicate key id fails the whole load.
pub fn load_dir(dir: &Path, allow_insecure: bool) -> Result<Vec<ServiceAccountKey>, KeyError> {
    let mut keys: Vec<ServiceAccountKey> = Vec::new();
    for file in key_files(dir)? {
        let key = load_file(&file, allow_insecure)?;
        if let Some(other) = keys.iter().find(|k| k.kid == key.kid) {
            return Err(KeyError::DuplicateKid {
                kid: key.kid,
                first: other.file.clone(),
                second: file,
            });
        }
        keys.push(key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keygen;
    use std::os::unix::fs::PermissionsExt;

    fn dev_key_dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = keygen::write_dev_key(dir.path(), "demo-test").unwrap();
        (dir, path)
    }

    fn rewrite(path: &Path, edit: impl FnOnce(&mut Map<String, Value>)) {
        let mut v: Map<String, Value> =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
    }

    #[test]
    fn a_generated_key_loads_and_signs() {
        let (dir, _) = dev_key_dir();
        let key = load_dir(dir.path(), false).unwrap().remove(0);
        assert_eq!(key.project_id, "demo-test");
        assert_eq!(key.kid.len(), 40);
        assert_eq!(key.fingerprint().len(), 64);
    }

    #[test]
    fn group_readable_keys_are_refused_unless_allowed() {
        let (dir, path) = dev_key_dir();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = load_dir(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("chmod 600") && err.contains("640"), "{err}");
        assert!(load_dir(dir.path(), true).is_ok());
    }

    #[test]
    fn bad_fields_are_named() {
        type Edit = Box<dyn Fn(&mut Map<String, Value>)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "`private_key` is missing",
                Box::new(|v| {
                    v.remove("private_key");
                }),
            ),
            (
                "`type` is \"authorized_user\"",
                Box::new(|v| {
                    v.insert("type".into(), "authorized_user".into());
                }),
            ),
            (
                "`client_email` is not a string",
                Box::new(|v| {
                    v.insert("client_email".into(), 5.into());
                }),
            ),
            (
                "`private_key_id` is empty",
                Box::new(|v| {
                    v.insert("private_key_id".into(), "".into());
                }),
            ),
            (
                "`private_key` is not a PEM block",
                Box::new(|v| {
                    v.insert("private_key".into(), "hello".into());
                }),
            ),
            (
                "`private_key` holds a PEM `CERTIFICATE` block",
                Box::new(|v| {
                    v.insert(
                        "private_key".into(),
                        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
                    );
                }),
            ),
            (
                "`private_key` is not an RSA private key",
                Box::new(|v| {
                    v.insert(
                        "private_key".into(),
                        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
                    );
                }),
            ),
        ];
        for (expected, edit) in cases {
            let (_dir, path) = dev_key_dir();
            rewrite(&path, edit);
            let err = load_file(&path, false).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
            assert!(err.contains(path.to_str().unwrap()), "{err}");
            assert!(
                !err.contains("BEGIN PRIVATE KEY") || expected.contains("RSA"),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_json_empty_dir_and_duplicates_are_clear() {
        let (dir, path) = dev_key_dir();
        std::fs::write(&path, b"{not json").unwrap();
        let err = load_file(&path, false).unwrap_err().to_string();
        assert!(err.contains("not a JSON service-account key"), "{err}");

        let empty = tempfile::tempdir().unwrap();
        let err = KeyRing::new(empty.path(), false, Vec::new(), None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no service-account key"), "{err}");

        let missing = load_dir(&dir.path().join("nope"), false)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot list"), "{missing}");

        let (dir, first) = dev_key_dir();
        let second = dir.path().join("copy.json");
        std::fs::copy(&first, &second).unwrap();
        let err = load_dir(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("appears in both"), "{err}");
    }
}

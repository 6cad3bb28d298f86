//! One key file: the JSON service-account key Google issues (or `firegate keys generate`
//! writes), parsed into a key ready to sign, with errors that name the file and the field at
//! fault and never any key material.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{KeyError, ServiceAccountKey};
use crate::custom_token::TokenSigner;

/// Loads one key file. Unless `allow_insecure`, a file readable by group or others is refused.
pub fn load_file(file: &Path, allow_insecure: bool) -> Result<ServiceAccountKey, KeyError> {
    let unreadable = |source: std::io::Error| KeyError::Unreadable {
        file: file.to_path_buf(),
        source,
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

/// The `private_key_id` a key file declares, read without checking anything else, so a file
/// that does not load can still be named by its key id.
pub(crate) fn declared_kid(file: &Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Declared {
        // Only this field is read: the private key is skipped, never copied.
        private_key_id: String,
    }
    let bytes = Zeroizing::new(std::fs::read(file).ok()?);
    let declared: Declared = serde_json::from_slice(&bytes).ok()?;
    let kid = declared.private_key_id.trim();
    (!kid.is_empty()).then(|| kid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::keygen;
    use std::path::PathBuf;

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
    fn malformed_json_and_loose_permissions_are_clear() {
        let (_dir, path) = dev_key_dir();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = load_file(&path, false).unwrap_err().to_string();
        assert!(err.contains("chmod 600") && err.contains("640"), "{err}");
        assert!(load_file(&path, true).is_ok());
        std::fs::write(&path, b"{not json").unwrap();
        let err = load_file(&path, true).unwrap_err().to_string();
        assert!(err.contains("not a JSON service-account key"), "{err}");
        assert_eq!(declared_kid(&path), None);
    }
}

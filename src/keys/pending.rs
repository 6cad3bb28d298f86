//! Keys generated here, whose private half never leaves the server: writing the key file
//! with a pending id and the certificate to upload, then recording the id Google assigns.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::keygen::{generate_rsa, write_secret_file};
use super::{
    PENDING_PREFIX, declared_kid, fingerprint, key_files, load_file, self_signed_certificate,
};
use crate::{Error, Result};

/// The files `keys generate` wrote and the command that uploads the certificate.
#[derive(Debug)]
pub struct GeneratedFiles {
    pub key_file: PathBuf,
    pub certificate_file: PathBuf,
    pub upload_command: String,
}

/// Generates an RSA-2048 key in `dir` as a service-account key file with a pending key id
/// (mode 0600), and its self-signed certificate for `gcloud … keys upload`.
#[expect(clippy::expect_used, reason = "a JSON literal always serializes")]
pub fn generate(
    dir: &Path,
    client_email: &str,
    project_id: &str,
    name: &str,
) -> Result<GeneratedFiles> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::invalid(
            "invalid_name",
            "--name must be a plain file name",
        ));
    }
    let key_file = dir.join(format!("{name}.json"));
    let certificate_file = dir.join(format!("{name}.crt"));
    for f in [&key_file, &certificate_file] {
        if f.exists() {
            return Err(Error::invalid(
                "exists",
                format!("{} already exists; choose another --name", f.display()),
            ));
        }
    }
    let generated = generate_rsa(2048)?;
    let certificate = self_signed_certificate(generated.key(), client_email)
        .map_err(|e| Error::internal("cannot make the key's certificate").caused_by(e))?;
    let kid = format!(
        "{PENDING_PREFIX}{}",
        &fingerprint(generated.public_der())[..16]
    );
    let json = Zeroizing::new(
        serde_json::to_string_pretty(&serde_json::json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": kid,
            "private_key": generated.private_pem(),
            "client_email": client_email,
        }))
        .expect("JSON of strings serializes"),
    );
    std::fs::create_dir_all(dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    write_secret_file(&key_file, json.as_bytes())?;
    std::fs::write(&certificate_file, certificate).map_err(Error::io(format!(
        "cannot write {}",
        certificate_file.display()
    )))?;
    let upload_command = format!(
        "gcloud iam service-accounts keys upload {} --iam-account={client_email}",
        certificate_file.display()
    );
    Ok(GeneratedFiles {
        key_file,
        certificate_file,
        upload_command,
    })
}

/// Records the key id Google assigned to an uploaded key: rewrites `private_key_id` of the
/// pending key file of `dir` named by its path, file stem or pending id. Refused when the
/// file is outside `dir`, is not pending, or another key file already uses `kid`. The file is
/// replaced atomically.
#[expect(clippy::expect_used, reason = "a JSON map always serializes")]
pub fn import_id(dir: &Path, which: &str, kid: &str) -> Result<PathBuf> {
    if kid.len() != 40 || !kid.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "invalid_kid",
            "a Google key id is 40 hexadecimal characters (the last part of the key name \
             `gcloud … keys upload` prints)",
        ));
    }
    let kid = kid.to_lowercase();
    let file = find_pending(dir, which)?;
    for other in key_files(dir)?.into_iter().filter(|f| *f != file) {
        let used = load_file(&other, true)
            .map(|k| k.kid)
            .ok()
            .or_else(|| declared_kid(&other));
        if used.is_some_and(|used| used.eq_ignore_ascii_case(&kid)) {
            return Err(Error::invalid(
                "kid_in_use",
                format!(
                    "key id {kid} is already used by {}; check the id `gcloud … keys upload` printed",
                    other.display()
                ),
            ));
        }
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(&file)
            .map_err(Error::io(format!("cannot read {}", file.display())))?,
    );
    let mut json: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| Error::config(format!("{} is not JSON", file.display())).caused_by(e))?;
    json.insert("private_key_id".into(), Value::String(kid));
    let updated = Zeroizing::new(serde_json::to_string_pretty(&json).expect("JSON map serializes"));
    let temporary = file.with_extension("json.tmp");
    let _ = std::fs::remove_file(&temporary);
    write_secret_file(&temporary, updated.as_bytes())?;
    std::fs::rename(&temporary, &file)
        .map_err(Error::io(format!("cannot replace {}", file.display())))?;
    Ok(file)
}

/// The pending key file of `dir` that `which` names: a path to it, its file name with or
/// without `.json`, or its pending id.
fn find_pending(dir: &Path, which: &str) -> Result<PathBuf> {
    let files = key_files(dir)?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let by_path = [PathBuf::from(which), dir.join(which)]
        .into_iter()
        .find_map(|p| files.iter().find(|f| same(f, &p)));
    let file = match by_path {
        Some(file) => file.clone(),
        None if Path::new(which).exists() => {
            return Err(Error::invalid(
                "not_in_keys_dir",
                format!(
                    "{which} is not a key file (*.json) of the keys directory {}; import-id only \
                     changes keys generated there",
                    dir.display()
                ),
            ));
        }
        None => files
            .iter()
            .find(|f| {
                f.file_stem().is_some_and(|s| s == which)
                    || load_file(f, true).is_ok_and(|k| k.kid == which)
            })
            .cloned()
            .ok_or_else(|| Error::UnknownKey(which.to_string()))?,
    };
    let key = load_file(&file, true)?;
    if !key.is_pending() {
        return Err(Error::invalid(
            "not_pending",
            format!(
                "{} holds key {}, which already has its key id; import-id only records the id \
                 Google assigns to a key made by `firegate keys generate`",
                file.display(),
                key.kid
            ),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "firegate@demo-test.iam.gserviceaccount.com";

    fn kid(digit: char) -> String {
        std::iter::repeat_n(digit, 40).collect()
    }

    #[test]
    fn import_id_changes_only_pending_keys_of_the_keys_directory_to_unused_ids() {
        let dir = tempfile::tempdir().unwrap();
        let google = crate::keys::keygen::write_dev_key(dir.path(), "demo-test").unwrap();
        let google_kid = load_file(&google, false).unwrap().kid;
        generate(dir.path(), EMAIL, "demo-test", "n1").unwrap();
        let n2 = generate(dir.path(), EMAIL, "demo-test", "n2").unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let outside = generate(elsewhere.path(), EMAIL, "demo-test", "n3").unwrap();
        let refused =
            |which: &str, kid: &str| import_id(dir.path(), which, kid).unwrap_err().to_string();

        let err = refused(outside.key_file.to_str().unwrap(), &kid('a'));
        assert!(err.contains("is not a key file"), "{err}");
        let err = refused(google.to_str().unwrap(), &kid('a'));
        assert!(err.contains("already has its key id"), "{err}");
        let err = refused(&google_kid, &kid('a'));
        assert!(err.contains("already has its key id"), "{err}");
        let err = refused("n1", &google_kid.to_uppercase());
        assert!(err.contains("is already used by"), "{err}");
        let err = refused("nope", &kid('a'));
        assert!(err.contains("no key `nope`"), "{err}");
        assert!(
            load_file(&outside.key_file, false).unwrap().is_pending(),
            "a key outside the keys directory is left alone"
        );

        import_id(dir.path(), "n1", &kid('a')).unwrap();
        let err = refused("n2", &kid('a'));
        assert!(err.contains("is already used by"), "{err}");
        let err = refused("n1", &kid('b'));
        assert!(err.contains("already has its key id"), "{err}");
        let file = import_id(dir.path(), n2.key_file.to_str().unwrap(), &kid('B')).unwrap();
        assert_eq!(load_file(&file, false).unwrap().kid, kid('b'));
    }
}

//! Local RSA key generation (the `rsa` crate, offline only) and the development
//! service-account key file that `firegate dev` creates when none exists.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand::RngExt;
use rsa::PrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::json;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// A freshly generated RSA key pair.
pub struct GeneratedKey {
    key: PrivateKey,
    private_pem: Zeroizing<String>,
    private_der: Zeroizing<Vec<u8>>,
    public_pem: String,
    public_der: Vec<u8>,
}

impl GeneratedKey {
    /// The key itself (to sign a certificate for it).
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn public_der(&self) -> &[u8] {
        &self.public_der
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// The private key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.private_der
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }
}

/// Generates an RSA key of `bits` bits.
pub fn generate_rsa(bits: usize) -> Result<GeneratedKey> {
    let key = PrivateKey::new(&mut rand::rng(), bits)
        .map_err(|e| Error::internal("RSA key generation failed").caused_by(e))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| Error::internal("PKCS#8 encoding failed").caused_by(e))?;
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::internal("PKCS#8 encoding failed").caused_by(e))?;
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::internal("public key encoding failed").caused_by(e))?;
    let public_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| Error::internal("public key encoding failed").caused_by(e))?
        .into_vec();
    Ok(GeneratedKey {
        private_pem: Zeroizing::new(private_pem.to_string()),
        private_der: Zeroizing::new(der.as_bytes().to_vec()),
        public_pem,
        public_der,
        key,
    })
}

/// A random key id shaped like Google's: 40 lowercase hex characters.
pub fn random_kid() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    hex::encode(bytes)
}

/// Writes a new development service-account key file (mode 0600) into `dir` and returns its
/// path. The key is local: Google does not know it, so only the emulators accept its tokens.
#[expect(clippy::expect_used, reason = "a JSON literal always serializes")]
pub fn write_dev_key(dir: &Path, project_id: &str) -> Result<PathBuf> {
    let key = generate_rsa(2048)?;
    let kid = random_kid();
    let client_email = format!("firegate-dev@{project_id}.iam.gserviceaccount.com");
    let file = Zeroizing::new(
        serde_json::to_string_pretty(&json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": kid,
            "private_key": key.private_pem(),
            "client_email": client_email,
            "client_id": "",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        }))
        .expect("JSON of strings serializes"),
    );
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::config(format!(
            "cannot create keys directory {}: {e}",
            dir.display()
        ))
    })?;
    let path = dir.join(format!("dev-{}.json", &kid[..8]));
    write_secret_file(&path, file.as_bytes())?;
    Ok(path)
}

/// Creates `path` with mode 0600 and writes `contents`; never overwrites an existing file.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(format!("cannot create {}", path.display())))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(Error::io(format!("cannot write {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn dev_keys_are_private_files_in_googles_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_dev_key(dir.path(), "demo-x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["type"], "service_account");
        assert_eq!(json["project_id"], "demo-x");
        assert_eq!(json["private_key_id"].as_str().unwrap().len(), 40);
        assert!(
            json["private_key"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert_eq!(
            json["client_email"],
            "firegate-dev@demo-x.iam.gserviceaccount.com"
        );
    }

    #[test]
    fn secret_files_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        write_secret_file(&path, b"one").unwrap();
        assert!(write_secret_file(&path, b"two").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
    }
}

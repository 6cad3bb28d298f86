//! Key rotation use cases: generating a key whose private half never leaves the server,
//! recording the id Google assigns it, and activating or retiring keys — with every check
//! that keeps a rotation from failing logins done before anything changes.

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use jiff::Timestamp;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Map, Value};
use tracing::info;
use zeroize::Zeroizing;

use super::ring::{KeyInfo, KeyRing, RecordedState};
use super::{PENDING_PREFIX, Publication, ServiceAccountKey, fingerprint, self_signed_certificate};
use crate::keygen::write_secret_file;
use crate::store::Store;
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
    let key = rsa::PrivateKey::new(&mut rand::rng(), 2048)
        .map_err(|e| Error::Internal(format!("RSA key generation failed: {e}")))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::Internal(format!("PKCS#8 encoding failed: {e}")))?;
    let certificate = self_signed_certificate(&key, client_email).map_err(Error::Internal)?;
    let spki = rsa::pkcs8::EncodePublicKey::to_public_key_der(&key.to_public_key())
        .map_err(|e| Error::Internal(e.to_string()))?;
    let kid = format!("{PENDING_PREFIX}{}", &fingerprint(spki.as_bytes())[..16]);
    let json = Zeroizing::new(
        serde_json::to_string_pretty(&serde_json::json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": kid,
            "private_key": pem.as_str(),
            "client_email": client_email,
        }))
        .expect("JSON of strings serializes"),
    );
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
    write_secret_file(&key_file, json.as_bytes())?;
    std::fs::write(&certificate_file, certificate)
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", certificate_file.display())))?;
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
/// key file named by its path, file stem or pending id. The file is replaced atomically.
pub fn import_id(dir: &Path, which: &str, kid: &str) -> Result<PathBuf> {
    if kid.len() != 40 || !kid.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "invalid_kid",
            "a Google key id is 40 hexadecimal characters (the last part of the key name \
             `gcloud … keys upload` prints)",
        ));
    }
    let file = find_pending(dir, which)?;
    let text = Zeroizing::new(
        std::fs::read_to_string(&file)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", file.display())))?,
    );
    let mut json: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Config(format!("{} is not JSON: {e}", file.display())))?;
    json.insert("private_key_id".into(), Value::String(kid.to_lowercase()));
    let updated = Zeroizing::new(serde_json::to_string_pretty(&json).expect("JSON map serializes"));
    let temporary = file.with_extension("json.tmp");
    let _ = std::fs::remove_file(&temporary);
    write_secret_file(&temporary, updated.as_bytes())?;
    std::fs::rename(&temporary, &file)
        .map_err(|e| Error::Config(format!("cannot replace {}: {e}", file.display())))?;
    Ok(file)
}

fn find_pending(dir: &Path, which: &str) -> Result<PathBuf> {
    let direct = PathBuf::from(which);
    if direct.is_file() {
        return Ok(direct);
    }
    for file in super::key_files(dir)? {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let matches_kid = super::load_file(&file, true).is_ok_and(|k| k.kid == which);
        if stem == which || matches_kid {
            return Ok(file);
        }
    }
    Err(Error::UnknownKey(which.to_string()))
}

/// Activation and retirement over the ring, the recorded state and Google's certificates.
pub struct Rotation<'a> {
    pub ring: &'a KeyRing,
    pub store: &'a Store,
    pub publication: &'a Publication,
}

impl Rotation<'_> {
    /// Every key with its state, after a rescan of the keys directory.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.ring.refresh(None);
        self.ring.list()
    }

    /// Makes `kid` the signing key for every instance. Refused, changing nothing, when the key
    /// is unknown, pending, retired, of another project than the signing key, cannot sign, or
    /// (unless `force`) is not published by Google yet.
    pub async fn activate(&self, kid: &str, force: bool, actor: &str) -> Result<KeyInfo> {
        self.ring.refresh(None);
        let key = self
            .ring
            .get(kid)
            .ok_or_else(|| Error::UnknownKey(kid.to_string()))?;
        let (recorded, version) = self.recorded().await?;
        if key.is_pending() {
            return Err(refused(format!(
                "key {kid} has no Google key id yet: upload its certificate, then run \
                 `firegate keys import-id {kid} <KEY_ID>`"
            )));
        }
        if recorded.retired.contains(kid) {
            return Err(refused(format!(
                "key {kid} is retired and never signs again; generate a new key"
            )));
        }
        // Firebase accepts tokens only from service accounts of its own project.
        let project = self.ring.active().project_id.clone();
        if key.project_id != project {
            return Err(refused(format!(
                "key {kid} belongs to project `{}`, but the signing key's project is `{project}`",
                key.project_id
            )));
        }
        can_sign(&key).map_err(refused)?;
        if !force {
            self.publication.check(&key).await.map_err(refused)?;
        }
        let mut next = recorded;
        next.active = Some(kid.to_string());
        self.save(next, version, actor, "activate", kid).await
    }

    /// Retires `kid`: it never signs again. The active key cannot be retired.
    pub async fn retire(&self, kid: &str, actor: &str) -> Result<KeyInfo> {
        self.ring.refresh(None);
        self.ring
            .get(kid)
            .ok_or_else(|| Error::UnknownKey(kid.to_string()))?;
        let (recorded, version) = self.recorded().await?;
        let active = recorded
            .active
            .clone()
            .unwrap_or_else(|| self.ring.active().kid.clone());
        if active == kid {
            return Err(refused(format!(
                "key {kid} is the active key; activate another key first, then retire this one"
            )));
        }
        let mut next = recorded;
        if next.active.is_none() {
            // Record the implicit active key too, so no instance ever falls back to another.
            next.active = Some(active);
        }
        next.retired.insert(kid.to_string());
        self.save(next, version, actor, "retire", kid).await
    }

    async fn recorded(&self) -> Result<(RecordedState, Option<crate::store::Version>)> {
        Ok(match self.store.recorded_key_state().await? {
            Some((state, version)) => (state, Some(version)),
            None => (RecordedState::default(), None),
        })
    }

    async fn save(
        &self,
        mut next: RecordedState,
        version: Option<crate::store::Version>,
        actor: &str,
        action: &str,
        kid: &str,
    ) -> Result<KeyInfo> {
        next.changed_by = actor.to_string();
        next.changed_at = Some(Timestamp::now());
        if !self.store.record_key_state(&next, version).await? {
            return Err(Error::Conflict);
        }
        info!(actor, action, kid, "key state changed");
        self.ring.refresh(Some(&next));
        self.list()
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| Error::UnknownKey(kid.to_string()))
    }
}

/// Signs a probe and verifies it with the key's own public key.
fn can_sign(key: &ServiceAccountKey) -> std::result::Result<(), String> {
    let uid = crate::accounts::Uid::parse("probe").expect("valid uid");
    let token = key
        .signer
        .mint(crate::custom_token::TokenRequest {
            uid: &uid,
            claims: &Default::default(),
            tenant_id: None,
            issued_at: Timestamp::now(),
            lifetime_secs: 60,
        })
        .map_err(|e| format!("key {} cannot sign: {e}", key.kid))?;
    let (message, signature) = token.rsplit_once('.').expect("a JWS has three parts");
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.signer.public_key_der())
        .verify(message.as_bytes(), &signature)
        .map_err(|_| {
            format!(
                "key {} produced a signature its public key rejects",
                key.kid
            )
        })
}

fn refused(why: String) -> Error {
    Error::invalid("key_refused", why)
}

//! Service-account keys: the JSON key files Google issues (or `firegate keys generate`
//! writes) and the keys directory holding them; the ring of loaded keys and the one that
//! signs; and their rotation. This file holds the key type and the errors, which name the
//! file and the field at fault, never key material.

mod certificate;
mod directory;
mod file;
mod pending;
mod published;
mod refresh;
mod ring;
mod rotation;
mod startup;

pub use certificate::{certificate_spki_der, public_key_spki_der, self_signed_certificate};
pub use directory::{BrokenFile, LoadedDir, key_files, load_dir};
pub(crate) use file::declared_kid;
pub use file::{load_file, parse};
pub use pending::{GeneratedFiles, generate, import_id};
pub use published::{GOOGLE_X509_BASE, Publication};
pub use ring::{KeyInfo, KeyRing, KeyState, RecordedState};
pub use rotation::{KeyAdmin, Rotation};

use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

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
    #[error("{dir}: no key can sign: {why}")]
    NoSigningKey { dir: PathBuf, why: String },
    #[error(
        "{dir}: Firestore records {kid} as the active signing key, but no key file here \
             holds it (here: {here}). Add that key's file to this directory as well, keeping \
             each key file until its key is retired; or, if a key here should sign instead, \
             activate it first with `firegate keys activate <kid>`"
    )]
    ActiveKeyMissing {
        dir: PathBuf,
        kid: String,
        here: String,
    },
    #[error(
        "{file}: holds {kid}, which Firestore records as the active signing key, but it \
             cannot be loaded ({problem}); restore that file, or activate another key with \
             `firegate keys activate <kid>`"
    )]
    ActiveKeyBroken {
        file: PathBuf,
        kid: String,
        problem: String,
    },
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

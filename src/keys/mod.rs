//! Service-account keys: the JSON key files Google issues (or `firegate keys generate`
//! writes) and the keys directory holding them; the ring of loaded keys and the one that
//! signs. Rotation, a use case over keys and the store, is `service::rotation`. This file
//! holds the key type and its options; the errors ([`KeyError`]) name the file and the field
//! at fault, never key material.

mod certificate;
mod directory;
mod file;
pub mod keygen;
mod pending;
mod published;
mod refresh;
mod ring;
mod startup;

pub use certificate::CertificateError;
pub use certificate::{certificate_spki_der, public_key_spki_der, self_signed_certificate};
pub use directory::{BrokenFile, LoadedDir, key_files, load_dir};
pub(crate) use file::declared_kid;
pub use file::load_file;
pub use pending::{GeneratedFiles, generate, import_id};
pub use published::{GOOGLE_X509_BASE, Publication, PublicationError};
pub use ring::{KeyInfo, KeyRing, KeyState, RecordedState};

pub use crate::error::KeyError;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::custom_token::TokenSigner;

/// Where the keys are, how their files are checked, and how a running server follows
/// rotations.
#[derive(Debug, Clone)]
pub struct KeyOptions {
    /// The keys directory.
    pub dir: PathBuf,
    /// Accept key files that group or others can read.
    pub allow_insecure_permissions: bool,
    /// How often a server rescans the directory and reads the recorded key state.
    pub refresh: Duration,
    /// Where Google publishes service-account certificates.
    pub x509_base_url: String,
    /// Whether the process signs tokens. One that signs nothing (the account commands) and
    /// is given its project reads no key file, so it needs no keys directory.
    pub signs: bool,
}

impl Default for KeyOptions {
    /// `keys/`, strict permissions, a 10-second refresh, Google's certificate endpoint, a
    /// process that signs.
    fn default() -> Self {
        KeyOptions {
            dir: PathBuf::from("keys"),
            allow_insecure_permissions: false,
            refresh: Duration::from_secs(10),
            x509_base_url: GOOGLE_X509_BASE.to_string(),
            signs: true,
        }
    }
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
    hex::encode(Sha256::digest(bytes))
}

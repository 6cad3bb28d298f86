//! The request side of `accounts:batchCreate`: the hash parameters of one request
//! ([`ImportAlgorithm`]), serialised to the REST field names, each user's `passwordHash` and
//! `salt` ([`ImportableHash`]), and why a hash cannot go ([`NotImportable`]).

use std::fmt::{self, Write as _};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Serialize, Serializer, ser::SerializeMap as _};

use crate::passwords::settings::FirebaseProject;

/// Declares a closed set of REST enum values, serialised as their wire names.
macro_rules! wire_enum {
    ($name:ident { $($variant:ident => $wire:literal,)* }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(super) enum $name { $($variant),* }

        impl $name {
            pub(super) fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),* }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

wire_enum!(HashAlgorithm {
    PbkdfSha1 => "PBKDF_SHA1",
    Pbkdf2Sha256 => "PBKDF2_SHA256",
    Md5 => "MD5",
    Sha1 => "SHA1",
    Sha256 => "SHA256",
    Sha512 => "SHA512",
    Bcrypt => "BCRYPT",
    Scrypt => "SCRYPT",
    StandardScrypt => "STANDARD_SCRYPT",
    Argon2 => "ARGON2",
});

wire_enum!(HashOrder {
    SaltAndPassword => "SALT_AND_PASSWORD",
    PasswordAndSalt => "PASSWORD_AND_SALT",
});

wire_enum!(Argon2Type {
    D => "ARGON2_D",
    I => "ARGON2_I",
    Id => "ARGON2_ID",
});

wire_enum!(Argon2Version {
    V10 => "VERSION_10",
    V13 => "VERSION_13",
});

/// One group of a `batchCreate` call: every top-level hash field of the request. It
/// serialises to exactly the REST field names (`hashAlgorithm`, `rounds`, `signerKey`, …),
/// absent fields left out and bytes as URL-safe base64, so a request is this object's fields
/// plus `users`. Accounts whose algorithms are equal go in the same request; `Ord` and `Hash`
/// let callers group them. `Debug` shows [`describe`](Self::describe), never the signer key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportAlgorithm {
    pub(super) hash_algorithm: HashAlgorithm,
    /// `signerKey` and `saltSeparator` of Firebase's own scrypt.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(super) project: Option<Project>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rounds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) memory_cost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cpu_mem_cost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) block_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parallelization: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) dk_len: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) password_hash_order: Option<HashOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) argon2_parameters: Option<Argon2Parameters>,
}

/// `argon2Parameters`. `associatedData` is never sent: firegate reads no argon2 string that
/// carries any, and the REST text ("appended to the hash value") does not say what Firebase
/// does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Argon2Parameters {
    pub(super) hash_type: Argon2Type,
    pub(super) version: Argon2Version,
    pub(super) iterations: u64,
    pub(super) memory_cost_kib: u64,
    pub(super) parallelism: u64,
    pub(super) hash_length_bytes: u64,
}

/// A Firebase project's scrypt parameters, compared by their fingerprint so that the signer
/// key is never copied out of its `SecretSlice`.
#[derive(Clone)]
pub(super) struct Project(pub(super) Arc<FirebaseProject>);

impl Project {
    fn key(&self) -> (&str, u32, u32) {
        (self.0.id(), self.0.rounds, self.0.mem_cost)
    }
}

impl PartialEq for Project {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Project {}

impl PartialOrd for Project {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Project {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for Project {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Serialize for Project {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("signerKey", &web_safe_base64(self.0.signer_key()))?;
        // firebase-admin-node sends an empty separator as "" rather than leaving it out.
        map.serialize_entry("saltSeparator", &web_safe_base64(self.0.salt_separator()))?;
        map.end()
    }
}

impl ImportAlgorithm {
    pub(super) fn new(hash_algorithm: HashAlgorithm) -> ImportAlgorithm {
        ImportAlgorithm {
            hash_algorithm,
            project: None,
            rounds: None,
            memory_cost: None,
            cpu_mem_cost: None,
            block_size: None,
            parallelization: None,
            dk_len: None,
            password_hash_order: None,
            argon2_parameters: None,
        }
    }

    /// The `hashAlgorithm` value, e.g. `PBKDF2_SHA256`.
    pub fn hash_algorithm(&self) -> &'static str {
        self.hash_algorithm.as_str()
    }

    /// One line for a report, with the REST names of the parameters and never the signer
    /// key: `PBKDF2_SHA256 rounds=120000`, `SHA1 rounds=1 passwordHashOrder=PASSWORD_AND_SALT`,
    /// `SCRYPT rounds=8 memoryCost=14 project=<firegate's 12-hex-digit fingerprint>`.
    pub fn describe(&self) -> String {
        let mut out = self.hash_algorithm().to_owned();
        let numbers = [
            ("rounds", self.rounds),
            ("memoryCost", self.memory_cost),
            ("cpuMemCost", self.cpu_mem_cost),
            ("blockSize", self.block_size),
            ("parallelization", self.parallelization),
            ("dkLen", self.dk_len),
        ];
        for (name, value) in numbers {
            if let Some(value) = value {
                let _ = write!(out, " {name}={value}");
            }
        }
        if let Some(order) = self.password_hash_order {
            let _ = write!(out, " passwordHashOrder={}", order.as_str());
        }
        if let Some(a) = &self.argon2_parameters {
            let _ = write!(
                out,
                " hashType={} version={} iterations={} memoryCostKib={} parallelism={} \
                 hashLengthBytes={}",
                a.hash_type.as_str(),
                a.version.as_str(),
                a.iterations,
                a.memory_cost_kib,
                a.parallelism,
                a.hash_length_bytes
            );
        }
        if let Some(project) = &self.project {
            let _ = write!(out, " project={}", project.0.id());
        }
        out
    }
}

impl fmt::Debug for ImportAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImportAlgorithm({})", self.describe())
    }
}

/// What one user contributes to a `batchCreate` call: its group, and the bytes of its
/// `passwordHash` and `salt` (send them with [`password_hash_base64`](Self::password_hash_base64)
/// and [`salt_base64`](Self::salt_base64)). `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportableHash {
    pub algorithm: ImportAlgorithm,
    pub password_hash: Vec<u8>,
    pub salt: Option<Vec<u8>>,
}

impl ImportableHash {
    /// `passwordHash` as the REST API takes it.
    pub fn password_hash_base64(&self) -> String {
        web_safe_base64(&self.password_hash)
    }

    /// `salt` as the REST API takes it, if the scheme has one.
    pub fn salt_base64(&self) -> Option<String> {
        self.salt.as_deref().map(web_safe_base64)
    }
}

impl fmt::Debug for ImportableHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ImportableHash({}, <redacted>)",
            self.algorithm.describe()
        )
    }
}

/// Why a hash cannot be imported, as a short reason for a report. The text is made of
/// scheme names, fixed phrases and numbers only: never any salt, digest or hash text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotImportable {
    /// Firebase has the algorithm but caps a parameter below this hash's value.
    #[error("{what} with {value} {unit}: Firebase imports at most {limit}")]
    OverLimit {
        scheme: &'static str,
        what: &'static str,
        unit: &'static str,
        value: u64,
        limit: u64,
    },
    /// No Firebase algorithm computes what this scheme computes.
    #[error("{scheme}: {reason}")]
    NoEquivalent {
        scheme: &'static str,
        reason: &'static str,
    },
    /// A Firebase algorithm might compute it, but its documentation and tests do not say so.
    #[error("{scheme}: {reason}")]
    Unconfirmed {
        scheme: &'static str,
        reason: &'static str,
    },
    /// A Firebase scrypt hash whose project's parameters (its signer key) were not given.
    #[error(
        "{scheme}: the project's hash parameters are not loaded (give them with --hash-config)"
    )]
    MissingProject { scheme: &'static str },
}

impl NotImportable {
    /// The firegate scheme name of the refused hash.
    pub fn scheme(&self) -> &'static str {
        match self {
            NotImportable::OverLimit { scheme, .. }
            | NotImportable::NoEquivalent { scheme, .. }
            | NotImportable::Unconfirmed { scheme, .. }
            | NotImportable::MissingProject { scheme } => scheme,
        }
    }
}

/// Bytes as firebase-admin-node's `toWebSafeBase64` writes them: URL-safe, padded.
pub(super) fn web_safe_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

//! What Firebase Auth can import of a stored legacy hash, so that `firegate firebase-auth
//! export` can move accounts without knowing their passwords: the hash parameters of one
//! Identity Toolkit `accounts:batchCreate` request ([`ImportAlgorithm`]), each user's
//! `passwordHash` and `salt` ([`ImportableHash`]), or why a hash cannot go ([`NotImportable`]).
//!
//! A hash is mapped only where the sources below say what Firebase computes; where they do
//! not, it is [`NotImportable::Unconfirmed`], not a guess that would lock its user out.
//!
//! # Sources
//!
//! - **REST**: `projects.accounts.batchCreate`
//!   (<https://cloud.google.com/identity-platform/docs/reference/rest/v1/projects.accounts/batchCreate>,
//!   `…/rest/v1/Argon2Parameters`) and its discovery document (googleapis/google-api-go-client
//!   `identitytoolkit/v1/identitytoolkit-api.json`): the field names; `ARGON2` with iterations
//!   and parallelism 1–16, `memoryCostKib` ≤ 32768 and `hashLengthBytes` 4–1024;
//!   `passwordHashOrder` `SALT_AND_PASSWORD`/`PASSWORD_AND_SALT`; `signerKey`,
//!   `saltSeparator`, `associatedData`, `passwordHash` and `salt` are bytes (base64) fields.
//! - **SDK**: firebase/firebase-admin-node `src/auth/user-import-builder.ts`: the ranges it
//!   enforces (PBKDF_SHA1/PBKDF2_SHA256 rounds 0–120000, MD5 0–8192, SHA1/SHA256/SHA512
//!   1–8192, SCRYPT rounds 1–8 and memoryCost 1–14, one `key` for every HMAC_* user),
//!   STANDARD_SCRYPT's N sent as `cpuMemCost`, and every bytes field encoded with
//!   `utils.toWebSafeBase64` (URL-safe alphabet, padding kept), as firebase-admin-python's
//!   `urlsafe_b64encode` does. None of the SDKs sends `passwordHashOrder` or ARGON2.
//! - **LIVE**: the same repository's `test/integration/auth.spec.ts` (`importUsers()`), which
//!   imports one user per algorithm into a real project and signs in: SHA256 with rounds 1 is
//!   SHA-256(salt ‖ password), raw, with no order given; MD5 with rounds 0 is the lowercase
//!   *hex text* of MD5(salt ‖ password); BCRYPT takes the whole `$2b$` string;
//!   STANDARD_SCRYPT is scrypt(password, salt, N, r, p, dkLen); PBKDF2_SHA256 is
//!   PBKDF2-HMAC-SHA256(password, salt, rounds); HMAC_SHA256 is HMAC(key, password ‖ salt).
//! - **ISSUES**: firebase/firebase-tools #1701 (the Auth team: "round = 0 only works for
//!   MD5"), #1146 (the server caps MD5/SHA* at 8192 rounds), #1617 and #282 (unsalted and
//!   salted MD5 at rounds 0 match the hex text), #1088 (a 32-byte passlib PBKDF2-SHA256 hash
//!   signs in, so the derived length follows the stored hash), firebase-admin-node #792 (the
//!   default order is salt first); firebase-tools `src/accountImporter.ts`
//!   (`--hash-input-order` SALT_FIRST/PASSWORD_FIRST is sent as `passwordHashOrder`).
//! - **SCRYPT**: github.com/firebase/scrypt, as `firebase.rs` implements it.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Serialize, Serializer, ser::SerializeMap as _};

use super::digest::HashFn;
use super::scheme::ParsedHash;
use super::settings::FirebaseProject;
use super::verifier::{BcryptInput, Layout, Verifier};

/// PBKDF_SHA1 and PBKDF2_SHA256 rounds (SDK); 0 is refused by the server (firebase-admin-node
/// #1222) and never parsed here.
const MAX_PBKDF2_ROUNDS: u64 = 120_000;
/// Firebase scrypt's rounds and memory cost (SDK).
const MAX_SCRYPT_ROUNDS: u64 = 8;
const MAX_SCRYPT_MEM_COST: u64 = 14;
/// ARGON2's limits (REST).
const MAX_ARGON2_PASSES: u64 = 16;
const MAX_ARGON2_LANES: u64 = 16;
const MAX_ARGON2_MEMORY_KIB: u64 = 32_768;
const MAX_ARGON2_HASH_LEN: u64 = 1024;
/// The integer fields are int32 (REST).
const MAX_INT32: u64 = i32::MAX as u64;

/// Declares a closed set of REST enum values, serialised as their wire names.
macro_rules! wire_enum {
    ($name:ident { $($variant:ident => $wire:literal,)* }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        enum $name { $($variant),* }

        impl $name {
            fn as_str(self) -> &'static str {
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
    hash_algorithm: HashAlgorithm,
    /// `signerKey` and `saltSeparator` of Firebase's own scrypt.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    project: Option<Project>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rounds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_cost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_mem_cost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallelization: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dk_len: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_hash_order: Option<HashOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    argon2_parameters: Option<Argon2Parameters>,
}

/// `argon2Parameters`. `associatedData` is never sent: firegate reads no argon2 string that
/// carries any, and the REST text ("appended to the hash value") does not say what Firebase
/// does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
struct Argon2Parameters {
    hash_type: Argon2Type,
    version: Argon2Version,
    iterations: u64,
    memory_cost_kib: u64,
    parallelism: u64,
    hash_length_bytes: u64,
}

/// A Firebase project's scrypt parameters, compared by their fingerprint so that the signer
/// key is never copied out of its `SecretSlice`.
#[derive(Clone)]
struct Project(Arc<FirebaseProject>);

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
    fn new(hash_algorithm: HashAlgorithm) -> ImportAlgorithm {
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

type Mapped = Result<ImportableHash, NotImportable>;

/// Maps a parsed hash to what `batchCreate` imports:
///
/// | firegate scheme (verifier) | Firebase |
/// |---|---|
/// | PBKDF2-HMAC-SHA1 (Werkzeug, Django, passlib, LDAP `{PBKDF2}`, Atlassian, ASP.NET v2 and v3, Spring) | `PBKDF_SHA1`, rounds ≤ 120000 |
/// | PBKDF2-HMAC-SHA256 (the same families) | `PBKDF2_SHA256`, rounds ≤ 120000 |
/// | scrypt (Werkzeug, Django, passlib `$scrypt$`, Spring) | `STANDARD_SCRYPT` |
/// | argon2d/i/id, v16 or v19 (PHC, Django, PHP, Spring) | `ARGON2` within its limits |
/// | bcrypt of the password (`$2a$`/`$2b$`/`$2y$`, Django `bcrypt$`, `{CRYPT}`, Spring) | `BCRYPT` |
/// | Firebase scrypt with its project loaded | `SCRYPT` |
/// | MD5(salt ‖ password), MD5(password ‖ salt), MD5(password) | `MD5` rounds 0 over the hex text |
/// | SHA-1/256/512 of the same three | `SHA1`/`SHA256`/`SHA512` rounds 1 |
///
/// Salts are the bytes the scheme fed its algorithm (Werkzeug's and Django's salt text as
/// UTF-8, passlib's adapted base64 decoded, Spring's salt with its secret appended, since
/// Firebase must hash what Spring hashed). Every other scheme is [`NotImportable`].
pub fn importable(parsed: &ParsedHash) -> Mapped {
    let scheme = parsed.scheme();
    let no = |reason| Err(NotImportable::NoEquivalent { scheme, reason });
    if parsed.trims_typed() {
        return no("WordPress and Drupal trim what is typed; Firebase would check it as typed");
    }
    match parsed.verifier() {
        Verifier::Pbkdf2 {
            hash,
            rounds,
            salt,
            expected,
        } => pbkdf2(scheme, *hash, *rounds, salt, expected),
        Verifier::Salted {
            hash,
            layout,
            salt,
            expected,
        } => digest(scheme, *hash, *layout, salt, expected),
        Verifier::Scrypt {
            params,
            salt,
            expected,
        } => standard_scrypt(scheme, params, salt, expected),
        Verifier::Argon2 {
            algorithm,
            version,
            params,
            salt,
            expected,
        } => argon2(scheme, *algorithm, *version, params, salt, expected),
        Verifier::Bcrypt {
            input,
            cost,
            salt,
            expected,
        } => bcrypt(scheme, *input, *cost, salt, expected),
        Verifier::FirebaseScrypt {
            salt,
            expected,
            project,
            ..
        } => firebase_scrypt(scheme, project.as_ref(), salt, expected),
        Verifier::Iterated { .. } => Err(NotImportable::Unconfirmed {
            scheme,
            reason: "SHA-256 applied 1024 times; what Firebase's SHA256 computes for rounds \
                     above 1 is not documented",
        }),
        Verifier::Phpass { .. } => {
            no("phpass hashes the password again in every round; Firebase has no such digest")
        }
        Verifier::ShaCrypt { .. } => no("Firebase has no SHA-crypt"),
        Verifier::Md5Crypt { .. } | Verifier::Apr1 { .. } => no("Firebase has no MD5-crypt"),
        Verifier::Sha1Crypt { .. } => no("Firebase has no SHA1-crypt"),
        Verifier::DesCrypt { .. } => no("Firebase has no DES crypt(3)"),
    }
}

fn pbkdf2(scheme: &'static str, hash: HashFn, rounds: u32, salt: &[u8], expected: &[u8]) -> Mapped {
    let (algorithm, what) = match hash {
        HashFn::Sha1 => (HashAlgorithm::PbkdfSha1, "PBKDF2-SHA1"),
        HashFn::Sha256 => (HashAlgorithm::Pbkdf2Sha256, "PBKDF2-SHA256"),
        _ => {
            return Err(NotImportable::NoEquivalent {
                scheme,
                reason: "Firebase's PBKDF2 uses HMAC-SHA1 or HMAC-SHA256 only",
            });
        }
    };
    at_most(scheme, what, "rounds", rounds.into(), MAX_PBKDF2_ROUNDS)?;
    let salt = salted(scheme, salt)?;
    // No length is sent: Firebase derives as many bytes as the stored hash has (ISSUES #1088).
    Ok(ImportableHash {
        algorithm: ImportAlgorithm {
            rounds: Some(rounds.into()),
            ..ImportAlgorithm::new(algorithm)
        },
        password_hash: expected.to_vec(),
        salt: Some(salt),
    })
}

fn digest(
    scheme: &'static str,
    hash: HashFn,
    layout: Layout,
    salt: &[u8],
    expected: &[u8],
) -> Mapped {
    let order = match layout {
        Layout::HmacKeyedBySalt => {
            return Err(NotImportable::NoEquivalent {
                scheme,
                reason: "an HMAC keyed by each user's salt; Firebase's HMAC algorithms use one \
                         signer key for every user",
            });
        }
        _ if salt.is_empty() => None,
        Layout::Unsalted => None,
        Layout::SaltThenPassword => Some(HashOrder::SaltAndPassword),
        Layout::PasswordThenSalt => Some(HashOrder::PasswordAndSalt),
    };
    // LIVE: MD5 at rounds 0 compares the hex text, SHA256 at rounds 1 the raw digest; SHA1
    // and SHA512 share SHA256's rounds and order rules (ISSUES #1701, #792). What MD5 computes
    // at rounds 1, or any digest above that, is not documented, so nothing else is sent.
    let (algorithm, rounds, password_hash) = match hash {
        HashFn::Md5 => (HashAlgorithm::Md5, 0, hex::encode(expected).into_bytes()),
        HashFn::Sha1 => (HashAlgorithm::Sha1, 1, expected.to_vec()),
        HashFn::Sha256 => (HashAlgorithm::Sha256, 1, expected.to_vec()),
        HashFn::Sha512 => (HashAlgorithm::Sha512, 1, expected.to_vec()),
        _ => {
            return Err(NotImportable::NoEquivalent {
                scheme,
                reason: "Firebase's digests are MD5, SHA-1, SHA-256 and SHA-512 only",
            });
        }
    };
    Ok(ImportableHash {
        algorithm: ImportAlgorithm {
            rounds: Some(rounds),
            password_hash_order: order,
            ..ImportAlgorithm::new(algorithm)
        },
        password_hash,
        salt: order.map(|_| salt.to_vec()),
    })
}

fn standard_scrypt(
    scheme: &'static str,
    params: &scrypt::Params,
    salt: &[u8],
    expected: &[u8],
) -> Mapped {
    // REST gives no ranges beyond int32 fields and dkLen ≥ 1; N = 1024, r = 8, p = 16 and
    // dkLen = 64 are what LIVE imports.
    at_most(scheme, "scrypt", "as N", params.n(), MAX_INT32)?;
    at_most(scheme, "scrypt", "as r", params.r().into(), MAX_INT32)?;
    at_most(scheme, "scrypt", "as p", params.p().into(), MAX_INT32)?;
    let salt = salted(scheme, salt)?;
    Ok(ImportableHash {
        algorithm: ImportAlgorithm {
            cpu_mem_cost: Some(params.n()),
            block_size: Some(params.r().into()),
            parallelization: Some(params.p().into()),
            dk_len: Some(expected.len() as u64),
            ..ImportAlgorithm::new(HashAlgorithm::StandardScrypt)
        },
        password_hash: expected.to_vec(),
        salt: Some(salt),
    })
}

fn argon2(
    scheme: &'static str,
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    params: &argon2::Params,
    salt: &[u8],
    expected: &[u8],
) -> Mapped {
    if !params.data().is_empty() {
        return Err(NotImportable::Unconfirmed {
            scheme,
            reason: "argon2 with associated data; what Firebase does with associatedData is \
                     not documented",
        });
    }
    let iterations = params.t_cost().into();
    let memory = params.m_cost().into();
    let lanes = params.p_cost().into();
    let length = expected.len() as u64;
    at_most(scheme, scheme, "iterations", iterations, MAX_ARGON2_PASSES)?;
    at_most(
        scheme,
        scheme,
        "KiB of memory",
        memory,
        MAX_ARGON2_MEMORY_KIB,
    )?;
    at_most(scheme, scheme, "lanes", lanes, MAX_ARGON2_LANES)?;
    at_most(scheme, scheme, "hash bytes", length, MAX_ARGON2_HASH_LEN)?;
    let hash_type = match algorithm {
        argon2::Algorithm::Argon2d => Argon2Type::D,
        argon2::Algorithm::Argon2i => Argon2Type::I,
        argon2::Algorithm::Argon2id => Argon2Type::Id,
    };
    let version = match version {
        argon2::Version::V0x10 => Argon2Version::V10,
        argon2::Version::V0x13 => Argon2Version::V13,
    };
    // Raw tag and raw salt, as for every other parameterised algorithm: the parameters travel
    // in argon2Parameters, and hashLengthBytes would mean nothing for an encoded string.
    Ok(ImportableHash {
        algorithm: ImportAlgorithm {
            argon2_parameters: Some(Argon2Parameters {
                hash_type,
                version,
                iterations,
                memory_cost_kib: memory,
                parallelism: lanes,
                hash_length_bytes: length,
            }),
            ..ImportAlgorithm::new(HashAlgorithm::Argon2)
        },
        password_hash: expected.to_vec(),
        salt: Some(salt.to_vec()),
    })
}

fn bcrypt(
    scheme: &'static str,
    input: BcryptInput,
    cost: u32,
    salt: &[u8; 16],
    expected: &str,
) -> Mapped {
    let prehashed = match input {
        BcryptInput::Password => None,
        BcryptInput::Sha256Hex => Some(
            "bcrypt of the hex SHA-256 of the password; Firebase's BCRYPT hashes the password \
             itself",
        ),
        BcryptInput::Sha256Base64 | BcryptInput::HmacSha256Base64 => Some(
            "bcrypt of a base64 SHA-256 or HMAC-SHA256 of the password; Firebase's BCRYPT \
             hashes the password itself",
        ),
        BcryptInput::WordPress => Some(
            "bcrypt of a base64 HMAC-SHA384 of the password; Firebase's BCRYPT hashes the \
             password itself",
        ),
    };
    if let Some(reason) = prehashed {
        return Err(NotImportable::NoEquivalent { scheme, reason });
    }
    // The verifier keeps cost, salt and checksum, not the version letter: the string is
    // rebuilt as `$2b$`, the form LIVE imports. `$2a$` and `$2y$` compute the same as `$2b$`
    // for every password firegate checks (it verifies all three as `$2b$`).
    let password_hash = format!("$2b${cost:02}${}{expected}", bcrypt::BASE_64.encode(salt));
    Ok(ImportableHash {
        algorithm: ImportAlgorithm::new(HashAlgorithm::Bcrypt),
        password_hash: password_hash.into_bytes(),
        salt: None,
    })
}

fn firebase_scrypt(
    scheme: &'static str,
    project: Option<&Arc<FirebaseProject>>,
    salt: &[u8],
    expected: &[u8],
) -> Mapped {
    let Some(project) = project else {
        return Err(NotImportable::MissingProject { scheme });
    };
    let rounds = project.rounds.into();
    let mem_cost = project.mem_cost.into();
    at_most(
        scheme,
        "Firebase scrypt",
        "rounds",
        rounds,
        MAX_SCRYPT_ROUNDS,
    )?;
    at_most(
        scheme,
        "Firebase scrypt",
        "as memory cost",
        mem_cost,
        MAX_SCRYPT_MEM_COST,
    )?;
    Ok(ImportableHash {
        algorithm: ImportAlgorithm {
            project: Some(Project(Arc::clone(project))),
            rounds: Some(rounds),
            memory_cost: Some(mem_cost),
            ..ImportAlgorithm::new(HashAlgorithm::Scrypt)
        },
        password_hash: expected.to_vec(),
        salt: Some(salt.to_vec()),
    })
}

fn at_most(
    scheme: &'static str,
    what: &'static str,
    unit: &'static str,
    value: u64,
    limit: u64,
) -> Result<(), NotImportable> {
    if value > limit {
        return Err(NotImportable::OverLimit {
            scheme,
            what,
            unit,
            value,
            limit,
        });
    }
    Ok(())
}

/// A key-stretching salt, which must not be empty: what Firebase derives for a user sent
/// without one is not documented.
fn salted(scheme: &'static str, salt: &[u8]) -> Result<Vec<u8>, NotImportable> {
    if salt.is_empty() {
        return Err(NotImportable::Unconfirmed {
            scheme,
            reason: "an empty salt; what Firebase derives for a user without one is not \
                     documented",
        });
    }
    Ok(salt.to_vec())
}

/// Bytes as firebase-admin-node's `toWebSafeBase64` writes them: URL-safe, padded.
fn web_safe_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use aes::cipher::{KeyIvInit as _, StreamCipher as _};
    use base64::Engine as _;
    use serde_json::{Value, json};
    use sha2::Digest as _;

    use super::{ImportableHash, NotImportable, importable};
    use crate::passwords::tests::cases;
    use crate::passwords::{CostLimits, Dialect, parse, parse_with};

    const FIXTURES: [&str; 4] = [
        include_str!("../../tests/fixtures/legacy-hashes.jsonl"),
        include_str!("../../tests/fixtures/more-hashes.jsonl"),
        include_str!("../../tests/fixtures/php-hashes.jsonl"),
        include_str!("../../tests/fixtures/library-hashes.jsonl"),
    ];

    fn map(dialect: Dialect, stored: &str) -> Result<ImportableHash, NotImportable> {
        importable(&parse(dialect, stored, &CostLimits::default()).unwrap())
    }

    fn mapped(dialect: Dialect, stored: &str) -> (Value, ImportableHash) {
        let hash = map(dialect, stored).unwrap();
        (serde_json::to_value(&hash.algorithm).unwrap(), hash)
    }

    fn refusal(dialect: Dialect, stored: &str) -> String {
        map(dialect, stored).unwrap_err().to_string()
    }

    fn b64(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    }

    /// passlib's adapted base64: `.` for `+`, no padding.
    fn ab64(text: &str) -> Vec<u8> {
        let standard = text.replace('.', "+");
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(standard)
            .unwrap()
    }

    /// What Firebase would compute for `password` from the request JSON and the user's bytes,
    /// modelled on the sources in the module docs with the crates directly, so that a wrong
    /// salt, order, round count or encoding in the mapping shows as a mismatch.
    fn firebase_accepts(user: &ImportableHash, password: &str) -> bool {
        let request = serde_json::to_value(&user.algorithm).unwrap();
        let number = |name: &str| request[name].as_u64().unwrap();
        let bytes = |name: &str| {
            let text = request[name].as_str().unwrap();
            base64::engine::general_purpose::URL_SAFE
                .decode(text)
                .unwrap()
        };
        let password = password.as_bytes();
        let salt = user.salt.clone().unwrap_or_default();
        let stored = &user.password_hash;
        // SALT_AND_PASSWORD, and the default when no order is sent (LIVE).
        let input = match request["passwordHashOrder"].as_str() {
            Some("PASSWORD_AND_SALT") => [password, &salt].concat(),
            _ => [&salt[..], password].concat(),
        };
        let mut out = vec![0u8; stored.len()];
        match request["hashAlgorithm"].as_str().unwrap() {
            "PBKDF_SHA1" => {
                let rounds = number("rounds") as u32;
                pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, &salt, rounds, &mut out);
            }
            "PBKDF2_SHA256" => {
                let rounds = number("rounds") as u32;
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, rounds, &mut out);
            }
            "MD5" => {
                assert_eq!(number("rounds"), 0);
                out = hex::encode(md5::Md5::digest(&input)).into_bytes();
            }
            "SHA1" => out = sha1::Sha1::digest(&input).to_vec(),
            "SHA256" => out = sha2::Sha256::digest(&input).to_vec(),
            "SHA512" => out = sha2::Sha512::digest(&input).to_vec(),
            "BCRYPT" => {
                let hash = std::str::from_utf8(stored).unwrap();
                return bcrypt::verify(password, hash).unwrap();
            }
            "STANDARD_SCRYPT" => {
                let n = number("cpuMemCost");
                assert!(n.is_power_of_two());
                let r = number("blockSize") as u32;
                let p = number("parallelization") as u32;
                assert_eq!(number("dkLen") as usize, out.len());
                let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p).unwrap();
                scrypt::scrypt(password, &salt, &params, &mut out).unwrap();
            }
            "SCRYPT" => {
                let salted = [salt, bytes("saltSeparator")].concat();
                let log_n = number("memoryCost") as u8;
                let params = scrypt::Params::new(log_n, number("rounds") as u32, 1).unwrap();
                let mut derived = [0u8; 64];
                scrypt::scrypt(password, &salted, &params, &mut derived).unwrap();
                out = bytes("signerKey");
                ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16])
                    .unwrap()
                    .apply_keystream(&mut out);
            }
            "ARGON2" => {
                let a = &request["argon2Parameters"];
                let field = |name: &str| a[name].as_u64().unwrap() as u32;
                let algorithm = match a["hashType"].as_str().unwrap() {
                    "ARGON2_D" => argon2::Algorithm::Argon2d,
                    "ARGON2_I" => argon2::Algorithm::Argon2i,
                    _ => argon2::Algorithm::Argon2id,
                };
                let version = match a["version"].as_str().unwrap() {
                    "VERSION_10" => argon2::Version::V0x10,
                    _ => argon2::Version::V0x13,
                };
                let params = argon2::Params::new(
                    field("memoryCostKib"),
                    field("iterations"),
                    field("parallelism"),
                    Some(field("hashLengthBytes") as usize),
                )
                .unwrap();
                argon2::Argon2::new(algorithm, version, params)
                    .hash_password_into(password, &salt, &mut out)
                    .unwrap();
            }
            other => panic!("no model of {other}"),
        }
        out == *stored
    }

    #[test]
    fn every_importable_fixture_is_accepted_as_firebase_computes_it() {
        let mut outcomes: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for case in FIXTURES.iter().flat_map(|fixture| cases(fixture)) {
            let limits = CostLimits::default();
            let parsed = parse_with(case.dialect, &case.hash, &limits, &case.settings).unwrap();
            let what = format!("{} {}", case.source, case.hash);
            let outcome = match importable(&parsed) {
                Ok(user) => {
                    assert!(firebase_accepts(&user, &case.password), "{what}: rejected");
                    assert!(
                        !firebase_accepts(&user, &case.wrong),
                        "{what}: wrong accepted"
                    );
                    user.algorithm.hash_algorithm().to_owned()
                }
                Err(refusal) => {
                    let text = refusal.to_string();
                    assert_eq!(refusal.scheme(), parsed.scheme());
                    assert!(!text.contains(&case.password), "{what}: {text}");
                    // No salt, digest or key: no field of the stored string of 8 or more
                    // characters appears in the reason.
                    for field in case.hash.split(['$', ':', '{', '}', ',']) {
                        let named = parsed.scheme().contains(field);
                        assert!(field.len() < 8 || named || !text.contains(field), "{what}");
                    }
                    "refused".to_owned()
                }
            };
            outcomes.entry(parsed.scheme()).or_default().insert(outcome);
        }
        let expected: BTreeMap<&str, BTreeSet<String>> = EXPECTED
            .iter()
            .map(|(scheme, outcomes)| {
                let set = outcomes.split(' ').map(str::to_owned).collect();
                (*scheme, set)
            })
            .collect();
        let actual: Vec<String> = outcomes
            .iter()
            .map(|(scheme, set)| {
                let list: Vec<&str> = set.iter().map(String::as_str).collect();
                format!("(\"{scheme}\", \"{}\"),", list.join(" "))
            })
            .collect();
        assert_eq!(outcomes, expected, "\n{}", actual.join("\n"));
    }

    /// Every scheme of the fixtures with what it became: a Firebase algorithm, or `refused`
    /// (both where some of its hashes exceed Firebase's limits).
    const EXPECTED: &[(&str, &str)] = &[
        ("apr1", "refused"),
        ("argon2d", "ARGON2"),
        ("argon2i", "ARGON2"),
        ("argon2id", "ARGON2 refused"),
        ("aspnet-v2", "PBKDF_SHA1"),
        ("aspnet-v3-sha1", "PBKDF_SHA1"),
        ("aspnet-v3-sha256", "PBKDF2_SHA256 refused"),
        ("aspnet-v3-sha512", "refused"),
        ("atlassian-pbkdf2-sha1", "PBKDF_SHA1"),
        ("bcrypt", "BCRYPT refused"),
        ("des-crypt", "refused"),
        ("django-argon2i", "ARGON2"),
        ("django-argon2id", "ARGON2 refused"),
        ("django-bcrypt", "BCRYPT"),
        ("django-bcrypt-sha256", "refused"),
        ("django-crypt", "refused"),
        ("django-md5", "MD5"),
        ("django-pbkdf2-sha1", "refused"),
        ("django-pbkdf2-sha256", "PBKDF2_SHA256 refused"),
        ("django-scrypt", "STANDARD_SCRYPT"),
        ("django-sha1", "SHA1"),
        ("django-unsalted-md5", "MD5"),
        ("django-unsalted-sha1", "SHA1"),
        ("drupal-sha512", "refused"),
        ("drupal-sha512-md5", "refused"),
        ("firebase-scrypt", "SCRYPT"),
        ("ldap-md5", "MD5"),
        ("ldap-pbkdf2-sha1", "refused"),
        ("ldap-pbkdf2-sha256", "PBKDF2_SHA256"),
        ("ldap-pbkdf2-sha512", "refused"),
        ("ldap-sha", "SHA1"),
        ("ldap-smd5", "MD5"),
        ("ldap-ssha", "SHA1"),
        ("ldap-ssha256", "SHA256"),
        ("ldap-ssha512", "SHA512"),
        ("md5-crypt", "refused"),
        ("passlib-bcrypt-sha256", "refused"),
        ("pbkdf2-sha1", "PBKDF_SHA1 refused"),
        ("pbkdf2-sha256", "PBKDF2_SHA256"),
        ("pbkdf2-sha512", "refused"),
        ("phpass-md5", "refused"),
        ("phpass-md5-md5", "refused"),
        ("scrypt", "STANDARD_SCRYPT"),
        ("sha1-crypt", "refused"),
        ("sha256-crypt", "refused"),
        ("sha512-crypt", "refused"),
        ("spring-argon2d", "ARGON2"),
        ("spring-argon2id", "ARGON2"),
        ("spring-bcrypt", "BCRYPT"),
        ("spring-ldap-ssha", "SHA1"),
        ("spring-md5", "MD5"),
        ("spring-pbkdf2-sha1", "refused"),
        ("spring-pbkdf2-sha256", "refused"),
        ("spring-scrypt", "STANDARD_SCRYPT"),
        ("spring-sha1", "SHA1"),
        ("spring-sha256", "SHA256"),
        ("spring-standard-sha256", "refused"),
        ("werkzeug-blake2b", "refused"),
        ("werkzeug-blake2s", "refused"),
        ("werkzeug-hmac-blake2b", "refused"),
        ("werkzeug-hmac-blake2s", "refused"),
        ("werkzeug-hmac-md5", "refused"),
        ("werkzeug-hmac-sha1", "refused"),
        ("werkzeug-hmac-sha224", "refused"),
        ("werkzeug-hmac-sha256", "refused"),
        ("werkzeug-hmac-sha384", "refused"),
        ("werkzeug-hmac-sha3_256", "refused"),
        ("werkzeug-hmac-sha3_512", "refused"),
        ("werkzeug-hmac-sha512", "refused"),
        ("werkzeug-hmac-sha512_256", "refused"),
        ("werkzeug-md5", "MD5"),
        ("werkzeug-pbkdf2-blake2b", "refused"),
        ("werkzeug-pbkdf2-blake2s", "refused"),
        ("werkzeug-pbkdf2-md5", "refused"),
        ("werkzeug-pbkdf2-sha1", "PBKDF_SHA1 refused"),
        ("werkzeug-pbkdf2-sha224", "refused"),
        ("werkzeug-pbkdf2-sha256", "refused"),
        ("werkzeug-pbkdf2-sha384", "refused"),
        ("werkzeug-pbkdf2-sha3_256", "refused"),
        ("werkzeug-pbkdf2-sha512", "refused"),
        ("werkzeug-scrypt", "STANDARD_SCRYPT"),
        ("werkzeug-sha1", "SHA1"),
        ("werkzeug-sha224", "refused"),
        ("werkzeug-sha256", "SHA256"),
        ("werkzeug-sha384", "refused"),
        ("werkzeug-sha3_256", "refused"),
        ("werkzeug-sha3_512", "refused"),
        ("werkzeug-sha512", "SHA512"),
        ("werkzeug-sha512_256", "refused"),
        ("wordpress-bcrypt", "refused"),
        ("wordpress-md5", "MD5"),
    ];

    #[test]
    fn each_family_maps_to_the_rest_fields_and_bytes_it_needs() {
        // Werkzeug: the salt is the text, the digest hex.
        let werkzeug = "pbkdf2:sha1:1000$WcvoeE4It76aGr6H$a064cc639a8fe7d1ef2a3f4296ea338006a2";
        let werkzeug = cases_hash(werkzeug);
        let (request, user) = mapped(Dialect::Werkzeug, &werkzeug);
        assert_eq!(
            request,
            json!({"hashAlgorithm": "PBKDF_SHA1", "rounds": 1000})
        );
        assert_eq!(user.salt.as_deref(), Some(&b"WcvoeE4It76aGr6H"[..]));
        let digest = werkzeug.rsplit('$').next().unwrap();
        assert_eq!(user.password_hash, hex::decode(digest).unwrap());

        // passlib: the salt is what its adapted base64 decodes to, not the text.
        let passlib = cases_hash("$pbkdf2-sha256$1000$qLX23pvT.g$");
        let (request, user) = mapped(Dialect::Phc, &passlib);
        assert_eq!(
            request,
            json!({"hashAlgorithm": "PBKDF2_SHA256", "rounds": 1000})
        );
        assert_eq!(user.salt, Some(ab64("qLX23pvT.g")));
        assert_eq!(
            user.password_hash,
            ab64(passlib.rsplit('$').next().unwrap())
        );

        // ASP.NET v2: PBKDF2-HMAC-SHA1, 1000 rounds, 16-byte salt, 32-byte subkey.
        let aspnet = "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==";
        let (request, user) = mapped(Dialect::Aspnet, aspnet);
        assert_eq!(
            request,
            json!({"hashAlgorithm": "PBKDF_SHA1", "rounds": 1000})
        );
        assert_eq!(user.salt, Some((0u8..16).collect::<Vec<u8>>()));
        assert_eq!(user.password_hash, b64(aspnet)[17..]);

        // Standard scrypt: N itself, the stored length as dkLen.
        let scrypt = cases_hash("scrypt$yqMi0B9Phuol7lu1$");
        let (request, user) = mapped(Dialect::Werkzeug, &scrypt);
        let expected = json!({"hashAlgorithm": "STANDARD_SCRYPT", "cpuMemCost": 32768,
            "blockSize": 8, "parallelization": 1, "dkLen": 64});
        assert_eq!(request, expected);
        assert_eq!(user.salt.as_deref(), Some(&b"yqMi0B9Phuol7lu1"[..]));

        // argon2: raw salt and tag, the parameters in argon2Parameters.
        let argon2 = cases_hash("$argon2id$v=19$m=19456,t=2,p=1$JAuGGCrELp58aVoHFKLuOg$");
        let (request, user) = mapped(Dialect::Phc, &argon2);
        let parameters = json!({"hashType": "ARGON2_ID", "version": "VERSION_13",
            "iterations": 2, "memoryCostKib": 19456, "parallelism": 1, "hashLengthBytes": 32});
        let expected = json!({"hashAlgorithm": "ARGON2", "argon2Parameters": parameters});
        assert_eq!(request, expected);
        assert_eq!(user.salt, Some(b64("JAuGGCrELp58aVoHFKLuOg==")));
        let django = "argon2$argon2i$v=16$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$VaP9Rq0FLlQqVwh5TXCiog";
        let (request, _) = mapped(Dialect::Django, django);
        assert_eq!(request["argon2Parameters"]["version"], "VERSION_10");
        assert_eq!(request["argon2Parameters"]["hashType"], "ARGON2_I");

        // bcrypt: the whole string, rebuilt as $2b$; no salt of its own.
        for (stored, sent) in [
            (
                "$2b$10$cWaQHAyS7LetDFp2nX6uQejPHrIMQJBpUA8QQ/r.Y39iG8wWyNjdK",
                None,
            ),
            (
                "$2y$10$RJT/Bu/s/AzwVQLzLvURe.Oe.3gMNIPslB.wZ79Tc7qpeNmXgqY2u",
                Some("$2b$"),
            ),
            (
                "$2a$10$l0Bz6e0nqKPSVy4Jd7W1a.WThV8AnyN5aWkL76bBd7LPdLUpA7.Ve",
                Some("$2b$"),
            ),
        ] {
            let (request, user) = mapped(Dialect::Phc, stored);
            assert_eq!(request, json!({"hashAlgorithm": "BCRYPT"}));
            let expected = sent.map_or(stored.to_owned(), |v| format!("{v}{}", &stored[4..]));
            assert_eq!(user.password_hash, expected.as_bytes());
            assert_eq!(user.salt, None);
        }

        // One-pass digests: MD5 as its hex text at rounds 0, SHA-x raw at rounds 1.
        let (request, user) = mapped(Dialect::Django, "md5$sält$5d1f26ee6050e166e5409891046b624b");
        let expected = json!({"hashAlgorithm": "MD5", "rounds": 0,
            "passwordHashOrder": "SALT_AND_PASSWORD"});
        assert_eq!(request, expected);
        assert_eq!(user.password_hash, b"5d1f26ee6050e166e5409891046b624b");
        assert_eq!(user.salt, Some("sält".as_bytes().to_vec()));
        let (request, user) = mapped(Dialect::Django, "3a3a331d88c5d687d6fe2102eedc718d");
        assert_eq!(request, json!({"hashAlgorithm": "MD5", "rounds": 0}));
        assert_eq!(user.salt, None);
        let ssha = "{SSHA}9V9SO5g95bkm8xGdciKV9Kn+ea8QIsSY";
        let (request, user) = mapped(Dialect::Phc, ssha);
        let expected = json!({"hashAlgorithm": "SHA1", "rounds": 1,
            "passwordHashOrder": "PASSWORD_AND_SALT"});
        assert_eq!(request, expected);
        let raw = b64("9V9SO5g95bkm8xGdciKV9Kn+ea8QIsSY");
        assert_eq!(
            (user.password_hash, user.salt),
            (raw[..20].to_vec(), Some(raw[20..].to_vec()))
        );
    }

    /// The full stored string of the fixture line whose hash starts with `prefix`.
    fn cases_hash(prefix: &str) -> String {
        FIXTURES
            .iter()
            .flat_map(|fixture| cases(fixture))
            .map(|case| case.hash)
            .find(|hash| hash.starts_with(prefix))
            .unwrap()
    }

    #[test]
    fn firebase_scrypt_needs_its_project_and_sends_its_key_web_safe() {
        let case = FIXTURES
            .iter()
            .flat_map(|fixture| cases(fixture))
            .find(|case| case.dialect == Dialect::Firebase)
            .unwrap();
        let limits = CostLimits::default();
        let parsed = parse_with(case.dialect, &case.hash, &limits, &case.settings).unwrap();
        let user = importable(&parsed).unwrap();
        let request = serde_json::to_value(&user.algorithm).unwrap();
        let key = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
        let expected = json!({"hashAlgorithm": "SCRYPT", "signerKey": key,
            "saltSeparator": "Bw==", "rounds": 8, "memoryCost": 14});
        assert_eq!(request, expected);
        assert_eq!(user.salt, Some(b64("42xEC+ixf3L2lw==")));
        // URL-safe base64, as firebase-admin-node's toWebSafeBase64 writes bytes.
        let user = ImportableHash {
            password_hash: vec![0xfb, 0xff],
            salt: Some(vec![0xfe]),
            ..user
        };
        assert_eq!(user.password_hash_base64(), "-_8=");
        assert_eq!(user.salt_base64().as_deref(), Some("_g=="));
        // The key never reaches Debug or describe.
        for shown in [format!("{user:?}"), user.algorithm.describe()] {
            assert!(
                !shown.contains(&key[..20]) && !shown.contains("-_8"),
                "{shown}"
            );
            assert!(
                shown.contains("SCRYPT rounds=8 memoryCost=14 project="),
                "{shown}"
            );
        }
        let without = importable(&parse(case.dialect, &case.hash, &limits).unwrap());
        assert_eq!(
            without.unwrap_err().to_string(),
            "firebase-scrypt: the project's hash parameters are not loaded (give them with \
             --hash-config)"
        );
    }

    #[test]
    fn refusals_say_why_in_a_line() {
        let werkzeug = cases_hash("pbkdf2:sha256:600000$");
        #[rustfmt::skip]
        let refusals = [
            (Dialect::Werkzeug, werkzeug.as_str(), "PBKDF2-SHA256 with 600000 rounds: Firebase imports at most 120000"),
            (Dialect::Phc, "$argon2id$v=19$m=65536,t=3,p=4$jjCmDKzKBhrotwk7pgUYqw$SGgAdfgGvm7r7jva", "argon2id with 65536 KiB of memory: Firebase imports at most 32768"),
            (Dialect::Aspnet, "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw", "aspnet-v3-sha512: Firebase's PBKDF2 uses HMAC-SHA1 or HMAC-SHA256 only"),
            (Dialect::Werkzeug, "sha256$8dUx8hpsHeyOefMW$2e648f45c65f4cfa4ae10282d48b38cc3d7e2e586a0d97", "werkzeug-hmac-sha256: an HMAC keyed by each user's salt"),
            (Dialect::Werkzeug, "sha384$$81e4760980814cf38b80699a1da619d706dab566ea3d7657f5bdb0438aa2c9", "werkzeug-sha384: Firebase's digests are MD5, SHA-1, SHA-256 and SHA-512 only"),
            (Dialect::Php, "$P$BfoDv9tdo0mY0njzTT0kxJvjnVQLaq0", "phpass-md5: phpass hashes the password again"),
            (Dialect::Php, "$wp$2y$10$xP6MPWTlTMLAQGtZpmBReeeHJLkxvBsZuSSpXiBaREiQ2wpqx2Iyq", "wordpress-bcrypt: bcrypt of a base64 HMAC-SHA384"),
            (Dialect::Wordpress, "$2y$04$jPV4L3Aa9F8W9gWBsQx.me3FEA3xjBeQ8r2gWHDm.mCion9HoKl/6", "bcrypt: WordPress and Drupal trim what is typed"),
            (Dialect::Phc, "$1$6rWV8mXn$q1n4r8hVvf/4AjrJ0l33j.", "md5-crypt: Firebase has no MD5-crypt"),
            (Dialect::Phc, "1mnyI2ZzSHqX2", "des-crypt: Firebase has no DES crypt(3)"),
            (Dialect::Spring, "{sha256}97cde38028ad898ebc02e690819fa220e88c62e0699403e94fff291cfffaf8", "spring-standard-sha256: SHA-256 applied 1024 times"),
        ];
        for (dialect, stored, reason) in refusals {
            // A fixture's whole string where the line above gives only its start.
            let stored = FIXTURES
                .iter()
                .flat_map(|fixture| cases(fixture))
                .map(|case| case.hash)
                .find(|hash| hash.starts_with(stored))
                .unwrap_or_else(|| stored.to_owned());
            let text = refusal(dialect, &stored);
            assert!(text.starts_with(reason), "{text}");
        }
        let bcrypt_sha256 = cases_hash("bcrypt_sha256$$2b$12$");
        assert!(refusal(Dialect::Django, &bcrypt_sha256).contains("hashes the password itself"));
    }

    #[test]
    fn equal_parameters_make_one_group() {
        let a = map(Dialect::Werkzeug, &cases_hash("scrypt$yqMi0B9Phuol7lu1$")).unwrap();
        let b = map(
            Dialect::Werkzeug,
            &cases_hash("scrypt:32768:8:1$2TzB5XX5tQdlBxGC$"),
        )
        .unwrap();
        let c = map(Dialect::Werkzeug, &cases_hash("scrypt:16384:8:1$")).unwrap();
        assert_ne!(a.salt, b.salt);
        let groups: BTreeSet<_> = [&a, &b, &c].iter().map(|u| u.algorithm.clone()).collect();
        assert_eq!(groups.len(), 2);
        assert_eq!(
            a.algorithm.describe(),
            "STANDARD_SCRYPT cpuMemCost=32768 blockSize=8 parallelization=1 dkLen=64"
        );
        let pbkdf2 = map(Dialect::Phc, &cases_hash("$pbkdf2-sha256$29000$")).unwrap();
        assert_eq!(pbkdf2.algorithm.describe(), "PBKDF2_SHA256 rounds=29000");
        assert!(!format!("{pbkdf2:?}").contains(&hex::encode(&pbkdf2.password_hash)[..8]));
    }
}

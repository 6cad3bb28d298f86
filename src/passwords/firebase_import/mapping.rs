//! Which stored hash maps to which Firebase import algorithm, within the limits Firebase
//! documents (the sources are in `mod.rs`).

use std::sync::Arc;

use base64::Engine as _;

use super::request::{
    Argon2Parameters, Argon2Type, Argon2Version, HashAlgorithm, HashOrder, ImportAlgorithm,
    ImportableHash, NotImportable, Project,
};
use crate::passwords::digest::HashFn;
use crate::passwords::scheme::ParsedHash;
use crate::passwords::settings::FirebaseProject;
use crate::passwords::verifier::{BcryptInput, Layout, Verifier};

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

//! What verifying a parsed hash recomputes, one variant per algorithm family. Dialect
//! parsers build these only after checking grammar, encodings and cost limits, so
//! recomputing can fail only by not matching.

use super::digest::HashFn;
use super::recompute;
use super::scheme::{Argon2Params, HashError};

/// A hash reduced to the inputs its algorithm needs and the output it must reproduce.
#[derive(Clone)]
pub(crate) enum Verifier {
    Pbkdf2 {
        hash: HashFn,
        rounds: u32,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    Salted {
        hash: HashFn,
        layout: Layout,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    Scrypt {
        params: scrypt::Params,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    Argon2 {
        algorithm: argon2::Algorithm,
        version: argon2::Version,
        params: argon2::Params,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    Bcrypt {
        input: BcryptInput,
        cost: u32,
        salt: [u8; 16],
        /// The 31 characters after the salt, compared as text because the crate
        /// only hands its raw output back formatted.
        expected: String,
    },
    /// sha256-crypt and sha512-crypt, whose every round hashes the password once or twice.
    ShaCrypt {
        algorithm: sha_crypt::Algorithm,
        hash: HashFn,
        rounds: u64,
        salt_len: usize,
        /// Compressions allowed, so that a long password cannot multiply the admitted work.
        budget: u64,
        stored: String,
    },
    Md5Crypt {
        stored: String,
    },
    DesCrypt {
        stored: String,
    },
    /// phpass and Drupal 7: `hash(salt ‖ password)`, then `count` times
    /// `hash(previous ‖ password)`, encoded with phpass's base64 and compared with as many
    /// characters as the stored string kept.
    Phpass {
        hash: HashFn,
        count: u32,
        /// Compressions allowed, so that a long password cannot multiply the admitted work.
        budget: u64,
        /// Drupal's `U$` forms: the password is first replaced by its MD5 in hex.
        md5_first: bool,
        salt: Vec<u8>,
        expected: String,
    },
    /// Spring's `StandardPasswordEncoder`: `hash` applied `count` times to prefix ‖ password.
    Iterated {
        hash: HashFn,
        count: u32,
        budget: u64,
        prefix: Vec<u8>,
        expected: Vec<u8>,
    },
    Apr1 {
        salt: String,
        expected: String,
    },
    Sha1Crypt {
        rounds: u32,
        salt: String,
        expected: String,
    },
    /// Firebase's scrypt; without its project's parameters (`--hash-config`) it never matches.
    FirebaseScrypt {
        params: scrypt::Params,
        salt: Vec<u8>,
        expected: Vec<u8>,
        project: Option<std::sync::Arc<super::settings::FirebaseProject>>,
    },
}

/// How a one-pass digest combines the password with the salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Unsalted,
    /// Django `md5$` / `sha1$`: digest(salt ‖ password).
    SaltThenPassword,
    /// LDAP `{SSHA}` and friends: digest(password ‖ salt).
    PasswordThenSalt,
    /// Werkzeug ≤ 2.2 `<digest>$salt$`: HMAC keyed by the salt over the password.
    HmacKeyedBySalt,
}

/// What bcrypt is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BcryptInput {
    Password,
    /// Django `bcrypt_sha256`: lowercase hex of SHA-256(password), which keeps long
    /// passwords from being cut at bcrypt's 72 bytes.
    Sha256Hex,
    /// passlib `bcrypt_sha256` version 1: base64 of SHA-256(password).
    Sha256Base64,
    /// passlib `bcrypt_sha256` version 2: base64 of HMAC-SHA256 keyed by the salt's text.
    HmacSha256Base64,
    /// WordPress 6.8 `$wp$`: base64 of HMAC-SHA384 keyed by `wp-sha384`.
    WordPress,
}

impl Verifier {
    /// True when `password` reproduces the stored output; each family's recomputation is a
    /// step of its own in `recompute.rs`.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        match self {
            Verifier::Pbkdf2 {
                hash,
                rounds,
                salt,
                expected,
            } => recompute::pbkdf2(*hash, *rounds, salt, password, expected),
            Verifier::Salted {
                hash,
                layout,
                salt,
                expected,
            } => recompute::salted_digest(*hash, *layout, salt, password, expected),
            Verifier::Scrypt {
                params,
                salt,
                expected,
            } => recompute::scrypt(params, salt, password, expected),
            Verifier::Argon2 {
                algorithm,
                version,
                params,
                salt,
                expected,
            } => recompute::argon2(*algorithm, *version, params, salt, password, expected),
            Verifier::Bcrypt {
                input,
                cost,
                salt,
                expected,
            } => recompute::bcrypt(*input, *cost, salt, password, expected),
            Verifier::ShaCrypt {
                algorithm, stored, ..
            } => recompute::sha_crypt(*algorithm, stored, password),
            Verifier::Md5Crypt { stored } => recompute::md5_crypt(stored, password),
            Verifier::DesCrypt { stored } => recompute::des_crypt(stored, password),
            Verifier::Phpass {
                hash,
                count,
                md5_first,
                salt,
                expected,
                ..
            } => recompute::phpass(*hash, *count, *md5_first, salt, password, expected),
            Verifier::Iterated {
                hash,
                count,
                prefix,
                expected,
                ..
            } => recompute::iterated(*hash, *count, prefix, password, expected),
            Verifier::Apr1 { salt, expected } => recompute::apr1(salt, password, expected),
            Verifier::Sha1Crypt {
                rounds,
                salt,
                expected,
            } => recompute::sha1_crypt(*rounds, salt, password, expected),
            Verifier::FirebaseScrypt {
                params,
                salt,
                expected,
                project,
            } => project.as_ref().is_some_and(|project| {
                recompute::firebase_scrypt(project, params, salt, password, expected)
            }),
        }
    }

    /// For the schemes whose work grows with the password: the compressions a check of a
    /// `password_len`-byte password makes, and the budget it must stay within. `None` for
    /// schemes whose work does not depend on the password's length (PBKDF2 and HMAC key
    /// the password once, bcrypt reads 72 bytes, DES 8, scrypt and argon2 hash it once) or
    /// is fixed and small (md5-crypt's 1,000 rounds).
    pub(crate) fn work(&self, password_len: usize) -> Option<(u64, u64)> {
        match self {
            Verifier::ShaCrypt {
                hash,
                rounds,
                salt_len,
                budget,
                ..
            } => Some((
                super::limits::sha_crypt_compressions(*hash, *rounds, password_len, *salt_len),
                *budget,
            )),
            Verifier::Phpass {
                hash,
                count,
                budget,
                md5_first,
                salt,
                ..
            } => {
                let fed = if *md5_first { 32 } else { password_len };
                let first = super::limits::blocks(*hash, salt.len() + fed);
                let rounds = u64::from(*count)
                    .saturating_mul(super::limits::blocks(*hash, hash.output_len() + fed));
                Some((first.saturating_add(rounds), *budget))
            }
            Verifier::Iterated {
                hash,
                count,
                budget,
                prefix,
                ..
            } => {
                let first = super::limits::blocks(*hash, prefix.len() + password_len);
                let rest = u64::from(*count).saturating_sub(1);
                Some((first.saturating_add(rest), *budget))
            }
            _ => None,
        }
    }

    /// Why this hash cannot be checked here even though it parsed: a Firebase hash whose
    /// project parameters were not given.
    pub(crate) fn missing(&self) -> Option<HashError> {
        match self {
            Verifier::FirebaseScrypt { project: None, .. } => Some(HashError::MissingParameters {
                scheme: "firebase-scrypt",
                flag: "--hash-config",
            }),
            _ => None,
        }
    }

    pub(crate) fn argon2_params(&self) -> Option<Argon2Params> {
        let Verifier::Argon2 {
            algorithm,
            version,
            params,
            expected,
            ..
        } = self
        else {
            return None;
        };
        Some(Argon2Params {
            variant: algorithm.as_str(),
            version: *version as u32,
            m_cost: params.m_cost(),
            t_cost: params.t_cost(),
            p_cost: params.p_cost(),
            output_len: expected.len(),
        })
    }
}

//! What verifying a parsed hash recomputes, one variant per algorithm family. Dialect
//! parsers build these only after checking grammar, encodings and cost limits, so
//! recomputing can fail only by not matching.

use sha_crypt::PasswordVerifier as _;
use subtle::ConstantTimeEq as _;

use super::digest::HashFn;
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
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        match self {
            Verifier::Pbkdf2 {
                hash,
                rounds,
                salt,
                expected,
            } => {
                let mut out = vec![0u8; expected.len()];
                hash.pbkdf2(password, salt, *rounds, &mut out);
                same(&out, expected)
            }
            Verifier::Salted {
                hash,
                layout,
                salt,
                expected,
            } => {
                let out = match layout {
                    Layout::Unsalted => hash.digest(&[password]),
                    Layout::SaltThenPassword => hash.digest(&[salt, password]),
                    Layout::PasswordThenSalt => hash.digest(&[password, salt]),
                    Layout::HmacKeyedBySalt => hash.hmac(salt, password),
                };
                same(&out, expected)
            }
            Verifier::Scrypt {
                params,
                salt,
                expected,
            } => {
                let mut out = vec![0u8; expected.len()];
                scrypt::scrypt(password, salt, params, &mut out).is_ok() && same(&out, expected)
            }
            Verifier::Argon2 {
                algorithm,
                version,
                params,
                salt,
                expected,
            } => {
                let mut out = vec![0u8; expected.len()];
                let argon = argon2::Argon2::new(*algorithm, *version, params.clone());
                super::memory::hash_into(&argon, password, salt, &mut out).is_ok()
                    && same(&out, expected)
            }
            Verifier::Bcrypt {
                input,
                cost,
                salt,
                expected,
            } => {
                use base64::Engine as _;
                let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
                let prehashed;
                let input = match input {
                    BcryptInput::Password => password,
                    BcryptInput::Sha256Hex => {
                        prehashed = hex::encode(HashFn::Sha256.digest(&[password]));
                        prehashed.as_bytes()
                    }
                    BcryptInput::Sha256Base64 => {
                        prehashed = b64(HashFn::Sha256.digest(&[password]));
                        prehashed.as_bytes()
                    }
                    BcryptInput::HmacSha256Base64 => {
                        let key = bcrypt::BASE_64.encode(salt);
                        prehashed = b64(HashFn::Sha256.hmac(key.as_bytes(), password));
                        prehashed.as_bytes()
                    }
                    BcryptInput::WordPress => {
                        prehashed = b64(HashFn::Sha384.hmac(b"wp-sha384", password));
                        prehashed.as_bytes()
                    }
                };
                // `hash_with_salt` truncates at 72 bytes like OpenBSD bcrypt did.
                bcrypt::hash_with_salt(input, *cost, *salt).is_ok_and(|parts| {
                    let full = parts.format_for_version(bcrypt::Version::TwoB);
                    full.get(29..)
                        .is_some_and(|checksum| same(checksum.as_bytes(), expected.as_bytes()))
                })
            }
            Verifier::ShaCrypt {
                algorithm, stored, ..
            } => sha_crypt::ShaCrypt::from(*algorithm)
                .verify_password(password, stored.as_str())
                .is_ok(),
            Verifier::Md5Crypt { stored } => {
                // Deprecated only to steer new hashes elsewhere; checking old ones is its use.
                #[allow(deprecated)]
                let out = pwhash::md5_crypt::hash_with(stored.as_str(), password);
                out.is_ok_and(|out| same(out.as_bytes(), stored.as_bytes()))
            }
            Verifier::DesCrypt { stored } => {
                #[allow(deprecated)]
                let out = pwhash::unix_crypt::hash_with(stored.get(..2).unwrap_or(""), password);
                out.is_ok_and(|out| same(out.as_bytes(), stored.as_bytes()))
            }
            Verifier::Phpass {
                hash,
                count,
                md5_first,
                salt,
                expected,
                ..
            } => {
                let hexed;
                let password = if *md5_first {
                    hexed = hex::encode(HashFn::Md5.digest(&[password]));
                    hexed.as_bytes()
                } else {
                    password
                };
                let mut out = hash.digest(&[salt, password]);
                for _ in 0..*count {
                    out = hash.digest(&[&out, password]);
                }
                let encoded = super::phpass::encode64(&out);
                encoded
                    .get(..expected.len())
                    .is_some_and(|kept| same(kept.as_bytes(), expected.as_bytes()))
            }
            Verifier::Iterated {
                hash,
                count,
                prefix,
                expected,
                ..
            } => {
                let mut out = hash.digest(&[prefix, password]);
                for _ in 1..*count {
                    out = hash.digest(&[&out]);
                }
                same(&out, expected)
            }
            Verifier::Apr1 { salt, expected } => {
                let out = super::passlib::md5_crypt(password, salt.as_bytes(), b"$apr1$");
                same(out.as_bytes(), expected.as_bytes())
            }
            Verifier::Sha1Crypt {
                rounds,
                salt,
                expected,
            } => super::passlib::sha1_crypt_checksum(password, salt, *rounds)
                .is_some_and(|out| same(out.as_bytes(), expected.as_bytes())),
            Verifier::FirebaseScrypt {
                params,
                salt,
                expected,
                project,
            } => project.as_ref().is_some_and(|project| {
                super::firebase::hash(project, params, salt, password)
                    .is_some_and(|out| same(&out, expected))
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

fn same(computed: &[u8], expected: &[u8]) -> bool {
    computed.ct_eq(expected).into()
}

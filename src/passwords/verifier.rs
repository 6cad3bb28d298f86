//! What verifying a parsed hash recomputes, one variant per algorithm family. Dialect
//! parsers build these only after checking grammar, encodings and cost limits, so
//! recomputing can fail only by not matching.

use sha_crypt::PasswordVerifier as _;
use subtle::ConstantTimeEq as _;

use super::digest::HashFn;
use super::scheme::Argon2Params;

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
    ShaCrypt {
        algorithm: sha_crypt::Algorithm,
        stored: String,
    },
    Md5Crypt {
        stored: String,
    },
    DesCrypt {
        stored: String,
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
                let prehashed;
                let input = match input {
                    BcryptInput::Password => password,
                    BcryptInput::Sha256Hex => {
                        prehashed = hex::encode(HashFn::Sha256.digest(&[password]));
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
            Verifier::ShaCrypt { algorithm, stored } => sha_crypt::ShaCrypt::from(*algorithm)
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

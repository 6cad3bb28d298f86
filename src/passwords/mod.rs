//! Passwords: the secret a user types, the hash an account stores, and the hashing service
//! that computes argon2id hashes and verifies stored (possibly legacy) hashes on a fixed pool
//! of threads, so a login flood can neither starve the async runtime nor exhaust memory.

mod aspnet;
mod crypt;
mod digest;
mod django;
mod encoding;
mod firebase;
mod firebase_import;
mod ldap;
mod limits;
mod memory;
mod passlib;
mod password;
mod phc;
mod phpass;
mod pool;
mod recompute;
mod scheme;
mod settings;
mod spring;
mod stored_hash;
mod transform;
mod verifier;
mod werkzeug;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use firebase_import::{ImportAlgorithm, ImportableHash, NotImportable, importable};
pub use password::{MAX_PASSWORD_BYTES, Password};
pub use pool::{PasswordOptions, Passwords, hash_now};
pub use scheme::{
    Argon2Params, CostLimits, Dialect, GUARANTEED_PASSWORD_BYTES, HashError, MAX_STORED_BYTES,
    ParsedHash, UnknownDialect, clear_text, parse, parse_with,
};
pub use settings::{DialectSettings, FirebaseProject, SpringPbkdf2, SpringSettings};
pub use stored_hash::{StoredHash, Verdict};
pub use transform::Transform;

//! The hash an account stores, with the dialect it was written in, and the verdict of checking
//! a password against it.

use std::fmt;

use super::scheme::{self, CostLimits, Dialect, HashError};
use super::transform::Transform;

/// A stored password hash with the dialect it was written in. `Debug` hides the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredHash {
    /// The hash string exactly as the writing library produced it.
    pub hash: String,
    /// Which framework's grammar the string follows.
    pub dialect: Dialect,
    /// The name of the [`Transform`] a typed password goes through before it is checked
    /// against `hash` (an argon2id hash that replaced a lossy legacy one), or `None` for the
    /// password as typed. Kept as text, so that a name this version does not know makes the
    /// hash unusable rather than the account unreadable.
    pub input: Option<String>,
}

impl StoredHash {
    /// A hash of a password as typed.
    pub fn of_typed(hash: String, dialect: Dialect) -> StoredHash {
        StoredHash {
            hash,
            dialect,
            input: None,
        }
    }

    /// The transform a typed password goes through before it is checked.
    pub fn transform(&self) -> std::result::Result<Transform, HashError> {
        Transform::from_name(self.input.as_deref())
    }

    /// The scheme name used in statistics (e.g. `argon2id`, `werkzeug-pbkdf2-sha256`), or
    /// `unusable` when the string does not parse under its dialect.
    pub fn scheme_name(&self) -> String {
        match scheme::parse(self.dialect, &self.hash, &CostLimits::unbounded()) {
            Ok(parsed) => parsed.scheme().to_string(),
            Err(_) => "unusable".to_string(),
        }
    }
}

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredHash({}, <redacted>)", self.dialect.as_str())
    }
}

/// The outcome of checking a password against an account's stored hash.
#[derive(Debug)]
pub enum Verdict {
    /// The password is right. `rehash` asks for the hash to be replaced with a current one,
    /// computed over the password in the `input` form and kept with it
    /// ([`Passwords::hash_as`]). `input` is [`Transform::None`] only when the password
    /// matched as typed and no other input would have.
    Match { rehash: bool, input: Transform },
    /// The password is wrong, or there was no account to check against.
    Mismatch,
    /// The stored hash cannot be used (malformed, unknown scheme, or absurd cost).
    Unusable(HashError),
}

//! The account: a Firebase uid, its login identifiers, its password hash and the flags and
//! claims that decide what a sign-in yields.

use std::fmt;

use jiff::Timestamp;
use rand::RngExt;
use serde::Serialize;

use crate::claims::Claims;
use crate::login::Login;
use crate::passwords::StoredHash;
use crate::{Error, Result};

/// Firebase's limit on a uid, in characters.
pub const MAX_UID_CHARS: usize = 128;

/// A Firebase uid that is also a valid Firestore document id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Uid(String);

impl Uid {
    /// Checks a uid: 1–128 characters (Firebase), and usable as a Firestore document id
    /// (no `/`, not `.` or `..`, not `__name__`, no control characters).
    pub fn parse(value: &str) -> Result<Uid> {
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_UID_CHARS {
            return Err(Error::invalid(
                "invalid_uid",
                format!("a uid must be 1-{MAX_UID_CHARS} characters long, this one has {chars}"),
            ));
        }
        let reserved = value.len() >= 4 && value.starts_with("__") && value.ends_with("__");
        if value.contains('/') || value == "." || value == ".." || reserved {
            return Err(Error::invalid(
                "invalid_uid",
                "a uid must not contain '/', be '.' or '..', or look like __name__ \
                 (Firestore document ids)",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(
                "invalid_uid",
                "a uid must not contain control characters",
            ));
        }
        Ok(Uid(value.to_string()))
    }

    /// A new random uid shaped like Firebase's own: 28 base62 characters (~166 bits).
    pub fn generate() -> Uid {
        const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut rng = rand::rng();
        let uid = (0..28)
            .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
            .collect();
        Uid(uid)
    }

    /// The uid text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({:?})", self.0)
    }
}

/// An account as firegate stores it.
#[derive(Debug, Clone)]
pub struct Account {
    /// The Firebase uid the token is minted for.
    pub uid: Uid,
    /// Email login, if any (normalized to lowercase).
    pub email: Option<Login>,
    /// Username login, if any (exact).
    pub username: Option<Login>,
    /// The password hash and the dialect it was written in.
    pub password: StoredHash,
    /// When the account was created (imported accounts keep their legacy creation time).
    pub created_at: Timestamp,
    /// When the account was last changed.
    pub updated_at: Timestamp,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// Developer claims copied into every token.
    pub claims: Claims,
}

impl Account {
    /// Every login identifier of the account.
    pub fn logins(&self) -> impl Iterator<Item = &Login> {
        self.email.iter().chain(self.username.iter())
    }
}

/// What an admin sees of an account: everything but the hash itself.
#[derive(Debug, Serialize)]
pub struct AccountSummary {
    pub uid: Uid,
    pub logins: Vec<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub hash_scheme: String,
    pub hash_dialect: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub disabled: bool,
    pub claims: Claims,
}

impl From<&Account> for AccountSummary {
    fn from(a: &Account) -> Self {
        AccountSummary {
            uid: a.uid.clone(),
            logins: a.logins().map(|l| l.to_string()).collect(),
            email: a.email.as_ref().map(Login::to_string),
            username: a.username.as_ref().map(Login::to_string),
            hash_scheme: a.password.scheme_name(),
            hash_dialect: a.password.dialect.as_str().to_string(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            disabled: a.disabled,
            claims: a.claims.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_length_is_counted_in_characters() {
        assert!(Uid::parse(&"가".repeat(128)).is_ok());
        assert!(Uid::parse(&"가".repeat(129)).is_err());
        assert!(Uid::parse("").is_err());
        assert!(Uid::parse("12345").is_ok());
    }

    #[test]
    fn uids_that_cannot_be_document_ids_are_refused() {
        for bad in ["a/b", ".", "..", "__name__", "a\nb"] {
            assert!(Uid::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_uids_look_like_firebase_uids() {
        let a = Uid::generate();
        let b = Uid::generate();
        assert_eq!(a.as_str().len(), 28);
        assert!(a.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert!(Uid::parse(a.as_str()).is_ok());
    }
}

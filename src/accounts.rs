//! The account: a Firebase uid, its login identifiers, its password hash and the flags and
//! claims that decide what a sign-in yields.

use std::fmt;

use jiff::Timestamp;
use rand::RngExt;
use serde::Serialize;

use crate::claims::Claims;
use crate::factors::Factors;
use crate::login::Login;
use crate::passwords::StoredHash;
use crate::{Error, Result};

/// Longest uid, in UTF-8 bytes. Firebase documents "128 characters" and its Admin SDKs count
/// differently: Node and Java count UTF-16 units, Python code points, and Go bytes — in
/// `CustomToken` and in `VerifyIDToken`, which refuses an ID token whose `sub` is longer. So
/// only a uid of at most 128 bytes works with every SDK an app's backend may use.
pub const MAX_UID_BYTES: usize = 128;

/// A Firebase uid that is also a valid Firestore document id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Uid(String);

impl Uid {
    /// Checks a new uid: 1–128 bytes of UTF-8 (see [`MAX_UID_BYTES`]: 128 ASCII characters,
    /// 42 Korean syllables, 32 emoji), and usable as a Firestore document id (no `/`, not
    /// `.` or `..`, not `__name__`, no control characters).
    pub fn parse(value: &str) -> Result<Uid> {
        let bytes = value.len();
        if bytes == 0 || bytes > MAX_UID_BYTES {
            return Err(Error::invalid(
                "invalid_uid",
                format!(
                    "a uid must be 1-{MAX_UID_BYTES} bytes of UTF-8 (what every Firebase Admin \
                     SDK accepts), this one has {bytes}"
                ),
            ));
        }
        if !is_document_id(value) {
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

    /// A uid read back from Firestore, as it was stored (possibly under older, looser rules:
    /// an account imported with a longer uid must still sign in).
    pub fn from_stored(value: &str) -> Result<Uid> {
        if value.is_empty() {
            return Err(Error::invalid("invalid_uid", "a uid must not be empty"));
        }
        Ok(Uid(value.to_string()))
    }

    /// The uid an admin names to find an existing account, taken exactly as given (never
    /// trimmed, never read as a login) and by the rules of stored uids, so older accounts
    /// with longer uids are found too. `None` when no account can have it: empty, or not a
    /// Firestore document id.
    pub fn named(value: &str) -> Option<Uid> {
        (!value.is_empty() && is_document_id(value)).then(|| Uid(value.to_string()))
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

/// Usable as a Firestore document id: no `/`, not `.` or `..`, not like `__name__`.
fn is_document_id(value: &str) -> bool {
    let reserved = value.len() >= 4 && value.starts_with("__") && value.ends_with("__");
    !(value.contains('/') || value == "." || value == ".." || reserved)
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
    /// Whether the email is proven to reach the account's owner: `Some(true)` after a
    /// verification link or a password reset, `Some(false)` for a registration not yet
    /// verified, `None` when unknown (accounts from before, imports without the column).
    pub email_verified: Option<bool>,
    /// Username login, if any (exact).
    pub username: Option<Login>,
    /// The password hash, the dialect it was written in and its input transform.
    pub password: StoredHash,
    /// When the account was created (imported accounts keep their legacy creation time).
    pub created_at: Timestamp,
    /// When the account was last changed.
    pub updated_at: Timestamp,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// Developer claims copied into every token.
    pub claims: Claims,
    /// What the Firebase Auth bridge last wrote of this account (`--firebase-auth`).
    pub firebase: FirebaseState,
    /// The language of mails no request of the owner caused (a catalog's tag, kept from
    /// registration); `None`: `--default-language`.
    pub language: Option<String>,
    /// Second factors (TOTP, recovery codes).
    pub factors: Factors,
    /// When a legacy sign-in found the password in breaches; cleared by a new password.
    pub breached_at: Option<Timestamp>,
}

/// The account as the Firebase Auth bridge last wrote it to the Firebase user of the same uid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirebaseState {
    /// The fields last written; `None` when the bridge never wrote the user.
    pub mirrored: Option<Mirrored>,
    /// When the password was first set on the Firebase user (graduate mode); from then on
    /// Firebase Auth owns the password.
    pub graduated_at: Option<Timestamp>,
    /// The Firebase user's `passwordUpdatedAt` (ms) after firegate last set or learnt the
    /// password: a later value means the password changed inside Firebase Auth.
    pub password_at: Option<i64>,
}

/// The fields the bridge keeps in step on the Firebase user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirrored {
    /// Lowercased, as firegate stores emails (or `username@--graduate-email-domain`).
    pub email: Option<String>,
    /// The username.
    pub display_name: Option<String>,
    pub disabled: bool,
    /// The account's [`Account::email_verified`], when known.
    pub email_verified: Option<bool>,
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
    /// `null` when unknown.
    pub email_verified: Option<bool>,
    pub username: Option<String>,
    pub hash_scheme: String,
    pub hash_dialect: String,
    /// The input transform the hash is kept with (a lossy legacy hash's, see
    /// [`crate::passwords::Transform`]); absent for a password hashed as typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_input: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub disabled: bool,
    pub claims: Claims,
    /// When the password moved into Firebase Auth (graduate mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graduated_at: Option<Timestamp>,
    /// The second factor, when the account has one (never its secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<SecondFactorSummary>,
}

/// What an admin sees of an account's second factor.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SecondFactorSummary {
    /// `totp` (an authenticator app).
    pub kinds: Vec<crate::factors::FactorKind>,
    pub totp_enrolled_at: Option<Timestamp>,
    pub recovery_codes_left: usize,
}

impl From<&Account> for AccountSummary {
    fn from(a: &Account) -> Self {
        AccountSummary {
            uid: a.uid.clone(),
            logins: a.logins().map(|l| l.to_string()).collect(),
            email: a.email.as_ref().map(Login::to_string),
            email_verified: a.email_verified,
            username: a.username.as_ref().map(Login::to_string),
            hash_scheme: a.password.scheme_name(),
            hash_dialect: a.password.dialect.as_str().to_string(),
            password_input: a.password.input.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            disabled: a.disabled,
            claims: a.claims.clone(),
            graduated_at: a.firebase.graduated_at,
            second_factor: a.factors.totp.as_ref().map(|t| SecondFactorSummary {
                kinds: a.factors.kinds(),
                totp_enrolled_at: Some(t.enrolled_at),
                recovery_codes_left: a.factors.recovery.unused(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_length_is_counted_in_utf8_bytes_as_the_go_admin_sdk_does() {
        assert!(Uid::parse(&"a".repeat(128)).is_ok());
        assert!(Uid::parse(&"a".repeat(129)).is_err());
        assert!(Uid::parse(&"가".repeat(42)).is_ok());
        assert!(Uid::parse(&"가".repeat(43)).is_err());
        assert!(Uid::parse(&"😀".repeat(32)).is_ok());
        // 128 emoji: 128 code points, 256 UTF-16 units, 512 bytes.
        let err = Uid::parse(&"😀".repeat(128)).unwrap_err().to_string();
        assert!(err.contains("bytes"), "{err}");
        assert!(Uid::parse("").is_err());
        assert!(Uid::parse("12345").is_ok());
        assert!(
            Uid::from_stored(&"가".repeat(128)).is_ok(),
            "stored uids still read"
        );
    }

    #[test]
    fn uids_that_cannot_be_document_ids_are_refused() {
        for bad in ["a/b", ".", "..", "__name__", "a\nb"] {
            assert!(Uid::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn named_uids_are_taken_exactly_and_only_as_document_ids() {
        assert_eq!(
            Uid::named(" kim ").unwrap().as_str(),
            " kim ",
            "never trimmed"
        );
        assert!(
            Uid::named(&"가".repeat(128)).is_some(),
            "stored uids may be longer"
        );
        for bad in ["", "a/b", ".", "..", "__name__"] {
            assert!(Uid::named(bad).is_none(), "{bad:?}");
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

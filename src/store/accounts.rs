//! Account and login-index documents. An account lives at `<accounts>/<uid>`; each of its
//! logins at `<logins>/<encoded login>` pointing back to the uid, so a sign-in is two reads
//! and login uniqueness is enforced by Firestore's document ids (and, for logins that look
//! alike, by their claims: `claims.rs`).

use firestore::{FirestoreTimestamp, FirestoreTransactionOps, FirestoreWritePrecondition};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::claims::{ClaimDoc, claims_of};
use super::factors::MfaDoc;
use super::{Store, is_already_exists, map_error};
use crate::accounts::{Account, FirebaseState, Mirrored, Uid};
use crate::claims::Claims;
use crate::login::Login;
use crate::passwords::StoredHash;
use crate::{Error, Result};

/// The document version an account was read at; writes conditioned on it lose no update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(pub(super) Timestamp);

/// An account with the version it was read at.
#[derive(Debug, Clone)]
pub struct StoredAccount {
    pub account: Account,
    pub version: Version,
}

#[derive(Serialize, Deserialize)]
pub(super) struct AccountDoc {
    uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    /// The language of mails no request caused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    logins: Vec<String>,
    password_hash: String,
    hash_dialect: String,
    hash_scheme: String,
    /// The input transform of the hash ([`crate::passwords::Transform`]); absent for a
    /// password hashed as typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_input: Option<String>,
    created_at: FirestoreTimestamp,
    updated_at: FirestoreTimestamp,
    disabled: bool,
    /// Developer claims as JSON text, so numbers and nesting survive byte for byte.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    claims: String,
    // The Firebase Auth bridge's fields, as [`FirebaseDoc`] writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    firebase_auth: Option<MirroredDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    graduated_at: Option<FirestoreTimestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    firebase_password_at: Option<i64>,
    /// `graduated_at` is set: a field of its own so counting needs no composite index.
    #[serde(default)]
    graduated: bool,
    /// Second factors ([`MfaDoc`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mfa: Option<MfaDoc>,
    /// A second factor is required: a field of its own for counting.
    #[serde(default)]
    second_factor: bool,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

/// The Firebase Auth bridge's fields of an account document; see [`FirebaseState`].
#[derive(Serialize, Deserialize, Default)]
pub(super) struct FirebaseDoc {
    // Also in [`AccountDoc`], by the same names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    firebase_auth: Option<MirroredDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    graduated_at: Option<FirestoreTimestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    firebase_password_at: Option<i64>,
    #[serde(default)]
    graduated: bool,
}

#[derive(Serialize, Deserialize, Clone)]
pub(super) struct MirroredDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default)]
    disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

impl FirebaseDoc {
    /// The document fields [`FirebaseDoc`] writes, for an update mask.
    pub(super) const FIELDS: [&'static str; 4] = [
        "firebase_auth",
        "graduated_at",
        "firebase_password_at",
        "graduated",
    ];

    pub(super) fn new(state: &FirebaseState) -> FirebaseDoc {
        FirebaseDoc {
            firebase_auth: state.mirrored.as_ref().map(|m| MirroredDoc {
                email: m.email.clone(),
                display_name: m.display_name.clone(),
                disabled: m.disabled,
                email_verified: m.email_verified,
            }),
            graduated_at: state.graduated_at.map(FirestoreTimestamp),
            firebase_password_at: state.password_at,
            graduated: state.graduated_at.is_some(),
        }
    }

    fn state(&self) -> FirebaseState {
        FirebaseState {
            mirrored: self.firebase_auth.as_ref().map(|m| Mirrored {
                email: m.email.clone(),
                display_name: m.display_name.clone(),
                disabled: m.disabled,
                email_verified: m.email_verified,
            }),
            graduated_at: self.graduated_at.as_ref().map(|t| t.0),
            password_at: self.firebase_password_at,
        }
    }
}

/// The one field [`Store::uids_exist`] reads of an account.
#[derive(Deserialize)]
struct UidOnly {
    #[serde(rename = "uid")]
    _uid: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct LoginDoc {
    pub(super) uid: String,
}

/// The document id of a login: the login itself, with `%` and `/` percent-encoded and a
/// leading `.` or `_` encoded too, so no login can form an id Firestore reserves.
pub(super) fn login_doc_id(login: &Login) -> String {
    let mut id = String::with_capacity(login.as_str().len() + 4);
    for (i, c) in login.as_str().chars().enumerate() {
        match c {
            '%' => id.push_str("%25"),
            '/' => id.push_str("%2F"),
            '.' if i == 0 => id.push_str("%2E"),
            '_' if i == 0 => id.push_str("%5F"),
            c => id.push(c),
        }
    }
    id
}

impl AccountDoc {
    pub(super) fn from_account(a: &Account) -> AccountDoc {
        let firebase = FirebaseDoc::new(&a.firebase);
        AccountDoc {
            uid: a.uid.to_string(),
            email: a.email.as_ref().map(Login::to_string),
            email_verified: a.email_verified,
            username: a.username.as_ref().map(Login::to_string),
            language: a.language.clone(),
            logins: a.logins().map(Login::to_string).collect(),
            password_hash: a.password.hash.clone(),
            hash_dialect: a.password.dialect.as_str().to_string(),
            hash_scheme: a.password.scheme_name(),
            password_input: a.password.input.clone(),
            created_at: FirestoreTimestamp(a.created_at),
            updated_at: FirestoreTimestamp(a.updated_at),
            disabled: a.disabled,
            claims: if a.claims.is_empty() {
                String::new()
            } else {
                a.claims.to_json()
            },
            firebase_auth: firebase.firebase_auth,
            graduated_at: firebase.graduated_at,
            firebase_password_at: firebase.firebase_password_at,
            graduated: firebase.graduated,
            mfa: MfaDoc::new(&a.factors),
            second_factor: a.factors.required(),
            version: None,
        }
    }

    pub(super) fn into_stored(self) -> Result<StoredAccount> {
        let corrupt = |cause: Error| {
            Error::storage(format!("account document `{}` is corrupt", self.uid)).caused_by(cause)
        };
        // Stored logins and uids passed the rules of their time; newer rules do not apply.
        let login = |v: &Option<String>| v.as_deref().map(Login::as_typed).transpose();
        let account = Account {
            uid: Uid::from_stored(&self.uid).map_err(corrupt)?,
            email: login(&self.email).map_err(corrupt)?,
            email_verified: self.email_verified,
            username: login(&self.username).map_err(corrupt)?,
            password: StoredHash {
                hash: self.password_hash.clone(),
                dialect: self.hash_dialect.parse().map_err(
                    |e: crate::passwords::UnknownDialect| {
                        Error::storage(format!("account document `{}` is corrupt", self.uid))
                            .caused_by(e)
                    },
                )?,
                input: self.password_input.clone(),
            },
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            disabled: self.disabled,
            claims: if self.claims.is_empty() {
                Claims::default()
            } else {
                Claims::from_stored(&self.claims).map_err(corrupt)?
            },
            firebase: FirebaseDoc {
                firebase_auth: self.firebase_auth.clone(),
                graduated_at: self.graduated_at,
                firebase_password_at: self.firebase_password_at,
                graduated: self.graduated,
            }
            .state(),
            language: self.language.clone(),
            factors: MfaDoc::factors(self.mfa.as_ref()),
        };
        let version = self
            .version
            .ok_or_else(|| corrupt(Error::storage("Firestore returned no update time")))?;
        Ok(StoredAccount {
            account,
            version: Version(version.0),
        })
    }
}

impl Store {
    /// Finds the account one of `candidates` belongs to, trying them in order: one read of
    /// the login index (all candidates in one batch) and one read of the account.
    pub async fn find_by_login(&self, candidates: &[Login]) -> Result<Option<StoredAccount>> {
        match self.uid_for_login(candidates).await? {
            Some(uid) => self.find_by_uid_str(&uid).await,
            None => Ok(None),
        }
    }

    /// The uid the first of `candidates` that is taken belongs to: one read of the login
    /// index (all candidates in one batch).
    pub async fn uid_for_login(&self, candidates: &[Login]) -> Result<Option<String>> {
        Ok(self
            .uids_for_logins(candidates)
            .await?
            .into_iter()
            .flatten()
            .next())
    }

    /// The uid each of `candidates` belongs to, in order: one read of the login index (all
    /// candidates in one batch).
    pub async fn uids_for_logins(&self, candidates: &[Login]) -> Result<Vec<Option<String>>> {
        Ok(match candidates {
            [] => Vec::new(),
            [login] => vec![
                self.call(
                    self.db
                        .fluent()
                        .select()
                        .by_id_in(&self.options.logins_collection)
                        .obj::<LoginDoc>()
                        .one(login_doc_id(login)),
                )
                .await?
                .map(|doc| doc.uid),
            ],
            many => {
                let ids: Vec<String> = many.iter().map(login_doc_id).collect();
                let found: Vec<(String, Option<LoginDoc>)> = self
                    .call(async {
                        self.db
                            .fluent()
                            .select()
                            .by_id_in(&self.options.logins_collection)
                            .obj::<LoginDoc>()
                            .batch_with_errors(ids.clone())
                            .await?
                            .try_collect()
                            .await
                    })
                    .await?;
                ids.iter()
                    .map(|id| {
                        found
                            .iter()
                            .find(|(got, _)| got == id)
                            .and_then(|(_, doc)| doc.as_ref().map(|d| d.uid.clone()))
                    })
                    .collect()
            }
        })
    }

    /// Whether an account exists under each of `uids`, in order: one batch read of the
    /// accounts (only their `uid` field). A text that cannot be a document id has none.
    pub async fn uids_exist(&self, uids: &[&str]) -> Result<Vec<bool>> {
        let ids: Vec<String> = uids
            .iter()
            .filter_map(|text| Uid::named(text))
            .map(|uid| uid.to_string())
            .collect();
        if ids.is_empty() {
            return Ok(vec![false; uids.len()]);
        }
        let found: Vec<(String, Option<UidOnly>)> = self
            .call(async {
                self.db
                    .fluent()
                    .select()
                    .fields(["uid"])
                    .by_id_in(&self.options.accounts_collection)
                    .obj::<UidOnly>()
                    .batch_with_errors(ids.clone())
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        Ok(uids
            .iter()
            .map(|text| {
                found
                    .iter()
                    .any(|(id, doc)| id.as_str() == *text && doc.is_some())
            })
            .collect())
    }

    /// Finds an account by uid.
    pub async fn find_by_uid(&self, uid: &Uid) -> Result<Option<StoredAccount>> {
        self.find_by_uid_str(uid.as_str()).await
    }

    pub(crate) async fn find_by_uid_str(&self, uid: &str) -> Result<Option<StoredAccount>> {
        let doc = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.accounts_collection)
                    .obj::<AccountDoc>()
                    .one(uid),
            )
            .await?;
        doc.map(AccountDoc::into_stored).transpose()
    }

    /// Creates an account, its login-index entries and its logins' look-alike claims in one
    /// transaction; each write requires its document not to exist, so concurrent creations
    /// of one login, or of two logins that look alike, yield one account.
    pub async fn create_account(&self, account: &Account) -> Result<()> {
        let doc = AccountDoc::from_account(account);
        let commit = async {
            let mut tx = self.db.begin_transaction().await?;
            tx.update_object(
                &self.options.accounts_collection,
                account.uid.as_str(),
                &doc,
                None,
                Some(FirestoreWritePrecondition::Exists(false)),
                vec![],
            )?;
            for login in account.logins() {
                let entry = LoginDoc {
                    uid: account.uid.to_string(),
                };
                tx.update_object(
                    &self.options.logins_collection,
                    login_doc_id(login),
                    &entry,
                    None,
                    Some(FirestoreWritePrecondition::Exists(false)),
                    vec![],
                )?;
            }
            for (id, login) in claims_of(account) {
                tx.update_object(
                    &self.options.logins_collection,
                    id,
                    &ClaimDoc::new(account, login),
                    None,
                    Some(FirestoreWritePrecondition::Exists(false)),
                    vec![],
                )?;
            }
            tx.commit().await
        };
        match self.within_deadline(commit).await? {
            Ok(_) => Ok(()),
            Err(e) if is_already_exists(&e) => Err(self.explain_conflict(account).await),
            Err(e) => Err(map_error(e)),
        }
    }

    /// After a creation lost to an existing document, says which: the uid, a login or a
    /// login's look-alike.
    async fn explain_conflict(&self, account: &Account) -> Error {
        match self.find_by_uid(&account.uid).await {
            Ok(Some(_)) => return Error::UidTaken(account.uid.to_string()),
            Ok(None) => {}
            Err(e) => return e,
        }
        for login in account.logins() {
            match self.find_by_login(std::slice::from_ref(login)).await {
                Ok(Some(_)) => return Error::LoginTaken(login.to_string()),
                Ok(None) => {}
                Err(e) => return e,
            }
        }
        let logins: Vec<Login> = account.logins().cloned().collect();
        match self.look_alike_holders(&logins).await {
            Ok(holders) => {
                let taken = logins.iter().zip(holders).find_map(|(login, holder)| {
                    holder
                        .filter(|h| h.uid != account.uid.as_str())
                        .map(|h| (login, h))
                });
                if let Some((login, holder)) = taken {
                    return Error::LookAlikeTaken {
                        login: login.to_string(),
                        holder: holder.login,
                    };
                }
            }
            Err(e) => return e,
        }
        // The competing account vanished again in between; its login was taken at commit time.
        Error::LoginTaken(
            account
                .logins()
                .next()
                .map(Login::to_string)
                .unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_cannot_collide_or_be_reserved() {
        let id = |s: &str| login_doc_id(&Login::parse(s).unwrap());
        assert_eq!(id("alice@example.com"), "alice@example.com");
        assert_eq!(id("a/b"), "a%2Fb");
        assert_eq!(id("a%2Fb"), "a%252Fb");
        assert_eq!(id("."), "%2E");
        assert_eq!(id(".."), "%2E.");
        assert_eq!(id("__x__"), "%5F_x__");
        assert_eq!(id("x_y"), "x_y");
    }
}

//! Password-reset tokens: one document per token, keyed by the token's SHA-256 (the token
//! itself is only ever in the mail), holding the uid, the purpose, the expiry and the
//! account's version when it was issued; and one document per account counting the mails
//! sent to it in the last hour. Completing a reset is one transaction over the account, the
//! token and the account's failure record, each conditioned on the version read.

use firestore::{FirestoreTimestamp, FirestoreTransactionOps, FirestoreWritePrecondition};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::accounts::Version;
use super::changes::PasswordPatch;
use super::{Store, is_already_exists, is_precondition_failed, map_error};
use crate::Result;
use crate::accounts::Uid;
use crate::lockout::LockoutKey;
use crate::passwords::StoredHash;

/// A stored token, as read back by its hash.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub uid: Uid,
    pub purpose: String,
    pub expires_at: Timestamp,
    /// The account's `updated_at` when the token was issued: any later change outdates it.
    pub account_updated_at: Timestamp,
    pub used: bool,
    /// The language the token's mail was written in (tokens from before carry none).
    pub language: Option<String>,
    pub version: Version,
}

#[derive(Serialize, Deserialize)]
struct TokenDoc {
    uid: String,
    purpose: String,
    expires_at: FirestoreTimestamp,
    account_updated_at: FirestoreTimestamp,
    created_at: FirestoreTimestamp,
    /// The mail's language tag, so the page its link opens speaks it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    /// The IANA time zone the mail's times were shown in, when the client named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
    #[serde(default)]
    used: bool,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize, Default)]
struct SentDoc {
    /// When mails went to the account, the last hour's only.
    #[serde(default)]
    sent: Vec<FirestoreTimestamp>,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize)]
struct Used {
    used: bool,
}

/// A reset's account fields: the new hash, and the email proven to reach its owner.
#[derive(Serialize, Deserialize)]
struct ResetPatch {
    #[serde(flatten)]
    password: PasswordPatch,
    email_verified: bool,
}

#[derive(Serialize, Deserialize)]
struct VerifiedPatch {
    email_verified: bool,
    updated_at: FirestoreTimestamp,
}

/// The fields of a new token.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// Lowercase hex SHA-256 of the token.
    pub id: &'a str,
    pub uid: &'a Uid,
    pub purpose: &'static str,
    pub expires_at: Timestamp,
    pub account_updated_at: Timestamp,
    pub now: Timestamp,
    /// The mail's language tag.
    pub language: &'a str,
    /// The time zone the mail's times are shown in, when the client named one.
    pub time_zone: Option<&'a str>,
}

impl Store {
    /// Takes one of the account's `per_hour` mails, if any is left: `false` when the last
    /// hour's are used up. Concurrent requests each re-read and retry, so none is lost.
    /// `purpose` keeps one count per kind of mail, so verification mails never use up the
    /// resets' allowance.
    pub async fn take_mail_allowance(
        &self,
        uid: &Uid,
        purpose: &str,
        per_hour: u32,
        now: Timestamp,
    ) -> Result<bool> {
        for _ in 0..8 {
            if let Some(taken) = self
                .try_take_mail_allowance(uid, purpose, per_hour, now)
                .await?
            {
                return Ok(taken);
            }
        }
        Err(crate::Error::Conflict)
    }

    /// One attempt: `None` when a concurrent request wrote first.
    async fn try_take_mail_allowance(
        &self,
        uid: &Uid,
        purpose: &str,
        per_hour: u32,
        now: Timestamp,
    ) -> Result<Option<bool>> {
        // Keyed by a hash, like the tokens, so the collection's ids name no uid (resets keep
        // the id they always had).
        let hash = hex::encode(sha2::Sha256::digest(uid.as_str().as_bytes()));
        let id = match purpose {
            "reset" => format!("sent-{hash}"),
            other => format!("sent-{other}-{hash}"),
        };
        let read: Option<SentDoc> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.tokens_collection)
                    .obj::<SentDoc>()
                    .one(&id),
            )
            .await?;
        let hour_ago = now - jiff::SignedDuration::from_hours(1);
        let (mut sent, precondition) = match read {
            Some(doc) => (
                doc.sent,
                doc.version
                    .map(|v| FirestoreWritePrecondition::UpdateTime(v.0))
                    .unwrap_or(FirestoreWritePrecondition::Exists(true)),
            ),
            None => (Vec::new(), FirestoreWritePrecondition::Exists(false)),
        };
        sent.retain(|t| t.0 > hour_ago);
        if sent.len() >= per_hour as usize {
            return Ok(Some(false));
        }
        sent.push(FirestoreTimestamp(now));
        let doc = SentDoc {
            sent,
            version: None,
        };
        let write = self
            .db
            .fluent()
            .update()
            .in_col(&self.options.tokens_collection)
            .precondition(precondition)
            .document_id(&id)
            .object(&doc)
            .execute::<()>();
        match self.within_deadline(write).await? {
            Ok(()) => Ok(Some(true)),
            Err(e) if is_precondition_failed(&e) || is_already_exists(&e) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Stores a new token (by its hash).
    pub async fn create_token(&self, token: &NewToken<'_>) -> Result<()> {
        let doc = TokenDoc {
            uid: token.uid.to_string(),
            purpose: token.purpose.to_string(),
            expires_at: FirestoreTimestamp(token.expires_at),
            account_updated_at: FirestoreTimestamp(token.account_updated_at),
            created_at: FirestoreTimestamp(token.now),
            language: Some(token.language.to_string()),
            time_zone: token.time_zone.map(str::to_string),
            used: false,
            version: None,
        };
        self.create_token_doc(token.id, &doc).await
    }

    /// Writes a new document of the tokens collection under `id`, refusing to overwrite one
    /// (reset tokens and `mfa_token`s share the collection).
    pub(super) async fn create_token_doc<T>(&self, id: &str, doc: &T) -> Result<()>
    where
        T: Serialize + for<'de> Deserialize<'de> + Send + Sync,
    {
        self.call(
            self.db
                .fluent()
                .update()
                .in_col(&self.options.tokens_collection)
                .precondition(FirestoreWritePrecondition::Exists(false))
                .document_id(id)
                .object(doc)
                .execute::<()>(),
        )
        .await
    }

    /// The document of the tokens collection under `id`, if any.
    pub(super) async fn token_doc<T>(&self, id: &str) -> Result<Option<T>>
    where
        T: for<'de> Deserialize<'de> + Send,
    {
        self.call(
            self.db
                .fluent()
                .select()
                .by_id_in(&self.options.tokens_collection)
                .obj::<T>()
                .one(id),
        )
        .await
    }

    /// The token stored under `id` (the token's hex SHA-256), if any.
    pub async fn find_token(&self, id: &str) -> Result<Option<StoredToken>> {
        let doc: Option<TokenDoc> = self.token_doc(id).await?;
        Ok(doc.and_then(|d| {
            Some(StoredToken {
                uid: Uid::parse(&d.uid).ok()?,
                purpose: d.purpose,
                expires_at: d.expires_at.0,
                account_updated_at: d.account_updated_at.0,
                used: d.used,
                language: d.language,
                version: Version(d.version?.0),
            })
        }))
    }

    /// Completes a reset ([`Store::complete_token`]): the new password hash, the email
    /// verified, the token used, the account's failure record gone.
    pub async fn complete_reset(
        &self,
        token_id: &str,
        token: &StoredToken,
        account: Version,
        password: &StoredHash,
        now: Timestamp,
    ) -> Result<bool> {
        // The mail reached the address: the reset also verifies it.
        let patch = ResetPatch {
            password: PasswordPatch::new(password, now),
            email_verified: true,
        };
        let mut fields: Vec<String> = PasswordPatch::FIELDS.map(String::from).to_vec();
        fields.push("email_verified".into());
        self.complete_token(token_id, token, account, &patch, fields, true)
            .await
    }

    /// Completes an email verification ([`Store::complete_token`]): the email verified and
    /// the token used.
    pub async fn complete_verification(
        &self,
        token_id: &str,
        token: &StoredToken,
        account: Version,
        now: Timestamp,
    ) -> Result<bool> {
        let patch = VerifiedPatch {
            email_verified: true,
            updated_at: FirestoreTimestamp(now),
        };
        let fields = vec!["email_verified".into(), "updated_at".into()];
        self.complete_token(token_id, token, account, &patch, fields, false)
            .await
    }

    /// One transaction: `fields` of `patch` written to the token's account (if it is still at
    /// `account`), the token marked used (if it is still at its version), and, with
    /// `clear_lockout`, the account's failure record gone. `false`, having written nothing,
    /// when either changed meanwhile.
    async fn complete_token<P>(
        &self,
        token_id: &str,
        token: &StoredToken,
        account: Version,
        patch: &P,
        fields: Vec<String>,
        clear_lockout: bool,
    ) -> Result<bool>
    where
        P: Serialize + for<'de> Deserialize<'de> + Send + Sync,
    {
        let commit = async {
            let mut tx = self.db.begin_transaction().await?;
            tx.update_object(
                &self.options.accounts_collection,
                token.uid.as_str(),
                patch,
                Some(fields),
                Some(FirestoreWritePrecondition::UpdateTime(account.0)),
                vec![],
            )?;
            tx.update_object(
                &self.options.tokens_collection,
                token_id,
                &Used { used: true },
                Some(vec!["used".into()]),
                Some(FirestoreWritePrecondition::UpdateTime(token.version.0)),
                vec![],
            )?;
            if clear_lockout {
                tx.delete_by_id(
                    &self.options.lockouts_collection,
                    LockoutKey::Account(token.uid.clone()).doc_id(),
                    None,
                )?;
            }
            tx.commit().await
        };
        match self.within_deadline(commit).await? {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Writes a mail document in the format of Firebase's "Trigger Email from Firestore"
    /// extension: `{to, message: {subject, text, html}}`.
    pub async fn queue_mail(&self, collection: &str, mail: &serde_json::Value) -> Result<()> {
        let id = crate::keys::keygen::random_kid();
        self.call(
            self.db
                .fluent()
                .update()
                .in_col(collection)
                .precondition(FirestoreWritePrecondition::Exists(false))
                .document_id(&id)
                .object(mail)
                .execute::<()>(),
        )
        .await
    }
}

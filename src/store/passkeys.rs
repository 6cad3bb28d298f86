//! Passkeys in Firestore, in their own collection: `account:<uid>` holds an account's user
//! handle and credentials; `handle:<uuid>` and `credential:<sha256 of the id>` point back
//! to the uid (a credential id belongs to one account: its index document is created with
//! a must-not-exist precondition in the registration's transaction). Ceremony state lives in
//! the tokens collection under the SHA-256 of its random id, with an expiry checked on read,
//! and is taken (deleted, conditioned on the version read) before it is used: single use,
//! and any instance can finish what another began.

use firestore::{FirestoreTimestamp, FirestoreTransactionOps, FirestoreWritePrecondition};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::accounts::Version;
use super::{Store, is_already_exists, is_precondition_failed, map_error};
use crate::accounts::Uid;
use crate::passkeys::{Credential, Purpose};
use crate::{Error, Result};

/// An account's passkeys as read, with the version a write is conditioned on (`None`: the
/// account has never had one).
#[derive(Debug, Clone)]
pub struct StoredPasskeys {
    /// The WebAuthn user handle (a UUID), one per account.
    pub user_handle: String,
    pub credentials: Vec<Credential>,
    pub version: Option<Version>,
}

/// A ceremony's stored state.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// The account it is for (registration, second step); `None` for a passwordless sign-in.
    pub uid: Option<Uid>,
    /// webauthn-rs's state, JSON.
    pub state: String,
    /// Registration: the user handle the options carried. Second step: the mfa_token's id.
    pub subject: Option<String>,
    pub expires_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct AccountDoc {
    uid: String,
    user_handle: String,
    #[serde(default)]
    credentials: Vec<CredentialDoc>,
    /// How many credentials (for counting passkey users without reading them).
    #[serde(default)]
    count: u32,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize)]
struct CredentialDoc {
    id: String,
    name: String,
    /// webauthn-rs's `Passkey`, JSON (public key, counter, backup flags).
    passkey: String,
    #[serde(default)]
    transports: Vec<String>,
    created_at: FirestoreTimestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used_at: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize)]
struct IndexDoc {
    uid: String,
}

#[derive(Serialize, Deserialize)]
struct CeremonyDoc {
    purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    expires_at: FirestoreTimestamp,
    created_at: FirestoreTimestamp,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

fn account_id(uid: &str) -> String {
    format!("account:{uid}")
}

fn handle_id(handle: &str) -> String {
    format!("handle:{handle}")
}

fn credential_index_id(id: &str) -> String {
    format!("credential:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

impl CredentialDoc {
    fn new(c: &Credential) -> CredentialDoc {
        CredentialDoc {
            id: c.id.clone(),
            name: c.name.clone(),
            passkey: serde_json::to_string(&c.passkey).unwrap_or_default(),
            transports: c.transports.clone(),
            created_at: FirestoreTimestamp(c.created_at),
            last_used_at: c.last_used_at.map(FirestoreTimestamp),
        }
    }

    fn credential(&self) -> Result<Credential> {
        let passkey = serde_json::from_str(&self.passkey)
            .map_err(|e| Error::internal("a stored passkey does not read").caused_by(e))?;
        Ok(Credential {
            id: self.id.clone(),
            name: self.name.clone(),
            passkey,
            transports: self.transports.clone(),
            created_at: self.created_at.0,
            last_used_at: self.last_used_at.as_ref().map(|t| t.0),
        })
    }
}

impl Store {
    /// The passkeys of `uid`, if it ever had one.
    pub async fn passkeys_of(&self, uid: &Uid) -> Result<Option<StoredPasskeys>> {
        let doc: Option<AccountDoc> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.passkeys_collection)
                    .obj::<AccountDoc>()
                    .one(account_id(uid.as_str())),
            )
            .await?;
        let Some(doc) = doc else {
            return Ok(None);
        };
        let credentials = doc
            .credentials
            .iter()
            .map(CredentialDoc::credential)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(StoredPasskeys {
            user_handle: doc.user_handle,
            credentials,
            version: doc.version.map(|v| Version(v.0)),
        }))
    }

    /// The uid a user handle or credential id (base64url) belongs to.
    pub async fn passkey_owner(
        &self,
        handle: Option<&str>,
        credential: &str,
    ) -> Result<Option<String>> {
        let id = match handle {
            Some(handle) => handle_id(handle),
            None => credential_index_id(credential),
        };
        let doc: Option<IndexDoc> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.passkeys_collection)
                    .obj::<IndexDoc>()
                    .one(id),
            )
            .await?;
        Ok(doc.map(|d| d.uid))
    }

    /// Adds a credential in one transaction: the account's passkeys as `after` (conditioned
    /// on `before`'s version, or created), the credential-id index (must not exist) and, for
    /// a first passkey, the user-handle index. `false`, having written nothing, when the
    /// credential is another's or the account's passkeys changed meanwhile.
    pub async fn add_passkey(
        &self,
        uid: &Uid,
        after: &StoredPasskeys,
        new: &Credential,
    ) -> Result<bool> {
        let doc = account_doc(uid, after);
        let index = IndexDoc {
            uid: uid.to_string(),
        };
        let collection = &self.options.passkeys_collection;
        let commit = async {
            let mut tx = self.db.begin_transaction().await?;
            let precondition = match after.version {
                Some(v) => FirestoreWritePrecondition::UpdateTime(v.0),
                None => FirestoreWritePrecondition::Exists(false),
            };
            tx.update_object(
                collection,
                account_id(uid.as_str()),
                &doc,
                None,
                Some(precondition),
                vec![],
            )?;
            tx.update_object(
                collection,
                credential_index_id(&new.id),
                &index,
                None,
                Some(FirestoreWritePrecondition::Exists(false)),
                vec![],
            )?;
            if after.version.is_none() {
                tx.update_object(
                    collection,
                    handle_id(&after.user_handle),
                    &index,
                    None,
                    Some(FirestoreWritePrecondition::Exists(false)),
                    vec![],
                )?;
            }
            tx.commit().await
        };
        self.committed(commit).await
    }

    /// Writes an account's credentials as `after` (a counter, a name, a removal) if they are
    /// still at `after.version`; `removed` names a credential whose index goes with it.
    pub async fn write_passkeys(
        &self,
        uid: &Uid,
        after: &StoredPasskeys,
        removed: Option<&str>,
    ) -> Result<bool> {
        let Some(version) = after.version else {
            return Ok(false);
        };
        let doc = account_doc(uid, after);
        let collection = &self.options.passkeys_collection;
        let precondition = FirestoreWritePrecondition::UpdateTime(version.0);
        let Some(id) = removed else {
            // A sign-in's counter and time: one conditioned write, no transaction.
            let update = self
                .db
                .fluent()
                .update()
                .in_col(collection)
                .precondition(precondition)
                .document_id(account_id(uid.as_str()))
                .object(&doc)
                .execute::<()>();
            return self.committed(update).await;
        };
        let commit = async {
            let mut tx = self.db.begin_transaction().await?;
            tx.update_object(
                collection,
                account_id(uid.as_str()),
                &doc,
                None,
                Some(precondition),
                vec![],
            )?;
            tx.delete_by_id(collection, credential_index_id(id), None)?;
            tx.commit().await
        };
        self.committed(commit).await
    }

    /// Stores a ceremony's state under `id` (the SHA-256 of the id the client holds).
    pub async fn create_ceremony(
        &self,
        id: &str,
        purpose: Purpose,
        ceremony: &Ceremony,
        now: Timestamp,
    ) -> Result<()> {
        let doc = CeremonyDoc {
            purpose: purpose.name().into(),
            uid: ceremony.uid.as_ref().map(|u| u.to_string()),
            state: ceremony.state.clone(),
            subject: ceremony.subject.clone(),
            expires_at: FirestoreTimestamp(ceremony.expires_at),
            created_at: FirestoreTimestamp(now),
            version: None,
        };
        self.create_token_doc(id, &doc).await
    }

    /// Takes the ceremony stored under `id` for `purpose`: read, then deleted conditioned on
    /// the version read, so exactly one request gets it. `None` for an unknown, expired,
    /// other-purpose or already taken ceremony.
    pub async fn take_ceremony(
        &self,
        id: &str,
        purpose: Purpose,
        now: Timestamp,
    ) -> Result<Option<Ceremony>> {
        let doc: Option<CeremonyDoc> = self.token_doc(id).await?;
        let Some(doc) = doc.filter(|d| d.purpose == purpose.name()) else {
            return Ok(None);
        };
        let Some(version) = doc.version else {
            return Ok(None);
        };
        let delete = self
            .db
            .fluent()
            .delete()
            .from(&self.options.tokens_collection)
            .document_id(id)
            .precondition(FirestoreWritePrecondition::UpdateTime(version.0))
            .execute();
        match self.within_deadline(delete).await? {
            Ok(()) => {}
            Err(e) if is_precondition_failed(&e) => return Ok(None),
            Err(e) => return Err(map_error(e)),
        }
        if doc.expires_at.0 <= now {
            return Ok(None);
        }
        Ok(Some(Ceremony {
            uid: doc.uid.as_deref().and_then(|u| Uid::from_stored(u).ok()),
            state: doc.state,
            subject: doc.subject,
            expires_at: doc.expires_at.0,
        }))
    }

    /// Accounts with at least one passkey.
    pub async fn count_passkey_accounts(&self) -> Result<u64> {
        #[derive(Deserialize)]
        struct Count {
            count: i64,
        }
        let deadline = self.options.timeout.max(std::time::Duration::from_secs(60));
        let db = self.db.clone_with_request_timeout(Some(deadline));
        let query = db
            .fluent()
            .select()
            .from(self.options.passkeys_collection.as_str())
            .filter(|q| q.field("count").greater_than(0))
            .aggregate(|a| a.fields([a.field("count").count()]))
            .obj::<Count>()
            .query();
        let counted = tokio::time::timeout(deadline, query)
            .await
            .map_err(|_| Error::unavailable("counting passkey accounts took too long"))?
            .map_err(map_error)?;
        Ok(u64::try_from(counted.first().map_or(0, |c| c.count)).unwrap_or(0))
    }

    async fn committed<F, T>(&self, commit: F) -> Result<bool>
    where
        F: std::future::Future<Output = firestore::FirestoreResult<T>>,
    {
        match self.within_deadline(commit).await? {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failed(&e) || is_already_exists(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

fn account_doc(uid: &Uid, p: &StoredPasskeys) -> AccountDoc {
    AccountDoc {
        uid: uid.to_string(),
        user_handle: p.user_handle.clone(),
        credentials: p.credentials.iter().map(CredentialDoc::new).collect(),
        count: u32::try_from(p.credentials.len()).unwrap_or(u32::MAX),
        version: None,
    }
}

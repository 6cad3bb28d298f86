//! Bulk writes for `firegate import`: accounts and their login-index entries in atomic
//! commits of at most 500 writes, each write conditioned on its document not existing, and
//! the batch reads that tell which of a batch's accounts and logins already exist.

use std::collections::HashMap;

use firestore::{
    FirestoreTimestamp, FirestoreTransaction, FirestoreTransactionData, FirestoreTransactionOps,
    FirestoreWritePrecondition,
};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::{AccountDoc, LoginDoc, StoredAccount, Version, login_doc_id};
use super::{Store, is_already_exists, is_precondition_failed, map_error};
use crate::accounts::{Account, Uid};
use crate::passwords::StoredHash;
use crate::{Error, Result};

/// Firestore's limit on the writes of one commit.
pub const MAX_WRITES_PER_COMMIT: usize = 500;

/// How a conditional commit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Every write was applied.
    Committed,
    /// A precondition failed (a document existed, or changed since it was read): nothing
    /// was written.
    Refused,
}

/// What Firestore holds for one account of an import batch.
#[derive(Debug)]
pub struct ExistingAccount {
    /// The account stored under the uid: absent, readable, or not an account firegate can
    /// read (the text says why).
    pub stored: Option<Result<StoredAccount, String>>,
    /// The uid holding each of the account's logins, in [`Account::logins`] order.
    pub login_holders: Vec<Option<String>>,
}

/// A replacement of an imported account's hash and disabled flag, if unchanged since read.
#[derive(Debug)]
pub struct ImportUpdate<'a> {
    pub uid: &'a Uid,
    pub password: &'a StoredHash,
    pub disabled: bool,
    pub version: Version,
}

#[derive(Serialize, Deserialize)]
struct ImportPatch {
    password_hash: String,
    hash_dialect: String,
    hash_scheme: String,
    disabled: bool,
    updated_at: FirestoreTimestamp,
}

impl Store {
    /// Creates `accounts` with their login-index entries in one atomic commit; every
    /// document must not exist yet, so Firestore itself keeps uids and logins unique.
    pub async fn create_accounts(&self, accounts: &[&Account]) -> Result<CommitOutcome> {
        let mut writes = self.new_commit();
        for account in accounts {
            let doc = AccountDoc::from_account(account);
            let create = Some(FirestoreWritePrecondition::Exists(false));
            writes
                .update_object(
                    &self.options.accounts_collection,
                    account.uid.as_str(),
                    &doc,
                    None,
                    create.clone(),
                    vec![],
                )
                .map_err(map_error)?;
            for login in account.logins() {
                let entry = LoginDoc {
                    uid: account.uid.to_string(),
                };
                writes
                    .update_object(
                        &self.options.logins_collection,
                        login_doc_id(login),
                        &entry,
                        None,
                        create.clone(),
                        vec![],
                    )
                    .map_err(map_error)?;
            }
        }
        self.commit(writes).await
    }

    /// Replaces the hash and disabled flag of imported accounts, each only if it is still
    /// at the version read, in one atomic commit. Logins are never touched.
    pub async fn update_imported(
        &self,
        updates: &[ImportUpdate<'_>],
        now: Timestamp,
    ) -> Result<CommitOutcome> {
        let fields = [
            "password_hash",
            "hash_dialect",
            "hash_scheme",
            "disabled",
            "updated_at",
        ];
        let mut writes = self.new_commit();
        for update in updates {
            let patch = ImportPatch {
                password_hash: update.password.hash.clone(),
                hash_dialect: update.password.dialect.as_str().to_string(),
                hash_scheme: update.password.scheme_name(),
                disabled: update.disabled,
                updated_at: FirestoreTimestamp(now),
            };
            writes
                .update_object(
                    &self.options.accounts_collection,
                    update.uid.as_str(),
                    &patch,
                    Some(fields.iter().map(|f| f.to_string()).collect()),
                    Some(FirestoreWritePrecondition::UpdateTime(update.version.0)),
                    vec![],
                )
                .map_err(map_error)?;
        }
        self.commit(writes).await
    }

    /// Reads, in two batch reads, the accounts stored under the uids of `accounts` and the
    /// holders of their logins.
    pub async fn existing_accounts(&self, accounts: &[&Account]) -> Result<Vec<ExistingAccount>> {
        let uids: Vec<&str> = accounts.iter().map(|a| a.uid.as_str()).collect();
        let login_ids: Vec<String> = accounts
            .iter()
            .flat_map(|a| a.logins().map(login_doc_id))
            .collect();
        let (mut stored, mut holders) = futures::try_join!(
            self.batch_get::<AccountDoc>(&self.options.accounts_collection, uids),
            self.batch_get::<LoginDoc>(&self.options.logins_collection, login_ids.clone()),
        )?;
        Ok(accounts
            .iter()
            .map(|account| ExistingAccount {
                stored: stored
                    .remove(account.uid.as_str())
                    .map(|doc| doc.into_stored().map_err(|e| e.to_string())),
                login_holders: account
                    .logins()
                    .map(|login| holders.remove(&login_doc_id(login)).map(|d| d.uid))
                    .collect(),
            })
            .collect())
    }

    /// The documents of `ids` in `collection` that exist, by id.
    async fn batch_get<T>(
        &self,
        collection: &str,
        ids: Vec<impl AsRef<str> + Send + Sync + Clone>,
    ) -> Result<HashMap<String, T>>
    where
        T: for<'de> Deserialize<'de> + Send,
    {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<(String, Option<T>)> = self
            .call(async {
                self.db
                    .fluent()
                    .select()
                    .by_id_in(collection)
                    .obj::<T>()
                    .batch_with_errors(ids.clone())
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|(id, doc)| doc.map(|d| (id, d)))
            .collect())
    }

    /// Writes queued for a plain (non-transactional, still atomic) commit: one round trip.
    fn new_commit(&self) -> FirestoreTransactionData {
        FirestoreTransactionData::new(
            Vec::new(),
            self.db.get_documents_path().clone(),
            tracing::Span::none(),
            Vec::new(),
        )
    }

    async fn commit(&self, writes: FirestoreTransactionData) -> Result<CommitOutcome> {
        if writes.writes().len() > MAX_WRITES_PER_COMMIT {
            return Err(Error::Internal(format!(
                "{} writes in one commit; Firestore accepts {MAX_WRITES_PER_COMMIT}",
                writes.writes().len()
            )));
        }
        if writes.is_empty() {
            return Ok(CommitOutcome::Committed);
        }
        let commit = FirestoreTransaction::from_data(&self.db, writes).commit();
        match self.within_deadline(commit).await? {
            Ok(_) => Ok(CommitOutcome::Committed),
            Err(e) if is_already_exists(&e) || is_precondition_failed(&e) => {
                Ok(CommitOutcome::Refused)
            }
            Err(e) => Err(map_error(e)),
        }
    }
}

//! Bulk writes for `firegate import`: accounts, their login-index entries and look-alike
//! claims in atomic commits of at most 500 writes, each write conditioned on its document
//! not existing, and
//! the batch reads that tell which of a batch's accounts and logins already exist. Every
//! hash the importer writes is stamped with `hash_imported_at`, equal to the `updated_at` it
//! writes, so a later run can tell its own hash from one firegate wrote since.

use std::collections::HashMap;

use firestore::gcloud_sdk::google::firestore::v1::Document;
use firestore::{
    FirestoreTimestamp, FirestoreTransaction, FirestoreTransactionData, FirestoreTransactionOps,
    FirestoreWritePrecondition, firestore_document_to_serializable,
};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::{AccountDoc, LoginDoc, StoredAccount, Version, login_doc_id};
use super::claims::{ClaimDoc, claims_of};
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
    /// read (the error says why).
    pub stored: Option<Result<StoredAccount>>,
    /// The uid holding each of the account's logins, in [`Account::logins`] order.
    pub login_holders: Vec<Option<String>>,
    /// When an import last wrote the stored account's hash; `None` if none ever did. The
    /// hash is still the imported one exactly when this equals the account's `updated_at`:
    /// every other write to an account (sign-in upgrade, password change, admin edits)
    /// moves `updated_at` and leaves this field behind.
    pub hash_imported_at: Option<Timestamp>,
}

/// A change to an imported account, applied only if it is unchanged since read: its
/// disabled flag, and (`password`) its hash, which is then stamped as imported again.
#[derive(Debug)]
pub struct ImportUpdate<'a> {
    pub uid: &'a Uid,
    pub password: Option<&'a StoredHash>,
    pub disabled: bool,
    pub version: Version,
}

#[derive(Serialize)]
struct ImportPatch {
    #[serde(flatten)]
    hash: Option<HashPatch>,
    disabled: bool,
    updated_at: FirestoreTimestamp,
}

#[derive(Serialize)]
struct HashPatch {
    password_hash: String,
    hash_dialect: String,
    hash_scheme: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_input: Option<String>,
    hash_imported_at: FirestoreTimestamp,
}

/// An account document as the importer creates it.
#[derive(Serialize)]
struct ImportedAccountDoc {
    #[serde(flatten)]
    account: AccountDoc,
    hash_imported_at: FirestoreTimestamp,
}

/// What only the importer reads of an account document.
#[derive(Deserialize)]
struct Provenance {
    #[serde(default)]
    hash_imported_at: Option<FirestoreTimestamp>,
}

impl Store {
    /// Creates `accounts` with their login-index entries and look-alike claims in one atomic
    /// commit; every document must not exist yet, so Firestore itself keeps uids, logins
    /// and skeletons unique.
    pub async fn create_accounts(&self, accounts: &[&Account]) -> Result<CommitOutcome> {
        let mut writes = self.new_commit();
        for account in accounts {
            let doc = ImportedAccountDoc {
                account: AccountDoc::from_account(account),
                hash_imported_at: FirestoreTimestamp(account.updated_at),
            };
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
            for (id, login) in claims_of(account) {
                writes
                    .update_object(
                        &self.options.logins_collection,
                        &id,
                        &ClaimDoc::new(account, login),
                        None,
                        create.clone(),
                        vec![],
                    )
                    .map_err(map_error)?;
            }
        }
        self.commit(writes).await
    }

    /// Writes the disabled flag, and the hash where one is given, of imported accounts,
    /// each only if it is still at the version read, in one atomic commit. Logins are
    /// never touched.
    pub async fn update_imported(
        &self,
        updates: &[ImportUpdate<'_>],
        now: Timestamp,
    ) -> Result<CommitOutcome> {
        let mut writes = self.new_commit();
        for update in updates {
            let hash = update.password.map(|password| HashPatch {
                password_hash: password.hash.clone(),
                hash_dialect: password.dialect.as_str().to_string(),
                hash_scheme: password.scheme_name(),
                password_input: password.input.clone(),
                hash_imported_at: FirestoreTimestamp(now),
            });
            let mut fields = vec!["disabled", "updated_at"];
            if hash.is_some() {
                fields.extend([
                    "password_hash",
                    "hash_dialect",
                    "hash_scheme",
                    "password_input",
                    "hash_imported_at",
                ]);
            }
            let patch = ImportPatch {
                hash,
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
        let (mut stored, holders) = futures::try_join!(
            self.batch_get(&self.options.accounts_collection, uids),
            self.batch_get(&self.options.logins_collection, login_ids.clone()),
        )?;
        let mut holders = holders
            .into_iter()
            .map(|(id, doc)| {
                let entry = firestore_document_to_serializable::<LoginDoc>(&doc);
                Ok((id, entry.map_err(map_error)?.uid))
            })
            .collect::<Result<HashMap<String, String>>>()?;
        Ok(accounts
            .iter()
            .map(|account| {
                let doc = stored.remove(account.uid.as_str());
                let read = |doc: &Document| -> Result<_> {
                    let account = firestore_document_to_serializable::<AccountDoc>(doc)
                        .map_err(map_error)?
                        .into_stored()?;
                    let provenance =
                        firestore_document_to_serializable::<Provenance>(doc).map_err(map_error)?;
                    Ok((account, provenance.hash_imported_at.map(|t| t.0)))
                };
                let (stored, hash_imported_at) = match doc.as_ref().map(read) {
                    None => (None, None),
                    Some(Ok((account, imported_at))) => (Some(Ok(account)), imported_at),
                    Some(Err(why)) => (Some(Err(why)), None),
                };
                let login_holders = account
                    .logins()
                    .map(|login| holders.remove(&login_doc_id(login)))
                    .collect();
                ExistingAccount {
                    stored,
                    login_holders,
                    hash_imported_at,
                }
            })
            .collect())
    }

    /// The documents of `ids` in `collection` that exist, by id.
    pub(super) async fn batch_get(
        &self,
        collection: &str,
        ids: Vec<impl AsRef<str> + Send + Sync + Clone>,
    ) -> Result<HashMap<String, Document>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<(String, Option<Document>)> = self
            .call(async {
                self.db
                    .fluent()
                    .select()
                    .by_id_in(collection)
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
    pub(super) fn new_commit(&self) -> FirestoreTransactionData {
        FirestoreTransactionData::new(
            Vec::new(),
            self.db.get_documents_path().clone(),
            tracing::Span::none(),
            Vec::new(),
        )
    }

    pub(super) async fn commit(&self, writes: FirestoreTransactionData) -> Result<CommitOutcome> {
        if writes.writes().len() > MAX_WRITES_PER_COMMIT {
            return Err(Error::internal(format!(
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

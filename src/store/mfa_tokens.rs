//! The `mfa_token`s between the two sign-in steps: one document each in the tokens
//! collection, by the handle's SHA-256, with the uid, a fingerprint of the password hash,
//! the expiry (checked on read: Firestore's TTL deletes late, the emulator never) and the
//! count of wrong codes. A second step is one transaction over the token and its account
//! ([`Store::settle_second_step`]): the count is compared and raised, or the accepted code
//! recorded, under the reads that decided it, so concurrent requests cannot both slip under
//! the limit or both spend one code.

use std::time::Duration;

use firestore::{FirestoreConsistencySelector, FirestoreTimestamp, FirestoreTransactionOps};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::AccountDoc;
use super::factors::FactorsPatch;
use super::{Store, StoredAccount, map_error, status_code};
use crate::accounts::Uid;
use crate::factors::Factors;
use crate::{Error, Result};

/// Transactions that lost a race with another request on the same token are run again, at
/// most this many times in all.
const TRIES: u32 = 6;

/// An `mfa_token` as stored.
#[derive(Debug, Clone)]
pub struct StoredMfaToken {
    pub uid: Uid,
    pub expires_at: Timestamp,
    /// A fingerprint of the password hash the first step checked: a password changed since
    /// outdates the token.
    pub hash_version: String,
    /// Wrong codes sent with it so far.
    pub attempts: u32,
    /// Set once a code finished the sign-in: the token is kept (until its shortened expiry)
    /// only to recognise that same code sent again.
    pub spent: Option<SpentToken>,
}

/// What a spent token remembers of the code that spent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentToken {
    /// A SHA-256 of the token's id and the code as read (never the code itself).
    pub code_hash: String,
    pub at: Timestamp,
}

/// What one second step writes, decided inside its transaction.
#[derive(Debug, Clone)]
pub enum MfaStep {
    /// A wrong code: the token's count goes up by one.
    Wrong,
    /// A code accepted: the account's factors as accepting it left them (the TOTP step
    /// recorded, the recovery code used), and the token spent, remembering the code, until
    /// `keep_until`.
    Accept {
        factors: Box<Factors>,
        code_hash: String,
        at: Timestamp,
        keep_until: Timestamp,
    },
    /// The token cannot be used any more (expired, used up, outdated): deleted.
    Discard,
    /// Nothing to write.
    Nothing,
}

#[derive(Serialize, Deserialize)]
struct MfaTokenDoc {
    uid: String,
    purpose: String,
    expires_at: FirestoreTimestamp,
    hash_version: String,
    #[serde(default)]
    attempts: u32,
    created_at: FirestoreTimestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spent_at: Option<FirestoreTimestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_hash: Option<String>,
}

impl MfaTokenDoc {
    fn into_stored(self) -> Option<StoredMfaToken> {
        if self.purpose != "mfa" {
            return None;
        }
        let spent = match (self.spent_at, self.code_hash) {
            (Some(at), Some(code_hash)) => Some(SpentToken {
                code_hash,
                at: at.0,
            }),
            _ => None,
        };
        Some(StoredMfaToken {
            uid: Uid::from_stored(&self.uid).ok()?,
            expires_at: self.expires_at.0,
            hash_version: self.hash_version,
            attempts: self.attempts,
            spent,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Attempts {
    attempts: u32,
}

#[derive(Serialize, Deserialize)]
struct Spent {
    spent_at: FirestoreTimestamp,
    code_hash: String,
    expires_at: FirestoreTimestamp,
}

impl Store {
    /// Stores a new `mfa_token` under `id` (its hash).
    pub async fn create_mfa_token(
        &self,
        id: &str,
        uid: &Uid,
        hash_version: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let doc = MfaTokenDoc {
            uid: uid.to_string(),
            purpose: "mfa".into(),
            expires_at: FirestoreTimestamp(expires_at),
            hash_version: hash_version.to_string(),
            attempts: 0,
            created_at: FirestoreTimestamp(now),
            spent_at: None,
            code_hash: None,
        };
        self.create_token_doc(id, &doc).await
    }

    /// The `mfa_token` stored under `id`, if any (expired ones too: the caller checks).
    pub async fn find_mfa_token(&self, id: &str) -> Result<Option<StoredMfaToken>> {
        let doc: Option<MfaTokenDoc> = self.token_doc(id).await?;
        Ok(doc.and_then(MfaTokenDoc::into_stored))
    }

    /// Deletes a token (spent, expired or outdated), whatever its version.
    pub async fn delete_mfa_token(&self, id: &str) -> Result<()> {
        self.call(
            self.db
                .fluent()
                .delete()
                .from(&self.options.tokens_collection)
                .document_id(id)
                .execute(),
        )
        .await
    }

    /// One second step, in one transaction: the token under `id` and the account `uid` are
    /// read, `decide` says what to write (it may run more than once: a transaction that
    /// lost a race with another request on the same token runs again on what that one
    /// left), and the writes commit only if neither document changed since the reads.
    /// Returns what `decide` returned with the writes that were committed.
    pub async fn settle_second_step<R>(
        &self,
        id: &str,
        uid: &Uid,
        decide: impl Fn(Option<&StoredMfaToken>, Option<&StoredAccount>) -> Result<(MfaStep, R)>,
    ) -> Result<R> {
        for attempt in 1..=TRIES {
            let tx = self.call(self.db.begin_transaction()).await?;
            let db =
                self.db
                    .clone_with_consistency_selector(FirestoreConsistencySelector::Transaction(
                        tx.transaction_id().clone(),
                    ));
            let reads = async {
                tokio::join!(
                    db.fluent()
                        .select()
                        .by_id_in(&self.options.tokens_collection)
                        .obj::<MfaTokenDoc>()
                        .one(id),
                    db.fluent()
                        .select()
                        .by_id_in(&self.options.accounts_collection)
                        .obj::<AccountDoc>()
                        .one(uid.as_str()),
                )
            };
            let (token, account) = self.within_deadline(reads).await?;
            let (token, account) = match (token, account) {
                (Ok(token), Ok(account)) => (token, account),
                (Err(e), _) | (_, Err(e)) => {
                    let _ = tx.rollback().await;
                    if is_contention(&e) && attempt < TRIES {
                        back_off(attempt).await;
                        continue;
                    }
                    return Err(map_error(e));
                }
            };
            let token = token.and_then(MfaTokenDoc::into_stored);
            let account = match account.map(AccountDoc::into_stored).transpose() {
                Ok(account) => account,
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            };
            let (step, outcome) = match decide(token.as_ref(), account.as_ref()) {
                Ok(decided) => decided,
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            };
            let mut tx = tx;
            let tokens = &self.options.tokens_collection;
            let queued = match (&step, &token) {
                (MfaStep::Wrong, Some(token)) => tx
                    .update_object(
                        tokens,
                        id,
                        &Attempts {
                            attempts: token.attempts.saturating_add(1),
                        },
                        Some(vec!["attempts".to_string()]),
                        None,
                        vec![],
                    )
                    .map(|_| ()),
                (
                    MfaStep::Accept {
                        factors,
                        code_hash,
                        at,
                        keep_until,
                    },
                    Some(token),
                ) => {
                    let spent = Spent {
                        spent_at: FirestoreTimestamp(*at),
                        code_hash: code_hash.clone(),
                        expires_at: FirestoreTimestamp((*keep_until).min(token.expires_at)),
                    };
                    let fields = ["spent_at", "code_hash", "expires_at"];
                    tx.update_object(
                        &self.options.accounts_collection,
                        uid.as_str(),
                        &FactorsPatch::new(factors),
                        Some(FactorsPatch::FIELDS.map(String::from).to_vec()),
                        None,
                        vec![],
                    )
                    .and_then(|tx| {
                        tx.update_object(
                            tokens,
                            id,
                            &spent,
                            Some(fields.map(String::from).to_vec()),
                            None,
                            vec![],
                        )
                    })
                    .map(|_| ())
                }
                (MfaStep::Discard, Some(_)) => tx.delete_by_id(tokens, id, None).map(|_| ()),
                _ => Ok(()),
            };
            if let Err(e) = queued {
                let _ = tx.rollback().await;
                return Err(map_error(e));
            }
            match self.within_deadline(tx.commit()).await? {
                Ok(_) => return Ok(outcome),
                Err(e) if is_contention(&e) && attempt < TRIES => back_off(attempt).await,
                Err(e) => return Err(map_error(e)),
            }
        }
        Err(Error::Conflict)
    }
}

/// A transaction that lost to another one on the same documents (gRPC `ABORTED`).
fn is_contention(e: &firestore::errors::FirestoreError) -> bool {
    matches!(e, firestore::errors::FirestoreError::DatabaseError(db)
        if status_code(&db.public.code) == Some(firestore::gcloud_sdk::tonic::Code::Aborted))
}

/// A short, growing and jittered pause before a lost transaction runs again, so that the
/// requests racing for one token do not collide again in step.
async fn back_off(attempt: u32) {
    let jitter: u64 = rand::random::<u64>() % 20;
    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 10 + jitter)).await;
}

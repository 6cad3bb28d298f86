//! Firebase Auth bridge writes that failed (Firebase unreachable, a deadline passed) and wait
//! to be retried: one document per uid, so an account queued twice is retried once. An entry
//! says only which account to bring into step and whether its sessions still have to end;
//! the retry reads the account as it is then (or finds it deleted).

use firestore::{FirestoreTimestamp, FirestoreWritePrecondition};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::Version;
use super::{Store, is_precondition_failed, map_error};
use crate::Result;
use crate::accounts::Uid;

/// One account waiting to be brought into step with Firebase Auth.
#[derive(Debug, Clone)]
pub struct QueuedSync {
    pub uid: Uid,
    /// Its Firebase sessions must still be ended (a password change whose revocation failed).
    pub revoke: bool,
    /// The Firebase user's password is outdated (a change Firebase did not take) and must be
    /// removed; the account graduates again at its next sign-in.
    pub drop_password: bool,
    pub queued_at: Timestamp,
    pub version: Version,
}

#[derive(Serialize, Deserialize)]
struct QueueDoc {
    uid: String,
    #[serde(default)]
    revoke: bool,
    #[serde(default)]
    drop_password: bool,
    queued_at: FirestoreTimestamp,
    /// Why the write failed, for an operator reading the collection.
    #[serde(default)]
    reason: String,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

impl Store {
    /// Queues the account for a retry; `revoke` and `drop_password` are kept once set, until
    /// the entry is done.
    pub async fn queue_firebase_sync(
        &self,
        uid: &Uid,
        revoke: bool,
        drop_password: bool,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        let doc = QueueDoc {
            uid: uid.to_string(),
            revoke,
            drop_password,
            queued_at: FirestoreTimestamp(now),
            reason: reason.chars().take(300).collect(),
            version: None,
        };
        let mut fields = vec!["uid", "queued_at", "reason"];
        if revoke {
            fields.push("revoke");
        }
        if drop_password {
            fields.push("drop_password");
        }
        self.call(
            self.db
                .fluent()
                .update()
                .fields(fields)
                .in_col(&self.options.firebase_queue_collection)
                .document_id(uid.as_str())
                .object(&doc)
                .execute::<()>(),
        )
        .await
    }

    /// Up to `limit` queued accounts.
    pub async fn queued_firebase_syncs(&self, limit: u32) -> Result<Vec<QueuedSync>> {
        let docs: Vec<QueueDoc> = self
            .call(async {
                self.db
                    .fluent()
                    .select()
                    .from(self.options.firebase_queue_collection.as_str())
                    .limit(limit)
                    .obj::<QueueDoc>()
                    .stream_query_with_errors()
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        docs.into_iter()
            .map(|d| {
                let corrupt = |cause: crate::Error| {
                    crate::Error::storage(format!(
                        "queued Firebase Auth write `{}` is corrupt",
                        d.uid
                    ))
                    .caused_by(cause)
                };
                Ok(QueuedSync {
                    uid: Uid::from_stored(&d.uid).map_err(corrupt)?,
                    revoke: d.revoke,
                    drop_password: d.drop_password,
                    queued_at: d.queued_at.0,
                    version: Version(
                        d.version
                            .as_ref()
                            .ok_or_else(|| {
                                corrupt(crate::Error::storage("Firestore returned no update time"))
                            })?
                            .0,
                    ),
                })
            })
            .collect()
    }

    /// Removes a done entry, unless it was queued again since it was read (`false` then).
    pub async fn forget_firebase_sync(&self, entry: &QueuedSync) -> Result<bool> {
        let delete = self
            .db
            .fluent()
            .delete()
            .from(self.options.firebase_queue_collection.as_str())
            .document_id(entry.uid.as_str())
            .precondition(FirestoreWritePrecondition::UpdateTime(entry.version.0))
            .execute();
        match self.within_deadline(delete).await? {
            Ok(()) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

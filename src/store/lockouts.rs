//! Failure records for brute-force protection: `<lockouts collection>/<SHA-256 of the key>`
//! (see [`LockoutKey`]) holding the consecutive failures and the last failure time, plus an
//! `expire_at` a Firestore TTL policy can delete the document by.

use firestore::{FirestoreTimestamp, path, paths};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Store, map_error};
use crate::Result;
use crate::lockout::{FailureRecord, LockoutKey};

#[derive(Serialize, Deserialize)]
struct LockoutDoc {
    failures: u32,
    last_failure: FirestoreTimestamp,
    expire_at: FirestoreTimestamp,
}

impl Store {
    /// The failure record of an account or unknown login, if any.
    pub async fn failure_record(&self, key: &LockoutKey) -> Result<Option<FailureRecord>> {
        let doc: Option<LockoutDoc> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.lockouts_collection)
                    .obj::<LockoutDoc>()
                    .one(key.doc_id()),
            )
            .await?;
        Ok(doc.map(|d| FailureRecord {
            failures: d.failures,
            last_failure: d.last_failure.0,
        }))
    }

    /// Records one more failure. The count is a server-side increment, so failures racing
    /// each other are all counted; `restart` (the stored record is past its quiet period)
    /// writes a count of 1 instead.
    pub async fn record_failure(
        &self,
        key: &LockoutKey,
        restart: bool,
        now: Timestamp,
        expire_at: Timestamp,
    ) -> Result<()> {
        let doc = LockoutDoc {
            failures: 1,
            last_failure: FirestoreTimestamp(now),
            expire_at: FirestoreTimestamp(expire_at),
        };
        if restart {
            let write = self
                .db
                .fluent()
                .update()
                .in_col(&self.options.lockouts_collection)
                .document_id(key.doc_id())
                .object(&doc)
                .execute::<()>();
            return self.within_deadline(write).await?.map_err(map_error);
        }
        // The increment is a field transform, which only batched or transactional writes
        // carry: one BatchWrite call.
        let write = async {
            let writer = self.db.create_simple_batch_writer().await?;
            let mut batch = writer.new_batch();
            self.db
                .fluent()
                .update()
                .fields(paths!(LockoutDoc::{last_failure, expire_at}))
                .in_col(&self.options.lockouts_collection)
                .document_id(key.doc_id())
                .object(&doc)
                .transforms(|t| t.fields([t.field(path!(LockoutDoc::failures)).increment(1)]))
                .add_to_batch(&mut batch)?;
            batch.write().await
        };
        let response = self.within_deadline(write).await?.map_err(map_error)?;
        match response.statuses.iter().find(|status| status.code != 0) {
            Some(status) => Err(crate::Error::Unavailable(format!(
                "recording a failed sign-in failed: {} (code {})",
                status.message, status.code
            ))),
            None => Ok(()),
        }
    }

    /// Forgets the failures of an account or unknown login (after a success, or `accounts
    /// unlock`).
    pub async fn clear_failures(&self, key: &LockoutKey) -> Result<()> {
        let delete = self
            .db
            .fluent()
            .delete()
            .from(self.options.lockouts_collection.as_str())
            .document_id(key.doc_id())
            .execute();
        self.within_deadline(delete).await?.map_err(map_error)
    }
}

//! Failure records for brute-force protection: `<lockouts collection>/<login>` holding the
//! consecutive failures and the last failure time, plus an `expire_at` a Firestore TTL policy
//! can delete the document by.

use firestore::FirestoreTimestamp;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::login_doc_id;
use super::{Store, map_error};
use crate::Result;
use crate::lockout::FailureRecord;
use crate::login::Login;

#[derive(Serialize, Deserialize)]
struct LockoutDoc {
    failures: u32,
    last_failure: FirestoreTimestamp,
    expire_at: FirestoreTimestamp,
}

impl Store {
    /// The failure record of a login, if any.
    pub async fn failure_record(&self, login: &Login) -> Result<Option<FailureRecord>> {
        let doc: Option<LockoutDoc> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.lockouts_collection)
                    .obj::<LockoutDoc>()
                    .one(login_doc_id(login)),
            )
            .await?;
        Ok(doc.map(|d| FailureRecord {
            failures: d.failures,
            last_failure: d.last_failure.0,
        }))
    }

    /// Records one more failure: `failures` becomes `previous + 1` (the caller passes 0 for a
    /// missing or forgotten record). Last write wins between concurrent failures, which can
    /// only undercount by the number of racing requests.
    pub async fn record_failure(
        &self,
        login: &Login,
        previous: u32,
        now: Timestamp,
        expire_at: Timestamp,
    ) -> Result<()> {
        let doc = LockoutDoc {
            failures: previous.saturating_add(1),
            last_failure: FirestoreTimestamp(now),
            expire_at: FirestoreTimestamp(expire_at),
        };
        let write = self
            .db
            .fluent()
            .update()
            .in_col(&self.options.lockouts_collection)
            .document_id(login_doc_id(login))
            .object(&doc)
            .execute::<()>();
        self.within_deadline(write).await?.map_err(map_error)
    }

    /// Forgets the failures of a login (after a success, or `accounts unlock`).
    pub async fn clear_failures(&self, login: &Login) -> Result<()> {
        let delete = self
            .db
            .fluent()
            .delete()
            .from(self.options.lockouts_collection.as_str())
            .document_id(login_doc_id(login))
            .execute();
        self.within_deadline(delete).await?.map_err(map_error)
    }
}

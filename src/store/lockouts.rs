//! Failure records for brute-force protection: `<lockouts collection>/<SHA-256 of the key>`
//! (see [`LockoutKey`]) holding the unfamiliar clients' consecutive failures and last failure
//! time, a map `networks` of familiar networks (hashed ids) with their last success and their
//! own count, and an `expire_at` a Firestore TTL policy can delete the document by.

use std::collections::BTreeMap;

use firestore::FirestoreTimestamp;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Store, map_error};
use crate::Result;
use crate::lockout::{
    Channel, FailureRecord, LockoutKey, LockoutState, NetworkEntry, SuccessWrite,
};

#[derive(Serialize, Deserialize, Default)]
struct LockoutDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_failure: Option<FirestoreTimestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expire_at: Option<FirestoreTimestamp>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    networks: BTreeMap<String, NetworkDoc>,
}

#[derive(Serialize, Deserialize, Default)]
struct NetworkDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_success: Option<FirestoreTimestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_failure: Option<FirestoreTimestamp>,
}

fn record(failures: Option<u32>, last: Option<FirestoreTimestamp>) -> Option<FailureRecord> {
    Some(FailureRecord {
        failures: failures?,
        last_failure: last?.0,
    })
}

/// The field path prefix of a channel's count.
fn prefix(channel: &Channel) -> String {
    match channel {
        Channel::Unfamiliar => String::new(),
        Channel::Familiar(id) => format!("networks.{id}."),
    }
}

impl Store {
    /// Everything recorded for an account, unknown login or the admin credential.
    pub async fn lockout_state(&self, key: &LockoutKey) -> Result<LockoutState> {
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
        let Some(doc) = doc else {
            return Ok(LockoutState::default());
        };
        Ok(LockoutState {
            unfamiliar: record(doc.failures, doc.last_failure),
            networks: doc
                .networks
                .into_iter()
                .map(|(id, n)| {
                    let entry = NetworkEntry {
                        last_success: n.last_success.map(|t| t.0),
                        failures: record(n.failures, n.last_failure),
                    };
                    (id, entry)
                })
                .collect(),
        })
    }

    /// The unfamiliar clients' failure record of an account or unknown login, if any.
    pub async fn failure_record(&self, key: &LockoutKey) -> Result<Option<FailureRecord>> {
        Ok(self.lockout_state(key).await?.unfamiliar)
    }

    /// Records one more failure of `channel`. The count is a server-side increment, so
    /// failures racing each other are all counted; `restart` (the stored count is past its
    /// quiet period) writes a count of 1 instead.
    pub async fn record_failure(
        &self,
        key: &LockoutKey,
        channel: &Channel,
        restart: bool,
        now: Timestamp,
        expire_at: Timestamp,
    ) -> Result<()> {
        let at = Some(FirestoreTimestamp(now));
        let mut doc = LockoutDoc {
            expire_at: Some(FirestoreTimestamp(expire_at)),
            ..LockoutDoc::default()
        };
        let failures = restart.then_some(1);
        match channel {
            Channel::Unfamiliar => {
                doc.failures = failures;
                doc.last_failure = at;
            }
            Channel::Familiar(id) => {
                let network = NetworkDoc {
                    failures,
                    last_failure: at,
                    last_success: None,
                };
                doc.networks.insert(id.clone(), network);
            }
        }
        let prefix = prefix(channel);
        let count = format!("{prefix}failures");
        let mut fields = vec![format!("{prefix}last_failure"), "expire_at".to_string()];
        if restart {
            fields.push(count);
            let write = self
                .db
                .fluent()
                .update()
                .fields(fields)
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
                .fields(fields)
                .in_col(&self.options.lockouts_collection)
                .document_id(key.doc_id())
                .object(&doc)
                .transforms(|t| t.fields([t.field(count.as_str()).increment(1)]))
                .add_to_batch(&mut batch)?;
            batch.write().await
        };
        let response = self.within_deadline(write).await?.map_err(map_error)?;
        match response.statuses.iter().find(|status| status.code != 0) {
            Some(status) => Err(crate::Error::unavailable(format!(
                "recording a failed sign-in failed: {} (code {})",
                status.message, status.code
            ))),
            None => Ok(()),
        }
    }

    /// Records a success: its network familiar with its count cleared, the unfamiliar count
    /// cleared when asked, a network dropped when asked. Fields named but not written are
    /// deleted, which is how counts are cleared without touching the rest of the record.
    pub async fn record_success(&self, key: &LockoutKey, write: &SuccessWrite) -> Result<()> {
        let mut doc = LockoutDoc {
            expire_at: Some(FirestoreTimestamp(write.expire_at)),
            ..LockoutDoc::default()
        };
        let mut fields = vec!["expire_at".to_string()];
        if let Some(id) = &write.network {
            let network = NetworkDoc {
                last_success: Some(FirestoreTimestamp(write.now)),
                ..NetworkDoc::default()
            };
            doc.networks.insert(id.clone(), network);
            for field in ["last_success", "failures", "last_failure"] {
                fields.push(format!("networks.{id}.{field}"));
            }
        }
        if write.clear_unfamiliar {
            fields.extend(["failures".to_string(), "last_failure".to_string()]);
        }
        if let Some(id) = &write.forget {
            fields.push(format!("networks.{id}"));
        }
        let update = self
            .db
            .fluent()
            .update()
            .fields(fields)
            .in_col(&self.options.lockouts_collection)
            .document_id(key.doc_id())
            .object(&doc)
            .execute::<()>();
        self.within_deadline(update).await?.map_err(map_error)
    }

    /// Clears every count of a record, keeping its familiar networks (`accounts unlock`).
    pub async fn clear_counts(&self, key: &LockoutKey, state: &LockoutState) -> Result<()> {
        let mut fields = vec!["failures".to_string(), "last_failure".to_string()];
        for id in state.networks.keys() {
            fields.push(format!("networks.{id}.failures"));
            fields.push(format!("networks.{id}.last_failure"));
        }
        let empty = LockoutDoc::default();
        let update = self
            .db
            .fluent()
            .update()
            .fields(fields)
            .in_col(&self.options.lockouts_collection)
            .document_id(key.doc_id())
            .object(&empty)
            .execute::<()>();
        self.within_deadline(update).await?.map_err(map_error)
    }

    /// Forgets everything recorded for an account or unknown login.
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

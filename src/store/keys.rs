//! The recorded key state: one document (`<keys collection>/ring`) saying which key signs (and
//! its project) and which are retired. Every instance reads it at start-up and polls it, so all
//! switch keys together; writes are conditioned on the version read, so two admins cannot
//! interleave.

use std::collections::BTreeSet;

use firestore::{FirestoreTimestamp, FirestoreWritePrecondition};
use serde::{Deserialize, Serialize};

use super::accounts::Version;
use super::{Store, is_already_exists, is_precondition_failed, map_error};
use crate::Result;
use crate::keys::RecordedState;

const RING_DOC: &str = "ring";

#[derive(Serialize, Deserialize)]
struct RingDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    project: Option<String>,
    #[serde(default)]
    retired: Vec<String>,
    #[serde(default)]
    changed_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changed_at: Option<FirestoreTimestamp>,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

impl Store {
    /// The recorded key state and its version, or `None` before the first rotation.
    pub async fn recorded_key_state(&self) -> Result<Option<(RecordedState, Version)>> {
        let doc: Option<RingDoc> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .by_id_in(&self.options.keys_collection)
                    .obj::<RingDoc>()
                    .one(RING_DOC),
            )
            .await?;
        Ok(doc.and_then(|d| {
            let version = Version(d.version?.0);
            let state = RecordedState {
                active: d.active,
                project: d.project,
                retired: d.retired.into_iter().collect::<BTreeSet<_>>(),
                changed_by: d.changed_by,
                changed_at: d.changed_at.map(|t| t.0),
            };
            Some((state, version))
        }))
    }

    /// Writes the key state if it is still at `expected` (`None`: if none is recorded yet).
    /// Returns `false`, having written nothing, when another change came first.
    pub async fn record_key_state(
        &self,
        state: &RecordedState,
        expected: Option<Version>,
    ) -> Result<bool> {
        let doc = RingDoc {
            active: state.active.clone(),
            project: state.project.clone(),
            retired: state.retired.iter().cloned().collect(),
            changed_by: state.changed_by.clone(),
            changed_at: state.changed_at.map(FirestoreTimestamp),
            version: None,
        };
        let precondition = match expected {
            Some(v) => FirestoreWritePrecondition::UpdateTime(v.0),
            None => FirestoreWritePrecondition::Exists(false),
        };
        let write = self
            .db
            .fluent()
            .update()
            .in_col(&self.options.keys_collection)
            .precondition(precondition)
            .document_id(RING_DOC)
            .object(&doc)
            .execute::<()>();
        match self.within_deadline(write).await? {
            Ok(()) => Ok(true),
            Err(e) if is_precondition_failed(&e) || is_already_exists(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

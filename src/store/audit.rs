//! The audit trail of admin actions: one document per action taken on the admin page or API
//! (who, what, on which account or key, and how it ended), newest first for the page's audit
//! view. Documents carry `expires_at`, so a Firestore TTL policy can delete them when they
//! are old enough (the book, "Admin page and API").

use firestore::FirestoreTimestamp;
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::Store;
use crate::Result;

/// How long an audit document is meant to be kept, if a TTL policy acts on `expires_at`.
const KEPT_FOR: SignedDuration = SignedDuration::from_hours(400 * 24);

/// One admin action and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The admin's name, as the admin credential gives it.
    pub admin: String,
    /// `disable-account`, `retire-key`, …
    pub action: String,
    /// The account acted on; a refused account action names none (the login an admin typed
    /// is never recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The key acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `ok` or `refused`.
    pub outcome: String,
    /// Why it was refused (`not_found`, `invalid_body`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct AuditDoc {
    at: FirestoreTimestamp,
    admin: String,
    action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    expires_at: FirestoreTimestamp,
}

impl Store {
    /// Records an admin action. The id starts with the time, so the collection reads in order
    /// in the console too; the random tail keeps two actions of one microsecond apart.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        let tail: [u8; 4] = rand::rng().random();
        let id = format!("{:020}-{}", entry.at.as_microsecond(), hex::encode(tail));
        let doc = AuditDoc {
            at: FirestoreTimestamp(entry.at),
            admin: entry.admin.clone(),
            action: entry.action.clone(),
            uid: entry.uid.clone(),
            kid: entry.kid.clone(),
            outcome: entry.outcome.clone(),
            reason: entry.reason.clone(),
            expires_at: FirestoreTimestamp(
                entry.at.checked_add(KEPT_FOR).unwrap_or(Timestamp::MAX),
            ),
        };
        self.call(
            self.db
                .fluent()
                .insert()
                .into(&self.options.audit_collection)
                .document_id(&id)
                .object(&doc)
                .execute::<()>(),
        )
        .await
    }

    /// The `limit` most recent admin actions, newest first.
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let docs: Vec<AuditDoc> = self
            .call(async {
                self.db
                    .fluent()
                    .select()
                    .from(self.options.audit_collection.as_str())
                    .order(|o| o.fields([o.field("at").descending()]))
                    .limit(limit)
                    .obj::<AuditDoc>()
                    .stream_query_with_errors()
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        Ok(docs
            .into_iter()
            .map(|d| AuditEntry {
                at: d.at.0,
                admin: d.admin,
                action: d.action,
                uid: d.uid,
                kid: d.kid,
                outcome: d.outcome,
                reason: d.reason,
            })
            .collect())
    }
}

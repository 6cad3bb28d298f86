//! Firestore persistence. This is the only module that names the `firestore` crate: it maps
//! documents to the domain types of [`crate::accounts`] and Firestore errors to [`Error`].

mod accounts;
mod audit;
mod changes;
mod claims;
mod emulator_auth;
mod factors;
mod firebase_queue;
mod import;
mod keys;
mod listing;
mod lockouts;
mod tokens;

use std::future::Future;
use std::time::Duration;

use firestore::errors::FirestoreError;
use firestore::{FirestoreDb, FirestoreDbOptions};

pub use accounts::{StoredAccount, Version};
pub use audit::AuditEntry;
pub use claims::{LookAlike, LookAlikeHolder};
pub use factors::StoredMfaToken;
pub use firebase_queue::QueuedSync;
pub use import::{CommitOutcome, ExistingAccount, ImportUpdate, MAX_WRITES_PER_COMMIT};
pub use listing::{AccountFilter, SchemeCount};
pub use tokens::{NewToken, StoredToken};

use crate::{Error, Result};

/// How to reach Firestore (the project is given separately: it may come from a key file).
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub database_id: String,
    /// `host:port` of an emulator; `None` reaches Google with Application Default Credentials.
    pub emulator_host: Option<String>,
    pub accounts_collection: String,
    pub logins_collection: String,
    pub keys_collection: String,
    pub lockouts_collection: String,
    /// Password-reset tokens (by SHA-256) and per-account mail counts.
    pub tokens_collection: String,
    /// Firebase Auth bridge writes waiting to be retried, one document per uid.
    pub firebase_queue_collection: String,
    /// The audit trail of admin actions.
    pub audit_collection: String,
    /// Longest a single Firestore call may take, retries included.
    pub timeout: Duration,
}

impl Default for StoreOptions {
    /// The `(default)` database, the documented collection names and a 5-second deadline.
    fn default() -> Self {
        StoreOptions {
            database_id: "(default)".into(),
            emulator_host: None,
            accounts_collection: "firegate_accounts".into(),
            logins_collection: "firegate_logins".into(),
            keys_collection: "firegate_keys".into(),
            lockouts_collection: "firegate_lockouts".into(),
            tokens_collection: "firegate_tokens".into(),
            firebase_queue_collection: "firegate_firebase_queue".into(),
            audit_collection: "firegate_audit".into(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// A connection to firegate's collections in one Firestore database.
#[derive(Clone)]
pub struct Store {
    db: FirestoreDb,
    project_id: String,
    options: StoreOptions,
}

impl Store {
    /// Opens the gRPC channel to Firestore (or the emulator); [`Store::ping`] checks that
    /// requests are actually served.
    pub async fn connect(project_id: String, options: StoreOptions) -> Result<Store> {
        let db_options = FirestoreDbOptions::new(project_id.clone())
            .with_database_id(options.database_id.clone())
            .with_max_retries(2)
            .with_request_timeout(options.timeout);
        let db = match &options.emulator_host {
            Some(host) => {
                let url = if host.contains("://") {
                    host.clone()
                } else {
                    format!("http://{host}")
                };
                FirestoreDb::with_options_auth(
                    db_options.with_firebase_api_url(url),
                    emulator_auth::credentials(),
                )
                .await
            }
            None => FirestoreDb::with_options(db_options).await,
        }
        .map_err(|e| {
            let hint = match &options.emulator_host {
                Some(host) => format!("is the emulator running at {host}?"),
                None => "outside the emulator firegate uses Application Default Credentials \
                         (the runtime service account, or GOOGLE_APPLICATION_CREDENTIALS)"
                    .to_string(),
            };
            let at = options
                .emulator_host
                .as_deref()
                .unwrap_or("firestore.googleapis.com");
            // The gRPC text is long and nested; the common causes get one line.
            Error::Unavailable(match transport_cause(&e.to_string()) {
                Some(cause) => format!("Firestore unreachable at {at} ({cause}): {hint}"),
                None => format!("cannot reach Firestore (project `{project_id}`): {e}; {hint}"),
            })
        })?;
        Ok(Store {
            db,
            project_id,
            options,
        })
    }

    /// Sends one cheap read, to fail fast at start-up when Firestore cannot be reached.
    pub async fn ping(&self) -> Result<()> {
        self.call(self.db.ping()).await.map_err(|e| match e {
            Error::Unavailable(why) | Error::Storage(why) => Error::Unavailable(format!(
                "cannot reach Firestore (project `{}`, database `{}`{}): {why}",
                self.project_id,
                self.options.database_id,
                self.options
                    .emulator_host
                    .as_ref()
                    .map(|h| format!(", emulator {h}"))
                    .unwrap_or_default()
            )),
            other => other,
        })
    }

    /// The project this store reads and writes.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The options this store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Runs one Firestore call under the configured deadline and maps its error.
    async fn call<T>(&self, f: impl Future<Output = firestore::FirestoreResult<T>>) -> Result<T> {
        self.within_deadline(f).await?.map_err(map_error)
    }

    /// Runs one Firestore call under the configured deadline, leaving its own error unmapped
    /// for callers that tell conflicts apart.
    async fn within_deadline<T>(&self, f: impl Future<Output = T>) -> Result<T> {
        tokio::time::timeout(self.options.timeout, f)
            .await
            .map_err(|_| {
                Error::Unavailable(format!(
                    "no answer within {} ms",
                    self.options.timeout.as_millis()
                ))
            })
    }
}

/// Maps a Firestore error onto the core error: transport failures and timeouts are
/// [`Error::Unavailable`] (503), everything else [`Error::Storage`].
fn map_error(e: FirestoreError) -> Error {
    match &e {
        FirestoreError::NetworkError(_) => Error::Unavailable(e.to_string()),
        FirestoreError::DatabaseError(db)
            if db.retry_possible
                || matches!(
                    db.public.code.as_str(),
                    "Unavailable" | "DeadlineExceeded" | "CONNECTION_ERROR" | "Cancelled"
                ) =>
        {
            Error::Unavailable(e.to_string())
        }
        _ => Error::Storage(e.to_string()),
    }
}

/// The cause of a transport failure in plain words, when it is one of the usual ones.
fn transport_cause(text: &str) -> Option<&'static str> {
    if text.contains("Connection refused") {
        Some("connection refused")
    } else if text.contains("dns error") || text.contains("failed to lookup address") {
        Some("the host name does not resolve")
    } else if text.contains("timed out") || text.contains("Timeout") {
        Some("no answer in time")
    } else {
        None
    }
}

/// True when a write failed because a document it must not overwrite already exists.
fn is_already_exists(e: &FirestoreError) -> bool {
    matches!(e, FirestoreError::DataConflictError(_))
}

/// True when a write failed because its update-time precondition no longer holds.
fn is_precondition_failed(e: &FirestoreError) -> bool {
    matches!(e, FirestoreError::DatabaseError(db) if db.public.code == "FailedPrecondition")
        || matches!(e, FirestoreError::DataNotFoundError(_))
}

#[cfg(test)]
mod transport_tests {
    use super::transport_cause;

    #[test]
    fn usual_transport_failures_get_plain_words() {
        let refused = r#"GrpcStatus(tonic::transport::Error(Transport, ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))"#;
        assert_eq!(transport_cause(refused), Some("connection refused"));
        let dns = "transport error: dns error: failed to lookup address information";
        assert_eq!(transport_cause(dns), Some("the host name does not resolve"));
        assert_eq!(transport_cause("permission denied on project"), None);
    }
}

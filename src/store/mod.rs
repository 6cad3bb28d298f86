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
mod mfa_tokens;
mod passkeys;
mod tokens;

use std::future::Future;
use std::time::Duration;

use firestore::errors::FirestoreError;
use firestore::gcloud_sdk::tonic::Code;
use firestore::{FirestoreDb, FirestoreDbOptions};

pub use accounts::{StoredAccount, Version};
pub use audit::AuditEntry;
pub use changes::LegacyProfile;
pub use claims::{LookAlike, LookAlikeHolder};
pub use firebase_queue::QueuedSync;
pub use import::{CommitOutcome, ExistingAccount, ImportUpdate, MAX_WRITES_PER_COMMIT};
pub use listing::{AccountFilter, SchemeCount};
pub use mfa_tokens::{MfaStep, SpentToken, StoredMfaToken};
pub use passkeys::{Ceremony, StoredPasskeys};
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
    /// Passkeys per account, and the user-handle and credential-id indexes.
    pub passkeys_collection: String,
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
            passkeys_collection: "firegate_passkeys".into(),
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
        .map_err(|e| Error::unavailable(unreachable(&project_id, &options)).caused_by(e))?;
        Ok(Store {
            db,
            project_id,
            options,
        })
    }

    /// Sends one cheap read, to fail fast at start-up when Firestore cannot be reached.
    pub async fn ping(&self) -> Result<()> {
        self.call(self.db.ping()).await.map_err(|e| match e {
            e @ (Error::Unavailable { .. } | Error::Storage { .. }) => {
                Error::unavailable(unreachable(&self.project_id, &self.options)).caused_by(e)
            }
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
                Error::unavailable(format!(
                    "no answer within {} ms",
                    self.options.timeout.as_millis()
                ))
            })
    }
}

/// What an unreachable Firestore is called, with the fix: where firegate looked, for which
/// project and database, and what to check.
fn unreachable(project_id: &str, options: &StoreOptions) -> String {
    let (at, hint) = match &options.emulator_host {
        Some(host) => (host.as_str(), "is the emulator running there?"),
        None => (
            "firestore.googleapis.com",
            "outside the emulator firegate uses Application Default Credentials (the runtime \
             service account, or GOOGLE_APPLICATION_CREDENTIALS)",
        ),
    };
    format!(
        "cannot reach Firestore at {at} (project `{project_id}`, database `{}`): {hint}",
        options.database_id
    )
}

/// Maps a Firestore error onto the core error, keeping it as the cause: transport failures,
/// timeouts and the gRPC codes that mean "try again" are [`Error::Unavailable`] (503),
/// everything else [`Error::Storage`].
fn map_error(e: FirestoreError) -> Error {
    if is_unavailable(&e) {
        Error::unavailable("the call failed").caused_by(e)
    } else {
        Error::storage("the call failed").caused_by(e)
    }
}

/// Classifies by the crate's error type and the call's gRPC status code (the crate keeps
/// the code of a `tonic::Status` as its name), never by the error's text.
fn is_unavailable(e: &FirestoreError) -> bool {
    match e {
        FirestoreError::NetworkError(_) => true,
        // The crate marks transport failures (closed connections, timeouts) retryable.
        FirestoreError::DatabaseError(db) => {
            db.retry_possible
                || matches!(
                    status_code(&db.public.code),
                    Some(Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled)
                )
        }
        _ => false,
    }
}

/// The gRPC status code the crate recorded by name (`format!("{:?}", status.code())`).
fn status_code(name: &str) -> Option<Code> {
    (0..=16)
        .map(Code::from_i32)
        .find(|code| format!("{code:?}") == name)
}

/// True when a write failed because a document it must not overwrite already exists.
fn is_already_exists(e: &FirestoreError) -> bool {
    matches!(e, FirestoreError::DataConflictError(_))
}

/// True when a write failed because its update-time precondition no longer holds.
fn is_precondition_failed(e: &FirestoreError) -> bool {
    matches!(e, FirestoreError::DatabaseError(db) if status_code(&db.public.code) == Some(Code::FailedPrecondition))
        || matches!(e, FirestoreError::DataNotFoundError(_))
}

#[cfg(test)]
mod error_tests {
    use std::error::Error as _;

    use firestore::errors::{
        FirestoreDatabaseError, FirestoreErrorPublicGenericDetails, FirestoreNetworkError,
    };

    use super::*;

    fn database(code: Code, retry_possible: bool) -> FirestoreError {
        FirestoreError::DatabaseError(FirestoreDatabaseError::new(
            FirestoreErrorPublicGenericDetails::new(format!("{code:?}")),
            format!("status: {code:?}, message: \"the server's words\""),
            retry_possible,
        ))
    }

    #[test]
    fn failures_are_classified_by_status_code_and_keep_their_cause() {
        let unavailable = map_error(database(Code::Unavailable, false));
        assert!(
            matches!(unavailable, Error::Unavailable { .. }),
            "{unavailable:?}"
        );
        assert!(
            unavailable
                .source()
                .is_some_and(|cause| cause.to_string().contains("the server's words")),
            "{unavailable:?}"
        );
        assert!(matches!(
            map_error(database(Code::DeadlineExceeded, false)),
            Error::Unavailable { .. }
        ));
        let denied = map_error(database(Code::PermissionDenied, false));
        assert!(matches!(denied, Error::Storage { .. }), "{denied:?}");
        assert!(
            denied.chain().contains("\n  caused by: "),
            "{}",
            denied.chain()
        );
        // A code name in the text alone does not make a failure a transport one.
        let worded = FirestoreError::DatabaseError(FirestoreDatabaseError::new(
            FirestoreErrorPublicGenericDetails::new("InvalidArgument".into()),
            "Unavailable DeadlineExceeded Connection refused".into(),
            false,
        ));
        assert!(matches!(map_error(worded), Error::Storage { .. }));
        let network = FirestoreError::NetworkError(FirestoreNetworkError::new(
            FirestoreErrorPublicGenericDetails::new("Network".into()),
            "connection reset".into(),
        ));
        assert!(matches!(map_error(network), Error::Unavailable { .. }));
    }

    #[tokio::test]
    async fn an_unreachable_emulator_names_the_host_and_keeps_the_transport_cause() {
        let options = StoreOptions {
            emulator_host: Some("127.0.0.1:1".into()),
            timeout: Duration::from_secs(5),
            ..StoreOptions::default()
        };
        let failed = match Store::connect("demo-unreachable".into(), options).await {
            Ok(store) => store.ping().await.err().unwrap(),
            Err(e) => e,
        };
        assert!(matches!(failed, Error::Unavailable { .. }), "{failed:?}");
        let shown = failed.chain();
        assert!(
            shown.starts_with("Firestore is unavailable: cannot reach Firestore"),
            "{shown}"
        );
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
        assert!(shown.contains("\n  caused by: "), "{shown}");
    }
}

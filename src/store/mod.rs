//! Firestore persistence. This is the only module that names the `firestore` crate: it maps
//! documents to the domain types of [`crate::accounts`] and Firestore errors to [`Error`].

mod accounts;
mod changes;
mod emulator_auth;
mod import;
mod keys;
mod listing;
mod lockouts;

use std::future::Future;
use std::time::Duration;

use firestore::errors::FirestoreError;
use firestore::{FirestoreDb, FirestoreDbOptions};

pub use accounts::{StoredAccount, Version};
pub use import::{CommitOutcome, ExistingAccount, ImportUpdate, MAX_WRITES_PER_COMMIT};
pub use listing::{AccountFilter, SchemeCount};

use crate::config::Config;
use crate::{Error, Result};

/// Where and how to reach Firestore.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub project_id: String,
    pub database_id: String,
    /// `host:port` of an emulator; `None` reaches Google with Application Default Credentials.
    pub emulator_host: Option<String>,
    pub accounts_collection: String,
    pub logins_collection: String,
    pub keys_collection: String,
    pub lockouts_collection: String,
    /// Longest a single Firestore call may take, retries included.
    pub timeout: Duration,
}

impl StoreOptions {
    /// The options a [`Config`] describes, for the given project.
    pub fn from_config(config: &Config, project_id: String) -> StoreOptions {
        StoreOptions {
            project_id,
            database_id: config.database_id.clone(),
            emulator_host: config.firestore_emulator_host.clone(),
            accounts_collection: config.accounts_collection.clone(),
            logins_collection: config.logins_collection.clone(),
            keys_collection: config.keys_collection.clone(),
            lockouts_collection: config.lockouts_collection.clone(),
            timeout: Duration::from_millis(config.firestore_timeout_ms.into()),
        }
    }
}

/// A connection to firegate's collections in one Firestore database.
#[derive(Clone)]
pub struct Store {
    db: FirestoreDb,
    options: StoreOptions,
}

impl Store {
    /// Opens the gRPC channel to Firestore (or the emulator); [`Store::ping`] checks that
    /// requests are actually served.
    pub async fn connect(options: StoreOptions) -> Result<Store> {
        let db_options = FirestoreDbOptions::new(options.project_id.clone())
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
            Error::Unavailable(format!(
                "cannot reach Firestore (project `{}`): {e}; {hint}",
                options.project_id
            ))
        })?;
        Ok(Store { db, options })
    }

    /// Sends one cheap read, to fail fast at start-up when Firestore cannot be reached.
    pub async fn ping(&self) -> Result<()> {
        self.call(self.db.ping()).await.map_err(|e| match e {
            Error::Unavailable(why) | Error::Storage(why) => Error::Unavailable(format!(
                "cannot reach Firestore (project `{}`, database `{}`{}): {why}",
                self.options.project_id,
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

/// True when a write failed because a document it must not overwrite already exists.
fn is_already_exists(e: &FirestoreError) -> bool {
    matches!(e, FirestoreError::DataConflictError(_))
}

/// True when a write failed because its update-time precondition no longer holds.
fn is_precondition_failed(e: &FirestoreError) -> bool {
    matches!(e, FirestoreError::DatabaseError(db) if db.public.code == "FailedPrecondition")
        || matches!(e, FirestoreError::DataNotFoundError(_))
}

//! The Firestore settings group: which project and database, the emulator, the deadline of
//! one call and the collection names.

use std::time::Duration;

use clap::Args;

use super::values::{collection_name, non_empty};
use crate::store::StoreOptions;

/// Where firegate keeps its documents.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Firestore")]
pub struct StoreArgs {
    /// Google Cloud project holding Firestore [default: the signing key's project_id].
    #[arg(long, env = "FIREGATE_PROJECT_ID", value_name = "PROJECT",
          value_parser = non_empty("--project-id"))]
    pub project_id: Option<String>,

    /// Firestore database id.
    #[arg(long, env = "FIREGATE_DATABASE_ID", default_value = "(default)", value_parser = non_empty("--database-id"))]
    pub database_id: String,

    /// Firestore emulator host:port; when set, no Google credentials are used.
    #[arg(long, env = "FIRESTORE_EMULATOR_HOST", value_name = "HOST:PORT",
          value_parser = non_empty("FIRESTORE_EMULATOR_HOST"))]
    pub firestore_emulator_host: Option<String>,

    /// Deadline of one Firestore call, retries included, in ms.
    #[arg(long, env = "FIREGATE_FIRESTORE_TIMEOUT_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u32).range(100..=120_000))]
    pub firestore_timeout_ms: u32,

    /// Accounts, one document per uid.
    #[arg(long, env = "FIREGATE_ACCOUNTS_COLLECTION", default_value = "firegate_accounts", value_parser = collection_name)]
    pub accounts_collection: String,

    /// Login index, one document per email or username.
    #[arg(long, env = "FIREGATE_LOGINS_COLLECTION", default_value = "firegate_logins", value_parser = collection_name)]
    pub logins_collection: String,

    /// Failed sign-in counts (brute-force protection).
    #[arg(long, env = "FIREGATE_LOCKOUTS_COLLECTION", default_value = "firegate_lockouts", value_parser = collection_name)]
    pub lockouts_collection: String,

    /// Password-reset tokens (stored as SHA-256 only) and per-account mail counts.
    #[arg(long, env = "FIREGATE_TOKENS_COLLECTION", default_value = "firegate_tokens", value_parser = collection_name)]
    pub tokens_collection: String,

    /// Firebase Auth bridge writes that failed and wait to be retried (`--firebase-auth`).
    #[arg(long, env = "FIREGATE_FIREBASE_QUEUE_COLLECTION", default_value = "firegate_firebase_queue", value_parser = collection_name)]
    pub firebase_queue_collection: String,

    /// The audit trail of actions taken on the admin page and API.
    #[arg(long, env = "FIREGATE_AUDIT_COLLECTION", default_value = "firegate_audit", value_parser = collection_name)]
    pub audit_collection: String,

    /// Passkeys: each account's credentials and the indexes from user handle and credential
    /// id back to the account.
    #[arg(long, env = "FIREGATE_PASSKEYS_COLLECTION", default_value = "firegate_passkeys", value_parser = collection_name)]
    pub passkeys_collection: String,

    /// The recorded key state (which key signs).
    #[arg(long, env = "FIREGATE_KEYS_COLLECTION", default_value = "firegate_keys", value_parser = collection_name)]
    pub keys_collection: String,
}

impl StoreArgs {
    /// The store's own options (the project is resolved separately: it may come from a key).
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            database_id: self.database_id.clone(),
            emulator_host: self.firestore_emulator_host.clone(),
            accounts_collection: self.accounts_collection.clone(),
            logins_collection: self.logins_collection.clone(),
            keys_collection: self.keys_collection.clone(),
            lockouts_collection: self.lockouts_collection.clone(),
            tokens_collection: self.tokens_collection.clone(),
            firebase_queue_collection: self.firebase_queue_collection.clone(),
            audit_collection: self.audit_collection.clone(),
            passkeys_collection: self.passkeys_collection.clone(),
            timeout: Duration::from_millis(self.firestore_timeout_ms.into()),
        }
    }
}

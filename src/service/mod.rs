//! The use cases: signing in, registering, changing passwords and administering accounts.
//! The HTTP server and the CLI both call these, over one [`Service`] built from one [`Config`].
//! This file builds the service and keeps its keys fresh; `sign_in.rs` and `accounts.rs` hold
//! the use cases.

mod accounts;
mod admin;
mod sign_in;

pub use admin::AdminVerdict;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::Result;
use crate::accounts::Uid;
use crate::claims::Claims;
use crate::config::Config;
use crate::keys::{self, KeyRing, Publication, Rotation};
use crate::lockout::LockoutPolicy;
use crate::login::Login;
use crate::passwords::{Password, Passwords};
use crate::store::{SchemeCount, Store, StoreOptions};

/// A successful sign-in: the uid and the custom token for `signInWithCustomToken`.
#[derive(Debug)]
pub struct SignedIn {
    pub uid: Uid,
    pub token: String,
}

/// The details of a new account.
#[derive(Debug)]
pub struct NewAccount {
    /// The uid to use; a Firebase-style random uid when `None`.
    pub uid: Option<Uid>,
    pub email: Option<Login>,
    pub username: Option<Login>,
    pub password: Password,
    pub claims: Claims,
}

/// Everything a use case needs: keys, password hashing, storage and policy settings.
pub struct Service {
    pub keys: KeyRing,
    pub passwords: Passwords,
    pub store: Store,
    pub publication: Publication,
    /// The admin credential, when the admin page and API are on.
    pub admin: Option<AdminCredential>,
    key_refresh: Duration,
    stats_cache: tokio::sync::Mutex<Option<(Instant, Vec<SchemeCount>)>>,
    token_lifetime: u32,
    tenant_id: Option<String>,
    legacy_domain: Option<String>,
    min_password_chars: usize,
    registration_open: bool,
    failure_floor: Duration,
    lockout: LockoutPolicy,
    /// Password-checking requests in progress, bounded by hashing slots plus queue, so a
    /// flood is refused before it costs any Firestore call or memory.
    admissions: Arc<tokio::sync::Semaphore>,
    /// Password checks running per lockout key, so a burst gets no more than the lockout
    /// threshold allows.
    checks_in_flight: Arc<crate::lockout::Ledger>,
}

impl Service {
    /// Loads the keys, checks the password settings, opens the Firestore client and reads the
    /// recorded key state, which decides the signing key. Start-up fails when the recorded
    /// active key is not loaded here (signing with any other key could fail every login), when
    /// nothing is recorded and several keys could sign, or when no key loads; other key files
    /// that do not load are set aside with a warning.
    pub async fn build(config: &Config) -> Result<Arc<Service>> {
        let dir = &config.keys_dir;
        let allow_insecure = config.allow_insecure_key_permissions;
        let loaded = keys::load_dir(dir, allow_insecure)?;
        let project_id = loaded.project(dir, config.project_id.as_deref())?;
        crate::telemetry::set_project(&project_id);
        let passwords = Passwords::new(&config.passwords, config.cost_limits.limits())?;
        let store = Store::connect(StoreOptions::from_config(config, project_id.clone())).await?;
        // Read even with a single key file: that file may hold a key not activated yet (a new
        // key mounted in place of the active one), which must not start signing.
        let recorded = store
            .recorded_key_state()
            .await
            .map_err(|e| match e {
                crate::Error::Unavailable(why) | crate::Error::Storage(why) => {
                    crate::Error::Unavailable(format!(
                        "cannot reach Firestore to read the recorded key state (project \
                         `{project_id}`): {why}"
                    ))
                }
                e => e,
            })?
            .map(|(state, _)| state);
        let keys = KeyRing::new(dir, allow_insecure, loaded, recorded.as_ref())?;
        let admin = config
            .admin_password_hash
            .as_ref()
            .map(|hash| AdminCredential {
                user: config.admin_user.clone(),
                password_hash: hash.as_str().to_string(),
            });
        Ok(Arc::new(Service {
            keys,
            passwords,
            store,
            publication: Publication::new(&config.x509_base_url),
            admin,
            key_refresh: Duration::from_secs(config.key_refresh_secs.into()),
            stats_cache: tokio::sync::Mutex::new(None),
            token_lifetime: config.token_lifetime,
            tenant_id: config.tenant_id.clone(),
            legacy_domain: config.legacy_domain.clone(),
            min_password_chars: config.min_password_length as usize,
            registration_open: !config.disable_registration,
            failure_floor: Duration::from_millis(config.failure_floor_ms.into()),
            admissions: Arc::new(tokio::sync::Semaphore::new(
                config.passwords.concurrency() + config.passwords.hash_queue as usize,
            )),
            lockout: LockoutPolicy {
                threshold: config.lockout_threshold,
                step: Duration::from_secs(config.lockout_step_secs.into()),
                max_wait: Duration::from_secs(config.lockout_max_secs.into()),
                reset_after: Duration::from_secs(config.lockout_reset_secs.into()),
                familiar_for: Duration::from_secs(u64::from(config.lockout_familiar_days) * 86_400),
            },
            checks_in_flight: crate::lockout::Ledger::new(),
        }))
    }

    /// Rescans the keys directory and applies the recorded key state, every `key_refresh`
    /// interval, forever: how a running server picks up new keys and rotations.
    pub async fn keep_keys_fresh(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.key_refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.refresh_keys().await;
        }
    }

    /// One refresh of the key ring; a Firestore failure keeps the current state. The first
    /// refresh of a deployment records its only key as active, so that instances started
    /// after a second key file arrives still agree on which one signs.
    pub async fn refresh_keys(&self) {
        match self.store.recorded_key_state().await {
            Ok(None) => {
                self.keys.refresh(None);
                let active = self.keys.active();
                if !active.is_pending() {
                    let state = keys::RecordedState {
                        active: Some(active.kid.clone()),
                        project: Some(active.project_id.clone()),
                        changed_by: "firegate:first-start".into(),
                        changed_at: Some(Timestamp::now()),
                        ..Default::default()
                    };
                    match self.store.record_key_state(&state, None).await {
                        Ok(true) => info!(kid = %active.kid, "recorded the signing key"),
                        Ok(false) => {}
                        Err(e) => warn!(error = %e, "cannot record the signing key; retried later"),
                    }
                }
            }
            Ok(Some((state, _))) => self.keys.refresh(Some(&state)),
            Err(e) => {
                warn!(error = %e, "cannot read the recorded key state; keys unchanged");
                self.keys.refresh(None);
            }
        }
    }

    /// Key rotation over this service's ring, store and certificate endpoint.
    pub fn rotation(&self) -> Rotation<'_> {
        Rotation {
            ring: &self.keys,
            store: &self.store,
            publication: &self.publication,
        }
    }
}

/// The admin page and API credential: a user name and an argon2id hash of the password.
#[derive(Clone)]
pub struct AdminCredential {
    pub user: String,
    pub password_hash: String,
}

impl std::fmt::Debug for AdminCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminCredential({}, <redacted>)", self.user)
    }
}

//! The use cases: signing in, registering, changing passwords and administering accounts.
//! The HTTP server and the CLI both call these, over one [`Service`] built from one [`Config`].

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::accounts::{Account, AccountSummary, Uid};
use crate::claims::Claims;
use crate::config::Config;
use crate::custom_token::TokenRequest;
use crate::keys::{self, KeyError, KeyRing, Publication, Rotation, ServiceAccountKey};
use crate::lockout::{FailureRecord, LockoutPolicy};
use crate::login::Login;
use crate::passwords::{Password, Passwords, Verdict};
use crate::store::{AccountFilter, SchemeCount, Store, StoreOptions, StoredAccount};
use crate::{Error, Result};

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
}

impl Service {
    /// Loads the keys, checks the password settings and opens the Firestore client. With a
    /// single signing key no Firestore request is made; with several, the recorded key state
    /// decides which one signs.
    pub async fn build(config: &Config) -> Result<Arc<Service>> {
        let dir = &config.keys_dir;
        let allow_insecure = config.allow_insecure_key_permissions;
        let loaded = keys::load_dir(dir, allow_insecure)?;
        let project_id = match &config.project_id {
            Some(p) => p.clone(),
            None => common_project(dir, &loaded)?,
        };
        crate::telemetry::set_project(&project_id);
        let passwords = Passwords::new(&config.passwords, config.cost_limits.limits())?;
        let store = Store::connect(StoreOptions::from_config(config, project_id)).await?;
        let recorded = if loaded.iter().filter(|k| !k.is_pending()).count() > 1 {
            store.recorded_key_state().await?.map(|(state, _)| state)
        } else {
            None
        };
        let keys = KeyRing::new(dir, allow_insecure, loaded, recorded.as_ref())?;
        let admin = config
            .admin_password_hash
            .as_ref()
            .map(|hash| AdminCredential {
                user: config.admin_user.clone(),
                password_hash: hash.clone(),
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
            },
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

    /// Checks a login and password and mints a custom token. Every failure — unknown login,
    /// wrong password, disabled account, unusable hash — is [`Error::InvalidCredentials`],
    /// costs the same password-hashing work and takes at least the failure floor.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &Password,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let started = Instant::now();
        let result = self.authenticate(login, password, now, Some(now)).await;
        let result = match result {
            Ok(found) => self.mint(&found.account, now).map(|token| {
                info!(uid = %found.account.uid, outcome = "success", "sign-in");
                SignedIn {
                    uid: found.account.uid,
                    token,
                }
            }),
            Err(e) => Err(e),
        };
        self.pad_failure(&result, started).await;
        result
    }

    /// Verifies credentials and returns the account as read. A locked login is refused
    /// without any password check; failures are counted and a success forgets them. With
    /// `upgrade_at`, an outdated hash is replaced on success (the returned version is then
    /// stale).
    async fn authenticate(
        &self,
        login: &str,
        password: &Password,
        now: Timestamp,
        upgrade_at: Option<Timestamp>,
    ) -> Result<StoredAccount> {
        let candidates = Login::candidates(login, self.legacy_domain.as_deref())?;
        let key = &candidates[0];
        let guarded = self.lockout.threshold > 0;
        let (found, record) = tokio::join!(self.store.find_by_login(&candidates), async {
            if guarded {
                self.store.failure_record(key).await
            } else {
                Ok(None)
            }
        });
        let (found, record) = (found?, record?);
        let uid = found.as_ref().map(|f| &f.account.uid);
        if let Some(until) = self.lockout.locked_until(record.as_ref(), now) {
            info!(uid = ?uid, until = %until, "sign-in refused: login locked");
            return Err(refuse(uid, "locked"));
        }
        let result = self.check_password(found, password, upgrade_at).await;
        if guarded {
            match &result {
                Err(Error::InvalidCredentials) => self.count_failure(key, record, now).await,
                Ok(_) if record.is_some() => {
                    if let Err(e) = self.store.clear_failures(key).await {
                        warn!(error = %e, "cannot clear failed sign-ins after a success");
                    }
                }
                _ => {}
            }
        }
        result
    }

    /// The password check proper, on an account that may not exist.
    async fn check_password(
        &self,
        found: Option<StoredAccount>,
        password: &Password,
        upgrade_at: Option<Timestamp>,
    ) -> Result<StoredAccount> {
        let stored = found.as_ref().map(|f| &f.account.password);
        let verdict = self.passwords.verify(stored, password).await?;
        let uid = found.as_ref().map(|f| &f.account.uid);
        match (found.as_ref(), verdict) {
            (Some(f), Verdict::Match { .. }) if f.account.disabled => Err(refuse(uid, "disabled")),
            (Some(f), Verdict::Match { rehash }) => {
                if rehash && let Some(now) = upgrade_at {
                    self.upgrade_hash(f, password, now).await;
                }
                Ok(found.expect("matched Some"))
            }
            (Some(_), Verdict::Unusable(problem)) => {
                warn!(uid = ?uid, %problem, "stored password hash cannot be used");
                Err(refuse(uid, "unusable_hash"))
            }
            (Some(_), Verdict::Mismatch) => Err(refuse(uid, "wrong_password")),
            (None, _) => Err(refuse(None, "unknown_login")),
        }
    }

    /// Counts one more failure of `key`; a record past its quiet period starts over.
    async fn count_failure(&self, key: &Login, record: Option<FailureRecord>, now: Timestamp) {
        let previous = record
            .filter(|r| !self.lockout.is_stale(r, now))
            .map_or(0, |r| r.failures);
        let expire_at = now.checked_add(self.lockout.reset_after).unwrap_or(now);
        if previous + 1 == self.lockout.threshold {
            warn!(
                login_locked = true,
                failures = previous + 1,
                "login locked after repeated failures"
            );
        }
        if let Err(e) = self
            .store
            .record_failure(key, previous, now, expire_at)
            .await
        {
            warn!(error = %e, "cannot record a failed sign-in");
        }
    }

    /// Unlocks a login (admins): its failure count is forgotten.
    pub async fn unlock(&self, login: &str) -> Result<()> {
        let login = Login::parse(login)?;
        self.store.clear_failures(&login).await?;
        info!(action = "unlock", "login unlocked by an admin");
        Ok(())
    }

    /// Takes a place among the password-checking requests in progress, or refuses at once.
    fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.admissions
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded)
    }

    /// Sleeps out the rest of the failure floor after a refused sign-in.
    async fn pad_failure<T>(&self, result: &Result<T>, started: Instant) {
        if matches!(result, Err(Error::InvalidCredentials)) {
            tokio::time::sleep_until(started + self.failure_floor).await;
        }
    }

    /// Mints a token for an account with the active key.
    pub fn mint(&self, account: &Account, now: Timestamp) -> Result<String> {
        self.keys.active().signer.mint(TokenRequest {
            uid: &account.uid,
            claims: &account.claims,
            tenant_id: self.tenant_id.as_deref(),
            issued_at: now,
            lifetime_secs: self.token_lifetime,
        })
    }

    /// Replaces a verified legacy or weak hash with a current argon2id one, unless the account
    /// changed since it was read. Failure is logged, not raised: the next sign-in retries.
    async fn upgrade_hash(&self, found: &StoredAccount, password: &Password, now: Timestamp) {
        let uid = &found.account.uid;
        let from = found.account.password.scheme_name();
        let result = match self.passwords.hash(password).await {
            Ok(new) => {
                self.store
                    .replace_password(uid, &new, Some(found.version), now)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(true) => info!(%uid, %from, to = "argon2id", "password hash upgraded"),
            Ok(false) => info!(%uid, "account changed during sign-in; hash upgrade skipped"),
            Err(e) => {
                warn!(%uid, error = %e, "password hash upgrade failed; retried at next sign-in")
            }
        }
    }

    /// Checks a new password against the policy (NIST SP 800-63B): a minimum length in
    /// characters, at most 4096 bytes (checked by [`Password::new`]), no composition rules.
    pub fn check_policy(&self, password: &Password) -> Result<()> {
        let chars = password.expose().chars().count();
        if chars < self.min_password_chars {
            return Err(Error::invalid(
                "weak_password",
                format!(
                    "the password must be at least {} characters long",
                    self.min_password_chars
                ),
            ));
        }
        Ok(())
    }

    /// Self-service registration: an email (and optionally a username) and a password.
    pub async fn register(
        &self,
        email: &str,
        username: Option<&str>,
        password: Password,
        now: Timestamp,
    ) -> Result<Account> {
        if !self.registration_open {
            return Err(Error::Disabled("registration is turned off on this server"));
        }
        let email = Login::parse(email)?;
        let domain = email
            .as_str()
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("");
        if !email.is_email()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(Error::invalid(
                "invalid_email",
                "`email` must be an address like name@example.com",
            ));
        }
        let username = match username {
            Some(name) => {
                let name = Login::parse(name)?;
                if name.is_email() {
                    return Err(Error::invalid(
                        "invalid_username",
                        "`username` must not contain '@'",
                    ));
                }
                Some(name)
            }
            None => None,
        };
        self.check_policy(&password)?;
        let _admitted = self.admit()?;
        let account = self
            .create_account(
                NewAccount {
                    uid: None,
                    email: Some(email),
                    username,
                    password,
                    claims: Claims::default(),
                },
                now,
            )
            .await?;
        info!(uid = %account.uid, "account registered");
        Ok(account)
    }

    /// Creates an account with an argon2id hash of `new.password`.
    pub async fn create_account(&self, new: NewAccount, now: Timestamp) -> Result<Account> {
        if new.email.is_none() && new.username.is_none() {
            return Err(Error::invalid(
                "missing_login",
                "an account needs an email or a username",
            ));
        }
        let password = self.passwords.hash(&new.password).await?;
        let account = Account {
            uid: new.uid.unwrap_or_else(Uid::generate),
            email: new.email,
            username: new.username,
            password,
            created_at: now,
            updated_at: now,
            disabled: false,
            claims: new.claims,
        };
        self.store.create_account(&account).await?;
        Ok(account)
    }

    /// Changes a password given the current one. A wrong current password is refused exactly
    /// like a failed sign-in; a concurrent change of the account is [`Error::Conflict`].
    pub async fn change_password(
        &self,
        login: &str,
        current: &Password,
        new: &Password,
        now: Timestamp,
    ) -> Result<Uid> {
        self.check_policy(new)?;
        let _admitted = self.admit()?;
        let started = Instant::now();
        let found = self.authenticate(login, current, now, None).await;
        self.pad_failure(&found, started).await;
        let found = found?;
        let hash = self.passwords.hash(new).await?;
        let uid = found.account.uid;
        if !self
            .store
            .replace_password(&uid, &hash, Some(found.version), now)
            .await?
        {
            return Err(Error::Conflict);
        }
        info!(%uid, "password changed");
        Ok(uid)
    }

    /// Sets a password without knowing the old one (admins).
    pub async fn set_password(
        &self,
        login: &str,
        password: &Password,
        now: Timestamp,
    ) -> Result<Uid> {
        self.check_policy(password)?;
        let found = self.find(login).await?;
        let hash = self.passwords.hash(password).await?;
        if !self
            .store
            .replace_password(&found.account.uid, &hash, None, now)
            .await?
        {
            return Err(Error::AccountNotFound(login.to_string()));
        }
        info!(uid = %found.account.uid, "password set by an admin");
        Ok(found.account.uid)
    }

    /// Disables or re-enables the account holding `login`.
    pub async fn set_disabled(&self, login: &str, disabled: bool) -> Result<AccountSummary> {
        let found = self.find(login).await?;
        if !self
            .store
            .set_disabled(&found.account.uid, disabled, Timestamp::now())
            .await?
        {
            return Err(Error::AccountNotFound(login.to_string()));
        }
        let mut account = found.account;
        account.disabled = disabled;
        Ok(AccountSummary::from(&account))
    }

    /// Replaces the developer claims of the account holding `login`.
    pub async fn set_claims(&self, login: &str, claims: Claims) -> Result<AccountSummary> {
        let found = self.find(login).await?;
        if !self
            .store
            .set_claims(&found.account.uid, &claims, Timestamp::now())
            .await?
        {
            return Err(Error::AccountNotFound(login.to_string()));
        }
        let mut account = found.account;
        account.claims = claims;
        Ok(AccountSummary::from(&account))
    }

    /// Deletes the account holding `login` and frees all its logins, atomically.
    pub async fn delete_account(&self, login: &str) -> Result<Uid> {
        let found = self.find(login).await?;
        if !self
            .store
            .delete_account(&found.account, found.version)
            .await?
        {
            return Err(Error::Conflict);
        }
        info!(uid = %found.account.uid, "account deleted");
        Ok(found.account.uid)
    }

    /// What an admin may see of the account holding `login`.
    pub async fn show_account(&self, login: &str) -> Result<AccountSummary> {
        Ok(AccountSummary::from(&self.find(login).await?.account))
    }

    /// A page of accounts in uid order.
    pub async fn list_accounts(
        &self,
        filter: &AccountFilter,
        limit: u32,
        after: Option<&Uid>,
    ) -> Result<Vec<AccountSummary>> {
        let page = self.store.list_accounts(filter, limit, after).await?;
        Ok(page
            .iter()
            .map(|f| AccountSummary::from(&f.account))
            .collect())
    }

    /// Accounts per hash scheme: the migration's progress.
    pub async fn scheme_stats(&self) -> Result<Vec<SchemeCount>> {
        self.store.scheme_counts().await
    }

    /// [`Service::scheme_stats`] at most a minute old: counting reads every account, so the
    /// admin page must not do it on every load.
    pub async fn cached_scheme_stats(&self) -> Result<Vec<SchemeCount>> {
        let mut cache = self.stats_cache.lock().await;
        if let Some((at, stats)) = cache.as_ref()
            && at.elapsed() < Duration::from_secs(60)
        {
            return Ok(stats.clone());
        }
        let stats = self.scheme_stats().await?;
        *cache = Some((Instant::now(), stats.clone()));
        Ok(stats)
    }

    async fn find(&self, login: &str) -> Result<StoredAccount> {
        let login = Login::parse(login)?;
        self.store
            .find_by_login(std::slice::from_ref(&login))
            .await?
            .ok_or_else(|| Error::AccountNotFound(login.to_string()))
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

/// The one project of the loaded keys, or an error naming them when they disagree.
fn common_project(dir: &std::path::Path, loaded: &[ServiceAccountKey]) -> Result<String> {
    let projects: std::collections::BTreeSet<&str> =
        loaded.iter().map(|k| k.project_id.as_str()).collect();
    match projects.len() {
        0 => Err(KeyError::NoKeys {
            dir: dir.to_path_buf(),
        }
        .into()),
        1 => Ok(projects.into_iter().next().expect("one").to_string()),
        _ => Err(KeyError::MixedProjects {
            projects: projects.into_iter().collect::<Vec<_>>().join(", "),
        }
        .into()),
    }
}

/// Logs a refused sign-in for operators (uid only when the login exists: the login text may
/// be a password typed into the wrong field) and returns the one error clients see.
fn refuse(uid: Option<&Uid>, reason: &'static str) -> Error {
    match uid {
        Some(uid) => info!(%uid, outcome = "failure", reason, "sign-in"),
        None => info!(outcome = "failure", reason, "sign-in"),
    }
    Error::InvalidCredentials
}

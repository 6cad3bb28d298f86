//! Signing in: the lockout check, the password check (upgrading outdated hashes), the failure
//! floor, and the token.

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::{info, warn};

use super::{Service, SignedIn};
use crate::accounts::{Account, Uid};
use crate::custom_token::TokenRequest;
use crate::lockout::{FailureRecord, LockoutKey};
use crate::login::Login;
use crate::passwords::{Password, Verdict};
use crate::store::StoredAccount;
use crate::{Error, Result};

impl Service {
    /// Checks a login and password and mints a custom token. Every failure — unknown login,
    /// wrong password, disabled account, unusable hash — is [`Error::InvalidCredentials`],
    /// costs the same password-hashing work and takes at least the failure floor. Each
    /// attempt logs one `sign-in` line with its outcome.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &Password,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let started = Instant::now();
        let result = match self.admit() {
            Ok(_admitted) => self
                .authenticate(login, password, now, Some(now))
                .await
                .and_then(|found| {
                    let token = self.mint(&found.account, now)?;
                    info!(uid = %found.account.uid, outcome = "success", "sign-in");
                    Ok(SignedIn {
                        uid: found.account.uid,
                        token,
                    })
                }),
            Err(e) => Err(e),
        };
        match &result {
            Err(Error::Overloaded) => info!(outcome = "shed", reason = "overloaded", "sign-in"),
            Err(Error::Unavailable(_)) => {
                info!(outcome = "error", reason = "store_unavailable", "sign-in")
            }
            _ => {}
        }
        self.pad_failure(&result, started).await;
        result
    }

    /// Verifies credentials and returns the account as read. A locked account (or unknown
    /// login) is refused without any password check; failures are counted and a success
    /// forgets them. With `upgrade_at`, an outdated hash is replaced on success (the returned
    /// version is then stale).
    ///
    /// Two Firestore round trips whether or not the login exists: the login index, then the
    /// account and its failure record together (or the unknown login's failure record).
    pub(super) async fn authenticate(
        &self,
        login: &str,
        password: &Password,
        now: Timestamp,
        upgrade_at: Option<Timestamp>,
    ) -> Result<StoredAccount> {
        let candidates = Login::candidates(login, self.policy.legacy_domain.as_deref())?;
        self.passwords.prepare();
        let uid = self.store.uid_for_login(&candidates).await?;
        let key = lockout_key(uid.as_deref(), &candidates[0]);
        let guarded = self.policy.lockout.threshold > 0;
        let (found, record) = tokio::join!(
            async {
                match &uid {
                    Some(uid) => self.store.find_by_uid_str(uid).await,
                    None => Ok(None),
                }
            },
            async {
                if guarded {
                    self.store.failure_record(&key).await
                } else {
                    Ok(None)
                }
            }
        );
        let (found, record) = (found?, record?);
        if self
            .policy
            .lockout
            .locked_until(record.as_ref(), now)
            .is_some()
        {
            let uid = found.as_ref().map(|f| &f.account.uid);
            return Err(refuse(uid, "locked"));
        }
        let result = self.check_password(found, password, upgrade_at).await;
        if guarded {
            match &result {
                Err(Error::InvalidCredentials) => self.count_failure(&key, record, now).await,
                Ok(_) if record.is_some() => {
                    if let Err(e) = self.store.clear_failures(&key).await {
                        warn!(error = %e, "cannot clear failed sign-ins after a success");
                    }
                }
                _ => {}
            }
        }
        result
    }

    /// The password check proper, on an account that may not exist.
    #[expect(clippy::expect_used, reason = "the arm matched Some")]
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

    /// Counts one more failure against `key`; a record past its quiet period starts over.
    async fn count_failure(&self, key: &LockoutKey, record: Option<FailureRecord>, now: Timestamp) {
        let stale = record
            .as_ref()
            .is_some_and(|r| self.policy.lockout.is_stale(r, now));
        let previous = record.filter(|_| !stale).map_or(0, |r| r.failures);
        let expire_at = now
            .checked_add(self.policy.lockout.reset_after)
            .unwrap_or(now);
        if previous + 1 == self.policy.lockout.threshold {
            warn!(
                login_locked = true,
                failures = previous + 1,
                "login locked after repeated failures"
            );
        }
        if let Err(e) = self.store.record_failure(key, stale, now, expire_at).await {
            warn!(error = %e, "cannot record a failed sign-in");
        }
    }

    /// Unlocks a login (admins): the failure count of its account, and of the login as an
    /// unknown one (it may have been hammered before the account existed), is forgotten.
    pub async fn unlock(&self, login: &str) -> Result<()> {
        let login = Login::parse(login)?;
        let candidates = [login.clone()];
        let uid = self.store.uid_for_login(&candidates).await?;
        if let Some(uid) = uid.as_deref() {
            self.store
                .clear_failures(&lockout_key(Some(uid), &login))
                .await?;
        }
        self.store
            .clear_failures(&LockoutKey::Unknown(login))
            .await?;
        info!(action = "unlock", uid = ?uid, "login unlocked by an admin");
        Ok(())
    }

    /// Takes a place among the password-checking requests in progress, or refuses at once.
    pub fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.admissions
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded)
    }

    /// The shortest time a failed credential check takes to answer.
    pub fn failure_floor(&self) -> std::time::Duration {
        self.policy.failure_floor
    }

    /// Sleeps out the rest of the failure floor after a refused sign-in.
    pub(super) async fn pad_failure<T>(&self, result: &Result<T>, started: Instant) {
        if matches!(result, Err(Error::InvalidCredentials)) {
            tokio::time::sleep_until(started + self.policy.failure_floor).await;
        }
    }

    /// Mints a token for an account with the active key.
    pub fn mint(&self, account: &Account, now: Timestamp) -> Result<String> {
        self.keys.active().signer.mint(TokenRequest {
            uid: &account.uid,
            claims: &account.claims,
            tenant_id: self.policy.tenant_id.as_deref(),
            issued_at: now,
            lifetime_secs: self.policy.token_lifetime,
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
}

/// The failure record an attempt counts against: its account's when the login exists.
fn lockout_key(uid: Option<&str>, login: &Login) -> LockoutKey {
    match uid.map(Uid::parse) {
        Some(Ok(uid)) => LockoutKey::Account(uid),
        _ => LockoutKey::Unknown(login.clone()),
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

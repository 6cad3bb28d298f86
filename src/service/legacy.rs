//! Signing in through the legacy system's verify hook: an account marked as checked there
//! (imported without a hash) is asked about once, then holds its own argon2id hash; with
//! `--legacy-create-unknown`, a login no account holds is asked too and created on success.
//! The hook is called outside the hashing pool, so its latency never holds a hashing slot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use tracing::{info, warn};

use super::sign_in::{Checked, refuse};
use super::{NewAccount, Service};
use crate::legacy_hook::{HookAnswer, LegacyHook, LegacyHookOptions, Profile};
use crate::login::Login;
use crate::passwords::{EXTERNAL_SCHEME, Password, Transform, Verdict};
use crate::store::{LegacyProfile, StoredAccount};
use crate::{Error, Result};

/// Builds the hook client; with `required`, start-up fails unless the hook's server answers.
pub(super) async fn start_hook(options: &LegacyHookOptions) -> Result<LegacyHook> {
    let hook = LegacyHook::new(options)?;
    if options.required {
        hook.probe().await.map_err(|e| {
            Error::config(format!(
                "--legacy-verify-required: {e}; start the old application's hook first, or \
                 leave the flag out to answer its accounts' sign-ins 503 until it answers"
            ))
        })?;
    }
    info!(
        host = hook.host(),
        create_unknown = hook.creates_unknown(),
        "legacy verify hook configured; accounts marked external are checked there once"
    );
    Ok(hook)
}

impl Service {
    /// The verify hook, when one is configured.
    pub fn legacy_hook(&self) -> Option<&LegacyHook> {
        self.legacy.as_ref()
    }

    fn hook(&self) -> Result<&LegacyHook> {
        self.legacy
            .as_ref()
            .ok_or_else(|| Error::internal("the legacy verify hook is not configured"))
    }

    /// Sign-ins waiting on the verify hook right now (calling it or waiting for a place).
    pub fn sign_ins_at_the_hook(&self) -> usize {
        self.legacy.as_ref().map_or(0, LegacyHook::entered)
    }

    /// Whether the sign-in of `found` (none: the login is unknown) goes to the hook.
    pub(super) fn asks_legacy(&self, found: Option<&StoredAccount>) -> bool {
        match (&self.legacy, found) {
            (Some(_), Some(found)) => found.account.password.is_external(),
            (Some(hook), None) => hook.creates_unknown(),
            (None, _) => false,
        }
    }

    /// Checks a password with the hook for an account marked as checked there. Right: the
    /// account gets an argon2id hash of it and the profile fields the hook sent, on every
    /// path that checks a password (a password change replaces the hash again), so the hook
    /// is never asked about it again. Wrong: a wrong password. No answer: [`Error::Legacy`],
    /// counted nowhere.
    ///
    /// What firegate holds wins over the hook's answer: the hook may disable an account but
    /// never enable one an admin disabled here, and its claims only add names the account's
    /// claims do not use.
    pub(super) async fn check_with_legacy(
        self: &Arc<Self>,
        mut found: StoredAccount,
        login: &str,
        password: &Password,
        now: Timestamp,
    ) -> Result<Checked> {
        let hook = self.hook()?;
        let uid = found.account.uid.clone();
        let profile = match hook.verify(login, password, Some(&uid)).await? {
            HookAnswer::Invalid => return Err(refuse(Some(&uid), "wrong_password")),
            HookAnswer::Valid(profile) => profile,
        };
        let hash = self.passwords.hash(password).await?;
        let claims = match &profile.claims {
            None => None,
            Some(theirs) => match found.account.claims.merged_over(theirs) {
                Ok(merged) => Some(merged),
                Err(e) => {
                    warn!(%uid, error = %e, "the legacy system's claims are not added: with the account's own they are not valid claims");
                    None
                }
            },
        };
        let changes = LegacyProfile {
            disabled: profile.disabled.filter(|disabled| *disabled),
            email_verified: profile
                .email_verified
                .filter(|_| found.account.email.is_some()),
            claims,
        };
        match self
            .store
            .migrate_from_legacy(&uid, &hash, &changes, found.version, now)
            .await?
        {
            Some(version) => {
                info!(%uid, from = EXTERNAL_SCHEME, to = "argon2id", "account moved off the legacy system");
                found.version = version;
                found.account.password = hash;
                found.account.updated_at = now;
                if let Some(disabled) = changes.disabled {
                    found.account.disabled = disabled;
                }
                if let Some(verified) = changes.email_verified {
                    found.account.email_verified = Some(verified);
                }
                if let Some(claims) = changes.claims {
                    found.account.claims = claims;
                }
                self.log_legacy_remaining();
            }
            // Another sign-in moved it first: that one's hash stays.
            None => {
                info!(%uid, "account changed during its first sign-in; left as the other change wrote it")
            }
        }
        if found.account.disabled {
            return Err(refuse(Some(&uid), "disabled"));
        }
        Ok(Checked {
            found,
            input: Transform::None,
        })
    }

    /// A login no account holds, asked of the hook (`--legacy-create-unknown`). Right: the
    /// account is created as registration creates one (unique logins, the legacy uid when
    /// the hook sends one), and a creation lost to a concurrent first sign-in checks the
    /// password against the account that won instead. Wrong: a wrong password, like any
    /// unknown login.
    pub(super) async fn create_from_legacy(
        self: &Arc<Self>,
        login: &str,
        typed: &Login,
        password: &Password,
        now: Timestamp,
    ) -> Result<Checked> {
        let hook = self.hook()?;
        let profile = match hook.verify(login, password, None).await? {
            HookAnswer::Invalid => return Err(refuse(None, "unknown_login")),
            HookAnswer::Valid(profile) => profile,
        };
        if profile.disabled == Some(true) {
            // Disabled in the old system: nothing is created (an account created enabled and
            // disabled a write later could sign in, or reach Firebase Auth, in between), and
            // the sign-in is refused as a disabled account's is.
            return Err(refuse(None, "disabled"));
        }
        let new = new_account(typed, &profile, password);
        let uid = match self.create_account(new, now).await {
            Ok(account) => {
                info!(uid = %account.uid, "account created from the legacy system at its first sign-in");
                account.uid
            }
            Err(
                Error::LoginTaken(_)
                | Error::UidTaken(_)
                | Error::LookAlikeTaken { .. }
                | Error::LoginIsUid(_),
            ) => return self.check_after_lost_creation(typed, password).await,
            Err(e) => return Err(e),
        };
        let Some(found) = self.store.find_by_uid(&uid).await? else {
            return Err(Error::storage(format!(
                "account `{uid}` was created and cannot be read back"
            )));
        };
        if found.account.disabled {
            return Err(refuse(Some(&uid), "disabled"));
        }
        Ok(Checked {
            found,
            input: Transform::None,
        })
    }

    /// After a creation lost to another account holding the login (a concurrent first
    /// sign-in, most likely): the password is checked against that account's own hash, so
    /// one account results and no other account's sign-in is taken over.
    async fn check_after_lost_creation(
        &self,
        typed: &Login,
        password: &Password,
    ) -> Result<Checked> {
        let found = self
            .store
            .find_by_login(std::slice::from_ref(typed))
            .await?;
        let uid = found.as_ref().map(|f| f.account.uid.clone());
        let verdict = self
            .passwords
            .verify(found.as_ref().map(|f| &f.account.password), password)
            .await?;
        match (found, verdict) {
            (Some(found), Verdict::Match { input, .. }) if !found.account.disabled => {
                info!(uid = %found.account.uid, "a concurrent first sign-in created the account; signed in to it");
                Ok(Checked { found, input })
            }
            _ => Err(refuse(uid.as_ref(), "login_taken")),
        }
    }

    /// Logs how many accounts still need the legacy system, counted in the background after
    /// an account moved off it: one count at a time, at most one a minute however many
    /// accounts move (a count costs a read per 1,000 accounts), and one more after the last
    /// move so the log ends on the true number.
    fn log_legacy_remaining(self: &Arc<Self>) {
        self.legacy_count.moved.store(true, Ordering::SeqCst);
        let Ok(counting) = self.legacy_count.running.clone().try_lock_owned() else {
            return; // the count running sees this move, or counts again after it
        };
        let service = self.clone();
        tokio::spawn(async move {
            while service.legacy_count.moved.swap(false, Ordering::SeqCst) {
                match service.store.count_scheme(EXTERNAL_SCHEME).await {
                    Ok(remaining) => info!(
                        legacy_accounts = remaining,
                        "accounts still checked by the legacy system: {remaining}"
                    ),
                    Err(e) => {
                        warn!(error = %e, "cannot count the accounts still checked by the legacy system")
                    }
                }
                tokio::time::sleep(LEGACY_COUNT_SPACING).await;
            }
            drop(counting);
            // A move between the last look and the unlock found the lock taken.
            if service.legacy_count.moved.load(Ordering::SeqCst) {
                service.log_legacy_remaining();
            }
        });
    }
}

/// The background count of accounts still checked by the legacy system.
#[derive(Default)]
pub(super) struct LegacyCount {
    running: Arc<tokio::sync::Mutex<()>>,
    moved: AtomicBool,
}

/// Shortest time between two counts of the accounts still checked by the legacy system.
const LEGACY_COUNT_SPACING: std::time::Duration = std::time::Duration::from_secs(60);

/// The account a first sign-in creates: the login as typed in its place (email or
/// username), the hook's other login, uid, claims and verification.
fn new_account(typed: &Login, profile: &Profile, password: &Password) -> NewAccount {
    let (email, username) = if typed.is_email() {
        (Some(typed.clone()), profile.username.clone())
    } else {
        (profile.email.clone(), Some(typed.clone()))
    };
    NewAccount {
        uid: profile.uid.clone(),
        email_verified: profile.email_verified.filter(|_| email.is_some()),
        email,
        username,
        password: password.clone(),
        claims: profile.claims.clone().unwrap_or_default(),
    }
}

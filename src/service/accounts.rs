//! Account use cases: registration, creation, password changes and admin operations.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::info;

use super::sign_in::Checked;
use super::{AccountRef, NewAccount, STATS_KEPT, Service};
use crate::accounts::{Account, AccountSummary, Uid};
use crate::claims::Claims;
use crate::client_network::ClientNetwork;
use crate::login::Login;
use crate::messages::{Lang, Locale};
use crate::passwords::Password;
use crate::service::{AccountDetail, LockoutSummary, LookAlikeReport, PasswordChange, SchemeStats};
use crate::store::{AccountFilter, SchemeCount};
use crate::{Error, Result};

impl Service {
    /// Checks a new password against the policy (NIST SP 800-63B): a minimum length in
    /// characters, at most 4096 bytes (checked by [`Password::new`]), no composition rules.
    pub fn check_policy(&self, password: &Password) -> Result<()> {
        let chars = password.expose().chars().count();
        if chars < self.policy.min_password_chars {
            return Err(Error::invalid(
                "weak_password",
                format!(
                    "the password must be at least {} characters long",
                    self.policy.min_password_chars
                ),
            ));
        }
        Ok(())
    }

    /// Self-service registration: an email (and optionally a username) and a password; a
    /// verification mail, if one is sent, is written for `reader`.
    pub async fn register(
        self: &Arc<Self>,
        email: &str,
        username: Option<&str>,
        password: Password,
        reader: Locale,
        preferred: Option<Lang>,
        now: Timestamp,
    ) -> Result<Account> {
        if !self.policy.registration_open {
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
        self.check_new_password(&password).await?;
        let _admitted = self.admit()?;
        let account = self
            .create_account_speaking(
                NewAccount {
                    uid: None,
                    email: Some(email),
                    email_verified: Some(false),
                    username,
                    password,
                    claims: Claims::default(),
                },
                preferred.map(|lang| self.messages().tag(lang).to_string()),
                now,
            )
            .await?;
        info!(uid = %account.uid, "account registered");
        if self.policy.require_verified_email {
            self.mail_verification(account.clone(), reader, now);
        }
        Ok(account)
    }

    /// Creates an account with an argon2id hash of `new.password`.
    pub async fn create_account(&self, new: NewAccount, now: Timestamp) -> Result<Account> {
        self.create_account_speaking(new, None, now).await
    }

    /// [`Service::create_account`], keeping `language` for the mails no request causes.
    async fn create_account_speaking(
        &self,
        new: NewAccount,
        language: Option<String>,
        now: Timestamp,
    ) -> Result<Account> {
        if new.email.is_none() && new.username.is_none() {
            return Err(Error::invalid(
                "missing_login",
                "an account needs an email or a username",
            ));
        }
        let uid = new.uid.unwrap_or_else(Uid::generate);
        let logins = || new.email.iter().chain(new.username.iter());
        self.refuse_taken_aliases(logins()).await?;
        self.refuse_logins_that_are_uids(&uid, logins()).await?;
        let password = self.passwords.hash(&new.password).await?;
        let account = Account {
            uid,
            email_verified: new.email.as_ref().and(new.email_verified),
            email: new.email,
            username: new.username,
            password,
            created_at: now,
            updated_at: now,
            disabled: false,
            claims: new.claims,
            firebase: Default::default(),
            language,
            factors: Default::default(),
            breached_at: None,
        };
        self.store.create_account(&account).await?;
        self.bridge_changed(&account, Some(&new.password), false)
            .await;
        Ok(account)
    }

    /// Refuses new logins whose other spelling under the legacy domain (`kim@<domain>` for
    /// the username `kim`, and the other way round) belongs to an account: legacy clients
    /// send either spelling, so the newcomer would take over the other account's sign-ins.
    async fn refuse_taken_aliases(&self, logins: impl Iterator<Item = &Login>) -> Result<()> {
        let Some(domain) = self.policy.legacy_domain.as_deref() else {
            return Ok(());
        };
        let logins: Vec<&Login> = logins.collect();
        let aliases: Vec<Login> = logins
            .iter()
            .filter_map(|login| login.legacy_alias(domain))
            .filter(|alias| !logins.contains(&alias))
            .collect();
        if aliases.is_empty() {
            return Ok(());
        }
        let holders = self.store.uids_for_logins(&aliases).await?;
        match aliases
            .iter()
            .zip(holders)
            .find(|(_, holder)| holder.is_some())
        {
            Some((alias, _)) => Err(Error::LoginTaken(alias.to_string())),
            None => Ok(()),
        }
    }

    /// Changes a password given the current one. A wrong current password is refused exactly
    /// like a failed sign-in; a concurrent change of the account is [`Error::Conflict`]. An
    /// account with a second factor also needs a current `code` (TOTP or recovery): without
    /// one the answer is [`PasswordChange::SecondFactorRequired`] (the password was right, as
    /// a sign-in's second step would say), and a wrong one counts and is refused like a wrong
    /// password. The accepted code is recorded in the write that changes the password.
    pub async fn change_password(
        self: &Arc<Self>,
        login: &str,
        current: &Password,
        new: &Password,
        code: Option<&str>,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<PasswordChange> {
        self.check_new_password(new).await?;
        let admitted = self.admit()?;
        let started = Instant::now();
        let found = self
            .authenticate(admitted, login, current, client, now, None)
            .await;
        self.pad_failure(&found, started).await;
        let (Checked { found, .. }, _admitted) = found?;
        // An unverified registration may be a squatter's: it cannot change the password
        // (which would outdate the owner's reset link) any more than it can sign in.
        if self.policy.require_verified_email && found.account.email_verified == Some(false) {
            tokio::time::sleep_until(started + self.policy.failure_floor).await;
            return Err(Error::InvalidCredentials);
        }
        let mut accepted = None;
        if self.second_factor_required(&found.account) {
            let Some(code) = code else {
                let kinds = found.account.factors.kinds();
                return Ok(PasswordChange::SecondFactorRequired(kinds));
            };
            match self
                .code_under_lockout(&found.account, code, client, now)
                .await?
            {
                Some(checked) => accepted = Some(checked),
                None => {
                    tokio::time::sleep_until(started + self.policy.failure_floor).await;
                    return Err(Error::InvalidCredentials);
                }
            }
        }
        let hash = self.passwords.hash(new).await?;
        let uid = found.account.uid.clone();
        // The version the check's own writes left (Firebase Auth's password time, firegate's
        // copy of a password changed there): any other change since is a conflict.
        let written = match &accepted {
            Some((factors, _)) => {
                self.store
                    .replace_password_and_factors(&uid, &hash, factors, found.version, now)
                    .await?
            }
            None => {
                self.store
                    .replace_password(&uid, &hash, Some(found.version), now)
                    .await?
            }
        };
        if written.is_none() {
            return Err(Error::Conflict);
        }
        info!(%uid, "password changed");
        if let Some((_, super::second_factor::Accepted::Recovery { left })) = accepted {
            info!(%uid, left, "recovery code used to change the password");
            let event = super::factors::Event::RecoveryCodeUsed;
            self.factor_event(&found.account, event, now, "account", None);
        }
        self.bridge_changed(&found.account, Some(new), true).await;
        Ok(PasswordChange::Changed(uid))
    }

    /// Sets a password without knowing the old one (admins).
    pub async fn set_password(
        &self,
        target: &AccountRef,
        password: &Password,
        now: Timestamp,
    ) -> Result<Uid> {
        self.check_new_password(password).await?;
        let found = self.find(target).await?;
        let hash = self.passwords.hash(password).await?;
        if self
            .store
            .replace_password(&found.account.uid, &hash, None, now)
            .await?
            .is_none()
        {
            return Err(Error::AccountNotFound(target.to_string()));
        }
        info!(uid = %found.account.uid, "password set by an admin");
        self.bridge_changed(&found.account, Some(password), true)
            .await;
        Ok(found.account.uid)
    }

    /// Disables or re-enables an account.
    pub async fn set_disabled(
        &self,
        target: &AccountRef,
        disabled: bool,
    ) -> Result<AccountSummary> {
        let found = self.find(target).await?;
        if !self
            .store
            .set_disabled(&found.account.uid, disabled, Timestamp::now())
            .await?
        {
            return Err(Error::AccountNotFound(target.to_string()));
        }
        let mut account = found.account;
        account.disabled = disabled;
        self.bridge_changed(&account, None, false).await;
        Ok(AccountSummary::from(&account))
    }

    /// Replaces the developer claims of an account.
    pub async fn set_claims(&self, target: &AccountRef, claims: Claims) -> Result<AccountSummary> {
        let found = self.find(target).await?;
        if !self
            .store
            .set_claims(&found.account.uid, &claims, Timestamp::now())
            .await?
        {
            return Err(Error::AccountNotFound(target.to_string()));
        }
        let mut account = found.account;
        account.claims = claims;
        Ok(AccountSummary::from(&account))
    }

    /// Deletes an account and frees all its logins, atomically.
    pub async fn delete_account(&self, target: &AccountRef) -> Result<Uid> {
        let found = self.find(target).await?;
        if !self
            .store
            .delete_account(&found.account, found.version)
            .await?
        {
            return Err(Error::Conflict);
        }
        info!(uid = %found.account.uid, "account deleted");
        self.bridge_deleted(&found.account.uid).await;
        Ok(found.account.uid)
    }

    /// What an admin may see of an account, with its failed sign-ins.
    pub async fn show_account(&self, target: &AccountRef) -> Result<AccountDetail> {
        let found = self.find(target).await?;
        let key = crate::lockout::LockoutKey::Account(found.account.uid.clone());
        let state = self.store.lockout_state(&key).await?;
        let now = Timestamp::now();
        let unfamiliar = state.unfamiliar.as_ref();
        Ok(AccountDetail {
            lockout: LockoutSummary {
                failures: unfamiliar.map_or(0, |r| r.failures),
                last_failure: unfamiliar.map(|r| r.last_failure),
                locked_until: self.policy.lockout.locked_until(unfamiliar, now),
                familiar_networks: state.networks.len(),
            },
            account: AccountSummary::from(&found.account),
        })
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

    /// Claims the look-alike skeleton of every login that has none yet (accounts from before
    /// claims existed), a page of accounts at a time. Safe to run again, and while servers
    /// register accounts: each claim is created only if none exists.
    pub async fn claim_look_alikes(&self) -> Result<LookAlikeReport> {
        // Two claims per account at most: a page stays within one commit's 500 writes.
        const PAGE: u32 = 200;
        let mut report = LookAlikeReport::default();
        let mut after: Option<Uid> = None;
        loop {
            let page = self
                .store
                .list_accounts(&AccountFilter::default(), PAGE, after.as_ref())
                .await?;
            let accounts: Vec<&Account> = page.iter().map(|f| &f.account).collect();
            report
                .look_alikes
                .extend(self.store.claim_existing(&accounts).await?);
            report.accounts += page.len() as u64;
            match page.last() {
                Some(last) if page.len() as u32 == PAGE => after = Some(last.account.uid.clone()),
                _ => break,
            }
        }
        info!(
            accounts = report.accounts,
            look_alikes = report.look_alikes.len(),
            "look-alike claims written"
        );
        Ok(report)
    }

    /// Accounts per hash scheme: the migration's progress.
    pub async fn scheme_stats(&self) -> Result<Vec<SchemeCount>> {
        self.store.scheme_counts().await
    }

    /// [`Service::scheme_stats`] at most [`STATS_KEPT`] old: counting reads every account, so
    /// the admin page must not do it on every load.
    pub async fn cached_scheme_stats(&self) -> Result<SchemeStats> {
        let mut cache = self.stats_cache.lock().await;
        if let Some((at, stats)) = cache.as_ref()
            && at.elapsed() < STATS_KEPT
        {
            return Ok(stats.clone());
        }
        let stats = SchemeStats {
            schemes: self.scheme_stats().await?,
            second_factor: self.second_factor_count().await?,
            breached: self.breached_count().await?,
            computed_at: Timestamp::now(),
        };
        *cache = Some((Instant::now(), stats.clone()));
        Ok(stats)
    }
}

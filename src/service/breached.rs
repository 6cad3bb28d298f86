//! Passwords known from breaches: refused when a password is set (registration, changes,
//! resets, admins), and caught at a legacy account's first sign-in, the one time its
//! password is seen in the clear, where `--breached-at-sign-in` decides what follows.

use std::sync::Arc;

use jiff::Timestamp;
use tracing::{info, warn};

use super::Service;
use super::reset::Purpose;
use crate::breached::{AtSignIn, Unreachable};
use crate::messages::Locale;
use crate::passwords::Password;
use crate::store::StoredAccount;
use crate::{Error, Result};

impl Service {
    /// Accounts whose password a legacy sign-in found in breaches, not changed since.
    pub async fn breached_count(&self) -> Result<u64> {
        self.store.count_breached().await
    }

    /// Checks a new password: the length rule ([`Service::check_policy`]), then the breach
    /// lookup. A breached password is `400 password_breached`; a lookup that gives no answer
    /// takes the password with a warning (`--breached-unreachable open`) or is a 503.
    pub async fn check_new_password(&self, password: &Password) -> Result<()> {
        self.check_policy(password)?;
        let Some(breached) = &self.breached else {
            return Ok(());
        };
        match breached.count(password).await {
            Ok(None) => Ok(()),
            Ok(Some(count)) => {
                info!(
                    outcome = "refused",
                    reason = "password_breached",
                    "new password"
                );
                Err(Error::invalid(
                    "password_breached",
                    format!(
                        "This password appears {count} time(s) in known data breaches, so \
                         attackers try it first; choose another one."
                    ),
                ))
            }
            Err(e) if breached.options().unreachable == Unreachable::Open => {
                warn!(error = %e, "breached-password lookup unavailable; the new password is taken unchecked");
                Ok(())
            }
            Err(e) => Err(Error::Breached(e)),
        }
    }

    /// Whether a legacy account's password, just verified, is known from breaches (`false`
    /// when the policy is `allow` or the lookup gives no answer: a sign-in never fails
    /// because the lookup did). The lookup has its own deadline, well inside a request's.
    pub(super) async fn breached_at_sign_in(&self, password: &Password) -> bool {
        let Some(breached) = self.breached.as_ref() else {
            return false;
        };
        if self.at_sign_in == AtSignIn::Allow {
            return false;
        }
        match breached.count(password).await {
            Ok(found) => found.is_some(),
            Err(e) => {
                warn!(error = %e, "breached-password lookup unavailable at a legacy sign-in; not checked");
                false
            }
        }
    }

    /// After a legacy sign-in found the password in breaches: the account is marked (and
    /// `found` keeps the new version). With `reset`, a reset link is mailed and the sign-in
    /// refused with [`Error::PasswordResetRequired`]; with `flag`, it goes on.
    pub(super) async fn act_on_breached(
        self: &Arc<Self>,
        found: &mut StoredAccount,
        now: Timestamp,
    ) -> Result<()> {
        let uid = found.account.uid.clone();
        match self
            .store
            .mark_breached(&uid, now, Some(found.version))
            .await
        {
            Ok(Some(version)) => {
                found.version = version;
                found.account.breached_at = Some(now);
            }
            Ok(None) => {
                info!(%uid, "account changed during sign-in; its breached mark waits for the next one")
            }
            Err(e) => {
                warn!(%uid, error = %crate::error::chain(&e), "cannot mark the account's password as breached")
            }
        }
        let reset = self.at_sign_in == AtSignIn::Reset;
        info!(%uid, policy = if reset { "reset" } else { "flag" }, "legacy password found in breaches");
        if !reset {
            return Ok(());
        }
        // No language comes with a sign-in: the account's own, else the default, in UTC.
        let messages = self.messages();
        let lang = found
            .account
            .language
            .as_deref()
            .and_then(|t| messages.find(t));
        let reader = Locale::utc(lang.unwrap_or(messages.default_lang()));
        // Among the mails prepared at once (beyond them this one is dropped, as a
        // verification mail would be): the next sign-in asks again.
        let permit = self
            .reset
            .as_ref()
            .map(|r| r.in_flight.clone().try_acquire_owned());
        match permit {
            Some(Ok(permit)) => {
                let service = self.clone();
                let account = found.account.clone();
                tokio::spawn(async move {
                    if let Err(e) = service
                        .send_link(&account, Purpose::BreachedReset, &reader, now)
                        .await
                    {
                        warn!(error = %crate::error::chain(&e), "breached-password reset mail not sent");
                    }
                    drop(permit);
                });
            }
            Some(Err(_)) => {
                warn!(%uid, "too many mails in progress; breached-password reset mail dropped")
            }
            None => {
                warn!(%uid, "no reset mail for a breached password: mail is not configured (--mail-url, --public-url)")
            }
        }
        Err(Error::PasswordResetRequired)
    }
}

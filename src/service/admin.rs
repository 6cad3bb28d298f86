//! Checking the admin credential: the same lockout as accounts, under one key of its own
//! ([`LockoutKey::Admin`]), so repeated wrong guesses lock admin sign-in on every instance.

use std::sync::Arc;

use jiff::Timestamp;
use subtle::ConstantTimeEq;
use tracing::warn;

use super::{AdminCredential, Service};
use secrecy::ExposeSecret;

use crate::Result;
use crate::client_network::ClientNetwork;
use crate::lockout::{LockoutKey, LockoutState};
use crate::passwords::{Dialect, Password, StoredHash, Verdict};

/// The outcome of an admin credential check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminVerdict {
    /// The user name and password are right.
    Admitted,
    /// Wrong user name or password; counted.
    Refused,
    /// Admin sign-in is locked after repeated failures until then; nothing was checked.
    Locked(Timestamp),
}

impl Service {
    /// Checks an admin's user name and password. While admin sign-in is locked (for the
    /// client's channel: see [`crate::lockout`]) nothing is hashed and the answer does not
    /// depend on the password; otherwise a failure is counted and a success clears the count.
    /// Callers run one check at a time per instance, so each check reads the count the
    /// previous one wrote.
    pub async fn check_admin(
        self: &Arc<Self>,
        credential: &AdminCredential,
        user: &str,
        password: &Password,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<AdminVerdict> {
        let key = LockoutKey::Admin;
        let guarded = self.policy.lockout.threshold > 0;
        let state = if guarded {
            self.store.lockout_state(&key).await?
        } else {
            LockoutState::default()
        };
        let channel = self.policy.lockout.channel(&key, &state, client, now);
        if let Some(until) = self
            .policy
            .lockout
            .locked_until(state.record(&channel), now)
        {
            warn!(
                action = "admin-login",
                outcome = "locked",
                "admin authentication refused: locked after repeated failures"
            );
            return Ok(AdminVerdict::Locked(until));
        }
        let stored = StoredHash::of_typed(
            credential.password_hash.expose_secret().to_string(),
            Dialect::Phc,
        );
        // Both checks always run, so timing does not tell a wrong user from a wrong password.
        let user_ok: bool = user.as_bytes().ct_eq(credential.user.as_bytes()).into();
        let verdict = self.passwords.verify(Some(&stored), password).await?;
        let admitted = matches!(verdict, Verdict::Match { .. }) && user_ok;
        if admitted {
            if guarded {
                // Outside the one admin check: the admin's next request need not wait for it.
                let service = self.clone();
                tokio::spawn(async move {
                    service
                        .record_success(&key, &state, &channel, client, now)
                        .await;
                });
            }
            return Ok(AdminVerdict::Admitted);
        }
        warn!(
            action = "admin-login",
            outcome = "failure",
            "admin authentication failed"
        );
        if guarded {
            self.count_failure(&key, &channel, &state, now).await;
        }
        Ok(AdminVerdict::Refused)
    }
}

//! The second sign-in step. A right password for an account with a factor yields an
//! `mfa_token` ([`Service::challenge`]): a random handle stored hashed with the uid, a
//! fingerprint of the password hash and an expiry. `POST /login/second-factor/` sends it
//! back with a TOTP or recovery code ([`Service::complete_sign_in`]): wrong codes count in
//! the account's lockout ledger like wrong passwords (same answer, same floor) and against the
//! token, which dies after a few; the right one is recorded (the TOTP step, the recovery
//! code used) in the transaction that spends the token, and only then are the account's
//! failures cleared and the network made familiar.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::{info, warn};

use super::sign_in::refuse;
use super::{Challenge, Service, SignedIn};
use crate::accounts::Account;
use crate::client_network::ClientNetwork;
use crate::factors::{Code, Factors, MfaHandle, RecoveryCodes};
use crate::lockout::{LockoutKey, LockoutState};
use crate::store::{StoredAccount, StoredMfaToken};
use crate::{Error, Result};

/// What an accepted code was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Accepted {
    Totp,
    /// A recovery code, with how many are left unused.
    Recovery {
        left: usize,
    },
}

impl Service {
    /// Whether `account` signs in with a second step.
    pub(super) fn second_factor_required(&self, account: &Account) -> bool {
        account.factors.required()
    }

    /// Stores a new `mfa_token` for a checked account and returns it with the kinds of code
    /// the account takes.
    pub(super) async fn challenge(
        &self,
        found: &StoredAccount,
        now: Timestamp,
    ) -> Result<Challenge> {
        let handle = MfaHandle::generate();
        let lifetime = SignedDuration::try_from(self.factors.mfa_token_lifetime)
            .unwrap_or(SignedDuration::from_mins(5));
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        self.store
            .create_mfa_token(
                &handle.id(),
                &found.account.uid,
                &hash_version(&found.account),
                expires_at,
                now,
            )
            .await?;
        info!(uid = %found.account.uid, outcome = "second_factor_required", "sign-in");
        Ok(Challenge {
            mfa_token: handle,
            factors: found.account.factors.kinds(),
        })
    }

    /// The second step: the `mfa_token` and a code in, the custom token out. A wrong code
    /// is [`Error::InvalidCredentials`] after the failure floor, counted against the account
    /// like a wrong password; a locked account gets the same answer. An unknown, expired,
    /// spent or outdated token is [`Error::MfaTokenInvalid`] (sign in again).
    pub async fn complete_sign_in(
        self: &Arc<Self>,
        mfa_token: &str,
        code: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let started = Instant::now();
        let handle = MfaHandle::parse(mfa_token).ok_or(Error::MfaTokenInvalid)?;
        let admitted = self.admit()?;
        let service = self.clone();
        let code = code.to_string();
        // A task of its own, so a client that disconnects still has its wrong code counted.
        let task = tokio::spawn(async move {
            let result = service.second_step(&handle, &code, client, now).await;
            drop(admitted);
            result
        });
        let result = match task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Task(e)),
        };
        let result = match result {
            Ok(found) => match self.mint(&found.account, now).await {
                Ok(token) => {
                    info!(uid = %found.account.uid, outcome = "success", step = "second_factor", "sign-in");
                    Ok(SignedIn {
                        uid: found.account.uid,
                        token,
                    })
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        self.pad_failure(&result, started).await;
        result
    }

    async fn second_step(
        self: &Arc<Self>,
        handle: &MfaHandle,
        code: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<StoredAccount> {
        let id = handle.id();
        let guarded = self.policy.lockout.threshold > 0;
        let mut token = self.live_token(&id, now).await?;
        let key = LockoutKey::Account(token.uid.clone());
        let mut watch = guarded.then(|| self.checks_in_flight.watch(key.doc_id()));
        let (found, state) = tokio::join!(self.store.find_by_uid(&token.uid), async {
            if guarded {
                self.store.lockout_state(&key).await
            } else {
                Ok(LockoutState::default())
            }
        });
        let (mut found, mut state) = (found?, state?);
        let usable = found.as_ref().is_some_and(|f| {
            !f.account.disabled
                && f.account.factors.required()
                && hash_version(&f.account) == token.hash_version
        });
        if !usable {
            // The password changed, the factor was removed or the account is gone.
            self.store.delete_mfa_token(&id).await?;
            return Err(Error::MfaTokenInvalid);
        }
        let (channel, mut slot) = match watch.as_mut() {
            Some(watch) => {
                let uid = Some(&token.uid);
                let (channel, slot) = self
                    .guard(watch, &key, &mut state, client, now, uid)
                    .await?;
                (channel, Some(slot))
            }
            None => (crate::lockout::Channel::Unfamiliar, None),
        };
        drop(watch);
        // Re-read on a lost race: the other request's write (a step accepted, a code used)
        // then decides, so a code is never accepted twice.
        for _ in 0..4 {
            let Some(current) = found.take() else {
                return Err(Error::MfaTokenInvalid);
            };
            let accepted = self.accept_code(&current.account, code, now)?;
            let Some((factors, what)) = accepted else {
                self.count_wrong_code(&id, &token, now).await;
                if guarded {
                    self.count_failure(&key, &channel, &state, now).await;
                    if let Some(slot) = slot.as_mut() {
                        slot.counted_failure();
                    }
                }
                return Err(refuse(Some(&current.account.uid), "wrong_code"));
            };
            if self
                .store
                .complete_second_factor(&id, &token, &factors, current.version)
                .await?
            {
                if guarded {
                    self.record_success(&key, &state, &channel, client, now)
                        .await;
                }
                let mut account = current.account;
                account.factors = factors;
                if let Accepted::Recovery { left } = what {
                    info!(uid = %account.uid, left, "recovery code used at sign-in");
                    self.factor_event(
                        &account,
                        super::factors::Event::RecoveryCodeUsed,
                        now,
                        "account",
                    );
                }
                return Ok(StoredAccount {
                    account,
                    version: current.version,
                });
            }
            token = self.live_token(&id, now).await?;
            found = self.store.find_by_uid(&token.uid).await?;
        }
        Err(Error::Conflict)
    }

    /// The token stored under `id`, if it can still be used at `now`; an expired or
    /// exhausted one is deleted (Firestore's TTL deletes late, the emulator never).
    pub(super) async fn live_token(&self, id: &str, now: Timestamp) -> Result<StoredMfaToken> {
        let token = self
            .store
            .find_mfa_token(id)
            .await?
            .ok_or(Error::MfaTokenInvalid)?;
        if token.expires_at <= now || token.attempts >= self.factors.mfa_token_attempts {
            self.store.delete_mfa_token(id).await?;
            return Err(Error::MfaTokenInvalid);
        }
        Ok(token)
    }

    /// One more wrong code against the token (best effort: the lockout count is the guard
    /// that matters, this one only shortens a token's life).
    pub(super) async fn count_wrong_code(&self, id: &str, token: &StoredMfaToken, _now: Timestamp) {
        match self.store.count_mfa_attempt(id, token).await {
            Ok(true) => {}
            Ok(false) => {
                // Another request counted first: count on top of its count.
                if let Ok(Some(token)) = self.store.find_mfa_token(id).await
                    && let Err(e) = self.store.count_mfa_attempt(id, &token).await
                {
                    warn!(error = %e, "cannot count a wrong code against its mfa_token");
                }
            }
            Err(e) => warn!(error = %e, "cannot count a wrong code against its mfa_token"),
        }
    }

    /// Checks `code` against the account's confirmed factors: the factors as accepting it
    /// leaves them (the TOTP step recorded, the recovery code marked used), or `None` for a
    /// wrong code. An error only for a secret that cannot be opened (a missing key).
    pub(super) fn accept_code(
        &self,
        account: &Account,
        code: &str,
        now: Timestamp,
    ) -> Result<Option<(Factors, Accepted)>> {
        let factors = &account.factors;
        let Some(totp) = &factors.totp else {
            return Ok(None);
        };
        match Code::parse(code) {
            Some(Code::Totp(digits)) => {
                let secret = self
                    .factors
                    .sealer
                    .open(account.uid.as_str(), &totp.sealed)
                    .map_err(Error::internal)?;
                Ok(secret.check(&digits, now, totp.last_step).map(|step| {
                    let mut after = factors.clone();
                    if let Some(t) = after.totp.as_mut() {
                        t.last_step = Some(step);
                    }
                    (after, Accepted::Totp)
                }))
            }
            Some(Code::Recovery(text)) => {
                let sealer = &self.factors.sealer;
                Ok(factors
                    .recovery
                    .find(sealer, account.uid.as_str(), &text)
                    .map(|i| {
                        let mut after = factors.clone();
                        let mut codes: RecoveryCodes = after.recovery.clone();
                        codes.0[i].used_at = Some(now);
                        after.recovery = codes;
                        let left = after.recovery.unused();
                        (after, Accepted::Recovery { left })
                    }))
            }
            None => Ok(None),
        }
    }
}

/// A fingerprint of the account's password hash: an `mfa_token` is good only while the
/// password it followed is.
pub(super) fn hash_version(account: &Account) -> String {
    let digest = Sha256::digest(account.password.hash.as_bytes());
    hex::encode(&digest[..12])
}

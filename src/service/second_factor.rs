//! The second sign-in step. A right password for an account with a factor yields an
//! `mfa_token` ([`Service::challenge`]): a random handle stored hashed with the uid, a
//! fingerprint of the password hash and an expiry. `POST /login/second-factor/` sends it
//! back with a TOTP or recovery code ([`Service::complete_sign_in`]): wrong codes count in
//! the account's lockout ledger like wrong passwords (same answer, same floor) and against the
//! token, which dies after a few (counted and compared in one transaction); the right one is
//! recorded (the TOTP step, the recovery code used) in the transaction that spends the token,
//! and only then are the account's failures cleared and the network made familiar. The same
//! right code sent again with the same token (a double submission) gets the same answer for
//! a short while, and counts as nothing.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::time::Instant;
use tracing::info;

use super::sign_in::refuse;
use super::{Challenge, Service, SignedIn};
use crate::accounts::Account;
use crate::client_network::ClientNetwork;
use crate::factors::{Code, Factors, MfaHandle, RecoveryCodes};
use crate::lockout::{LockoutKey, LockoutState};
use crate::messages::Lang;
use crate::store::{MfaStep, StoredAccount, StoredMfaToken};
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
    /// spent or outdated token is [`Error::MfaTokenInvalid`] (sign in again). A mail the step causes
    /// (a recovery code used) is in `asked`, the language the request names, else the account's.
    pub async fn complete_sign_in(
        self: &Arc<Self>,
        mfa_token: &str,
        code: &str,
        client: Option<ClientNetwork>,
        asked: Option<Lang>,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let started = Instant::now();
        let handle = MfaHandle::parse(mfa_token).ok_or(Error::MfaTokenInvalid)?;
        let admitted = self.admit()?;
        let service = self.clone();
        let code = code.to_string();
        // A task of its own, so a client that disconnects still has its wrong code counted.
        let task = tokio::spawn(async move {
            let result = service
                .second_step(&handle, &code, client, asked, now)
                .await;
            drop(admitted);
            result
        });
        let result = match task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Task(e)),
        };
        let result = match result {
            Ok((account, again)) => match self.mint(&account, now).await {
                Ok(token) => {
                    let step = if again {
                        "second_factor_again"
                    } else {
                        "second_factor"
                    };
                    info!(uid = %account.uid, outcome = "success", step, "sign-in");
                    Ok(SignedIn {
                        uid: account.uid,
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

    /// The step proper: the lockout guard, then one transaction that reads the token and
    /// the account, checks the code and writes what it decided ([`MfaStep`]). The account
    /// that signs in, and whether this was the accepted code sent again.
    async fn second_step(
        self: &Arc<Self>,
        handle: &MfaHandle,
        code: &str,
        client: Option<ClientNetwork>,
        asked: Option<Lang>,
        now: Timestamp,
    ) -> Result<(Account, bool)> {
        let id = handle.id();
        let guarded = self.policy.lockout.threshold > 0;
        let token = self.live_token(&id, now).await?;
        let key = LockoutKey::Account(token.uid.clone());
        let mut watch = guarded.then(|| self.checks_in_flight.watch(key.doc_id()));
        let mut state = if guarded {
            self.store.lockout_state(&key).await?
        } else {
            LockoutState::default()
        };
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
        let code_hash = spent_code_hash(&id, code);
        let limit = self.factors.mfa_token_attempts;
        // Compared and counted under the transaction's reads: concurrent wrong codes cannot
        // all pass the limit, and a code is accepted once.
        let settled = self
            .store
            .settle_second_step(&id, &token.uid, |token, found| {
                let Some(token) = token else {
                    return Ok((MfaStep::Nothing, Settled::Invalid));
                };
                let found = found.filter(|f| {
                    !f.account.disabled
                        && f.account.factors.required()
                        && hash_version(&f.account) == token.hash_version
                });
                // Expired; or the password changed, the factor was removed, the account is
                // gone.
                let (Some(found), true) = (found, token.expires_at > now) else {
                    return Ok((MfaStep::Discard, Settled::Invalid));
                };
                if let Some(spent) = &token.spent {
                    let again = code_hash.as_ref().is_some_and(|h| {
                        bool::from(h.as_bytes().ct_eq(spent.code_hash.as_bytes()))
                    });
                    let settled = match again {
                        true => Settled::Again(found.account.clone()),
                        false => Settled::Invalid,
                    };
                    return Ok((MfaStep::Nothing, settled));
                }
                if token.attempts >= limit {
                    return Ok((MfaStep::Discard, Settled::Invalid));
                }
                let (Some((factors, what)), Some(code_hash)) =
                    (self.accept_code(&found.account, code, now)?, &code_hash)
                else {
                    return Ok((MfaStep::Wrong, Settled::Wrong));
                };
                let mut account = found.account.clone();
                account.factors = factors.clone();
                let step = MfaStep::Accept {
                    factors: Box::new(factors),
                    code_hash: code_hash.clone(),
                    at: now,
                    keep_until: now.checked_add(SENT_AGAIN_WITHIN).unwrap_or(now),
                };
                Ok((step, Settled::Accepted(account, what)))
            })
            .await?;
        match settled {
            Settled::Invalid => Err(Error::MfaTokenInvalid),
            Settled::Wrong => {
                if guarded {
                    self.count_failure(&key, &channel, &state, now).await;
                    if let Some(slot) = slot.as_mut() {
                        slot.counted_failure();
                    }
                }
                Err(refuse(Some(&token.uid), "wrong_code"))
            }
            Settled::Again(account) => Ok((account, true)),
            Settled::Accepted(account, what) => {
                if guarded {
                    self.record_success(&key, &state, &channel, client, now)
                        .await;
                }
                if let Accepted::Recovery { left } = what {
                    info!(uid = %account.uid, left, "recovery code used at sign-in");
                    self.factor_event(
                        &account,
                        super::factors::Event::RecoveryCodeUsed,
                        now,
                        "account",
                        asked,
                    );
                }
                Ok((account, false))
            }
        }
    }

    /// The token stored under `id`, if it can still be used at `now`; an expired or
    /// exhausted one is deleted (Firestore's TTL deletes late, the emulator never). The
    /// transaction of [`Service::second_step`] checks again: this read only spares a dead
    /// token the lockout read and the transaction.
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

/// What the second step's transaction decided.
enum Settled {
    /// No token, or one that can no longer be used.
    Invalid,
    Wrong,
    Accepted(Account, Accepted),
    /// The code that spent the token, sent again (a double submission): the same answer.
    Again(Account),
}

/// How long a spent `mfa_token` still answers the code that spent it (a double-clicked
/// button, a retried request), and nothing else.
const SENT_AGAIN_WITHIN: SignedDuration = SignedDuration::from_secs(30);

/// What a spent token keeps of its code: a SHA-256 of the token's id and the code as
/// [`Code::parse`] reads it (the code is spent, and 80-bit recovery codes and one-step TOTP
/// codes need no slow hash). `None` for text that is no code.
fn spent_code_hash(id: &str, code: &str) -> Option<String> {
    let code = match Code::parse(code)? {
        Code::Totp(digits) => format!("totp:{digits}"),
        Code::Recovery(text) => format!("recovery:{text}"),
    };
    let digest = Sha256::new()
        .chain_update(id.as_bytes())
        .chain_update(b"\n")
        .chain_update(code.as_bytes())
        .finalize();
    Some(hex::encode(digest))
}

/// A fingerprint of the account's password hash: an `mfa_token` is good only while the
/// password it followed is.
pub(super) fn hash_version(account: &Account) -> String {
    let digest = Sha256::digest(account.password.hash.as_bytes());
    hex::encode(&digest[..12])
}

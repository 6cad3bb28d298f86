//! Signing in with a passkey: passwordless (`/passkeys/login/…`, any discoverable
//! credential, or one login's credentials, with stable decoys for a login that has none) and
//! as the second step after a password. An assertion that fails (a signature, the origin,
//! a counter that went backwards) counts in the account's lockout ledger per network like a
//! wrong password; one naming no known credential counts against the client's network; a
//! disabled or locked account signs in with nothing.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;
use tokio::time::Instant;
use tracing::info;
use webauthn_rs::prelude::{AuthenticationResult, PublicKeyCredential, Uuid};

use super::passkeys::CeremonyStart;
use super::second_factor::hash_version;
use super::sign_in::refuse;
use super::{Service, SignedIn};
use crate::accounts::Uid;
use crate::client_network::ClientNetwork;
use crate::factors::MfaHandle;
use crate::lockout::{Channel, LockoutKey, LockoutState};
use crate::login::Login;
use crate::passkeys::{self, CeremonyError, Purpose};
use crate::store::{Ceremony, MfaStep, StoredAccount, StoredPasskeys};
use crate::{Error, Result};

impl Service {
    /// Request options for a passwordless sign-in. Without a login any discoverable
    /// credential answers (conditional UI); with one, its account's credentials, or for a
    /// login without passkeys (or without an account) decoys derived from it, the same at
    /// every request.
    pub async fn start_passkey_sign_in(
        &self,
        login: Option<&str>,
        now: Timestamp,
    ) -> Result<CeremonyStart> {
        let rp = self.relying_party()?;
        let allow = match login {
            None => None,
            Some(text) => {
                let candidates = Login::candidates(text, self.policy.legacy_domain.as_deref())?;
                let (uid, _) = self.resolve(&candidates).await?;
                let uid = uid.and_then(|u| Uid::from_stored(&u).ok());
                let stored = match &uid {
                    Some(uid) => self.store.passkeys_of(uid).await?,
                    None => None,
                };
                Some(match stored.filter(|s| !s.credentials.is_empty()) {
                    Some(s) => passkeys::allow_list(&s.credentials),
                    None => rp.decoy_credentials(candidates[0].as_str()),
                })
            }
        };
        let (options, state) = rp
            .start_sign_in(allow)
            .map_err(|e| Error::internal("cannot make passkey request options").caused_by(e))?;
        let options = serde_json::to_value(options)?;
        self.begin_ceremony(Purpose::SignIn, None, state, None, options, now)
            .await
    }

    /// Finishes a passwordless sign-in with the authenticator's assertion: the custom token
    /// of the passkey's account.
    pub async fn finish_passkey_sign_in(
        self: &Arc<Self>,
        ceremony: &str,
        assertion: Value,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let started = Instant::now();
        self.relying_party()?;
        let admitted = self.admit()?;
        let taken = self.take_ceremony(ceremony, Purpose::SignIn, now).await?;
        let assertion = parse_assertion(assertion)?;
        let service = self.clone();
        // A task of its own, so a client that disconnects still has its failure counted.
        let task = tokio::spawn(async move {
            let result = service
                .check_passkey_sign_in(&taken, &assertion, client, now)
                .await;
            drop(admitted);
            result
        });
        let result = match task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Task(e)),
        };
        let result = self.mint_for(result, "passkey", now).await;
        self.pad_failure(&result, started).await;
        result
    }

    async fn check_passkey_sign_in(
        &self,
        taken: &Ceremony,
        assertion: &PublicKeyCredential,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<StoredAccount> {
        let id = passkeys::credential_id_text(assertion.get_credential_id());
        let owner = self.store.passkey_owner(None, &id).await?;
        let Some(uid) = owner.and_then(|u| Uid::from_stored(&u).ok()) else {
            return Err(self.unknown_credential(client, now).await);
        };
        let key = LockoutKey::Account(uid.clone());
        let guarded = self.policy.lockout.threshold > 0;
        let mut watch = guarded.then(|| self.checks_in_flight.watch(key.doc_id()));
        let (found, stored, state) = tokio::join!(
            self.store.find_by_uid(&uid),
            self.store.passkeys_of(&uid),
            async {
                if guarded {
                    self.store.lockout_state(&key).await
                } else {
                    Ok(LockoutState::default())
                }
            }
        );
        let (found, stored, mut state) = (found?, stored?, state?);
        let Some(found) = found else {
            return Err(refuse(Some(&uid), "unknown_account"));
        };
        if found.account.disabled {
            return Err(refuse(Some(&uid), "disabled"));
        }
        let mut admitted = None;
        if let Some(watch) = watch.as_mut() {
            admitted = Some(
                self.guard(watch, &key, &mut state, client, now, Some(&uid))
                    .await?,
            );
        }
        drop(watch);
        let stored = stored.unwrap_or(StoredPasskeys {
            user_handle: String::new(),
            credentials: Vec::new(),
            version: None,
        });
        let handle_matches = match assertion.get_user_unique_id() {
            Some(bytes) => {
                Uuid::from_slice(bytes).is_ok_and(|u| u.to_string() == stored.user_handle)
            }
            None => true,
        };
        let credential = stored.credentials.iter().find(|c| c.id == id);
        let checked = match credential {
            Some(c) if handle_matches => self.relying_party()?.finish_sign_in(
                assertion,
                &taken.state,
                std::slice::from_ref(&c.passkey),
            ),
            _ => Err(CeremonyError::Refused(
                webauthn_rs::prelude::WebauthnError::CredentialNotFound,
            )),
        };
        let channel = admitted.as_ref().map(|(c, _)| c.clone());
        match checked {
            Ok(result) => {
                self.record_use(&uid, stored, &result, now).await?;
                if let Some(channel) = &channel {
                    self.record_success(&key, &state, channel, client, now)
                        .await;
                }
                Ok(found)
            }
            Err(e) => {
                if let Some((channel, mut slot)) = admitted {
                    self.count_failure(&key, &channel, &state, now).await;
                    slot.counted_failure();
                }
                Err(refuse(Some(&uid), failure_reason(&e)))
            }
        }
    }

    /// An assertion naming no known credential: counted against the client's network.
    async fn unknown_credential(&self, client: Option<ClientNetwork>, now: Timestamp) -> Error {
        if self.policy.lockout.threshold > 0 {
            let network = client.map_or_else(|| "unknown".to_string(), |c| c.to_string());
            let key = LockoutKey::Network(network);
            let mut watch = self.checks_in_flight.watch(key.doc_id());
            let state = self.store.lockout_state(&key).await;
            if let Ok(mut state) = state
                && let Ok((channel, mut slot)) = self
                    .guard(&mut watch, &key, &mut state, client, now, None)
                    .await
            {
                self.count_failure(&key, &channel, &state, now).await;
                slot.counted_failure();
            }
        }
        refuse(None, "unknown_credential")
    }

    /// Records an accepted assertion on its credential: the counter and backup state it
    /// reported, and the time. A lost race is a conflict (the other use's counter stands).
    async fn record_use(
        &self,
        uid: &Uid,
        mut stored: StoredPasskeys,
        result: &AuthenticationResult,
        now: Timestamp,
    ) -> Result<()> {
        for c in stored.credentials.iter_mut() {
            if c.passkey.update_credential(result).is_some() {
                c.last_used_at = Some(now);
            }
        }
        if !self.store.write_passkeys(uid, &stored, None).await? {
            return Err(Error::Conflict);
        }
        Ok(())
    }

    /// Request options for the second step of an account whose second factor is passkeys.
    pub async fn start_passkey_second_step(
        &self,
        mfa_token: &str,
        now: Timestamp,
    ) -> Result<CeremonyStart> {
        let rp = self.relying_party()?;
        let handle = MfaHandle::parse(mfa_token).ok_or(Error::MfaTokenInvalid)?;
        let token = self.live_token(&handle.id(), now).await?;
        let found = self.store.find_by_uid(&token.uid).await?;
        if found.is_none_or(|f| f.account.factors.webauthn.is_none()) {
            return Err(Error::invalid(
                "no_passkey_factor",
                "this account's second step takes a code, not a passkey",
            ));
        }
        let stored = self.store.passkeys_of(&token.uid).await?;
        let keys: Vec<_> = stored
            .iter()
            .flat_map(|s| &s.credentials)
            .map(|c| c.passkey.clone())
            .collect();
        let (options, state) = rp
            .start_second_factor(&keys)
            .map_err(|e| Error::internal("cannot make passkey request options").caused_by(e))?;
        let options = serde_json::to_value(options)?;
        self.begin_ceremony(
            Purpose::SecondFactor,
            Some(&token.uid),
            state,
            Some(handle.id()),
            options,
            now,
        )
        .await
    }

    /// The second step with a passkey's assertion instead of a code: a failure counts as a
    /// wrong code does; success spends the `mfa_token` (in the transaction that checks it).
    pub async fn complete_sign_in_with_passkey(
        self: &Arc<Self>,
        mfa_token: &str,
        ceremony: &str,
        assertion: Value,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let started = Instant::now();
        self.relying_party()?;
        let handle = MfaHandle::parse(mfa_token).ok_or(Error::MfaTokenInvalid)?;
        let admitted = self.admit()?;
        let taken = self
            .take_ceremony(ceremony, Purpose::SecondFactor, now)
            .await?;
        if taken.subject.as_deref() != Some(handle.id().as_str()) {
            return Err(Error::invalid(
                "ceremony_invalid",
                "the passkey ceremony belongs to another mfa_token; start again",
            ));
        }
        let assertion = parse_assertion(assertion)?;
        let service = self.clone();
        let task = tokio::spawn(async move {
            let result = service
                .passkey_second_step(&handle, &taken, &assertion, client, now)
                .await;
            drop(admitted);
            result
        });
        let result = match task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Task(e)),
        };
        let result = self.mint_for(result, "second_factor", now).await;
        self.pad_failure(&result, started).await;
        result
    }

    async fn passkey_second_step(
        &self,
        handle: &MfaHandle,
        taken: &Ceremony,
        assertion: &PublicKeyCredential,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<StoredAccount> {
        let id = handle.id();
        let token = self.live_token(&id, now).await?;
        let key = LockoutKey::Account(token.uid.clone());
        let guarded = self.policy.lockout.threshold > 0;
        let mut watch = guarded.then(|| self.checks_in_flight.watch(key.doc_id()));
        let (found, stored, state) = tokio::join!(
            self.store.find_by_uid(&token.uid),
            self.store.passkeys_of(&token.uid),
            async {
                if guarded {
                    self.store.lockout_state(&key).await
                } else {
                    Ok(LockoutState::default())
                }
            }
        );
        let (found, stored, mut state) = (found?, stored?, state?);
        let found = found.filter(|f| {
            !f.account.disabled
                && f.account.factors.webauthn.is_some()
                && hash_version(&f.account) == token.hash_version
        });
        let (Some(found), Some(stored)) = (found, stored) else {
            self.store.delete_mfa_token(&id).await?;
            return Err(Error::MfaTokenInvalid);
        };
        let (channel, mut slot) = match watch.as_mut() {
            Some(watch) => {
                let (channel, slot) = self
                    .guard(watch, &key, &mut state, client, now, Some(&token.uid))
                    .await?;
                (channel, Some(slot))
            }
            None => (Channel::Unfamiliar, None),
        };
        drop(watch);
        // The ceremony's state holds the passkeys as they were when it began: one removed
        // since (a lost device) must not pass, so the credential is looked up again.
        let checked = self
            .relying_party()?
            .finish_second_factor(assertion, &taken.state)
            .and_then(|result| {
                let current = stored
                    .credentials
                    .iter()
                    .any(|c| c.passkey.cred_id() == result.cred_id());
                if current {
                    Ok(result)
                } else {
                    Err(CeremonyError::Refused(
                        webauthn_rs::prelude::WebauthnError::CredentialNotFound,
                    ))
                }
            });
        let limit = self.factors.mfa_token_attempts;
        let accepted = checked.is_ok();
        // Compared, counted and spent under the transaction's reads, as a code is: the
        // ceremony itself is single use, so the token is spent at once (no repeat window).
        let usable = self
            .store
            .settle_second_step(&id, &token.uid, |token, current| {
                let Some(token) = token else {
                    return Ok((MfaStep::Nothing, false));
                };
                let current = current.filter(|f| {
                    !f.account.disabled
                        && f.account.factors.webauthn.is_some()
                        && hash_version(&f.account) == token.hash_version
                });
                let live = token.expires_at > now && token.spent.is_none();
                let (Some(current), true) = (current, live) else {
                    return Ok((MfaStep::Discard, false));
                };
                if token.attempts >= limit {
                    return Ok((MfaStep::Discard, false));
                }
                if !accepted {
                    return Ok((MfaStep::Wrong, true));
                }
                let step = MfaStep::Accept {
                    factors: Box::new(current.account.factors.clone()),
                    code_hash: String::new(),
                    at: now,
                    keep_until: now,
                };
                Ok((step, true))
            })
            .await?;
        if !usable {
            return Err(Error::MfaTokenInvalid);
        }
        let result = match checked {
            Ok(result) => result,
            Err(e) => {
                if guarded {
                    self.count_failure(&key, &channel, &state, now).await;
                    if let Some(slot) = slot.as_mut() {
                        slot.counted_failure();
                    }
                }
                return Err(refuse(Some(&token.uid), failure_reason(&e)));
            }
        };
        self.record_use(&token.uid, stored, &result, now).await?;
        if guarded {
            self.record_success(&key, &state, &channel, client, now)
                .await;
        }
        Ok(found)
    }

    /// The token of a checked account, logged as a sign-in of `step`.
    async fn mint_for(
        &self,
        result: Result<StoredAccount>,
        step: &'static str,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let found = result?;
        let token = self.mint(&found.account, now).await?;
        info!(uid = %found.account.uid, outcome = "success", step, "sign-in");
        Ok(SignedIn {
            uid: found.account.uid,
            token,
        })
    }
}

fn parse_assertion(assertion: Value) -> Result<PublicKeyCredential> {
    serde_json::from_value(assertion).map_err(|e| {
        Error::invalid(
            "invalid_credential",
            "`credential` is not a WebAuthn assertion (send the PublicKeyCredential from \
             navigator.credentials.get() as JSON)",
        )
        .caused_by(e)
    })
}

fn failure_reason(e: &CeremonyError) -> &'static str {
    match e {
        CeremonyError::CounterRegression => "counter_regression",
        CeremonyError::Refused(_) => "assertion_refused",
        CeremonyError::State(_) => "ceremony_state_unreadable",
    }
}

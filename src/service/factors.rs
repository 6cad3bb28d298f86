//! Self-service second factors, for a caller proven by a Firebase ID token
//! ([`Service::caller`]): list them, enrol an authenticator (secret, `otpauth://` URI and QR
//! code; confirmed by its first code, which returns ten recovery codes once), remove it or
//! regenerate the recovery codes (both with a current code, TOTP or recovery). Changes need a
//! recent sign-in, and every change is written conditioned on the account's version, so a
//! code is never accepted twice.

use std::sync::Arc;

use jiff::Timestamp;
use tracing::info;

use super::second_factor::Accepted;
use super::sign_in::refuse;
use super::{AccountRef, Service};
use crate::client_network::ClientNetwork;
use crate::factors::{
    Enrollment, Factors, MfaMode, PendingTotp, RecoveryCodes, TotpFactor, TotpSecret,
};
use crate::google::{IdToken, IdTokenError};
use crate::lockout::{LockoutKey, LockoutState};
use crate::messages::Lang;
use crate::store::{AuditEntry, StoredAccount};
use crate::{Error, Result};

/// How long an enrolment's secret waits for its first code.
const PENDING_FOR: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

/// A signed-in account, as its ID token proves it, and the language its request names, if
/// any (a mail the request causes speaks it, else the account's).
#[derive(Debug)]
pub struct Caller {
    pub account: StoredAccount,
    pub token: IdToken,
    pub lang: Option<Lang>,
}

/// What `GET /mfa/` shows: the factors, never a secret.
#[derive(Debug, serde::Serialize)]
pub struct FactorList {
    pub factors: Vec<FactorInfo>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: usize,
    /// An enrolment waits for its first code.
    pub pending_totp: bool,
    /// Whether enrolment is open (`--mfa optional`).
    pub enrollment_open: bool,
}

/// One factor in a [`FactorList`].
#[derive(Debug, serde::Serialize)]
pub struct FactorInfo {
    /// `totp` or `webauthn` (passkeys, turned on as the second factor).
    pub kind: &'static str,
    pub enrolled_at: Timestamp,
}

/// What [`Service::reset_factors`] did.
#[derive(Debug, serde::Serialize)]
pub struct FactorsReset {
    pub uid: crate::accounts::Uid,
    /// Whether there was anything to remove.
    pub removed: bool,
}

/// A change of factors that the account's owner is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    TotpAdded,
    TotpRemoved,
    RecoveryCodesRegenerated,
    RecoveryCodeUsed,
    /// An admin removed every factor.
    Reset,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeySecondFactorOn,
    PasskeySecondFactorOff,
}

impl Event {
    /// The catalog key of the mail's sentence.
    pub fn message_key(self) -> &'static str {
        match self {
            Event::TotpAdded => "factor-event-totp-added",
            Event::TotpRemoved => "factor-event-totp-removed",
            Event::RecoveryCodesRegenerated => "factor-event-codes-regenerated",
            Event::RecoveryCodeUsed => "factor-event-code-used",
            Event::Reset => "factor-event-reset",
            Event::PasskeyAdded => "factor-event-passkey-added",
            Event::PasskeyRemoved => "factor-event-passkey-removed",
            Event::PasskeySecondFactorOn => "factor-event-passkey-second-factor-on",
            Event::PasskeySecondFactorOff => "factor-event-passkey-second-factor-off",
        }
    }

    /// The audit trail's action name.
    pub fn action(self) -> &'static str {
        match self {
            Event::TotpAdded => "mfa-totp-added",
            Event::TotpRemoved => "mfa-totp-removed",
            Event::RecoveryCodesRegenerated => "mfa-recovery-regenerated",
            Event::RecoveryCodeUsed => "mfa-recovery-code-used",
            Event::Reset => "mfa-reset",
            Event::PasskeyAdded => "passkey-added",
            Event::PasskeyRemoved => "passkey-removed",
            Event::PasskeySecondFactorOn => "passkey-second-factor-on",
            Event::PasskeySecondFactorOff => "passkey-second-factor-off",
        }
    }
}

impl Service {
    /// The account an ID token speaks for. Only tokens from firegate's own custom tokens
    /// count (`sign_in_provider` `custom`, the configured tenant): a Firebase password
    /// sign-in must not change factors. A token from a sign-in before the account's last
    /// change (password, factors) is refused. `lang` is the language the request names.
    pub async fn caller(
        &self,
        id_token: &str,
        lang: Option<Lang>,
        now: Timestamp,
    ) -> Result<Caller> {
        let token = self
            .id_tokens
            .verify(id_token, now)
            .await
            .map_err(|e| match e {
                IdTokenError::Invalid(why) => Error::Unauthenticated(why),
                IdTokenError::Unavailable(why) => Error::unavailable(why),
            })?;
        if token.sign_in_provider != "custom" {
            return Err(Error::Unauthenticated(format!(
                "the ID token is from a `{}` sign-in; sign in through firegate (its custom \
                 token) to manage second factors",
                token.sign_in_provider
            )));
        }
        if token.tenant != self.policy.tenant_id {
            return Err(Error::Unauthenticated(
                "the ID token is for another tenant".into(),
            ));
        }
        let found = self
            .store
            .find_by_uid_str(&token.uid)
            .await?
            .filter(|f| !f.account.disabled)
            .ok_or_else(|| {
                Error::Unauthenticated("the ID token's account cannot sign in".into())
            })?;
        let changed = found
            .account
            .factors
            .changed_at
            .map_or(found.account.updated_at, |f| {
                f.max(found.account.updated_at)
            });
        if token.auth_time < changed.as_second() {
            return Err(Error::Unauthenticated(
                "the account changed after this sign-in (password or second factor); sign in \
                 again"
                    .into(),
            ));
        }
        Ok(Caller {
            account: found,
            token,
            lang,
        })
    }

    /// The caller's factors.
    pub fn list_factors(&self, caller: &Caller) -> FactorList {
        let f = &caller.account.account.factors;
        FactorList {
            factors: f
                .totp
                .iter()
                .map(|t| FactorInfo {
                    kind: "totp",
                    enrolled_at: t.enrolled_at,
                })
                .chain(f.webauthn.map(|at| FactorInfo {
                    kind: "webauthn",
                    enrolled_at: at,
                }))
                .collect(),
            recovery_codes_left: if f.totp.is_some() {
                f.recovery.unused()
            } else {
                0
            },
            pending_totp: f.pending.is_some(),
            enrollment_open: self.factors.mode == MfaMode::Optional,
        }
    }

    /// Starts enrolling an authenticator: a new secret, kept pending until its first code.
    pub async fn enroll_totp(&self, caller: &Caller, now: Timestamp) -> Result<Enrollment> {
        self.changes_allowed(caller, now)?;
        if self.factors.mode == MfaMode::Off {
            return Err(Error::Disabled(
                "second factors are off on this server (--mfa off)",
            ));
        }
        let account = &caller.account.account;
        if account.factors.totp.is_some() {
            return Err(Error::invalid(
                "totp_enrolled",
                "an authenticator is enrolled already; remove it first (POST /mfa/totp/remove/)",
            ));
        }
        if account.firebase.graduated_at.is_some() {
            return Err(Error::invalid(
                "graduated_account",
                "this account signs in with its Firebase Auth password, which would skip a \
                 second factor; an admin can move it back (see the book, \"Second factor\")",
            ));
        }
        let label = account
            .email
            .as_ref()
            .or(account.username.as_ref())
            .map(|l| l.to_string())
            .unwrap_or_else(|| account.uid.to_string());
        let secret = TotpSecret::generate();
        let enrollment = secret
            .enrollment(&self.factors.issuer, &label)
            .map_err(Error::internal)?;
        let mut factors = account.factors.clone();
        factors.pending = Some(PendingTotp {
            sealed: self.factors.sealer.seal(account.uid.as_str(), &secret),
            created_at: now,
        });
        self.write_or_conflict(caller, &factors).await?;
        Ok(enrollment)
    }

    /// Confirms an enrolment with the authenticator's first code: TOTP is on, and the ten
    /// recovery codes are returned (the only time they are shown).
    pub async fn confirm_totp(
        self: &Arc<Self>,
        caller: &Caller,
        code: &str,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        self.changes_allowed(caller, now)?;
        let account = &caller.account.account;
        if account.firebase.graduated_at.is_some() {
            // Graduated between enrolment and confirmation: its Firebase password would
            // skip the factor.
            return Err(Error::invalid(
                "graduated_account",
                "this account signs in with its Firebase Auth password, which would skip a \
                 second factor; an admin can move it back (see the book, \"Second factor\")",
            ));
        }
        let pending = account
            .factors
            .pending
            .as_ref()
            .filter(|p| p.created_at.checked_add(PENDING_FOR).is_ok_and(|t| t > now))
            .ok_or_else(|| {
                Error::invalid(
                    "no_enrollment",
                    "no enrolment is waiting (or it is older than 15 minutes); start with POST \
                     /mfa/totp/enroll/",
                )
            })?;
        let secret = self
            .factors
            .sealer
            .open(account.uid.as_str(), &pending.sealed)
            .map_err(Error::internal)?;
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let step = secret.check(&digits, now, None).ok_or_else(|| {
            Error::invalid(
                "invalid_code",
                "the code does not match; type the current code of the authenticator app",
            )
        })?;
        let (shown, recovery) = RecoveryCodes::generate(&self.factors.sealer, account.uid.as_str());
        let factors = Factors {
            totp: Some(TotpFactor {
                sealed: pending.sealed.clone(),
                enrolled_at: now,
                last_step: Some(step),
            }),
            pending: None,
            recovery,
            changed_at: Some(now),
            webauthn: account.factors.webauthn,
        };
        self.write_or_conflict(caller, &factors).await?;
        info!(uid = %account.uid, "authenticator enrolled");
        let lang = caller.lang;
        self.factor_event(account, Event::TotpAdded, now, "account", lang);
        Ok(shown)
    }

    /// Removes the authenticator (and the recovery codes with it), given a current code: a
    /// TOTP code, or a recovery code (the way back for an owner who lost the authenticator).
    pub async fn remove_totp(
        self: &Arc<Self>,
        caller: &Caller,
        code: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<()> {
        self.changes_allowed(caller, now)?;
        let (_, _) = self.checked_code(caller, code, client, now).await?;
        // Passkeys as a second factor stay: they are not the authenticator's to remove.
        let factors = Factors {
            changed_at: Some(now),
            webauthn: caller.account.account.factors.webauthn,
            ..Factors::default()
        };
        // Conditioned on the version the code was checked at: the write records that the
        // code was used (nothing of the factor is left to accept it again).
        self.write_or_conflict(caller, &factors).await?;
        info!(uid = %caller.account.account.uid, "authenticator removed");
        let account = &caller.account.account;
        let lang = caller.lang;
        self.factor_event(account, Event::TotpRemoved, now, "account", lang);
        Ok(())
    }

    /// Replaces the recovery codes, given a current code; the new ones are returned once.
    pub async fn regenerate_recovery_codes(
        self: &Arc<Self>,
        caller: &Caller,
        code: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        self.changes_allowed(caller, now)?;
        let (mut factors, _) = self.checked_code(caller, code, client, now).await?;
        let uid = caller.account.account.uid.as_str();
        let (shown, recovery) = RecoveryCodes::generate(&self.factors.sealer, uid);
        factors.recovery = recovery;
        self.write_or_conflict(caller, &factors).await?;
        self.factor_event(
            &caller.account.account,
            Event::RecoveryCodesRegenerated,
            now,
            "account",
            caller.lang,
        );
        Ok(shown)
    }

    /// Checks a current code for a change, under the account's lockout count: a wrong one
    /// counts as a failed sign-in would, and a locked account is refused.
    async fn checked_code(
        self: &Arc<Self>,
        caller: &Caller,
        code: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<(Factors, Accepted)> {
        let account = &caller.account.account;
        if account.factors.totp.is_none() {
            return Err(Error::invalid(
                "no_factor",
                "this account has no authenticator",
            ));
        }
        self.code_under_lockout(account, code, client, now)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "invalid_code",
                    "the code does not match; type the current authenticator code or an unused \
                     recovery code",
                )
            })
    }

    /// Checks `code` against `account`'s factors under its lockout count: the factors as
    /// accepting it leaves them, or `None` for a wrong code, counted as a failed sign-in
    /// would be. A locked account is refused as a wrong password would be.
    pub(super) async fn code_under_lockout(
        self: &Arc<Self>,
        account: &crate::accounts::Account,
        code: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<Option<(Factors, Accepted)>> {
        let key = LockoutKey::Account(account.uid.clone());
        let guarded = self.policy.lockout.threshold > 0;
        let mut watch = guarded.then(|| self.checks_in_flight.watch(key.doc_id()));
        let mut state = if guarded {
            self.store.lockout_state(&key).await?
        } else {
            LockoutState::default()
        };
        let admitted = match watch.as_mut() {
            Some(watch) => Some(
                self.guard(watch, &key, &mut state, client, now, Some(&account.uid))
                    .await?,
            ),
            None => None,
        };
        drop(watch);
        let accepted = self.accept_code(account, code, now)?;
        if accepted.is_none() {
            if let Some((channel, mut slot)) = admitted {
                self.count_failure(&key, &channel, &state, now).await;
                slot.counted_failure();
            }
            let _ = refuse(Some(&account.uid), "wrong_code");
        }
        Ok(accepted)
    }

    /// Removes every factor of an account (an admin, for an owner who lost both the
    /// authenticator and the recovery codes): `false` when it had none. Audited as `by`.
    pub async fn reset_factors(
        self: &Arc<Self>,
        target: &AccountRef,
        by: &str,
    ) -> Result<FactorsReset> {
        let found = self.find(target).await?;
        let account = &found.account;
        let had = !account.factors.is_empty();
        if had {
            let now = Timestamp::now();
            let factors = Factors {
                changed_at: Some(now),
                ..Factors::default()
            };
            self.store
                .write_factors(&account.uid, &factors, found.version)
                .await?
                .ok_or(Error::Conflict)?;
            info!(uid = %account.uid, by, "second factors reset by an admin");
            // Awaited: the CLI's runtime ends with this call, and the audit entry and the
            // owner's mail must not end with it.
            // No request of the owner's: the mail speaks the account's language.
            let _ = self
                .factor_event(account, Event::Reset, now, by, None)
                .await;
        }
        Ok(FactorsReset {
            uid: account.uid.clone(),
            removed: had,
        })
    }

    /// Accounts that sign in with a second factor.
    pub async fn second_factor_count(&self) -> Result<u64> {
        self.store.count_second_factor().await
    }

    /// Changes need a sign-in within the recent-sign-in window.
    pub(super) fn changes_allowed(&self, caller: &Caller, now: Timestamp) -> Result<()> {
        let age = now.as_second() - caller.token.auth_time;
        let window = i64::try_from(self.factors.recent_sign_in.as_secs()).unwrap_or(i64::MAX);
        if age > window {
            return Err(Error::RecentSignInRequired);
        }
        Ok(())
    }

    pub(super) async fn write_or_conflict(&self, caller: &Caller, factors: &Factors) -> Result<()> {
        let account = &caller.account;
        match self
            .store
            .write_factors(&account.account.uid, factors, account.version)
            .await?
        {
            Some(_) => Ok(()),
            None => Err(Error::Conflict),
        }
    }

    /// Records a change of factors in the audit trail and mails the owner (in the
    /// background: the change is made, and a slow write or mail must not hold the answer),
    /// in `reader`, the language the request that made it names, else the account's.
    pub(super) fn factor_event(
        self: &Arc<Self>,
        account: &crate::accounts::Account,
        event: Event,
        now: Timestamp,
        by: &str,
        reader: Option<Lang>,
    ) -> tokio::task::JoinHandle<()> {
        let entry = AuditEntry {
            at: now,
            admin: by.into(),
            action: event.action().into(),
            uid: Some(account.uid.to_string()),
            kid: None,
            outcome: "ok".into(),
            reason: None,
        };
        let service = self.clone();
        let account = account.clone();
        // Off the answer's path; a caller that ends the process next (the CLI) awaits it.
        tokio::spawn(async move {
            if let Err(e) = service.store.record_audit(&entry).await {
                tracing::warn!(error = %e, "cannot record a change of second factors in the audit trail");
            }
            if let Err(e) = service
                .mail_factor_event(&account, event.message_key(), reader, now)
                .await
            {
                tracing::warn!(uid = %account.uid, error = %e, "second-factor mail not sent");
            }
        })
    }
}

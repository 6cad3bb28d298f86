//! Second factors in Firestore: an account's factors live in its document (field `mfa`,
//! with `second_factor` beside it for counting), so the first sign-in step learns whether a
//! second is needed from the read it makes anyway (the `mfa_token`s between the two steps
//! are in [`super::mfa_tokens`]).

use firestore::{FirestoreTimestamp, FirestoreWritePrecondition};
use serde::{Deserialize, Serialize};

use jiff::Timestamp;

use super::Store;
use super::accounts::Version;
use super::changes::PasswordPatch;
use crate::Result;
use crate::accounts::Uid;
use crate::factors::{Factors, PendingTotp, RecoveryCode, RecoveryCodes, TotpFactor};
use crate::passwords::StoredHash;

/// The `mfa` field of an account document.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub(super) struct MfaDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    totp: Option<TotpDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_totp: Option<PendingDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    recovery: Vec<RecoveryDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changed_at: Option<FirestoreTimestamp>,
    /// When passkeys became a second factor of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    webauthn_since: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct TotpDoc {
    secret: String,
    enrolled_at: FirestoreTimestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_step: Option<i64>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct PendingDoc {
    secret: String,
    created_at: FirestoreTimestamp,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct RecoveryDoc {
    hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    used_at: Option<FirestoreTimestamp>,
}

impl MfaDoc {
    /// The stored form of `factors`; `None` when there is nothing to keep.
    pub(super) fn new(f: &Factors) -> Option<MfaDoc> {
        if *f == Factors::default() {
            return None;
        }
        Some(MfaDoc {
            totp: f.totp.as_ref().map(|t| TotpDoc {
                secret: t.sealed.clone(),
                enrolled_at: FirestoreTimestamp(t.enrolled_at),
                last_step: t.last_step.and_then(|s| i64::try_from(s).ok()),
            }),
            pending_totp: f.pending.as_ref().map(|p| PendingDoc {
                secret: p.sealed.clone(),
                created_at: FirestoreTimestamp(p.created_at),
            }),
            recovery: f
                .recovery
                .0
                .iter()
                .map(|c| RecoveryDoc {
                    hash: c.hash.clone(),
                    used_at: c.used_at.map(FirestoreTimestamp),
                })
                .collect(),
            changed_at: f.changed_at.map(FirestoreTimestamp),
            webauthn_since: f.webauthn.map(FirestoreTimestamp),
        })
    }

    pub(super) fn factors(doc: Option<&MfaDoc>) -> Factors {
        let Some(doc) = doc else {
            return Factors::default();
        };
        Factors {
            totp: doc.totp.as_ref().map(|t| TotpFactor {
                sealed: t.secret.clone(),
                enrolled_at: t.enrolled_at.0,
                last_step: t.last_step.and_then(|s| u64::try_from(s).ok()),
            }),
            pending: doc.pending_totp.as_ref().map(|p| PendingTotp {
                sealed: p.secret.clone(),
                created_at: p.created_at.0,
            }),
            recovery: RecoveryCodes(
                doc.recovery
                    .iter()
                    .map(|c| RecoveryCode {
                        hash: c.hash.clone(),
                        used_at: c.used_at.as_ref().map(|t| t.0),
                    })
                    .collect(),
            ),
            changed_at: doc.changed_at.as_ref().map(|t| t.0),
            webauthn: doc.webauthn_since.as_ref().map(|t| t.0),
        }
    }
}

/// The account fields a change of factors writes.
#[derive(Serialize, Deserialize)]
pub(super) struct FactorsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mfa: Option<MfaDoc>,
    #[serde(default)]
    second_factor: bool,
}

impl FactorsPatch {
    pub(super) const FIELDS: [&'static str; 2] = ["mfa", "second_factor"];

    pub(super) fn new(factors: &Factors) -> FactorsPatch {
        FactorsPatch {
            mfa: MfaDoc::new(factors),
            second_factor: factors.required(),
        }
    }
}

/// A password change that also records the code it was allowed by.
#[derive(Serialize, Deserialize)]
struct PasswordAndFactors {
    #[serde(flatten)]
    password: PasswordPatch,
    #[serde(flatten)]
    factors: FactorsPatch,
}

impl Store {
    /// Replaces the password hash and the factors (the step or recovery code that allowed
    /// the change recorded) in one write, if the account is still at `version`: its new
    /// version, or `None` (nothing written) when it changed meanwhile.
    pub async fn replace_password_and_factors(
        &self,
        uid: &Uid,
        password: &StoredHash,
        factors: &Factors,
        version: Version,
        now: Timestamp,
    ) -> Result<Option<Version>> {
        let patch = PasswordAndFactors {
            password: PasswordPatch::new(password, now),
            factors: FactorsPatch::new(factors),
        };
        let fields: Vec<&str> = PasswordPatch::FIELDS
            .iter()
            .chain(FactorsPatch::FIELDS.iter())
            .copied()
            .collect();
        let precondition = FirestoreWritePrecondition::UpdateTime(version.0);
        self.patch(uid, &fields, &patch, precondition).await
    }

    /// Writes an account's factors if the account is still at `version`: its new version,
    /// or `None` (nothing written) when it changed meanwhile.
    pub async fn write_factors(
        &self,
        uid: &Uid,
        factors: &Factors,
        version: Version,
    ) -> Result<Option<Version>> {
        let patch = FactorsPatch::new(factors);
        let precondition = FirestoreWritePrecondition::UpdateTime(version.0);
        self.patch(uid, &FactorsPatch::FIELDS, &patch, precondition)
            .await
    }
}

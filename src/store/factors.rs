//! Second factors in Firestore: an account's factors live in its document (field `mfa`,
//! with `second_factor` beside it for counting), so the first sign-in step learns whether a
//! second is needed from the read it makes anyway; the `mfa_token`s between the two steps
//! live in the tokens collection by their SHA-256, with their expiry (checked on read) and
//! their count of wrong codes. Finishing the second step is one transaction: the factor's
//! new state on the account (the accepted step, a used recovery code) and the token's
//! deletion, each conditioned on the version read.

use firestore::{FirestoreTimestamp, FirestoreTransactionOps, FirestoreWritePrecondition};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::Version;
use super::{Store, is_precondition_failed, map_error};
use crate::Result;
use crate::accounts::Uid;
use crate::factors::{Factors, PendingTotp, RecoveryCode, RecoveryCodes, TotpFactor};

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
struct FactorsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mfa: Option<MfaDoc>,
    #[serde(default)]
    second_factor: bool,
}

impl FactorsPatch {
    const FIELDS: [&'static str; 2] = ["mfa", "second_factor"];

    fn new(factors: &Factors) -> FactorsPatch {
        FactorsPatch {
            mfa: MfaDoc::new(factors),
            second_factor: factors.required(),
        }
    }
}

/// An `mfa_token` as stored.
#[derive(Debug, Clone)]
pub struct StoredMfaToken {
    pub uid: Uid,
    pub expires_at: Timestamp,
    /// A fingerprint of the password hash the first step checked: a password changed since
    /// outdates the token.
    pub hash_version: String,
    /// Wrong codes sent with it so far.
    pub attempts: u32,
    pub version: Version,
}

#[derive(Serialize, Deserialize)]
struct MfaTokenDoc {
    uid: String,
    purpose: String,
    expires_at: FirestoreTimestamp,
    hash_version: String,
    #[serde(default)]
    attempts: u32,
    created_at: FirestoreTimestamp,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    version: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize)]
struct Attempts {
    attempts: u32,
}

impl Store {
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

    /// Stores a new `mfa_token` under `id` (its hash).
    pub async fn create_mfa_token(
        &self,
        id: &str,
        uid: &Uid,
        hash_version: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let doc = MfaTokenDoc {
            uid: uid.to_string(),
            purpose: "mfa".into(),
            expires_at: FirestoreTimestamp(expires_at),
            hash_version: hash_version.to_string(),
            attempts: 0,
            created_at: FirestoreTimestamp(now),
            version: None,
        };
        self.create_token_doc(id, &doc).await
    }

    /// The `mfa_token` stored under `id`, if any (expired ones too: the caller checks).
    pub async fn find_mfa_token(&self, id: &str) -> Result<Option<StoredMfaToken>> {
        let doc: Option<MfaTokenDoc> = self.token_doc(id).await?;
        Ok(doc.and_then(|d| {
            if d.purpose != "mfa" {
                return None;
            }
            Some(StoredMfaToken {
                uid: Uid::from_stored(&d.uid).ok()?,
                expires_at: d.expires_at.0,
                hash_version: d.hash_version,
                attempts: d.attempts,
                version: Version(d.version?.0),
            })
        }))
    }

    /// Counts one wrong code against the token (if it is still as read; a concurrent
    /// request's count is then the one kept, which the caller re-reads for).
    pub async fn count_mfa_attempt(&self, id: &str, token: &StoredMfaToken) -> Result<bool> {
        let attempts = Attempts {
            attempts: token.attempts + 1,
        };
        let update = self
            .db
            .fluent()
            .update()
            .fields(["attempts"])
            .in_col(&self.options.tokens_collection)
            .precondition(FirestoreWritePrecondition::UpdateTime(token.version.0))
            .document_id(id)
            .object(&attempts)
            .execute::<()>();
        match self.within_deadline(update).await? {
            Ok(()) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Deletes a token (spent, expired or outdated), whatever its version.
    pub async fn delete_mfa_token(&self, id: &str) -> Result<()> {
        self.call(
            self.db
                .fluent()
                .delete()
                .from(&self.options.tokens_collection)
                .document_id(id)
                .execute(),
        )
        .await
    }

    /// Finishes a second step in one transaction: the account's factors as the accepted
    /// code left them (if the account is still at `account`) and the token deleted (if it is
    /// still as read). `false`, having written nothing, when either changed meanwhile.
    pub async fn complete_second_factor(
        &self,
        token_id: &str,
        token: &StoredMfaToken,
        factors: &Factors,
        account: Version,
    ) -> Result<bool> {
        let patch = FactorsPatch::new(factors);
        let commit = async {
            let mut tx = self.db.begin_transaction().await?;
            tx.update_object(
                &self.options.accounts_collection,
                token.uid.as_str(),
                &patch,
                Some(FactorsPatch::FIELDS.map(String::from).to_vec()),
                Some(FirestoreWritePrecondition::UpdateTime(account.0)),
                vec![],
            )?;
            tx.delete_by_id(
                &self.options.tokens_collection,
                token_id,
                Some(FirestoreWritePrecondition::UpdateTime(token.version.0)),
            )?;
            tx.commit().await
        };
        match self.within_deadline(commit).await? {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

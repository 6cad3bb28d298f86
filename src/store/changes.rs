//! Changes to existing accounts: password, disabled flag, claims, preferred language, deletion. Each is one
//! Firestore write; deletion removes the account and its login-index entries atomically.

use firestore::{FirestoreTimestamp, FirestoreTransactionOps, FirestoreWritePrecondition};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::accounts::{FirebaseDoc, Version, login_doc_id};
use super::claims::claims_of;
use super::{Store, is_precondition_failed, map_error};
use crate::accounts::{Account, FirebaseState, Uid};
use crate::claims::Claims;
use crate::passwords::StoredHash;
use crate::{Error, Result};

/// The fields a new password hash writes (also a reset's, `tokens.rs`). An absent
/// `password_input` is in the update mask too, so a new hash without one clears the old.
#[derive(Serialize, Deserialize)]
pub(super) struct PasswordPatch {
    password_hash: String,
    hash_dialect: String,
    hash_scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_input: Option<String>,
    updated_at: FirestoreTimestamp,
    /// A new password is not the one found in breaches: the mark is cleared (`breached_at`,
    /// absent, is in the mask too).
    breached: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    breached_at: Option<FirestoreTimestamp>,
}

impl PasswordPatch {
    pub(super) const FIELDS: [&'static str; 7] = [
        "password_hash",
        "hash_dialect",
        "hash_scheme",
        "password_input",
        "updated_at",
        "breached",
        "breached_at",
    ];

    pub(super) fn new(password: &StoredHash, now: Timestamp) -> PasswordPatch {
        PasswordPatch {
            password_hash: password.hash.clone(),
            hash_dialect: password.dialect.as_str().to_string(),
            hash_scheme: password.scheme_name(),
            password_input: password.input.clone(),
            updated_at: FirestoreTimestamp(now),
            breached: false,
            breached_at: None,
        }
    }
}

/// The mark of a password found in breaches at a legacy sign-in.
#[derive(Serialize, Deserialize)]
struct BreachedPatch {
    breached: bool,
    breached_at: FirestoreTimestamp,
}

/// What a write returns of the account: its new update time.
#[derive(Deserialize)]
struct Written {
    #[serde(default, rename = "_firestore_updated")]
    version: Option<FirestoreTimestamp>,
}

#[derive(Serialize, Deserialize)]
struct DisabledPatch {
    disabled: bool,
    updated_at: FirestoreTimestamp,
}

#[derive(Serialize, Deserialize)]
struct ClaimsPatch {
    claims: String,
    updated_at: FirestoreTimestamp,
}

/// What an account's first sign-in through the legacy verify hook writes: its new hash,
/// and the profile fields the hook sent.
#[derive(Serialize, Deserialize)]
struct MigrationPatch {
    #[serde(flatten)]
    password: PasswordPatch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claims: Option<String>,
}

/// The profile fields the legacy system sent with an account's first sign-in; `None`
/// leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct LegacyProfile {
    pub disabled: Option<bool>,
    pub email_verified: Option<bool>,
    pub claims: Option<Claims>,
}

/// The field a change of preferred language writes; absent, it is cleared.
#[derive(Serialize, Deserialize)]
struct LanguagePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

impl Store {
    /// Sets (or, with `None`, clears) the language an account keeps for the mails no request
    /// causes. It touches nothing else (not `updated_at`, so no sign-in is outdated by it);
    /// `false` when the account is gone.
    pub async fn write_language(&self, uid: &Uid, language: Option<&str>) -> Result<bool> {
        let patch = LanguagePatch {
            language: language.map(str::to_string),
        };
        let written = self
            .patch(
                uid,
                &["language"],
                &patch,
                FirestoreWritePrecondition::Exists(true),
            )
            .await?;
        Ok(written.is_some())
    }

    /// Replaces an account's legacy mark with its first own hash and the legacy system's
    /// profile fields, in one write, only if the account is still at `version`. Returns the
    /// new version, or `None`, having written nothing, when the account changed meanwhile.
    pub async fn migrate_from_legacy(
        &self,
        uid: &Uid,
        password: &StoredHash,
        profile: &LegacyProfile,
        version: Version,
        now: Timestamp,
    ) -> Result<Option<Version>> {
        let patch = MigrationPatch {
            password: PasswordPatch::new(password, now),
            disabled: profile.disabled,
            email_verified: profile.email_verified,
            claims: profile.claims.as_ref().map(|c| {
                if c.is_empty() {
                    String::new()
                } else {
                    c.to_json()
                }
            }),
        };
        let mut fields: Vec<&str> = PasswordPatch::FIELDS.to_vec();
        for (field, given) in [
            ("disabled", patch.disabled.is_some()),
            ("email_verified", patch.email_verified.is_some()),
            ("claims", patch.claims.is_some()),
        ] {
            if given {
                fields.push(field);
            }
        }
        let precondition = FirestoreWritePrecondition::UpdateTime(version.0);
        self.patch(uid, &fields, &patch, precondition).await
    }

    /// Replaces the password hash. With `version`, only if the account is still at that
    /// version (a concurrent change wins); without, whenever the account exists. Returns
    /// the account's version after the write, or `None`, having written nothing, when the
    /// condition does not hold.
    pub async fn replace_password(
        &self,
        uid: &Uid,
        password: &StoredHash,
        version: Option<Version>,
        now: Timestamp,
    ) -> Result<Option<Version>> {
        let patch = PasswordPatch::new(password, now);
        let precondition = match version {
            Some(v) => FirestoreWritePrecondition::UpdateTime(v.0),
            None => FirestoreWritePrecondition::Exists(true),
        };
        self.patch(uid, &PasswordPatch::FIELDS, &patch, precondition)
            .await
    }

    /// Marks the account's password as found in breaches at `at`. Leaves `updated_at` alone:
    /// a reset link mailed with the mark must stay valid. With `version`, only if the
    /// account is still at it; returns the new version, or `None` when it is not.
    pub async fn mark_breached(
        &self,
        uid: &Uid,
        at: Timestamp,
        version: Option<Version>,
    ) -> Result<Option<Version>> {
        let patch = BreachedPatch {
            breached: true,
            breached_at: FirestoreTimestamp(at),
        };
        let precondition = match version {
            Some(v) => FirestoreWritePrecondition::UpdateTime(v.0),
            None => FirestoreWritePrecondition::Exists(true),
        };
        self.patch(uid, &["breached", "breached_at"], &patch, precondition)
            .await
    }

    /// Sets or clears the disabled flag. Returns `false` when no such account exists.
    pub async fn set_disabled(&self, uid: &Uid, disabled: bool, now: Timestamp) -> Result<bool> {
        let patch = DisabledPatch {
            disabled,
            updated_at: FirestoreTimestamp(now),
        };
        let exists = FirestoreWritePrecondition::Exists(true);
        let written = self.patch(uid, &["disabled", "updated_at"], &patch, exists);
        Ok(written.await?.is_some())
    }

    /// Replaces the developer claims. Returns `false` when no such account exists.
    pub async fn set_claims(&self, uid: &Uid, claims: &Claims, now: Timestamp) -> Result<bool> {
        let patch = ClaimsPatch {
            claims: if claims.is_empty() {
                String::new()
            } else {
                claims.to_json()
            },
            updated_at: FirestoreTimestamp(now),
        };
        let exists = FirestoreWritePrecondition::Exists(true);
        let written = self.patch(uid, &["claims", "updated_at"], &patch, exists);
        Ok(written.await?.is_some())
    }

    /// Records what the Firebase Auth bridge wrote to the account's Firebase user. Leaves
    /// `updated_at` alone: this is bookkeeping, not a change of the account (a reset link
    /// issued before stays valid). With `version`, only if the account is still at it.
    /// Returns the account's version after the write, or `None` when the condition does not
    /// hold.
    pub async fn record_firebase(
        &self,
        uid: &Uid,
        state: &FirebaseState,
        version: Option<Version>,
    ) -> Result<Option<Version>> {
        let precondition = match version {
            Some(v) => FirestoreWritePrecondition::UpdateTime(v.0),
            None => FirestoreWritePrecondition::Exists(true),
        };
        self.patch(
            uid,
            &FirebaseDoc::FIELDS,
            &FirebaseDoc::new(state),
            precondition,
        )
        .await
    }

    /// Writes `fields` of `patch` to the account under `precondition`: the account's version
    /// after the write (Firestore's update time, which the write returns), or `None` when
    /// the precondition fails. The version lets the caller tell its own write from anyone
    /// else's.
    pub(super) async fn patch<T>(
        &self,
        uid: &Uid,
        fields: &[&str],
        patch: &T,
        precondition: FirestoreWritePrecondition,
    ) -> Result<Option<Version>>
    where
        T: Serialize + for<'de> Deserialize<'de> + Send + Sync,
    {
        let update = self
            .db
            .fluent()
            .update()
            .fields(fields.iter().copied())
            .in_col(&self.options.accounts_collection)
            .precondition(precondition)
            .return_only_fields(["uid"])
            .document_id(uid.as_str())
            .object(patch)
            .execute::<Written>();
        match self.within_deadline(update).await? {
            Ok(Written {
                version: Some(version),
            }) => Ok(Some(Version(version.0))),
            Ok(Written { version: None }) => Err(Error::storage(format!(
                "account document `{uid}`: Firestore returned no update time for a write"
            ))),
            Err(e) if is_precondition_failed(&e) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Deletes the account, every login-index entry pointing to it and the look-alike claims
    /// it holds, in one transaction, only if the account is still at `version` (and each
    /// claim as read). Returns `false` when something changed meanwhile.
    pub async fn delete_account(&self, account: &Account, version: Version) -> Result<bool> {
        let ids: Vec<String> = claims_of(account).into_iter().map(|(id, _)| id).collect();
        let held = self.claim_docs(ids).await?;
        let commit = async {
            let mut tx = self.db.begin_transaction().await?;
            tx.delete_by_id(
                &self.options.accounts_collection,
                account.uid.as_str(),
                Some(FirestoreWritePrecondition::UpdateTime(version.0)),
            )?;
            for login in account.logins() {
                tx.delete_by_id(&self.options.logins_collection, login_doc_id(login), None)?;
            }
            for (id, claim) in &held {
                // A claim of another account (this one predates claims) stays.
                if let (true, Some(at)) = (claim.uid == account.uid.as_str(), &claim.version) {
                    let precondition = FirestoreWritePrecondition::UpdateTime(at.0);
                    tx.delete_by_id(&self.options.logins_collection, id, Some(precondition))?;
                }
            }
            tx.commit().await
        };
        match self.within_deadline(commit).await? {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

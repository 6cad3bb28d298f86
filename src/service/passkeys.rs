//! Self-service passkeys for a caller proven by a Firebase ID token: register one (a
//! ceremony whose state waits server-side), list, rename and delete them, and turn passkeys
//! on or off as the account's second factor. Registration and deletion need a recent
//! sign-in, as factor changes do; the owner is mailed and the audit trail records each.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::info;
use webauthn_rs::prelude::{RegisterPublicKeyCredential, Uuid};

use super::factors::Event;
use super::{AccountRef, Caller, Service};
use crate::accounts::{Account, Uid};
use crate::factors::MfaMode;
use crate::passkeys::{self, Credential, Purpose, RelyingParty};
use crate::store::{Ceremony, StoredPasskeys};
use crate::{Error, Result};

/// Most passkeys one account keeps (every sign-in reads them all).
pub const MAX_PASSKEYS: usize = 32;

/// Longest name of a passkey, in characters.
const MAX_NAME_CHARS: usize = 64;

/// A ceremony begun: the id to send back with its finish, and the options for
/// `navigator.credentials.create()`/`get()` (`{"publicKey": …}`).
#[derive(Debug, serde::Serialize)]
pub struct CeremonyStart {
    pub ceremony: String,
    #[serde(flatten)]
    pub options: Value,
}

/// A passkey as its owner and admins see it (never the key).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub transports: Vec<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl From<&Credential> for PasskeyInfo {
    fn from(c: &Credential) -> Self {
        PasskeyInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            transports: c.transports.clone(),
            created_at: c.created_at,
            last_used_at: c.last_used_at,
        }
    }
}

/// What `GET /passkeys/` shows.
#[derive(Debug, serde::Serialize)]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyInfo>,
    /// Whether password sign-ins need a passkey as their second step.
    pub second_factor: bool,
}

impl Service {
    /// The relying party, or the answer that passkeys are off.
    pub(super) fn relying_party(&self) -> Result<&RelyingParty> {
        self.relying_party.as_ref().ok_or(Error::Disabled(
            "passkeys are off on this server: set --webauthn-rp-id and --webauthn-origin",
        ))
    }

    /// Stores a ceremony's state for `purpose` and returns the id the client sends back.
    pub(super) async fn begin_ceremony(
        &self,
        purpose: Purpose,
        uid: Option<&Uid>,
        state: String,
        subject: Option<String>,
        options: Value,
        now: Timestamp,
    ) -> Result<CeremonyStart> {
        let handle = crate::factors::MfaHandle::generate();
        let lifetime = self
            .relying_party()?
            .ceremony_lifetime
            .try_into()
            .unwrap_or(jiff::SignedDuration::from_mins(5));
        let ceremony = Ceremony {
            uid: uid.cloned(),
            state,
            subject,
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        };
        self.store
            .create_ceremony(&ceremony_id(handle.as_str()), purpose, &ceremony, now)
            .await?;
        Ok(CeremonyStart {
            ceremony: handle.as_str().to_string(),
            options,
        })
    }

    /// Takes a ceremony for its finish: single use, whatever the finish's outcome.
    pub(super) async fn take_ceremony(
        &self,
        ceremony: &str,
        purpose: Purpose,
        now: Timestamp,
    ) -> Result<Ceremony> {
        let stale = || {
            Error::invalid(
                "ceremony_invalid",
                "the passkey ceremony is unknown, expired or already finished; start again",
            )
        };
        if crate::factors::MfaHandle::parse(ceremony).is_none() {
            return Err(stale());
        }
        self.store
            .take_ceremony(&ceremony_id(ceremony), purpose, now)
            .await?
            .ok_or_else(stale)
    }

    /// Starts registering a passkey for the caller: creation options that exclude the
    /// passkeys it has.
    pub async fn start_passkey_registration(
        &self,
        caller: &Caller,
        now: Timestamp,
    ) -> Result<CeremonyStart> {
        self.changes_allowed(caller, now)?;
        let rp = self.relying_party()?;
        let account = &caller.account.account;
        let stored = self.store.passkeys_of(&account.uid).await?;
        if stored
            .as_ref()
            .is_some_and(|s| s.credentials.len() >= MAX_PASSKEYS)
        {
            return Err(too_many());
        }
        let handle = match &stored {
            Some(s) => Uuid::parse_str(&s.user_handle)
                .map_err(|e| Error::internal("a stored user handle is no UUID").caused_by(e))?,
            None => Uuid::new_v4(),
        };
        let exclude = stored
            .iter()
            .flat_map(|s| &s.credentials)
            .map(|c| c.passkey.cred_id().clone())
            .collect();
        let label = label(account);
        let (options, state) = rp
            .start_registration(handle, &label, &label, exclude)
            .map_err(|e| Error::internal("cannot make passkey creation options").caused_by(e))?;
        let options = serde_json::to_value(options)?;
        let subject = Some(handle.to_string());
        self.begin_ceremony(
            Purpose::Register,
            Some(&account.uid),
            state,
            subject,
            options,
            now,
        )
        .await
    }

    /// Finishes a registration with the authenticator's attestation: the passkey is stored
    /// (its credential id must be no other passkey's) under `name`.
    pub async fn finish_passkey_registration(
        self: &Arc<Self>,
        caller: &Caller,
        ceremony: &str,
        credential: Value,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<PasskeyInfo> {
        self.changes_allowed(caller, now)?;
        let rp = self.relying_party()?;
        let name = match name {
            Some(name) => checked_name(name)?,
            None => "Passkey".to_string(),
        };
        let account = &caller.account.account;
        let ceremony = self.take_ceremony(ceremony, Purpose::Register, now).await?;
        if ceremony.uid.as_ref() != Some(&account.uid) {
            return Err(Error::invalid(
                "ceremony_invalid",
                "the passkey ceremony was begun for another account; start again",
            ));
        }
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(credential).map_err(|e| {
                Error::invalid(
                    "invalid_credential",
                    "`credential` is not a WebAuthn registration response (send the \
                     PublicKeyCredential from navigator.credentials.create() as JSON)",
                )
                .caused_by(e)
            })?;
        let passkey = rp
            .finish_registration(&credential, &ceremony.state)
            .map_err(|e| {
                Error::invalid(
                    "passkey_refused",
                    "the authenticator's answer does not verify (origin, challenge or user \
                     verification); start again",
                )
                .caused_by(e)
            })?;
        let id = passkeys::credential_id_text(passkey.cred_id());
        if self.store.passkey_owner(None, &id).await?.is_some() {
            return Err(Error::invalid(
                "passkey_registered",
                "this passkey is registered already",
            ));
        }
        let before = self.store.passkeys_of(&account.uid).await?;
        let handle = ceremony.subject.unwrap_or_default();
        let mut after = before.unwrap_or(StoredPasskeys {
            user_handle: handle.clone(),
            credentials: Vec::new(),
            version: None,
        });
        if after.user_handle != handle || after.credentials.len() >= MAX_PASSKEYS {
            return Err(Error::Conflict);
        }
        let new = Credential {
            id,
            name,
            passkey,
            transports: passkeys::transports(&credential),
            created_at: now,
            last_used_at: None,
        };
        after.credentials.push(new.clone());
        if !self.store.add_passkey(&account.uid, &after, &new).await? {
            return Err(Error::Conflict);
        }
        info!(uid = %account.uid, "passkey registered");
        self.factor_event(account, Event::PasskeyAdded, now, "account", caller.lang);
        Ok(PasskeyInfo::from(&new))
    }

    /// The caller's passkeys.
    pub async fn list_passkeys(&self, caller: &Caller) -> Result<PasskeyList> {
        let account = &caller.account.account;
        let stored = self.store.passkeys_of(&account.uid).await?;
        Ok(PasskeyList {
            passkeys: stored
                .iter()
                .flat_map(|s| &s.credentials)
                .map(PasskeyInfo::from)
                .collect(),
            second_factor: account.factors.webauthn.is_some(),
        })
    }

    /// Renames one of the caller's passkeys.
    pub async fn rename_passkey(
        &self,
        caller: &Caller,
        id: &str,
        name: &str,
    ) -> Result<PasskeyInfo> {
        let name = checked_name(name)?;
        let uid = &caller.account.account.uid;
        let mut stored = self.owned(uid, id).await?;
        let credential = stored
            .credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| unknown_passkey(id))?;
        credential.name = name;
        let shown = PasskeyInfo::from(&*credential);
        if !self.store.write_passkeys(uid, &stored, None).await? {
            return Err(Error::Conflict);
        }
        Ok(shown)
    }

    /// Deletes one of the caller's passkeys. The last one goes only once passkeys are no
    /// longer the account's second factor (which the owner turns off with a recent sign-in).
    pub async fn delete_passkey(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.changes_allowed(caller, now)?;
        let account = &caller.account.account;
        let mut stored = self.owned(&account.uid, id).await?;
        if stored.credentials.len() == 1 && account.factors.webauthn.is_some() {
            return Err(Error::invalid(
                "last_passkey",
                "this is the account's last passkey and passkeys are its second factor: turn \
                 that off first (POST /passkeys/second-factor/ {\"enabled\": false})",
            ));
        }
        stored.credentials.retain(|c| c.id != id);
        if !self
            .store
            .write_passkeys(&account.uid, &stored, Some(id))
            .await?
        {
            return Err(Error::Conflict);
        }
        info!(uid = %account.uid, "passkey deleted");
        self.factor_event(account, Event::PasskeyRemoved, now, "account", caller.lang);
        Ok(())
    }

    /// Turns passkeys on or off as the caller's second factor. A recent sign-in is proof
    /// enough to turn it off: an account with the factor signs in only through it (or a
    /// passkey, itself).
    pub async fn set_passkey_second_factor(
        self: &Arc<Self>,
        caller: &Caller,
        enabled: bool,
        now: Timestamp,
    ) -> Result<bool> {
        self.changes_allowed(caller, now)?;
        let account = &caller.account.account;
        if enabled == account.factors.webauthn.is_some() {
            return Ok(enabled);
        }
        if enabled {
            self.relying_party()?;
            if self.factors.mode == MfaMode::Off {
                return Err(Error::Disabled(
                    "second factors are off on this server (--mfa off)",
                ));
            }
            if account.firebase.graduated_at.is_some() {
                return Err(Error::invalid(
                    "graduated_account",
                    "this account signs in with its Firebase Auth password, which would skip a \
                     second factor; an admin can move it back (see the book, \"Second factor\")",
                ));
            }
            let has = self.store.passkeys_of(&account.uid).await?;
            if has.is_none_or(|s| s.credentials.is_empty()) {
                return Err(Error::invalid(
                    "no_passkey",
                    "register a passkey first (POST /passkeys/register/start/)",
                ));
            }
        }
        let mut factors = account.factors.clone();
        factors.webauthn = enabled.then_some(now);
        factors.changed_at = Some(now);
        self.write_or_conflict(caller, &factors).await?;
        let event = if enabled {
            Event::PasskeySecondFactorOn
        } else {
            Event::PasskeySecondFactorOff
        };
        info!(uid = %account.uid, enabled, "passkeys as a second factor");
        self.factor_event(account, event, now, "account", caller.lang);
        Ok(enabled)
    }

    /// An account's passkeys (admins, `accounts passkeys list`).
    pub async fn account_passkeys(&self, target: &AccountRef) -> Result<(Uid, Vec<PasskeyInfo>)> {
        let found = self.find(target).await?;
        let stored = self.store.passkeys_of(&found.account.uid).await?;
        let list = stored
            .iter()
            .flat_map(|s| &s.credentials)
            .map(PasskeyInfo::from)
            .collect();
        Ok((found.account.uid, list))
    }

    /// Removes one of an account's passkeys (an admin, `by`): the owner is mailed, the
    /// audit trail records it, and removing the last one turns passkeys off as the
    /// account's second factor.
    pub async fn remove_account_passkey(
        self: &Arc<Self>,
        target: &AccountRef,
        id: &str,
        by: &str,
    ) -> Result<Uid> {
        let found = self.find(target).await?;
        let account = &found.account;
        let mut stored = self.owned(&account.uid, id).await?;
        stored.credentials.retain(|c| c.id != id);
        let now = Timestamp::now();
        if stored.credentials.is_empty() && account.factors.webauthn.is_some() {
            let mut factors = account.factors.clone();
            factors.webauthn = None;
            factors.changed_at = Some(now);
            self.store
                .write_factors(&account.uid, &factors, found.version)
                .await?
                .ok_or(Error::Conflict)?;
        }
        if !self
            .store
            .write_passkeys(&account.uid, &stored, Some(id))
            .await?
        {
            return Err(Error::Conflict);
        }
        info!(uid = %account.uid, by, "passkey removed by an admin");
        // Awaited: the CLI's runtime ends with this call.
        let _ = self
            .factor_event(account, Event::PasskeyRemoved, now, by, None)
            .await;
        Ok(account.uid.clone())
    }

    /// Accounts with at least one passkey.
    pub async fn passkey_account_count(&self) -> Result<u64> {
        self.store.count_passkey_accounts().await
    }

    /// The account's passkeys, which must hold `id`.
    async fn owned(&self, uid: &Uid, id: &str) -> Result<StoredPasskeys> {
        self.store
            .passkeys_of(uid)
            .await?
            .filter(|s| s.credentials.iter().any(|c| c.id == id))
            .ok_or_else(|| unknown_passkey(id))
    }
}

/// The stored id of a ceremony: the SHA-256 of the id the client holds.
fn ceremony_id(ceremony: &str) -> String {
    format!(
        "passkey-{}",
        hex::encode(Sha256::digest(ceremony.as_bytes()))
    )
}

/// What authenticators show as the account's name.
fn label(account: &Account) -> String {
    account
        .email
        .as_ref()
        .or(account.username.as_ref())
        .map(|l| l.to_string())
        .unwrap_or_else(|| account.uid.to_string())
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::invalid(
            "invalid_name",
            format!(
                "a passkey's name is 1 to {MAX_NAME_CHARS} characters, without control characters"
            ),
        ));
    }
    Ok(name.to_string())
}

fn unknown_passkey(id: &str) -> Error {
    let shown = if URL_SAFE_NO_PAD.decode(id).is_ok() && id.len() <= 1400 {
        id
    } else {
        "(not a credential id)"
    };
    Error::invalid(
        "unknown_passkey",
        format!("the account has no passkey `{shown}`"),
    )
}

fn too_many() -> Error {
    Error::invalid(
        "too_many_passkeys",
        format!("an account keeps at most {MAX_PASSKEYS} passkeys; delete one first"),
    )
}

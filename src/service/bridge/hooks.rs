//! Where the bridge meets the use cases: the authority check of a graduated account's
//! password, the write after a sign-in (only when the account is out of step), and the
//! writes after registration, password changes, disabling and deletion.

use jiff::Timestamp;
use tracing::{info, warn};

use super::{Bridge, BridgeMode, Change};
use crate::accounts::{Account, FirebaseState, Uid};
use crate::error::BridgeError;
use crate::passwords::{Password, Transform};
use crate::service::Service;
use crate::store::{StoredAccount, Version};
use crate::{Error, Result};

/// What a graduated account's authority check decided.
pub(in crate::service) enum Authority {
    /// firegate's own verdict stands.
    Local,
    /// Firebase Auth accepted the password (its `passwordUpdatedAt` then): firegate's hash
    /// must follow.
    Accepted(Option<i64>),
    /// Firebase Auth owns the password and refused it.
    Refused,
    /// Firebase Auth owns the password and cannot be asked: the sign-in waits for it
    /// (`503`), counted as no failure.
    Unavailable(BridgeError),
}

impl Service {
    /// Whether the bridge runs in graduate mode.
    pub fn graduates(&self) -> bool {
        self.bridge
            .as_ref()
            .is_some_and(|b| b.mode == BridgeMode::Graduate)
    }

    /// The bridge, or the error commands that need one give.
    pub(in crate::service) fn bridge_or_refuse(&self) -> Result<&Bridge> {
        self.bridge.as_ref().ok_or(Error::Disabled(
            "the Firebase Auth bridge is off: give --firebase-auth mirror or graduate \
             (FIREGATE_FIREBASE_AUTH)",
        ))
    }

    /// For a graduated account, whether `password` is its password now. When firegate's
    /// hash `matched` and the Firebase user's `passwordUpdatedAt` is the one firegate
    /// recorded, the local verdict stands (one lookup); otherwise Firebase checks the
    /// password. Firebase Auth owns the password, so when it cannot be asked the sign-in
    /// waits rather than trusting a copy that may be outdated.
    pub(in crate::service) async fn password_authority(
        &self,
        account: &Account,
        password: &Password,
        matched: bool,
    ) -> Authority {
        let Some(bridge) = self.bridge.as_ref() else {
            return Authority::Local;
        };
        let email = account
            .firebase
            .mirrored
            .as_ref()
            .and_then(|m| m.email.as_deref());
        let (false, BridgeMode::Graduate, Some(_), Some(email)) = (
            account.disabled,
            bridge.mode,
            account.firebase.graduated_at,
            email,
        ) else {
            return Authority::Local;
        };
        let uid = &account.uid;
        if matched {
            match bridge.client.lookup(uid.as_str()).await {
                Ok(Some(user)) if user.password_updated_at == account.firebase.password_at => {
                    return Authority::Local;
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    warn!(%uid, "graduated account has no Firebase user; firegate's hash decides");
                    return Authority::Local;
                }
                Err(e) => return Authority::Unavailable(e),
            }
        }
        match bridge
            .client
            .sign_in_with_password(email, password.expose())
            .await
        {
            Ok(Some(firebase_uid)) if firebase_uid == uid.as_str() => {
                match bridge.client.lookup(uid.as_str()).await {
                    Ok(user) => Authority::Accepted(user.and_then(|u| u.password_updated_at)),
                    Err(e) => Authority::Unavailable(e),
                }
            }
            Ok(_) => {
                info!(%uid, "Firebase Auth refused the password of a graduated account");
                Authority::Refused
            }
            Err(e) => Authority::Unavailable(e),
        }
    }

    /// After a successful sign-in: mirrors the account if Firebase is out of step, and in
    /// graduate mode graduates it, unless the password matched in a form other inputs share
    /// (`input`, a lossy legacy hash's): Firebase Auth would accept only the one typed, so
    /// the account stays with firegate. No call at all for an account in step. `checked` is the
    /// account as the password was checked against, at the version the sign-in's own writes
    /// (a hash upgrade, the Firebase password time) left it: the write uses the account as
    /// it is now and is skipped (and queued) if anyone else wrote it meanwhile, so a sign-in
    /// racing a password change or a disable never writes the older state, while its own
    /// upgrade does not stop the account graduating at this very sign-in.
    pub(in crate::service) async fn bridge_sign_in(
        &self,
        checked: &StoredAccount,
        password: &Password,
        input: Transform,
    ) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        let (version, checked) = (checked.version, &checked.account);
        let in_step = checked.firebase.mirrored.as_ref() == Some(&bridge.desired(checked));
        let graduate = bridge.mode == BridgeMode::Graduate
            && checked.firebase.graduated_at.is_none()
            && match bridge.cannot_graduate(checked, password, input) {
                Some(why) => {
                    if !in_step {
                        info!(uid = %checked.uid, reason = why, "account not graduated");
                    }
                    false
                }
                None => true,
            };
        if !graduate && in_step {
            return;
        }
        let uid = &checked.uid;
        let now = match self.store.find_by_uid(uid).await {
            Ok(Some(now)) if now.version == version => now,
            Ok(_) => {
                info!(%uid, "account changed during sign-in; Firebase write left to the queue");
                self.queue(uid, false, false, "changed during sign-in")
                    .await;
                return;
            }
            Err(e) => {
                warn!(%uid, error = %crate::error::chain(&e), "cannot read the account; Firebase write retried at the next sign-in");
                return;
            }
        };
        let change = Change {
            password: graduate.then_some(password),
            ..Change::default()
        };
        self.bridge_write(&now.account, change, Some(now.version), false)
            .await;
    }

    /// After an account changed in firegate (created, password set, disabled or enabled):
    /// writes the change to Firebase Auth, ending its sessions when `revoke`. A new
    /// `password` (known only at creation and password changes) graduates the account in
    /// graduate mode; one Firebase would refuse removes a graduated account's Firebase
    /// password instead, so the old one stops working there. Failures are queued.
    pub(in crate::service) async fn bridge_changed(
        &self,
        account: &Account,
        password: Option<&Password>,
        revoke: bool,
    ) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        let graduating = bridge.mode == BridgeMode::Graduate;
        let usable = password.filter(|p| {
            graduating
                && bridge
                    .cannot_graduate(account, p, Transform::None)
                    .is_none()
        });
        let change = Change {
            password: usable,
            revoke,
            drop_password: password.is_some()
                && usable.is_none()
                && account.firebase.graduated_at.is_some(),
        };
        self.bridge_write(account, change, None, true).await;
    }

    /// After an account was deleted: deletes its Firebase user (queued on failure).
    pub(in crate::service) async fn bridge_deleted(&self, uid: &Uid) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        match bridge.client.delete(uid.as_str()).await {
            Ok(_) => info!(%uid, "Firebase user deleted"),
            Err(e) => self.queue(uid, false, false, &e.to_string()).await,
        }
    }

    /// One write and its record (conditioned on `version` when given); on failure the
    /// account is queued (`queue_on_failure`) or left to its next sign-in.
    async fn bridge_write(
        &self,
        account: &Account,
        change: Change<'_>,
        version: Option<Version>,
        queue_on_failure: bool,
    ) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        let uid = &account.uid;
        match bridge.write(account, change, Timestamp::now()).await {
            Ok(state) => {
                let graduated =
                    state.graduated_at.is_some() && account.firebase.graduated_at.is_none();
                match self.store.record_firebase(uid, &state, version).await {
                    Ok(Some(_)) => {}
                    // Changed since read: the queue brings Firebase to the account as it is.
                    // A password just set may be one that change outdated, and the queue
                    // never sets passwords: it is removed, and the account graduates again
                    // at its next sign-in.
                    Ok(None) => {
                        let password_set = change.password.is_some();
                        self.queue(uid, false, password_set, "changed during the write")
                            .await;
                        return;
                    }
                    Err(e) => {
                        warn!(%uid, error = %crate::error::chain(&e), "cannot record the Firebase Auth state; rewritten later")
                    }
                }
                if graduated {
                    info!(%uid, "account graduated to Firebase Auth");
                } else {
                    info!(%uid, revoked = change.revoke, "Firebase user in step");
                }
            }
            Err(e) => {
                // A new password Firebase did not take: its copy is outdated, so the account
                // stops counting as graduated (its next sign-in graduates it again) and the
                // retry removes Firebase's password.
                let stale = (change.password.is_some() || change.drop_password)
                    && account.firebase.graduated_at.is_some();
                if stale {
                    let state = FirebaseState {
                        graduated_at: None,
                        password_at: None,
                        ..account.firebase.clone()
                    };
                    if let Err(e) = self.store.record_firebase(uid, &state, None).await {
                        warn!(%uid, error = %crate::error::chain(&e), "cannot record the Firebase Auth state");
                    }
                }
                if queue_on_failure || stale {
                    self.queue(uid, change.revoke, stale, &e.to_string()).await;
                } else {
                    warn!(%uid, error = %crate::error::chain(&e), "cannot write the Firebase user; retried at the next sign-in");
                }
            }
        }
    }

    pub(super) async fn queue(&self, uid: &Uid, revoke: bool, drop_password: bool, cause: &str) {
        warn!(%uid, cause, "Firebase user not written; queued for a retry");
        if let Err(e) = self
            .store
            .queue_firebase_sync(uid, revoke, drop_password, cause, Timestamp::now())
            .await
        {
            warn!(%uid, error = %crate::error::chain(&e), "cannot queue the Firebase Auth retry; `firegate firebase-auth sync` repairs it");
        }
    }
}

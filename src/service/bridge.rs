//! The Firebase Auth bridge (`--firebase-auth mirror|graduate`): the Firebase user with an
//! account's uid is kept in step with the account, and in graduate mode takes over its
//! password.
//!
//! The authority rule: before an account graduates, firegate owns its password and Firebase
//! Auth holds at most a copy of its email, name and disabled flag. From graduation on,
//! Firebase Auth owns the password: firegate keeps its own hash only as a cache, accepts it
//! only while the Firebase user's `passwordUpdatedAt` is the one firegate last saw, and
//! otherwise asks Firebase (`accounts:signInWithPassword`) and refreshes the cache.
//!
//! The bridge never fails a sign-in it is not the authority for: a write that fails is
//! logged and queued ([`crate::store::Store::queue_firebase_sync`]) and the sign-in goes on.
//! Only the authority check of a graduated account can refuse a password firegate's own hash
//! accepts.

use std::sync::Arc;

use jiff::Timestamp;
use tracing::{info, warn};

use super::Service;
use crate::accounts::{Account, FirebaseState, Mirrored, Uid};
use crate::error::BridgeError;
use crate::google::{IdentityOptions, IdentityToolkit, NewUser, UserUpdate};
use crate::passwords::Password;
use crate::{Error, Result};

/// Accounts read per page by `firebase-auth sync`.
const SYNC_PAGE: u32 = 300;

/// What `firegate firebase-auth sync` did (or, in a dry run, would do).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    /// Accounts read.
    pub checked: u64,
    /// Already in step: no call.
    pub in_step: u64,
    /// Written (a dry run: would be).
    pub written: u64,
    pub failed: u64,
    /// Queued retries done and failed before the walk.
    pub queue_done: u64,
    pub queue_failed: u64,
    /// The last uid walked: `--after` it resumes there.
    pub last_uid: Option<String>,
    pub first_error: Option<String>,
}

/// Firebase Auth refuses shorter passwords.
pub const FIREBASE_MIN_PASSWORD_CHARS: usize = 6;

/// What the bridge does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BridgeMode {
    /// Nothing is written to Firebase Auth.
    #[default]
    Off,
    /// Email, display name and disabled flag are kept in step; sessions end on password
    /// changes.
    Mirror,
    /// As mirror, and the password is set on the Firebase user after a successful check.
    Graduate,
}

/// The bridge's settings.
#[derive(Debug, Clone, Default)]
pub struct BridgeOptions {
    pub mode: BridgeMode,
    pub identity: IdentityOptions,
    /// Accounts with a username and no email get `username@<domain>` in Firebase Auth.
    pub graduate_email_domain: Option<String>,
}

/// The bridge of a running service.
#[derive(Debug)]
pub(super) struct Bridge {
    mode: BridgeMode,
    client: IdentityToolkit,
    domain: Option<String>,
}

impl Bridge {
    /// `None` when the mode is off.
    pub(super) fn new(options: BridgeOptions, project: &str) -> Result<Option<Bridge>> {
        if options.mode == BridgeMode::Off {
            return Ok(None);
        }
        Ok(Some(Bridge {
            mode: options.mode,
            client: IdentityToolkit::new(project, &options.identity)?,
            domain: options.graduate_email_domain,
        }))
    }

    pub(super) fn mode(&self) -> BridgeMode {
        self.mode
    }

    pub(super) fn client(&self) -> &IdentityToolkit {
        &self.client
    }

    /// What the Firebase user should hold for `account`.
    pub(super) fn desired(&self, account: &Account) -> Mirrored {
        let email = match (&account.email, &account.username, &self.domain) {
            (Some(email), _, _) => Some(email.to_string().to_lowercase()),
            (None, Some(name), Some(domain)) => Some(format!("{name}@{domain}").to_lowercase()),
            _ => None,
        };
        Mirrored {
            email,
            display_name: account.username.as_ref().map(ToString::to_string),
            disabled: account.disabled,
        }
    }

    /// Why `account` cannot graduate with `password`, if it cannot.
    fn cannot_graduate(&self, account: &Account, password: &Password) -> Option<&'static str> {
        if self.desired(account).email.is_none() {
            Some("no email (set --graduate-email-domain to give usernames one)")
        } else if password.expose().chars().count() < FIREBASE_MIN_PASSWORD_CHARS {
            Some("password shorter than the 6 characters Firebase Auth accepts")
        } else {
            None
        }
    }

    /// Brings the Firebase user into step with `account`: created when firegate never wrote
    /// it (or it was deleted), updated otherwise; with `password`, that password is set (the
    /// account graduates); with `revoke`, its sessions end. Returns the state to record.
    async fn write(
        &self,
        account: &Account,
        password: Option<&Password>,
        revoke: bool,
        now: Timestamp,
    ) -> Result<FirebaseState, BridgeError> {
        let mut desired = self.desired(account);
        let uid = account.uid.as_str();
        let password = password.map(Password::expose);
        let mut created = false;
        if account.firebase.mirrored.is_none() {
            created = self.create(uid, &mut desired, password).await?;
        }
        if !created {
            let before = account.firebase.mirrored.as_ref();
            // An unchanged email is not sent: changing one ends the user's sessions.
            let email = desired
                .email
                .clone()
                .filter(|e| before.and_then(|m| m.email.as_ref()) != Some(e));
            let display_name = desired.display_name.clone();
            let remove_name =
                display_name.is_none() && before.is_some_and(|m| m.display_name.is_some());
            let update = UserUpdate {
                local_id: uid,
                email: email.as_deref(),
                display_name: display_name.as_deref(),
                disable_user: Some(desired.disabled),
                password,
                valid_since: revoke.then(|| now.as_second().to_string()),
                delete_attribute: if remove_name {
                    vec!["DISPLAY_NAME"]
                } else {
                    Vec::new()
                },
                ..UserUpdate::default()
            };
            match self.client.update(&update).await {
                Ok(()) => {}
                Err(e) if e.code() == Some("USER_NOT_FOUND") => {
                    self.create(uid, &mut desired, password).await?;
                }
                Err(e) if e.code() == Some("EMAIL_EXISTS") => {
                    warn!(%uid, "the email belongs to another Firebase user; mirrored without it");
                    let update = UserUpdate {
                        email: None,
                        password: None,
                        ..update
                    };
                    self.client.update(&update).await?;
                    desired.email = before.and_then(|m| m.email.clone());
                }
                Err(e) => return Err(e),
            }
        }
        let mut state = account.firebase.clone();
        let graduated = password.is_some() && desired.email.is_some();
        state.mirrored = Some(desired);
        if graduated {
            state.graduated_at = state.graduated_at.or(Some(now));
            state.password_at = self
                .client
                .lookup(uid)
                .await?
                .and_then(|u| u.password_updated_at);
        }
        Ok(state)
    }

    /// Creates the user; `false` when it exists already. An email another Firebase user
    /// holds is left out (and no password is set without it).
    async fn create(
        &self,
        uid: &str,
        desired: &mut Mirrored,
        password: Option<&str>,
    ) -> Result<bool, BridgeError> {
        let email = desired.email.clone();
        let first = NewUser {
            local_id: uid,
            email: email.as_deref(),
            display_name: desired.display_name.as_deref(),
            disabled: desired.disabled,
            password: password.filter(|_| email.is_some()),
            ..NewUser::default()
        };
        match self.client.create(&first).await {
            Ok(()) => Ok(true),
            Err(e) if e.code() == Some("DUPLICATE_LOCAL_ID") => Ok(false),
            Err(e) if e.code() == Some("EMAIL_EXISTS") => {
                warn!(%uid, "the email belongs to another Firebase user; mirrored without it");
                let user = NewUser {
                    email: None,
                    password: None,
                    ..first
                };
                self.client.create(&user).await?;
                desired.email = None;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }
}

/// What a graduated account's authority check decided.
pub(super) enum Authority {
    /// firegate's own verdict stands.
    Local,
    /// Firebase Auth accepted the password (its `passwordUpdatedAt` then): the local hash
    /// must be refreshed.
    Accepted(Option<i64>),
    /// Firebase Auth owns the password and refused it.
    Refused,
}

impl Service {
    /// Whether the bridge runs in graduate mode.
    pub fn graduates(&self) -> bool {
        self.bridge
            .as_ref()
            .is_some_and(|b| b.mode == BridgeMode::Graduate)
    }

    /// For a graduated account, asks Firebase Auth whether `password` is the account's
    /// password now: when firegate's hash `matched` and Firebase's `passwordUpdatedAt` is
    /// the one firegate last saw, the local verdict stands with no further call; otherwise
    /// Firebase checks the password. Firebase unreachable: the local verdict stands.
    pub(super) async fn password_authority(
        &self,
        account: &Account,
        password: &Password,
        matched: bool,
    ) -> Authority {
        let Some(bridge) = self.bridge.as_ref() else {
            return Authority::Local;
        };
        let graduated_email = account
            .firebase
            .mirrored
            .as_ref()
            .and_then(|m| m.email.as_deref());
        let (true, BridgeMode::Graduate, Some(_), Some(email)) = (
            !account.disabled,
            bridge.mode,
            account.firebase.graduated_at,
            graduated_email,
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
                Err(e) => {
                    warn!(%uid, error = %e, "cannot reach Firebase Auth; firegate's hash decides");
                    return Authority::Local;
                }
            }
        }
        match bridge
            .client
            .sign_in_with_password(email, password.expose())
            .await
        {
            Ok(Some(firebase_uid)) if firebase_uid == uid.as_str() => {
                let at = bridge
                    .client
                    .lookup(uid.as_str())
                    .await
                    .ok()
                    .flatten()
                    .and_then(|u| u.password_updated_at);
                Authority::Accepted(at)
            }
            Ok(_) => {
                info!(%uid, "Firebase Auth refused the password of a graduated account");
                Authority::Refused
            }
            Err(e) => {
                warn!(%uid, error = %e, "cannot check the password with Firebase Auth; firegate's hash decides");
                Authority::Local
            }
        }
    }

    /// After a successful sign-in: mirrors the account if Firebase is out of step, and in
    /// graduate mode graduates it. No call at all for an account already in step.
    pub(super) async fn bridge_sign_in(&self, account: &Account, password: &Password) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        let in_step = account.firebase.mirrored.as_ref() == Some(&bridge.desired(account));
        let graduate = bridge.mode == BridgeMode::Graduate
            && account.firebase.graduated_at.is_none()
            && match bridge.cannot_graduate(account, password) {
                Some(why) => {
                    if !in_step {
                        info!(uid = %account.uid, reason = why, "account not graduated");
                    }
                    false
                }
                None => true,
            };
        if !graduate && in_step {
            return;
        }
        self.bridge_write(account, graduate.then_some(password), false, false)
            .await;
    }

    /// After an account changed in firegate (created, password set, disabled or enabled):
    /// writes the change to Firebase Auth, ending its sessions when `revoke`. A new
    /// `password` (known only at creation and password changes) graduates the account in
    /// graduate mode. Failures are queued.
    pub(super) async fn bridge_changed(
        &self,
        account: &Account,
        password: Option<&Password>,
        revoke: bool,
    ) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        let password = password.filter(|p| {
            bridge.mode == BridgeMode::Graduate && bridge.cannot_graduate(account, p).is_none()
        });
        self.bridge_write(account, password, revoke, true).await;
    }

    /// After an account was deleted: deletes its Firebase user (queued on failure).
    pub(super) async fn bridge_deleted(&self, uid: &Uid) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        match bridge.client.delete(uid.as_str()).await {
            Ok(_) => info!(%uid, "Firebase user deleted"),
            Err(e) => self.queue(uid, false, &e).await,
        }
    }

    async fn bridge_write(
        &self,
        account: &Account,
        password: Option<&Password>,
        revoke: bool,
        queue_on_failure: bool,
    ) {
        let Some(bridge) = self.bridge.as_ref() else {
            return;
        };
        let uid = &account.uid;
        let now = Timestamp::now();
        match bridge.write(account, password, revoke, now).await {
            Ok(state) => {
                let graduated =
                    state.graduated_at.is_some() && account.firebase.graduated_at.is_none();
                if let Err(e) = self.store.record_firebase(uid, &state).await {
                    warn!(%uid, error = %e, "cannot record the Firebase Auth state; rewritten later");
                }
                if graduated {
                    info!(%uid, "account graduated to Firebase Auth");
                } else {
                    info!(%uid, revoked = revoke, "Firebase user in step");
                }
            }
            Err(e) => {
                // A password change Firebase did not take: Firebase still has the old one, so
                // the account graduates again (with the new one) at its next sign-in.
                if password.is_some() && account.firebase.graduated_at.is_some() {
                    let state = FirebaseState {
                        graduated_at: None,
                        password_at: None,
                        ..account.firebase.clone()
                    };
                    if let Err(e) = self.store.record_firebase(uid, &state).await {
                        warn!(%uid, error = %e, "cannot record the Firebase Auth state");
                    }
                }
                if queue_on_failure {
                    self.queue(uid, revoke, &e).await;
                } else {
                    warn!(%uid, error = %e, "cannot write the Firebase user; retried at the next sign-in");
                }
            }
        }
    }

    async fn queue(&self, uid: &Uid, revoke: bool, cause: &BridgeError) {
        warn!(%uid, error = %cause, "cannot write the Firebase user; queued for a retry");
        if let Err(e) = self
            .store
            .queue_firebase_sync(uid, revoke, &cause.to_string(), Timestamp::now())
            .await
        {
            warn!(%uid, error = %e, "cannot queue the Firebase Auth retry; `firegate firebase-auth sync` repairs it");
        }
    }

    /// Retries the queued Firebase Auth writes (up to `limit`): each account is brought into
    /// step as it is now, or its Firebase user deleted when it is gone. Returns (done,
    /// failed).
    pub async fn drain_firebase_queue(&self, limit: u32) -> Result<(u64, u64)> {
        let Some(bridge) = self.bridge.as_ref() else {
            return Ok((0, 0));
        };
        let (mut done, mut failed) = (0, 0);
        for entry in self.store.queued_firebase_syncs(limit).await? {
            let uid = &entry.uid;
            let result = match self.store.find_by_uid(uid).await? {
                None => bridge.client.delete(uid.as_str()).await.map(drop),
                Some(found) => {
                    match bridge
                        .write(&found.account, None, entry.revoke, Timestamp::now())
                        .await
                    {
                        Ok(state) => {
                            self.store.record_firebase(uid, &state).await?;
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match result {
                Ok(()) => {
                    done += 1;
                    self.store.forget_firebase_sync(&entry).await?;
                }
                Err(e) => {
                    failed += 1;
                    warn!(%uid, error = %e, "queued Firebase Auth write failed again");
                }
            }
        }
        Ok((done, failed))
    }

    /// Retries queued writes every `every`, forever (started by `serve` with the bridge on).
    pub async fn keep_firebase_in_step(self: Arc<Self>, every: std::time::Duration) {
        if self.bridge.is_none() {
            return;
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.drain_firebase_queue(100).await {
                Ok((0, 0)) => {}
                Ok((done, failed)) => info!(done, failed, "retried queued Firebase Auth writes"),
                Err(e) => warn!(error = %e, "cannot read the Firebase Auth retry queue"),
            }
        }
    }

    /// `firegate firebase-auth sync`: drains the retry queue, then walks every account in uid
    /// order (after `after`) and writes the Firebase user of each one out of step, at most
    /// `concurrency` at a time. An account in step costs no Firebase call, so a second run
    /// resumes where the first stopped. `progress` sees the report after every page. With
    /// `dry_run` nothing is written.
    pub async fn sync_firebase_auth(
        &self,
        dry_run: bool,
        after: Option<Uid>,
        concurrency: usize,
        progress: impl Fn(&SyncReport),
    ) -> Result<SyncReport> {
        use futures::StreamExt;
        let bridge = self.bridge_or_refuse()?;
        let mut report = SyncReport::default();
        if !dry_run {
            let (done, failed) = self.drain_firebase_queue(1000).await?;
            report.queue_done = done;
            report.queue_failed = failed;
        }
        let mut after = after;
        loop {
            let page = self
                .store
                .list_accounts(&Default::default(), SYNC_PAGE, after.as_ref())
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.account.uid.clone());
            let outcomes: Vec<Result<bool, BridgeError>> = futures::stream::iter(&page)
                .map(|found| async move {
                    let account = &found.account;
                    if account.firebase.mirrored.as_ref() == Some(&bridge.desired(account)) {
                        return Ok(false);
                    }
                    if dry_run {
                        return Ok(true);
                    }
                    let state = bridge.write(account, None, false, Timestamp::now()).await?;
                    if let Err(e) = self.store.record_firebase(&account.uid, &state).await {
                        warn!(uid = %account.uid, error = %e, "cannot record the Firebase Auth state");
                    }
                    Ok(true)
                })
                .buffered(concurrency.max(1))
                .collect()
                .await;
            for (found, outcome) in page.iter().zip(outcomes) {
                report.checked += 1;
                match outcome {
                    Ok(false) => report.in_step += 1,
                    Ok(true) => report.written += 1,
                    Err(e) => {
                        report.failed += 1;
                        warn!(uid = %found.account.uid, error = %e, "cannot write the Firebase user");
                        if report.first_error.is_none() {
                            report.first_error = Some(e.to_string());
                        }
                    }
                }
            }
            report.last_uid = after.as_ref().map(ToString::to_string);
            progress(&report);
            if page.len() < SYNC_PAGE as usize {
                break;
            }
        }
        Ok(report)
    }

    /// The bridge, or the error commands that need one give.
    pub(super) fn bridge_or_refuse(&self) -> Result<&Bridge> {
        self.bridge.as_ref().ok_or(Error::Disabled(
            "the Firebase Auth bridge is off: give --firebase-auth mirror or graduate \
             (FIREGATE_FIREBASE_AUTH)",
        ))
    }
}

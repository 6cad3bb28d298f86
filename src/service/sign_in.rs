//! Signing in: the lockout check, the password check (upgrading outdated hashes), the failure
//! floor, and the token. The check and its bookkeeping run in a task of their own, so a
//! client that disconnects, or a request cut by its deadline, still has its failure counted
//! (the hash cannot be cancelled anyway).

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tracing::{info, warn};

use super::bridge::Authority;
use super::{AccountRef, Service, SignInOutcome, SignedIn, Unlocked};
use crate::accounts::{Account, Uid};
use crate::breached::AtSignIn;
use crate::client_network::ClientNetwork;
use crate::custom_token::TokenRequest;
use crate::lockout::{Admission, AfterSuccess, Channel, LockoutKey, LockoutState, Slot};
use crate::login::Login;
use crate::messages::Asked;
use crate::passwords::{Password, Transform, Verdict};
use crate::store::StoredAccount;
use crate::{Error, Result};

impl Service {
    /// Checks a login and password and mints a custom token. Every failure — unknown login,
    /// wrong password, disabled account, unusable hash — is [`Error::InvalidCredentials`],
    /// costs the same password-hashing work and takes at least the failure floor. Each
    /// attempt logs one `sign-in` line with its outcome. `client` is the network the request
    /// came from, which decides the lockout count it is checked against; `asked`, the language
    /// and time zone the request names, which a mail it causes speaks (else the account's).
    pub async fn sign_in(
        self: &Arc<Self>,
        login: &str,
        password: &Password,
        client: Option<ClientNetwork>,
        asked: Asked,
        now: Timestamp,
    ) -> Result<SignInOutcome> {
        let started = Instant::now();
        let result = match self.admit() {
            Ok(admitted) => self
                .authenticate(admitted, login, password, client, now, Some(now))
                .await
                .map(|(checked, _admitted)| checked),
            Err(e) => Err(e),
        };
        // Minted after the check's admission is released: with IAM Credentials this is a
        // network call, which must not hold a hashing slot.
        // With --require-verified-email, an unverified registration is refused like a wrong
        // password (after the same work; not counted, so the owner is never locked out).
        let result = match result {
            Ok(Checked { found, .. })
                if self.policy.require_verified_email
                    && found.account.email_verified == Some(false) =>
            {
                // The owner (perhaps an imported account that never got a link) gets one,
                // within the account's hourly mail allowance.
                // In the sign-in request's language, else the account's.
                let reader = asked.reader(self.messages(), found.account.language.as_deref());
                self.mail_verification(found.account.clone(), reader, now);
                Err(refuse(Some(&found.account.uid), "unverified_email"))
            }
            other => other,
        };
        // A second factor: no token, no bridge, nothing cleared until the second step.
        let result = match result {
            Ok(checked) if self.second_factor_required(&checked.found.account) => {
                return self
                    .challenge(&checked.found, now)
                    .await
                    .map(SignInOutcome::SecondFactor);
            }
            other => other,
        };
        // Before the token: a client's signInWithCustomToken then finds the Firebase user
        // already holding the email (and the password, in graduate mode).
        if let Ok(checked) = &result {
            self.bridge_sign_in(&checked.found, password, checked.input)
                .await;
        }
        let result = match result {
            Ok(Checked { found, .. }) => match self.mint(&found.account, now).await {
                Ok(token) => {
                    info!(uid = %found.account.uid, outcome = "success", "sign-in");
                    Ok(SignedIn {
                        uid: found.account.uid,
                        token,
                    })
                }
                Err(e) => {
                    info!(uid = %found.account.uid, outcome = "error", reason = "signer_unavailable", "sign-in");
                    Err(e)
                }
            },
            Err(e) => Err(e),
        };
        match &result {
            Err(Error::Overloaded) => info!(outcome = "shed", reason = "overloaded", "sign-in"),
            Err(Error::Unavailable { .. }) => {
                info!(outcome = "error", reason = "store_unavailable", "sign-in")
            }
            Err(Error::Legacy(_)) => {
                info!(outcome = "error", reason = "legacy_unavailable", "sign-in")
            }
            _ => {}
        }
        self.pad_failure(&result, started).await;
        result.map(SignInOutcome::SignedIn)
    }

    /// Verifies credentials and returns the account as read (with the form the password
    /// matched in), and the admission it was checked under. A locked account (or unknown
    /// login) is refused without any password check; failures are counted and a success
    /// forgets them. With `upgrade_at`, an outdated hash is replaced on success. The
    /// returned version is the one the check's own writes left (the one read when it wrote
    /// nothing), so any other write since shows as a new version.
    ///
    /// Two Firestore round trips whether or not the login exists: the login index, then the
    /// account and its failure record together (or the unknown login's failure record).
    pub(super) async fn authenticate(
        self: &Arc<Self>,
        admitted: OwnedSemaphorePermit,
        login: &str,
        password: &Password,
        client: Option<ClientNetwork>,
        now: Timestamp,
        upgrade_at: Option<Timestamp>,
    ) -> Result<(Checked, OwnedSemaphorePermit)> {
        let candidates = Login::candidates(login, self.policy.legacy_domain.as_deref())?;
        self.passwords.prepare();
        let (uid, read) = self.resolve(&candidates).await?;
        let key = lockout_key(uid.as_deref(), &candidates[0]);
        let guarded = self.policy.lockout.threshold > 0;
        // Before the record is read, so a failure counted after the read is noticed.
        let mut watch = guarded.then(|| self.checks_in_flight.watch(key.doc_id()));
        let (found, state) = tokio::join!(
            async {
                match (read, &uid) {
                    (Some(found), _) => Ok(found),
                    (None, Some(uid)) => self.store.find_by_uid_str(uid).await,
                    (None, None) => Ok(None),
                }
            },
            async {
                if guarded {
                    self.store.lockout_state(&key).await
                } else {
                    Ok(LockoutState::default())
                }
            }
        );
        let (found, mut state) = (found?, state?);
        let mut admission = None;
        let mut channel = Channel::Unfamiliar;
        if let Some(watch) = watch.as_mut() {
            let uid = found.as_ref().map(|f| &f.account.uid);
            let (admitted_channel, slot) = self
                .guard(watch, &key, &mut state, client, now, uid)
                .await?;
            channel = admitted_channel;
            admission = Some(slot);
        }
        drop(watch);
        // A sign-in the hook answers gives its place back while the hook is asked; how many
        // may do so at once is bounded, so the queue for the place again is too. Taken once
        // the lockout admitted the attempt, so attempts it holds back take none.
        let entry = match &self.legacy {
            Some(hook) if self.asks_legacy(found.as_ref()) => {
                Some(hook.enter().ok_or(Error::Overloaded)?)
            }
            _ => None,
        };
        let check = Check {
            key,
            channel,
            state,
            client,
            now,
            slot: admission,
        };
        let service = self.clone();
        let password = password.clone();
        let (login, typed) = (login.to_string(), candidates[0].clone());
        let task = tokio::spawn(async move {
            if let Some(entry) = entry {
                // The legacy system's latency must not hold a place among the password
                // checks: the place is given back for the call (which has its own bound)
                // and taken again, waiting, for what follows the check.
                drop(admitted);
                let result = match found {
                    Some(found) => {
                        service
                            .check_with_legacy(found, &login, &password, now, upgrade_at.is_some())
                            .await
                    }
                    None => {
                        service
                            .create_from_legacy(&login, &typed, &password, now)
                            .await
                    }
                };
                if guarded {
                    service.settle(check, &result).await;
                }
                let checked = result?;
                let admitted = service.admissions.clone().acquire_owned().await;
                let admitted =
                    admitted.map_err(|_| Error::internal("the sign-in admissions are closed"))?;
                drop(entry);
                return Ok((checked, admitted));
            }
            let result = service.check_password(found, &password, upgrade_at).await;
            if guarded {
                service.settle(check, &result).await;
            }
            result.map(|checked| (checked, admitted))
        });
        let result = match task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Task(e)),
        };
        match (result, &self.legacy) {
            (Err(Error::InvalidCredentials), Some(hook)) if hook.is_down() => {
                Err(Error::Legacy(hook.down()))
            }
            (result, _) => result,
        }
    }

    /// The uid a sign-in means, from every login its text may stand for. When they name
    /// different accounts (a legacy-domain alias and an email, or an old login stored
    /// unnormalised), the account created first is the one: a newer account never shadows
    /// an older one's login. Only then are the accounts read here (returned as well).
    pub(super) async fn resolve(
        &self,
        candidates: &[Login],
    ) -> Result<(Option<String>, Option<Option<StoredAccount>>)> {
        let mut uids: Vec<String> = Vec::new();
        for uid in self
            .store
            .uids_for_logins(candidates)
            .await?
            .into_iter()
            .flatten()
        {
            if !uids.contains(&uid) {
                uids.push(uid);
            }
        }
        if uids.len() < 2 {
            return Ok((uids.pop(), None));
        }
        let reads = uids.iter().map(|uid| self.store.find_by_uid_str(uid));
        let accounts = futures::future::try_join_all(reads).await?;
        let oldest = accounts.into_iter().flatten().min_by(|a, b| {
            (a.account.created_at, a.account.uid.as_str())
                .cmp(&(b.account.created_at, b.account.uid.as_str()))
        });
        warn!(
            uids = ?uids,
            chosen = ?oldest.as_ref().map(|f| f.account.uid.as_str()),
            "a login names several accounts; the oldest signs in (resolve with `firegate accounts`)"
        );
        Ok((
            oldest.as_ref().map(|f| f.account.uid.to_string()),
            Some(oldest),
        ))
    }

    /// The password check proper, on an account that may not exist. For a graduated
    /// account Firebase Auth has the last word ([`Service::password_authority`]).
    async fn check_password(
        self: &Arc<Self>,
        found: Option<StoredAccount>,
        password: &Password,
        upgrade_at: Option<Timestamp>,
    ) -> Result<Checked> {
        let stored = found.as_ref().map(|f| &f.account.password);
        let verdict = self.passwords.verify(stored, password).await?;
        let Some(mut found) = found else {
            return Err(refuse(None, "unknown_login"));
        };
        let uid = Some(&found.account.uid);
        let (matched, rehash, input, failure) = match verdict {
            Verdict::Match { .. } if found.account.disabled => {
                return Err(refuse(uid, "disabled"));
            }
            Verdict::Match { rehash, input } => (true, rehash, input, ""),
            Verdict::Unusable(problem) => {
                warn!(uid = ?uid, %problem, "stored password hash cannot be used");
                (false, false, Transform::None, "unusable_hash")
            }
            Verdict::Mismatch => (false, false, Transform::None, "wrong_password"),
        };
        match self
            .password_authority(&found.account, password, matched)
            .await
        {
            Authority::Local if matched => {
                // A legacy hash's first sign-in sees the password in the clear: the breach
                // lookup comes first, then the upgrade, then (after any second factor)
                // graduation.
                let legacy = rehash && found.account.password.scheme_name() != "argon2id";
                let breached = match upgrade_at {
                    Some(_) if legacy => self.breached_at_sign_in(password).await,
                    // Under `reset`, a password once found in breaches signs in with nothing
                    // until it is changed (a new password clears the mark), whichever path
                    // stored it: an account the verify hook created holds its own hash of it.
                    Some(_) => {
                        self.at_sign_in == AtSignIn::Reset && found.account.breached_at.is_some()
                    }
                    None => false,
                };
                if breached && self.at_sign_in == AtSignIn::Reset {
                    let now = upgrade_at.unwrap_or_else(Timestamp::now);
                    self.act_on_breached(&mut found, now).await?;
                }
                if rehash && let Some(now) = upgrade_at {
                    self.replace_checked_hash(&mut found, password, now, Replace::Upgrade(input))
                        .await;
                }
                if breached && let Some(now) = upgrade_at {
                    self.act_on_breached(&mut found, now).await?;
                }
                Ok(Checked { found, input })
            }
            Authority::Local => Err(refuse(uid, failure)),
            Authority::Refused => Err(refuse(uid, "firebase_refused")),
            Authority::Unavailable(e) => {
                info!(uid = %found.account.uid, outcome = "error", reason = "firebase_unavailable", "sign-in");
                Err(Error::Bridge(e))
            }
            Authority::Accepted(password_at) => {
                // The password changed inside Firebase Auth: firegate's copy follows, and the
                // new time is recorded only with it (else the old copy would pass as current).
                let followed = matched
                    || self
                        .replace_checked_hash(
                            &mut found,
                            password,
                            Timestamp::now(),
                            Replace::FollowFirebase,
                        )
                        .await;
                if followed {
                    let mut state = found.account.firebase.clone();
                    state.password_at = password_at;
                    // Conditioned, so the version kept is the check's own: a change made
                    // meanwhile stays visible to what follows the check.
                    match self
                        .store
                        .record_firebase(&found.account.uid, &state, Some(found.version))
                        .await
                    {
                        Ok(Some(version)) => {
                            found.account.firebase = state;
                            found.version = version;
                        }
                        Ok(None) => {
                            info!(uid = %found.account.uid, "account changed during sign-in; the Firebase password time is recorded at a later sign-in")
                        }
                        Err(e) => {
                            warn!(uid = %found.account.uid, error = %crate::error::chain(&e), "cannot record the Firebase password time")
                        }
                    }
                }
                // Firebase Auth's own check is exact: only a local match can have other forms.
                let input = if matched { input } else { Transform::None };
                Ok(Checked { found, input })
            }
        }
    }

    /// Waits for a place among the checks running for `key`'s channel, re-reading `state`
    /// when a failure was counted meanwhile; a key whose channel allows no more checks is
    /// refused as a wrong credential would be. `uid` names the account in the log line.
    pub(super) async fn guard(
        &self,
        watch: &mut crate::lockout::Watch,
        key: &LockoutKey,
        state: &mut LockoutState,
        client: Option<ClientNetwork>,
        now: Timestamp,
        uid: Option<&Uid>,
    ) -> Result<(Channel, Slot)> {
        loop {
            let channel = self.policy.lockout.channel(key, state, client, now);
            let allowed = self
                .policy
                .lockout
                .checks_allowed(state.record(&channel), now);
            if allowed == 0 {
                return Err(refuse(uid, "locked"));
            }
            match watch.admit(channel.name(), allowed) {
                Admission::Admitted(slot) => return Ok((channel, slot)),
                // A failure was counted meanwhile: the record read is out of date.
                Admission::Stale => *state = self.store.lockout_state(key).await?,
                Admission::Busy(finished) => finished.await,
            }
        }
    }

    /// Counts a failed check, or records a success, then frees the check's place. A
    /// correct password of an account with a second factor clears nothing: the failure
    /// count and the familiar network wait for the second step, or a holder of the
    /// password would get unlimited code guesses.
    async fn settle(&self, mut check: Check, result: &Result<Checked>) {
        match result {
            Err(Error::InvalidCredentials) => {
                self.count_failure(&check.key, &check.channel, &check.state, check.now)
                    .await;
                if let Some(slot) = check.slot.as_mut() {
                    slot.counted_failure();
                }
            }
            Ok(checked) if self.second_factor_required(&checked.found.account) => {}
            Ok(_) => {
                self.record_success(
                    &check.key,
                    &check.state,
                    &check.channel,
                    check.client,
                    check.now,
                )
                .await;
            }
            Err(_) => {}
        }
    }

    /// Counts one more failure of `channel`; a record past its quiet period starts over.
    pub(super) async fn count_failure(
        &self,
        key: &LockoutKey,
        channel: &Channel,
        state: &LockoutState,
        now: Timestamp,
    ) {
        let (restart, failures) = self
            .policy
            .lockout
            .after_failure(state.record(channel), now);
        let expire_at = self.policy.lockout.expiry(state, now, false);
        if failures == self.policy.lockout.threshold {
            warn!(
                login_locked = true,
                failures,
                familiar_network = matches!(channel, Channel::Familiar(_)),
                "login locked after repeated failures"
            );
        }
        if let Err(e) = self
            .store
            .record_failure(key, channel, restart, now, expire_at)
            .await
        {
            warn!(error = %crate::error::chain(&e), "cannot record a failed sign-in");
        }
    }

    /// After a successful check: the client's network becomes familiar, and the count it
    /// was checked against is forgotten.
    pub(super) async fn record_success(
        &self,
        key: &LockoutKey,
        state: &LockoutState,
        channel: &Channel,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) {
        let written = match self
            .policy
            .lockout
            .after_success(key, state, channel, client, now)
        {
            AfterSuccess::Nothing => Ok(()),
            AfterSuccess::Forget => self.store.clear_failures(key).await,
            AfterSuccess::Write(write) => self.store.record_success(key, &write).await,
        };
        if let Err(e) = written {
            warn!(error = %crate::error::chain(&e), "cannot clear failed sign-ins after a success");
        }
    }

    /// Unlocks an account (admins): the failure counts of the account, and of each of its
    /// logins as an unknown one (they may have been hammered before the account existed),
    /// are forgotten; its familiar networks are kept. Named by login, a login no account
    /// holds has its own count as an unknown login forgotten; named by uid, the account must
    /// exist.
    pub async fn unlock(&self, target: &AccountRef) -> Result<Unlocked> {
        let found = match self.find(target).await {
            Ok(found) => Some(found),
            Err(Error::AccountNotFound(_)) if matches!(target, AccountRef::Login(_)) => None,
            Err(e) => return Err(e),
        };
        let mut unknown: Vec<Login> = Vec::new();
        if let AccountRef::Login(text) = target {
            unknown.extend(Login::lookups(text)?.into_iter().next());
        }
        for login in found.iter().flat_map(|f| f.account.logins()) {
            if !unknown.contains(login) {
                unknown.push(login.clone());
            }
        }
        let uid = found.map(|f| f.account.uid);
        let mut cleared = false;
        if let Some(uid) = &uid {
            let key = LockoutKey::Account(uid.clone());
            let state = self.store.lockout_state(&key).await?;
            if state.unfamiliar.is_some() || state.networks.values().any(|n| n.failures.is_some()) {
                self.store.clear_counts(&key, &state).await?;
                cleared = true;
            }
        }
        for login in unknown {
            let key = LockoutKey::Unknown(login);
            if self.store.lockout_state(&key).await? != LockoutState::default() {
                self.store.clear_failures(&key).await?;
                cleared = true;
            }
        }
        info!(action = "unlock", uid = ?uid.as_ref().map(Uid::as_str), cleared, "login unlocked by an admin");
        Ok(Unlocked { uid, cleared })
    }

    /// Takes a place among the password-checking requests in progress, or refuses at once.
    pub fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.admissions
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded)
    }

    /// The shortest time a failed credential check takes to answer.
    pub fn failure_floor(&self) -> std::time::Duration {
        self.policy.failure_floor
    }

    /// Sleeps out the rest of the failure floor after a refused sign-in.
    /// With a verify hook, every refusal (and every answer of a hook that failed) takes at
    /// least as long as recent hook calls, so timing does not tell which logins the hook
    /// checks.
    pub(super) async fn pad_failure<T>(&self, result: &Result<T>, started: Instant) {
        let floor = match &self.legacy {
            Some(hook) => self.policy.failure_floor.max(hook.refusal_time()),
            None => self.policy.failure_floor,
        };
        if matches!(result, Err(Error::InvalidCredentials | Error::Legacy(_))) {
            tokio::time::sleep_until(started + floor).await;
        }
    }

    /// Mints a token for an account with the active key or IAM Credentials.
    pub async fn mint(&self, account: &Account, now: Timestamp) -> Result<String> {
        self.ready().await?;
        self.signer
            .mint(TokenRequest {
                uid: &account.uid,
                claims: &account.claims,
                tenant_id: self.policy.tenant_id.as_deref(),
                issued_at: now,
                lifetime_secs: self.policy.token_lifetime,
            })
            .await
    }

    /// Replaces the hash of a checked account with an argon2id one of `password` (in the
    /// form an upgrade keeps, [`Verdict::Match`]), unless the account changed since it was
    /// read; `found` then holds the new hash, update time and version. Failure is logged,
    /// not raised: the next sign-in retries.
    async fn replace_checked_hash(
        &self,
        found: &mut StoredAccount,
        password: &Password,
        now: Timestamp,
        why: Replace,
    ) -> bool {
        let uid = found.account.uid.clone();
        let from = found.account.password.scheme_name();
        let input = match why {
            Replace::Upgrade(input) => input,
            Replace::FollowFirebase => Transform::None,
        };
        let result = match self.passwords.hash_as(password, input).await {
            Ok(new) => self
                .store
                .replace_password(&uid, &new, Some(found.version), now)
                .await
                .map(|written| written.map(|version| (new, version))),
            Err(e) => Err(e),
        };
        match (result, why) {
            (Ok(Some((new, version))), _) => {
                match why {
                    Replace::Upgrade(_) => {
                        info!(%uid, %from, to = "argon2id", input = input.name(), "password hash upgraded")
                    }
                    Replace::FollowFirebase => {
                        info!(%uid, "password changed in Firebase Auth; firegate's hash follows")
                    }
                }
                found.account.password = new;
                found.account.updated_at = now;
                found.version = version;
                true
            }
            (Ok(None), Replace::Upgrade(_)) => {
                info!(%uid, "account changed during sign-in; hash upgrade skipped");
                false
            }
            (Ok(None), Replace::FollowFirebase) => {
                info!(%uid, "account changed during sign-in; firegate's hash left as it is");
                false
            }
            (Err(e), Replace::Upgrade(_)) => {
                warn!(%uid, error = %crate::error::chain(&e), "password hash upgrade failed; retried at next sign-in");
                false
            }
            (Err(e), Replace::FollowFirebase) => {
                warn!(%uid, error = %crate::error::chain(&e), "cannot follow the Firebase Auth password; retried at next sign-in");
                false
            }
        }
    }
}

/// An account whose password was just checked.
pub(super) struct Checked {
    /// The account, at the version the check's own writes left.
    pub(super) found: StoredAccount,
    /// The form the password matched in ([`Verdict::Match`]): [`Transform::None`] when no
    /// other input would have matched, so the password as typed is the account's only one.
    pub(super) input: Transform,
}

/// Why a checked account's hash is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replace {
    /// A legacy or weak hash, checked: argon2id of the password in this form from now on.
    Upgrade(Transform),
    /// A graduated account's copy of a password changed inside Firebase Auth.
    FollowFirebase,
}

/// One admitted check's lockout bookkeeping, carried into the task that runs it.
struct Check {
    key: LockoutKey,
    channel: Channel,
    state: LockoutState,
    client: Option<ClientNetwork>,
    now: Timestamp,
    slot: Option<Slot>,
}

/// The failure record an attempt counts against: its account's when the login exists.
pub(super) fn lockout_key(uid: Option<&str>, login: &Login) -> LockoutKey {
    match uid.map(Uid::from_stored) {
        Some(Ok(uid)) => LockoutKey::Account(uid),
        _ => LockoutKey::Unknown(login.clone()),
    }
}

/// Logs a refused sign-in for operators (uid only when the login exists: the login text may
/// be a password typed into the wrong field) and returns the one error clients see.
pub(super) fn refuse(uid: Option<&Uid>, reason: &'static str) -> Error {
    match uid {
        Some(uid) => info!(%uid, outcome = "failure", reason, "sign-in"),
        None => info!(outcome = "failure", reason, "sign-in"),
    }
    Error::InvalidCredentials
}

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

use jiff::Timestamp;
use tracing::warn;

mod hooks;
mod sync;

pub(super) use hooks::Authority;
pub use sync::SyncReport;

use crate::Result;
use crate::accounts::{Account, FirebaseState, Mirrored};
use crate::error::BridgeError;
use crate::google::{IdentityOptions, IdentityToolkit, NewUser, UserUpdate};
use crate::passwords::{Password, Transform};

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
            email_verified: email.as_ref().and(account.email_verified),
            email,
            display_name: account.username.as_ref().map(ToString::to_string),
            disabled: account.disabled,
        }
    }

    /// Why `account` cannot graduate with `password`, which matched in the `input` form
    /// ([`crate::passwords::Verdict::Match`]), if it cannot.
    fn cannot_graduate(
        &self,
        account: &Account,
        password: &Password,
        input: Transform,
    ) -> Option<&'static str> {
        if account.factors.required() || account.factors.pending.is_some() {
            // signInWithEmailAndPassword would skip the second factor firegate asks for.
            Some("a second factor (a Firebase password would sign in without it)")
        } else if input != Transform::None {
            // Firebase Auth checks a password as typed: the other inputs the account accepts
            // (DES's 8 characters, bcrypt's 72 bytes, WordPress's trim) would stop working.
            Some(
                "the password has other accepted forms (a lossy legacy hash's) that Firebase Auth would refuse",
            )
        } else if account.email_verified == Some(false) {
            // An unverified registration may be someone else's address: Firebase Auth gets
            // no password for it until the link is opened (or a reset proves the address).
            Some("email not verified yet")
        } else if self.desired(account).email.is_none() {
            Some("no email (set --graduate-email-domain to give usernames one)")
        } else if password.expose().chars().count() < FIREBASE_MIN_PASSWORD_CHARS {
            Some("password shorter than the 6 characters Firebase Auth accepts")
        } else {
            None
        }
    }

    /// Brings the Firebase user into step with `account`: created when firegate never wrote
    /// it (or it was deleted), updated otherwise. What else happens is `change`'s. Returns
    /// the state to record.
    async fn write(
        &self,
        account: &Account,
        change: Change<'_>,
        now: Timestamp,
    ) -> Result<FirebaseState, BridgeError> {
        let mut desired = self.desired(account);
        let uid = account.uid.as_str();
        let password = change.password.map(Password::expose);
        // Whether Firebase took the password (not when the email had to be left out).
        let mut password_set = false;
        let mut created = false;
        if account.firebase.mirrored.is_none() {
            (created, password_set) = self.create(uid, &mut desired, password).await?;
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
                email_verified: desired.email_verified,
                display_name: display_name.as_deref(),
                disable_user: Some(desired.disabled),
                password,
                valid_since: change.revoke.then(|| now.as_second().to_string()),
                delete_attribute: if remove_name {
                    vec!["DISPLAY_NAME"]
                } else {
                    Vec::new()
                },
                delete_provider: if change.drop_password && password.is_none() {
                    vec!["password"]
                } else {
                    Vec::new()
                },
            };
            match self.client.update(&update).await {
                Ok(()) => password_set = password.is_some(),
                Err(e) if e.code() == Some("USER_NOT_FOUND") => {
                    (_, password_set) = self.create(uid, &mut desired, password).await?;
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
        state.mirrored = Some(desired);
        if password_set {
            state.graduated_at = state.graduated_at.or(Some(now));
            state.password_at = self
                .client
                .lookup(uid)
                .await?
                .and_then(|u| u.password_updated_at);
        } else if change.drop_password {
            state.graduated_at = None;
            state.password_at = None;
        }
        Ok(state)
    }

    /// Creates the user: (`false`, _) when it exists already; the second value says whether
    /// the password was set. An email another Firebase user holds is left out (and no
    /// password is set without it).
    async fn create(
        &self,
        uid: &str,
        desired: &mut Mirrored,
        password: Option<&str>,
    ) -> Result<(bool, bool), BridgeError> {
        let email = desired.email.clone();
        let first = NewUser {
            local_id: uid,
            email: email.as_deref(),
            email_verified: desired.email_verified,
            display_name: desired.display_name.as_deref(),
            disabled: desired.disabled,
            password: password.filter(|_| email.is_some()),
        };
        match self.client.create(&first).await {
            Ok(()) => Ok((true, first.password.is_some())),
            Err(e) if e.code() == Some("DUPLICATE_LOCAL_ID") => Ok((false, false)),
            Err(e) if e.code() == Some("EMAIL_EXISTS") => {
                warn!(%uid, "the email belongs to another Firebase user; mirrored without it");
                let user = NewUser {
                    email: None,
                    password: None,
                    ..first
                };
                self.client.create(&user).await?;
                desired.email = None;
                Ok((true, false))
            }
            Err(e) => Err(e),
        }
    }
}

/// What a write does besides bringing the user's fields into step.
#[derive(Default, Clone, Copy)]
struct Change<'a> {
    /// Set this password (the account graduates).
    password: Option<&'a Password>,
    /// End the user's sessions (`validSince` = now).
    revoke: bool,
    /// Remove the user's password (Firebase's copy is outdated): the account no longer
    /// counts as graduated.
    drop_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Uid;
    use crate::login::Login;
    use crate::passwords::{Dialect, StoredHash};

    #[test]
    fn a_password_with_other_accepted_forms_does_not_graduate() {
        let options = BridgeOptions {
            mode: BridgeMode::Graduate,
            ..BridgeOptions::default()
        };
        let bridge = Bridge::new(options, "demo-project").unwrap().unwrap();
        let now = Timestamp::now();
        let account = Account {
            uid: Uid::generate(),
            email: Some(Login::parse("kim@example.com").unwrap()),
            email_verified: Some(true),
            username: None,
            password: StoredHash::of_typed("$argon2id$…".into(), Dialect::Phc),
            created_at: now,
            updated_at: now,
            disabled: false,
            claims: Default::default(),
            firebase: Default::default(),
            language: None,
            factors: Default::default(),
            breached_at: None,
        };
        let password = Password::new("12345678+x".into()).unwrap();
        assert_eq!(
            bridge.cannot_graduate(&account, &password, Transform::None),
            None
        );
        for lossy in Transform::NAMED {
            let why = bridge.cannot_graduate(&account, &password, lossy);
            assert!(why.is_some_and(|why| why.contains("other accepted forms")));
        }
    }
}

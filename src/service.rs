//! The use cases: signing in, creating and showing accounts. The HTTP server and the CLI
//! both call these, over one [`Service`] built from one [`Config`].

use std::sync::Arc;

use jiff::Timestamp;
use tracing::{info, warn};

use crate::accounts::{Account, AccountSummary, Uid};
use crate::claims::Claims;
use crate::config::Config;
use crate::custom_token::TokenRequest;
use crate::keys::KeyRing;
use crate::login::Login;
use crate::passwords::{CostLimits, Password, Passwords, Verdict};
use crate::store::{Store, StoreOptions, StoredAccount};
use crate::{Error, Result};

/// A successful sign-in: the uid and the custom token for `signInWithCustomToken`.
#[derive(Debug)]
pub struct SignedIn {
    pub uid: Uid,
    pub token: String,
}

/// The details of a new account.
#[derive(Debug)]
pub struct NewAccount {
    /// The uid to use; a Firebase-style random uid when `None`.
    pub uid: Option<Uid>,
    pub email: Option<Login>,
    pub username: Option<Login>,
    pub password: Password,
    pub claims: Claims,
}

/// Everything a use case needs: keys, password hashing, storage and token settings.
pub struct Service {
    pub keys: KeyRing,
    pub passwords: Passwords,
    pub store: Store,
    token_lifetime: u32,
    tenant_id: Option<String>,
    legacy_domain: Option<String>,
}

impl Service {
    /// Loads the keys, checks the password settings and opens the Firestore client. No
    /// Firestore request is sent yet: call [`Store::ping`] to check reachability.
    pub async fn build(config: &Config) -> Result<Arc<Service>> {
        let keys = KeyRing::load(&config.keys_dir, config.allow_insecure_key_permissions)?;
        let project_id = match &config.project_id {
            Some(p) => p.clone(),
            None => keys.active().project_id.clone(),
        };
        let passwords = Passwords::new(&config.passwords, CostLimits::default())?;
        let store = Store::connect(StoreOptions::from_config(config, project_id)).await?;
        Ok(Arc::new(Service {
            keys,
            passwords,
            store,
            token_lifetime: config.token_lifetime,
            tenant_id: config.tenant_id.clone(),
            legacy_domain: config.legacy_domain.clone(),
        }))
    }

    /// Checks a login and password and mints a custom token. Every failure — unknown login,
    /// wrong password, disabled account, unusable hash — is [`Error::InvalidCredentials`] and
    /// costs the same password-hashing work.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &Password,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let candidates = Login::candidates(login, self.legacy_domain.as_deref())?;
        let found = self.store.find_by_login(&candidates).await?;
        let stored = found.as_ref().map(|f| &f.account.password);
        let verdict = self.passwords.verify(stored, password).await?;
        let (found, rehash) = match (found, verdict) {
            (Some(found), Verdict::Match { rehash }) if !found.account.disabled => (found, rehash),
            (Some(found), Verdict::Match { .. }) => {
                return Err(refuse(Some(&found.account.uid), "disabled"));
            }
            (Some(found), Verdict::Unusable(problem)) => {
                warn!(uid = %found.account.uid, %problem, "stored password hash cannot be used");
                return Err(refuse(Some(&found.account.uid), "unusable_hash"));
            }
            (Some(found), Verdict::Mismatch) => {
                return Err(refuse(Some(&found.account.uid), "wrong_password"));
            }
            (None, _) => return Err(refuse(None, "unknown_login")),
        };
        if rehash {
            self.upgrade_hash(&found, password, now).await;
        }
        let account = found.account;
        let token = self.mint(&account, now)?;
        info!(uid = %account.uid, outcome = "success", "sign-in");
        Ok(SignedIn {
            uid: account.uid,
            token,
        })
    }

    /// Mints a token for an account with the active key.
    pub fn mint(&self, account: &Account, now: Timestamp) -> Result<String> {
        self.keys.active().signer.mint(TokenRequest {
            uid: &account.uid,
            claims: &account.claims,
            tenant_id: self.tenant_id.as_deref(),
            issued_at: now,
            lifetime_secs: self.token_lifetime,
        })
    }

    /// Replaces a verified legacy or weak hash with a current argon2id one, unless the account
    /// changed since it was read. Failure is logged, not raised: the next sign-in retries.
    async fn upgrade_hash(&self, found: &StoredAccount, password: &Password, now: Timestamp) {
        let uid = &found.account.uid;
        let from = found.account.password.scheme_name();
        let result = match self.passwords.hash(password).await {
            Ok(new) => {
                self.store
                    .replace_password(uid, &new, found.version, now)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(true) => info!(%uid, %from, to = "argon2id", "password hash upgraded"),
            Ok(false) => info!(%uid, "account changed during sign-in; hash upgrade skipped"),
            Err(e) => {
                warn!(%uid, error = %e, "password hash upgrade failed; retried at next sign-in")
            }
        }
    }

    /// Creates an account with an argon2id hash of `new.password`.
    pub async fn create_account(&self, new: NewAccount, now: Timestamp) -> Result<Account> {
        if new.email.is_none() && new.username.is_none() {
            return Err(Error::invalid(
                "missing_login",
                "an account needs an email or a username",
            ));
        }
        let password = self.passwords.hash(&new.password).await?;
        let account = Account {
            uid: new.uid.unwrap_or_else(Uid::generate),
            email: new.email,
            username: new.username,
            password,
            created_at: now,
            updated_at: now,
            disabled: false,
            claims: new.claims,
        };
        self.store.create_account(&account).await?;
        Ok(account)
    }

    /// Disables or re-enables the account holding `login`.
    pub async fn set_disabled(&self, login: &str, disabled: bool) -> Result<AccountSummary> {
        let found = self.find(login).await?;
        if !self
            .store
            .set_disabled(&found.account.uid, disabled, Timestamp::now())
            .await?
        {
            return Err(Error::AccountNotFound(login.to_string()));
        }
        let mut account = found.account;
        account.disabled = disabled;
        Ok(AccountSummary::from(&account))
    }

    async fn find(&self, login: &str) -> Result<StoredAccount> {
        let login = Login::parse(login)?;
        self.store
            .find_by_login(std::slice::from_ref(&login))
            .await?
            .ok_or_else(|| Error::AccountNotFound(login.to_string()))
    }

    /// What an admin may see of the account holding `login`.
    pub async fn show_account(&self, login: &str) -> Result<AccountSummary> {
        Ok(AccountSummary::from(&self.find(login).await?.account))
    }
}

/// Logs a refused sign-in for operators (uid only when the login exists: the login text may
/// be a password typed into the wrong field) and returns the one error clients see.
fn refuse(uid: Option<&Uid>, reason: &'static str) -> Error {
    match uid {
        Some(uid) => info!(%uid, outcome = "failure", reason, "sign-in"),
        None => info!(outcome = "failure", reason, "sign-in"),
    }
    Error::InvalidCredentials
}

//! What the use cases hand back: a sign-in's token, an account's detail, reports of
//! administrative commands, and the details of a new account.

use std::time::Duration;

use jiff::Timestamp;

use crate::accounts::Uid;
use crate::claims::Claims;
use crate::login::Login;
use crate::passwords::Password;
use crate::store::SchemeCount;

/// A successful sign-in: the uid and the custom token for `signInWithCustomToken`.
#[derive(Debug)]
pub struct SignedIn {
    pub uid: Uid,
    pub token: String,
}

/// What a right password yields: a token, or (for an account with a second factor) the
/// handle of the second step.
#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn(SignedIn),
    SecondFactor(Challenge),
}

/// What `POST /password/` with the right current password did: changed it, or (an account
/// with a second factor, asked without a code) nothing until a current code comes too.
#[derive(Debug)]
pub enum PasswordChange {
    Changed(crate::accounts::Uid),
    SecondFactorRequired(Vec<crate::factors::FactorKind>),
}

/// The second step a sign-in needs: the `mfa_token` to send back with a code, and the kinds
/// of code the account takes.
#[derive(Debug)]
pub struct Challenge {
    pub mfa_token: crate::factors::MfaHandle,
    pub factors: Vec<crate::factors::FactorKind>,
}

/// An account as `accounts show` and the admin API show it: its summary and its failed
/// sign-ins.
#[derive(Debug, serde::Serialize)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: crate::accounts::AccountSummary,
    pub lockout: LockoutSummary,
}

/// What `unlock` did: the account found (none for a login no account holds) and whether any
/// failure count was forgotten.
#[derive(Debug, serde::Serialize)]
pub struct Unlocked {
    pub uid: Option<crate::accounts::Uid>,
    pub cleared: bool,
}

/// How long the admin page's count of accounts per scheme is kept before a request counts
/// again.
pub const STATS_KEPT: Duration = Duration::from_secs(60);

/// Accounts per hash scheme, and when they were counted (the admin page caches the count).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SchemeStats {
    pub computed_at: jiff::Timestamp,
    pub schemes: Vec<SchemeCount>,
    /// Accounts that sign in with a second factor.
    pub second_factor: u64,
    /// Accounts whose password a legacy sign-in found in breaches (not changed since).
    pub breached: u64,
}

impl SchemeStats {
    /// Whole seconds since the count, at `now` (0 for a count from the future: a clock step).
    pub fn age_secs(&self, now: Timestamp) -> u64 {
        u64::try_from(now.as_second() - self.computed_at.as_second()).unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.schemes.iter().map(|s| s.accounts).sum()
    }

    /// Accounts whose hash is argon2id already.
    pub fn migrated(&self) -> u64 {
        self.schemes
            .iter()
            .filter(|s| s.scheme == "argon2id")
            .map(|s| s.accounts)
            .sum()
    }

    /// Accounts whose password only the legacy system can check (imported without a hash
    /// and not signed in since): when this reaches zero, the old server may be switched off.
    pub fn legacy(&self) -> u64 {
        legacy_accounts(&self.schemes)
    }

    pub fn graduated(&self) -> u64 {
        self.schemes.iter().map(|s| s.graduated).sum()
    }
}

/// An account's failed sign-ins from unfamiliar networks, and how many networks are familiar.
#[derive(Debug, serde::Serialize)]
pub struct LockoutSummary {
    pub failures: u32,
    pub last_failure: Option<Timestamp>,
    /// Under this process's lockout policy (the server's flags may differ from a command's).
    pub locked_until: Option<Timestamp>,
    pub familiar_networks: usize,
}

/// What `accounts claim-look-alikes` did: the accounts read, and the logins whose look-alike
/// skeleton another account held first (both still sign in; the admin decides).
#[derive(Debug, Default, serde::Serialize)]
pub struct LookAlikeReport {
    pub accounts: u64,
    pub look_alikes: Vec<crate::store::LookAlike>,
}

/// The details of a new account.
#[derive(Debug)]
pub struct NewAccount {
    /// The uid to use; a Firebase-style random uid when `None`.
    pub uid: Option<Uid>,
    pub email: Option<Login>,
    /// See [`Account::email_verified`](crate::accounts::Account::email_verified).
    pub email_verified: Option<bool>,
    pub username: Option<Login>,
    pub password: Password,
    pub claims: Claims,
}

/// Of these counts, the accounts whose password only the legacy system can check.
pub fn legacy_accounts(schemes: &[SchemeCount]) -> u64 {
    schemes
        .iter()
        .filter(|s| s.scheme == crate::passwords::EXTERNAL_SCHEME)
        .map(|s| s.accounts)
        .sum()
}

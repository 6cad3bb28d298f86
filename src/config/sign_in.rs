//! The sign-in settings groups: the account policy (tokens, registration, legacy logins, the
//! failure floor), the password rule for new passwords, and brute-force lockout.

use std::time::Duration;

use clap::Args;

use super::values::non_empty;
use crate::lockout::LockoutPolicy;

/// The rule every new password follows (registration, password changes, admin commands).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Accounts")]
pub struct NewPasswordArgs {
    /// Shortest password accepted for new accounts and password changes, in characters.
    #[arg(long, env = "FIREGATE_MIN_PASSWORD_LENGTH", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub min_password_length: u32,
}

/// What a server's sign-in and registration endpoints do.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Sign-in")]
pub struct SignInArgs {
    /// Domain legacy clients append to bare usernames (alice@DOMAIN finds user alice).
    ///
    /// A login `alice@<domain>` also finds the account whose username is `alice`.
    #[arg(long, env = "FIREGATE_LEGACY_DOMAIN", value_name = "DOMAIN",
          value_parser = non_empty("--legacy-domain"))]
    pub legacy_domain: Option<String>,

    /// Lifetime of minted custom tokens, in seconds (Firebase accepts at most 3600).
    #[arg(long, env = "FIREGATE_TOKEN_LIFETIME", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub token_lifetime: u32,

    /// Identity Platform tenant written into every token as `tenant_id`.
    #[arg(long, env = "FIREGATE_TENANT_ID", value_parser = non_empty("--tenant-id"))]
    pub tenant_id: Option<String>,

    /// Refuse `POST /register/` with 403 (accounts then come from admins or imports).
    #[arg(long, env = "FIREGATE_DISABLE_REGISTRATION")]
    pub disable_registration: bool,

    /// Every failed sign-in takes at least this long, in milliseconds, so response times do
    /// not reveal whether a login exists or which hash scheme it uses (0 turns it off).
    #[arg(long, env = "FIREGATE_FAILURE_FLOOR_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub failure_floor_ms: u32,
}

/// Brute-force lockout per account.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Brute-force lockout")]
pub struct LockoutArgs {
    /// Consecutive failed sign-ins of one login that lock it (0 turns lockout off).
    #[arg(long, env = "FIREGATE_LOCKOUT_THRESHOLD", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub lockout_threshold: u32,

    /// Lock after the threshold-th failure, in seconds; every further failure adds as much.
    #[arg(long, env = "FIREGATE_LOCKOUT_STEP_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub lockout_step_secs: u32,

    /// Longest lock, in seconds.
    #[arg(long, env = "FIREGATE_LOCKOUT_MAX_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u32).range(1..=604_800))]
    pub lockout_max_secs: u32,

    /// Failures are forgotten after this long without another, in seconds.
    #[arg(long, env = "FIREGATE_LOCKOUT_RESET_SECS", default_value_t = 43_200,
          value_parser = clap::value_parser!(u32).range(1..=2_592_000))]
    pub lockout_reset_secs: u32,

    /// Days a network stays familiar after a successful sign-in from it: failures from a
    /// familiar network are counted apart, so a lock caused elsewhere does not keep the
    /// account's owner out there (0: every client shares one count per account).
    #[arg(long, env = "FIREGATE_LOCKOUT_FAMILIAR_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=365))]
    pub lockout_familiar_days: u32,
}

impl LockoutArgs {
    /// The lockout rules.
    pub fn policy(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.lockout_threshold,
            step: Duration::from_secs(self.lockout_step_secs.into()),
            max_wait: Duration::from_secs(self.lockout_max_secs.into()),
            reset_after: Duration::from_secs(self.lockout_reset_secs.into()),
            familiar_for: Duration::from_secs(u64::from(self.lockout_familiar_days) * 86_400),
        }
    }
}

//! The breached-password settings group: where new passwords are looked up in Pwned
//! Passwords (the range API or an offline copy), the threshold, what an unreachable API
//! means, and what a legacy account's first sign-in does with a breached password.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::values::non_empty;
use crate::breached::{AtSignIn, BreachedOptions, BreachedSource, RANGE_API_URL, Unreachable};

/// Where breached passwords are looked up.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachedCheck {
    /// No lookup.
    Off,
    /// Pwned Passwords' k-anonymity range API (five hex characters of the SHA-1 sent).
    Range,
    /// An offline copy (--breached-file), for servers without egress.
    File,
}

/// When the range API does not answer.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachedUnreachable {
    /// Take the password and log a warning.
    Open,
    /// Refuse the change with 503 until the API answers.
    Closed,
}

/// What a legacy account's first sign-in does with a breached password.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachedAtSignIn {
    /// Not checked at sign-in.
    Allow,
    /// Sign in, mark the account (admin page, `accounts stats`) and mail an invitation to
    /// change it.
    Flag,
    /// Refuse with 403 password_reset_required and mail a reset link.
    Reset,
}

/// Passwords known from breaches (book: "Abuse protection").
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Breached passwords")]
pub struct BreachedArgs {
    /// Refuse new passwords found in Pwned Passwords: `range` (its API), `file` (an offline
    /// copy) or `off`.
    ///
    /// Registration, password changes, resets and admin set-password answer 400
    /// password_breached. The range API receives only the first five hex characters of the
    /// password's SHA-1 (k-anonymity), with Add-Padding.
    #[arg(long, env = "FIREGATE_BREACHED_CHECK", value_enum, default_value_t = BreachedCheck::Range)]
    pub breached_check: BreachedCheck,

    /// The range API's base URL (the five hex characters are appended).
    #[arg(long, env = "FIREGATE_BREACHED_RANGE_URL", value_name = "URL",
          default_value = RANGE_API_URL, value_parser = non_empty("--breached-range-url"))]
    pub breached_range_url: String,

    /// The offline copy for `--breached-check file`: the SHA-1 file the official downloader
    /// writes (`haveibeenpwned-downloader pwnedpasswords`), lines SHA1HEX:COUNT sorted by
    /// hash; searched in place, never loaded into memory.
    #[arg(long, env = "FIREGATE_BREACHED_FILE", value_name = "FILE")]
    pub breached_file: Option<PathBuf>,

    /// A password seen fewer times than this in breaches is taken.
    #[arg(long, env = "FIREGATE_BREACHED_MIN_COUNT", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub breached_min_count: u64,

    /// Longest a range API lookup may take, in milliseconds.
    #[arg(long, env = "FIREGATE_BREACHED_DEADLINE_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(50..=30_000))]
    pub breached_deadline_ms: u32,

    /// When the range API does not answer in time: `open` takes the password (a warning is
    /// logged), `closed` answers 503 until it does.
    #[arg(long, env = "FIREGATE_BREACHED_UNREACHABLE", value_enum,
          default_value_t = BreachedUnreachable::Open)]
    pub breached_unreachable: BreachedUnreachable,

    /// A legacy account's first sign-in, the one time its password is seen: `allow` (not
    /// checked), `flag` (sign in, mark the account, mail an invitation to change it) or
    /// `reset` (403 password_reset_required, a reset link mailed).
    #[arg(long, env = "FIREGATE_BREACHED_AT_SIGN_IN", value_enum,
          default_value_t = BreachedAtSignIn::Flag)]
    pub breached_at_sign_in: BreachedAtSignIn,
}

impl BreachedArgs {
    /// Settings that only make sense together.
    pub fn check(&self) -> Result<(), String> {
        match (self.breached_check, &self.breached_file) {
            (BreachedCheck::File, None) => Err(
                "--breached-check file needs --breached-file, the SHA-1 file the official \
                 downloader writes"
                    .into(),
            ),
            (BreachedCheck::Range | BreachedCheck::Off, Some(_)) => Err(
                "--breached-file is read only with --breached-check file; add it, or leave \
                 the file out"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// The lookup's options.
    pub fn options(&self) -> BreachedOptions {
        BreachedOptions {
            source: match (self.breached_check, &self.breached_file) {
                (BreachedCheck::Off, _) => BreachedSource::Off,
                (BreachedCheck::Range, _) => BreachedSource::Range(self.breached_range_url.clone()),
                (BreachedCheck::File, Some(file)) => BreachedSource::File(file.clone()),
                // Refused by `check`; nothing to look in.
                (BreachedCheck::File, None) => BreachedSource::Off,
            },
            min_count: self.breached_min_count,
            deadline: Duration::from_millis(self.breached_deadline_ms.into()),
            unreachable: match self.breached_unreachable {
                BreachedUnreachable::Open => Unreachable::Open,
                BreachedUnreachable::Closed => Unreachable::Closed,
            },
            at_sign_in: match self.breached_at_sign_in {
                BreachedAtSignIn::Allow => AtSignIn::Allow,
                BreachedAtSignIn::Flag => AtSignIn::Flag,
                BreachedAtSignIn::Reset => AtSignIn::Reset,
            },
        }
    }
}

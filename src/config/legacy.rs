//! The legacy verify hook settings group (`--legacy-verify-url`): where the old application
//! answers for accounts whose passwords never left it, and how it is called.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::values::non_empty;
use crate::legacy_hook::LegacyHookOptions;

/// Asking the old application at an account's first sign-in.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Legacy verify hook")]
pub struct LegacyArgs {
    /// The old application's verify hook (book: "Legacy verify hook"); accounts imported
    /// without a hash are checked there once, at their first sign-in.
    ///
    /// `https://`, or `http://` on a loopback address. firegate POSTs `{login, password,
    /// uid}`, signed with the shared secret (FIREGATE_LEGACY_VERIFY_SECRET or
    /// --legacy-verify-secret-file), and stores an argon2id hash of a password the hook
    /// accepts.
    #[arg(long, env = "FIREGATE_LEGACY_VERIFY_URL", value_name = "URL",
          value_parser = non_empty("--legacy-verify-url"))]
    pub legacy_verify_url: Option<String>,

    /// The secret the hook's requests are signed with (at least 32 bytes): from the
    /// environment or the config file only, never the command line (it would show in `ps`).
    #[arg(
        long,
        env = "FIREGATE_LEGACY_VERIFY_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub legacy_verify_secret: Option<SecretString>,

    /// A file holding the hook's shared secret (readable by its owner only; a final newline
    /// is ignored).
    #[arg(long, env = "FIREGATE_LEGACY_VERIFY_SECRET_FILE", value_name = "FILE")]
    pub legacy_verify_secret_file: Option<PathBuf>,

    /// Longest one call to the hook may take, in milliseconds; past it the sign-in answers
    /// 503 with Retry-After (never a sign-in, never a lockout count).
    #[arg(long, env = "FIREGATE_LEGACY_VERIFY_DEADLINE_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u32).range(50..=60_000))]
    pub legacy_verify_deadline_ms: u32,

    /// Calls to the hook in flight at once; more wait for a place within their deadline.
    #[arg(long, env = "FIREGATE_LEGACY_VERIFY_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub legacy_verify_concurrency: u32,

    /// Logins no account holds are asked of the hook too, and created (with the uid the
    /// hook sends) when it accepts the password: no bulk import needed.
    #[arg(long, env = "FIREGATE_LEGACY_CREATE_UNKNOWN")]
    pub legacy_create_unknown: bool,

    /// Refuse to start when the hook's server does not answer (a GET answered below 500).
    #[arg(long, env = "FIREGATE_LEGACY_VERIFY_REQUIRED")]
    pub legacy_verify_required: bool,
}

impl LegacyArgs {
    /// The hook's options, when a URL is set.
    pub fn options(&self) -> Option<LegacyHookOptions> {
        Some(LegacyHookOptions {
            url: self.legacy_verify_url.clone()?,
            secret: self.legacy_verify_secret.clone(),
            secret_file: self.legacy_verify_secret_file.clone(),
            deadline: Duration::from_millis(self.legacy_verify_deadline_ms.into()),
            concurrency: self.legacy_verify_concurrency as usize,
            create_unknown: self.legacy_create_unknown,
            required: self.legacy_verify_required,
        })
    }

    /// What `serve` refuses: the hook's other settings without its URL.
    pub fn check_for_server(&self) -> Result<(), String> {
        if self.legacy_verify_url.is_some() {
            return Ok(());
        }
        let without_url = [
            ("--legacy-create-unknown", self.legacy_create_unknown),
            ("--legacy-verify-required", self.legacy_verify_required),
            (
                "FIREGATE_LEGACY_VERIFY_SECRET",
                self.legacy_verify_secret.is_some(),
            ),
            (
                "--legacy-verify-secret-file",
                self.legacy_verify_secret_file.is_some(),
            ),
        ];
        match without_url.iter().find(|(_, set)| *set) {
            Some((name, _)) => Err(format!(
                "{name} is a setting of the legacy verify hook: set --legacy-verify-url too"
            )),
            None => Ok(()),
        }
    }
}

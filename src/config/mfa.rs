//! The second-factor settings group (`--mfa`, `--mfa-key`, the recent-sign-in window, and
//! where Firebase ID tokens' certificates are and which project they are for).

use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::values::non_empty;
use crate::factors::{FactorOptions, MfaMode, SECURETOKEN_CERTS_URL, Sealer};

/// Whether accounts may add a second factor.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaSetting {
    Off,
    Optional,
}

/// Second factors (TOTP, recovery codes) and the self-service routes' ID tokens.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Second factor")]
pub struct MfaArgs {
    /// Whether accounts may enrol a second factor (book: "Second factor").
    ///
    /// `optional`: an account may enrol an authenticator app (TOTP) through the
    /// self-service routes, and then signs in with a code after its password; `off`: no
    /// enrolment (an account that has a factor still needs it; `accounts mfa reset` removes
    /// it).
    #[arg(long, env = "FIREGATE_MFA", value_enum, value_name = "MODE",
          default_value_t = MfaSetting::Optional)]
    pub mfa: MfaSetting,

    /// Base64 of 32 random bytes (`openssl rand -base64 32`) that seal TOTP secrets at rest
    /// and key the recovery-code hashes.
    ///
    /// Without it secrets are stored as they are, and whoever can read the accounts
    /// collection can compute codes. Keep it with the service's other secrets: a secret
    /// sealed with it opens with no other key.
    #[arg(long, env = "FIREGATE_MFA_KEY", hide_env_values = true, value_name = "KEY",
          value_parser = mfa_key)]
    pub mfa_key: Option<SecretString>,

    /// The name authenticator apps show beside the account.
    #[arg(long, env = "FIREGATE_MFA_ISSUER", default_value = "firegate",
          value_parser = non_empty("--mfa-issuer"))]
    pub mfa_issuer: String,

    /// How recent a sign-in must be to change second factors, in seconds (Firebase's
    /// `requires-recent-login` uses 5 minutes).
    #[arg(long, env = "FIREGATE_RECENT_SIGN_IN_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(30..=86_400))]
    pub recent_sign_in_secs: u32,

    /// Where Google publishes the certificates of Firebase ID tokens.
    #[arg(long, env = "FIREGATE_ID_TOKEN_CERTS_URL", default_value = SECURETOKEN_CERTS_URL,
          value_parser = non_empty("--id-token-certs-url"))]
    pub id_token_certs_url: String,

    /// The Firebase project whose ID tokens the self-service routes take (their `aud` and
    /// `iss`); default: the signing keys' project.
    ///
    /// Custom tokens are exchanged in the project of the service account that signs them,
    /// so its ID tokens name that project, which may differ from `--project-id` (Firestore).
    /// Set it with `--signer iam` when Firestore is in another project than the service
    /// account, and wherever the keys' project is not the Firebase one.
    #[arg(long, env = "FIREGATE_ID_TOKEN_PROJECT", value_name = "PROJECT",
          value_parser = non_empty("--id-token-project"))]
    pub id_token_project: Option<String>,
}

impl MfaArgs {
    /// The factors' options.
    pub fn options(&self) -> FactorOptions {
        FactorOptions {
            mode: match self.mfa {
                MfaSetting::Off => MfaMode::Off,
                MfaSetting::Optional => MfaMode::Optional,
            },
            // The value parser has checked the key: this conversion cannot fail.
            sealer: self
                .mfa_key
                .as_ref()
                .and_then(|k| Sealer::from_base64(k.expose_secret()).ok())
                .unwrap_or_default(),
            issuer: self.mfa_issuer.clone(),
            recent_sign_in: Duration::from_secs(self.recent_sign_in_secs.into()),
            id_token_certs_url: self.id_token_certs_url.clone(),
            id_token_project: self.id_token_project.clone(),
            // The variable only, as the Admin SDKs read it.
            auth_emulator: auth_emulator_host().is_some(),
            auth_emulator_url: auth_emulator_host().map(|h| format!("http://{h}")),
            ..FactorOptions::default()
        }
    }
}

/// A sealing key: base64 of 32 bytes. The error never quotes the value.
fn mfa_key(value: &str) -> Result<SecretString, String> {
    Sealer::from_base64(value)?;
    Ok(SecretString::from(value.trim().to_string()))
}

/// `FIREBASE_AUTH_EMULATOR_HOST` (`host:port`), when set.
fn auth_emulator_host() -> Option<String> {
    std::env::var("FIREBASE_AUTH_EMULATOR_HOST")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

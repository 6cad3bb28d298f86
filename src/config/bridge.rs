//! The Firebase Auth bridge settings group (`--firebase-auth`).

use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

use super::values::non_empty;
use crate::google::{IDENTITY_TOOLKIT_URL, IdentityOptions};
use crate::service::{BridgeMode, BridgeOptions};

/// What firegate writes to Firebase Auth.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirebaseAuthMode {
    Off,
    Mirror,
    Graduate,
}

/// How firegate keeps Firebase Auth's users in step with its accounts.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Firebase Auth bridge")]
pub struct BridgeArgs {
    /// What firegate writes to Firebase Auth's users (book: "Firebase Auth bridge").
    ///
    /// `off`: nothing; `mirror`: the Firebase user with each account's uid gets its email,
    /// username (as display name) and disabled flag, and its sessions end when the password
    /// changes; `graduate`: as mirror, and a password firegate checked is set on the Firebase
    /// user, so `signInWithEmailAndPassword` works for it.
    #[arg(long, env = "FIREGATE_FIREBASE_AUTH", value_enum, value_name = "MODE",
          default_value_t = FirebaseAuthMode::Off)]
    pub firebase_auth: FirebaseAuthMode,

    /// The Firebase project's web API key, for checking a graduated account's password with
    /// Firebase Auth after it changed there (required by `serve` in graduate mode).
    #[arg(long, env = "FIREGATE_FIREBASE_API_KEY", hide_env_values = true,
          value_parser = super::values::secret(api_key))]
    pub firebase_api_key: Option<SecretString>,

    /// Accounts with a username and no email graduate as `username@DOMAIN` (a domain you own
    /// and that receives no mail is fine); without it they stay in firegate.
    #[arg(long, env = "FIREGATE_GRADUATE_EMAIL_DOMAIN", value_parser = email_domain)]
    pub graduate_email_domain: Option<String>,

    /// Identity Toolkit API base URL (FIREBASE_AUTH_EMULATOR_HOST, the Admin SDKs' variable,
    /// points the bridge at the Auth emulator instead).
    #[arg(long, env = "FIREGATE_IDENTITY_TOOLKIT_URL", default_value = IDENTITY_TOOLKIT_URL,
          value_parser = non_empty("--identity-toolkit-url"))]
    pub identity_toolkit_url: String,

    /// Longest one Firebase Auth call may take, retries included, in seconds.
    #[arg(long, env = "FIREGATE_FIREBASE_AUTH_DEADLINE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=60))]
    pub firebase_auth_deadline_secs: u32,
}

impl BridgeArgs {
    /// The bridge's options, for the users of `tenant_id` (`--tenant-id`) when given.
    pub fn options(&self, tenant_id: Option<&str>) -> BridgeOptions {
        BridgeOptions {
            mode: match self.firebase_auth {
                FirebaseAuthMode::Off => BridgeMode::Off,
                FirebaseAuthMode::Mirror => BridgeMode::Mirror,
                FirebaseAuthMode::Graduate => BridgeMode::Graduate,
            },
            identity: IdentityOptions {
                base_url: Some(self.identity_toolkit_url.clone()),
                // The variable only, as the Admin SDKs read it.
                emulator_host: std::env::var("FIREBASE_AUTH_EMULATOR_HOST")
                    .ok()
                    .filter(|h| !h.trim().is_empty()),
                api_key: self.firebase_api_key.clone(),
                deadline: Duration::from_secs(self.firebase_auth_deadline_secs.into()),
                tenant_id: tenant_id.map(str::to_string),
            },
            graduate_email_domain: self.graduate_email_domain.clone(),
        }
    }

    /// What `serve` refuses: graduate mode without the key that checks a password changed in
    /// Firebase Auth (without it such an account's old password would keep working here).
    pub fn check_for_server(&self) -> Result<(), String> {
        if self.firebase_auth == FirebaseAuthMode::Graduate && self.firebase_api_key.is_none() {
            return Err("--firebase-auth graduate needs --firebase-api-key \
                        (FIREGATE_FIREBASE_API_KEY): after graduation Firebase Auth owns the \
                        password, and firegate checks a password changed there with it"
                .into());
        }
        Ok(())
    }
}

/// A web API key: it goes into a URL's query, so only the characters Google's keys have.
fn api_key(value: &str) -> Result<SecretString, String> {
    let value = value.trim();
    if value.is_empty()
        || value.len() > 100
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(
            "not a web API key (letters, digits, '-' and '_'; the Firebase console shows \
                    it under Project settings → General)"
                .into(),
        );
    }
    Ok(SecretString::from(value.to_string()))
}

/// A domain for synthesised emails.
fn email_domain(value: &str) -> Result<String, String> {
    let value = value.trim().trim_start_matches('@').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if value.contains('.') && value.len() <= 253 && value.split('.').all(label_ok) {
        Ok(value)
    } else {
        Err(format!(
            "`{value}` is not a domain name like users.example.com"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_and_domains_are_checked() {
        assert!(api_key("AIzaSyA-1234_abcd").is_ok());
        let refused = api_key("abc&x=1").unwrap_err();
        assert!(
            !refused.contains("abc"),
            "the value is never echoed: {refused}"
        );
        assert_eq!(
            email_domain("@Users.Example.com").unwrap(),
            "users.example.com"
        );
        assert!(email_domain("localhost").is_err());
        assert!(email_domain("a..b").is_err());
    }
}

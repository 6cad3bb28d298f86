//! The signer settings group: key files, or IAM Credentials `signBlob` with no key file.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::values::non_empty;
use crate::google::{IAM_CREDENTIALS_URL, IamOptions, METADATA_HOST};
use crate::service::SignerChoice;

/// How custom tokens are signed.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerKind {
    /// The active key file of --keys-dir.
    Key,
    /// IAM Credentials `signBlob` as --service-account: no key file; Google holds the key.
    Iam,
}

/// Which signer mints tokens, and where IAM Credentials and the metadata server are.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Signer")]
pub struct SignerArgs {
    /// How tokens are signed: with a key file of --keys-dir, or by IAM Credentials.
    ///
    /// `key`: with the active key file of --keys-dir; `iam`: by IAM Credentials signBlob,
    /// with Application Default Credentials and no key file.
    #[arg(long, env = "FIREGATE_SIGNER", value_enum, default_value_t = SignerKind::Key)]
    pub signer: SignerKind,

    /// Service account to sign as with --signer iam [default: the metadata server's].
    ///
    /// The metadata server's is the default account of the instance. It may belong to another
    /// project than --project-id.
    #[arg(long, env = "FIREGATE_SERVICE_ACCOUNT", value_name = "EMAIL",
          value_parser = service_account)]
    pub service_account: Option<String>,

    /// IAM Credentials API base URL.
    #[arg(long, env = "FIREGATE_IAM_CREDENTIALS_URL", default_value = IAM_CREDENTIALS_URL,
          value_parser = non_empty("--iam-credentials-url"))]
    pub iam_credentials_url: String,

    /// Longest one IAM signature may take, retries of transient failures included, in
    /// seconds; keep it under --request-timeout-secs.
    #[arg(long, env = "FIREGATE_IAM_DEADLINE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=60))]
    pub iam_deadline_secs: u32,
}

impl SignerArgs {
    /// The signer the service is built with.
    pub fn choice(&self) -> SignerChoice {
        match self.signer {
            SignerKind::Key => SignerChoice::Keys,
            SignerKind::Iam => SignerChoice::Iam(IamOptions {
                service_account: self.service_account.clone(),
                iam_credentials_url: self.iam_credentials_url.clone(),
                // The variable only, no flag: google-cloud-auth reads the same variable for
                // access tokens, and a flag would split the two.
                metadata_host: std::env::var("GCE_METADATA_HOST")
                    .ok()
                    .filter(|h| !h.trim().is_empty())
                    .unwrap_or_else(|| METADATA_HOST.to_string()),
                deadline: Duration::from_secs(self.iam_deadline_secs.into()),
            }),
        }
    }
}

/// A service-account email: it becomes part of the signBlob URL, so only the characters
/// Google allows in one.
fn service_account(value: &str) -> Result<String, String> {
    let value = value.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_@".contains(c);
    match value.split_once('@') {
        Some((name, domain))
            if !name.is_empty()
                && domain.contains('.')
                && value.len() <= 254
                && value.chars().all(allowed)
                && !domain.contains('@') =>
        {
            Ok(value.to_string())
        }
        _ => Err(format!(
            "`{value}` is not a service-account email (NAME@PROJECT.iam.gserviceaccount.com)"
        )),
    }
}

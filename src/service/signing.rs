//! Which signer mints custom tokens: the key ring of key files (`--signer key`), or IAM
//! Credentials `signBlob` with the runtime service account and no key file (`--signer iam`).

use serde::Serialize;
use tracing::{info, warn};

use crate::Result;
use crate::accounts::Uid;
use crate::custom_token::{self, KEYLESS_HEADER, TokenRequest};
use crate::google::{IamOptions, IamSigner};
use crate::keys::KeyRing;

/// How tokens are to be signed, before anything is loaded.
#[derive(Debug, Clone, Default)]
pub enum SignerChoice {
    /// The active key of the keys directory.
    #[default]
    Keys,
    /// IAM Credentials, as a service account whose key Google holds.
    Iam(IamOptions),
}

/// The signer a service mints with.
pub enum Signer {
    Keys(KeyRing),
    Iam(IamSigner),
}

/// What `keys list`, `keys check` and the admin page show of the signer.
#[derive(Debug, Clone, Serialize)]
pub struct SignerInfo {
    /// `key` or `iam`.
    pub signer: &'static str,
    /// The account tokens are issued as (with IAM, unknown until the metadata server is
    /// first asked).
    pub service_account: Option<String>,
    /// The key id: the active key's (`key`), or the last one IAM reported (`iam`).
    pub key_id: Option<String>,
}

impl Signer {
    /// Mints a token: locally with the active key, or with one `signBlob` call.
    pub async fn mint(&self, request: TokenRequest<'_>) -> Result<String> {
        match self {
            Signer::Keys(ring) => ring.active().signer.mint(request),
            Signer::Iam(iam) => {
                let email = iam.email().await?;
                let input = custom_token::signing_input(KEYLESS_HEADER, email, request)?;
                let signature = iam.sign(input.as_bytes()).await?;
                Ok(custom_token::with_signature(input, &signature.bytes))
            }
        }
    }

    /// The key ring, when tokens are signed with key files.
    pub fn key_ring(&self) -> Option<&KeyRing> {
        match self {
            Signer::Keys(ring) => Some(ring),
            Signer::Iam(_) => None,
        }
    }

    /// The signer as listings show it.
    pub fn info(&self) -> SignerInfo {
        match self {
            // No active key only while start-up settles the ring.
            Signer::Keys(ring) => {
                let active = ring.try_active();
                SignerInfo {
                    signer: "key",
                    service_account: active.as_ref().map(|a| a.client_email.clone()),
                    key_id: active.as_ref().map(|a| a.kid.clone()),
                }
            }
            Signer::Iam(iam) => SignerInfo {
                signer: "iam",
                service_account: iam.known_email().map(str::to_string),
                key_id: iam.last_key_id(),
            },
        }
    }

    /// Signs a probe token and logs the outcome: at start-up, so a missing permission or a
    /// disabled API shows in the log before the first user meets it, and for `keys check`.
    /// Returns the token (whose signature `keys check` verifies at Google).
    pub async fn probe(&self) -> Result<String> {
        let uid = Uid::parse("firegate-probe")?;
        let request = TokenRequest {
            uid: &uid,
            claims: &Default::default(),
            tenant_id: None,
            issued_at: jiff::Timestamp::now(),
            lifetime_secs: 60,
        };
        let minted = self.mint(request).await;
        if let Signer::Iam(iam) = self {
            match &minted {
                Ok(_) => info!(
                    email = iam.known_email().unwrap_or_default(),
                    key_id = iam.last_key_id().unwrap_or_default(),
                    "IAM signer ready"
                ),
                Err(e) => warn!(error = %e.chain(), "IAM signer cannot sign"),
            }
        }
        minted
    }
}

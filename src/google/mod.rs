//! Google APIs besides Firestore, over one credential source: Application Default
//! Credentials through Google's `google-cloud-auth` crate ([`AccessTokens`]), the metadata
//! server ([`Metadata`]) and IAM Credentials `signBlob` ([`IamSigner`]), which signs custom
//! tokens without a key file, and Identity Toolkit ([`IdentityToolkit`]), Firebase Auth's
//! admin API, and Firebase ID tokens ([`IdTokenVerifier`]) for the self-service routes.

use serde::Deserialize;

mod credentials;
mod iam;
mod id_token;
mod identity;
mod metadata;

pub use credentials::AccessTokens;
pub use iam::{IAM_CREDENTIALS_URL, IamOptions, IamSigner, Signature};
pub use id_token::{IdToken, IdTokenError, IdTokenOptions, IdTokenVerifier};
pub use identity::{
    BatchError, FirebaseUser, IDENTITY_TOOLKIT_URL, IdentityOptions, IdentityToolkit, MAX_LOOKUP,
    NewUser, UserUpdate,
};
pub use metadata::{METADATA_HOST, Metadata};

/// Longest `sub` an ID token may carry, in bytes (the uid limit every Admin SDK accepts).
pub const MAX_SUB_BYTES: usize = 128;

/// The HTTP client of the Google APIs (one pool of kept-alive connections, found out by TCP
/// keep-alive when they die silently instead of hanging a call), built once. Building it
/// loads the system's CA roots, about 10 ms: [`warm_api_client`] does that beside a server's
/// start-up, so neither the start nor the first call waits for it.
static API_CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
    std::sync::OnceLock::new();

fn api_client() -> Result<reqwest::Client, String> {
    API_CLIENT.get_or_init(build_api_client).clone()
}

/// Builds the shared client on a thread of its own, unless it is built already.
pub fn warm_api_client() {
    if API_CLIENT.get().is_none() {
        std::thread::spawn(|| drop(api_client()));
    }
}

fn build_api_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .tcp_keepalive(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", metadata::without_url(e)))
}

/// Sends `request` and reads the whole answer: its status and text, or the transport's
/// failure (without the URL, which may carry a key).
async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, String), String> {
    let response = request.send().await.map_err(metadata::without_url)?;
    let status = response.status();
    let text = response.text().await.map_err(metadata::without_url)?;
    Ok((status, text))
}

/// Sleeps `backoff` plus up to half again of jitter (which spreads the retries of instances
/// that failed together), never past `deadline`, then doubles `backoff` up to `max`.
async fn pause(
    backoff: &mut std::time::Duration,
    max: std::time::Duration,
    deadline: tokio::time::Instant,
) {
    let jitter = backoff.mul_f64(rand::random::<f64>() * 0.5);
    tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + *backoff + jitter)).await;
    *backoff = (*backoff * 2).min(max);
}

/// Google's answers quoted in messages are cut to this many characters: enough to name the
/// cause, never a whole body.
const QUOTE_CHARS: usize = 300;

/// The start of `text`, at most [`QUOTE_CHARS`] characters.
fn quote(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTE_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Google's error body: `{"error": {"code", "message", "status", "details": [...]}}`.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) error: GoogleError,
}

#[derive(Deserialize, Default)]
pub(crate) struct GoogleError {
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) details: Vec<ErrorDetail>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ErrorDetail {
    #[serde(default)]
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) metadata: std::collections::BTreeMap<String, String>,
}

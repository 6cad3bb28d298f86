//! Google APIs besides Firestore, over one credential source: Application Default
//! Credentials through Google's `google-cloud-auth` crate ([`AccessTokens`]), the metadata
//! server ([`Metadata`]) and IAM Credentials `signBlob` ([`IamSigner`]), which signs custom
//! tokens without a key file, and Identity Toolkit ([`IdentityToolkit`]), Firebase Auth's
//! admin API, Firebase ID tokens ([`IdTokenVerifier`]) for the self-service routes, and App
//! Check tokens ([`AppCheckVerifier`]) for the public ones.

use serde::Deserialize;

use crate::error::GoogleCallError;

mod app_check;
mod credentials;
mod iam;
mod id_token;
mod identity;
mod metadata;

pub use app_check::{
    APP_CHECK_API_URL, APP_CHECK_JWKS_URL, AppCheckClaims, AppCheckError, AppCheckMode,
    AppCheckOptions, AppCheckVerifier, RouteGroup,
};
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
static API_CLIENT: std::sync::OnceLock<Result<reqwest::Client, GoogleCallError>> =
    std::sync::OnceLock::new();

fn api_client() -> Result<reqwest::Client, GoogleCallError> {
    API_CLIENT.get_or_init(build_api_client).clone()
}

/// Builds the shared client on a thread of its own, unless it is built already.
pub fn warm_api_client() {
    if API_CLIENT.get().is_none() {
        std::thread::spawn(|| drop(api_client()));
    }
}

fn build_api_client() -> Result<reqwest::Client, GoogleCallError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .tcp_keepalive(std::time::Duration::from_secs(30))
        .build()
        .map_err(GoogleCallError::client)
}

/// Sends `request` and reads the whole answer: its status and text, or the transport's
/// failure (without the URL, which may carry a key).
async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, String), GoogleCallError> {
    let response = request.send().await.map_err(GoogleCallError::transport)?;
    let status = response.status();
    let text = response.text().await.map_err(GoogleCallError::transport)?;
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

/// What was wrong with an answer serde could not read: the kind of fault and where, never
/// serde's message, which quotes the answer's values (tokens, password hashes).
fn unreadable(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "JSON of another shape",
        serde_json::error::Category::Eof => "cut short",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_answer_is_described_without_its_values() {
        let e = serde_json::from_str::<Vec<u8>>(r#""pbkdf2$the-stored-hash""#).unwrap_err();
        let said = unreadable(&e);
        assert_eq!(said, "JSON of another shape at line 1 column 24");
        assert!(!said.contains("the-stored-hash"), "{said}");
    }
}

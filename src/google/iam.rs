//! Signing through IAM Credentials `signBlob`, as the Admin SDKs' `IAMSigner` does: Google
//! holds the service account's private key (and rotates it); firegate sends the bytes to sign
//! with an access token from Application Default Credentials. One HTTP client, so calls reuse
//! a kept-alive connection; transient answers (429, 5xx, connection failures) are retried with
//! backoff until the deadline; the answers users meet most (API disabled, permission missing,
//! no such account) become messages that name the fix.
//!
//! `google-cloud-auth` has a signer of its own, but it returns no `keyId`, folds every refusal
//! into one text, opens a new client per signature and retries for a fixed minute, so only
//! its credentials are used here.

use std::sync::RwLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::time::Instant;

use super::credentials::AccessTokens;
use super::metadata::Metadata;
use super::{ErrorBody, quote};
use crate::error::{GoogleCallError, SignerError};

/// IAM Credentials' endpoint.
pub const IAM_CREDENTIALS_URL: &str = "https://iamcredentials.googleapis.com";

/// First pause before retrying a transient failure; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The longest one attempt may take: a stalled connection is given up and retried rather
/// than allowed to use the whole deadline.
const MAX_ATTEMPT: Duration = Duration::from_secs(4);

/// Signatures in flight at once per instance: a burst of sign-ins queues here rather than
/// opening a connection each.
const MAX_IN_FLIGHT: usize = 32;

/// How the signer finds its account and Google's endpoints.
#[derive(Debug, Clone)]
pub struct IamOptions {
    /// The account to sign as; the metadata server's default account when `None`.
    pub service_account: Option<String>,
    /// IAM Credentials' base URL.
    pub iam_credentials_url: String,
    /// The metadata server (`$GCE_METADATA_HOST`).
    pub metadata_host: String,
    /// The longest one signature may take, retries included.
    pub deadline: Duration,
}

impl Default for IamOptions {
    /// The runtime's default account, Google's endpoints, a 10-second deadline.
    fn default() -> Self {
        IamOptions {
            service_account: None,
            iam_credentials_url: IAM_CREDENTIALS_URL.to_string(),
            metadata_host: super::METADATA_HOST.to_string(),
            deadline: Duration::from_secs(10),
        }
    }
}

/// A signature and the id of the Google-managed key that made it.
#[derive(Debug, Clone)]
pub struct Signature {
    pub bytes: Vec<u8>,
    pub key_id: String,
}

/// Signs as one service account through IAM Credentials.
#[derive(Debug)]
pub struct IamSigner {
    /// The account, given or (at first use) asked of the metadata server.
    email: tokio::sync::OnceCell<String>,
    metadata: Metadata,
    /// IAM Credentials' base URL, without a trailing slash.
    base: String,
    tokens: AccessTokens,
    deadline: Duration,
    last_key_id: RwLock<Option<String>>,
    in_flight: tokio::sync::Semaphore,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignBlobResponse {
    key_id: String,
    signed_blob: String,
}

/// What one attempt came to.
enum Attempt {
    Signed(Signature),
    /// Worth another try after a pause.
    Transient(GoogleCallError),
    /// The access token was refused: fetch a new one and try again, once.
    Unauthenticated(String),
    Failed(SignerError),
}

impl IamSigner {
    /// A signer for `--service-account`, or for the metadata server's default account,
    /// which is asked at the first signature (once: a warm signature makes no metadata call).
    /// Nothing is called here.
    pub fn new(options: &IamOptions) -> Result<IamSigner, SignerError> {
        Ok(IamSigner {
            email: match &options.service_account {
                Some(email) => tokio::sync::OnceCell::new_with(Some(email.clone())),
                None => tokio::sync::OnceCell::new(),
            },
            metadata: Metadata::new(&options.metadata_host),
            base: options
                .iam_credentials_url
                .trim_end_matches('/')
                .to_string(),
            tokens: AccessTokens::new(),
            deadline: options.deadline,
            last_key_id: RwLock::new(None),
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
        })
    }

    /// The service account tokens are signed as (their `iss` and `sub`).
    pub async fn email(&self) -> Result<&str, SignerError> {
        self.email
            .get_or_try_init(|| self.metadata.service_account_email())
            .await
            .map(String::as_str)
    }

    /// The project of the runtime, from the same metadata server.
    pub async fn metadata_project_id(&self) -> Result<String, SignerError> {
        self.metadata.project_id().await
    }

    /// The account, once known.
    pub fn known_email(&self) -> Option<&str> {
        self.email.get().map(String::as_str)
    }

    /// The `keyId` of the last signature, if any was made.
    pub fn last_key_id(&self) -> Option<String> {
        self.last_key_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Signs `bytes` (RS256 with the account's Google-managed key), retrying transient
    /// failures until the deadline.
    pub async fn sign(&self, bytes: &[u8]) -> Result<Signature, SignerError> {
        let email = self.email().await?;
        let url = format!(
            "{}/v1/projects/-/serviceAccounts/{email}:signBlob",
            self.base
        );
        let started = Instant::now();
        let deadline = started + self.deadline;
        let body = serde_json::json!({ "payload": STANDARD.encode(bytes) });
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0;
        let mut token_renewed = false;
        let unavailable = |attempts, last| SignerError::Unavailable {
            email: email.to_string(),
            deadline_ms: self.deadline.as_millis(),
            attempts,
            last,
        };
        let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, self.in_flight.acquire()).await
        else {
            return Err(unavailable(0, GoogleCallError::Busy));
        };
        loop {
            attempts += 1;
            let cut = deadline.min(Instant::now() + MAX_ATTEMPT);
            let attempt = match tokio::time::timeout_at(cut, self.attempt(&url, email, &body)).await
            {
                Ok(attempt) => attempt,
                Err(_) => Attempt::Transient(GoogleCallError::NoAnswer),
            };
            let last = match attempt {
                Attempt::Signed(signature) => {
                    *self.last_key_id.write().unwrap_or_else(|e| e.into_inner()) =
                        Some(signature.key_id.clone());
                    return Ok(signature);
                }
                // No access token: the credentials are built afresh and asked once more (a
                // metadata server that hiccuped, a cached failure).
                Attempt::Failed(SignerError::Credentials { source }) if !token_renewed => {
                    token_renewed = true;
                    self.tokens.reset();
                    source
                }
                Attempt::Failed(e) => return Err(e),
                Attempt::Unauthenticated(said) if !token_renewed => {
                    token_renewed = true;
                    self.tokens.reset();
                    tracing::warn!(email = %email, cause = %said, "IAM Credentials refused the access token; fetching a new one");
                    continue;
                }
                Attempt::Unauthenticated(said) => {
                    return Err(SignerError::Unauthenticated {
                        email: email.to_string(),
                        said,
                    });
                }
                Attempt::Transient(last) => last,
            };
            if Instant::now() + backoff >= deadline {
                return Err(unavailable(attempts, last));
            }
            tracing::warn!(email = %email, attempt = attempts, cause = %last, "signBlob failed; retrying");
            super::pause(&mut backoff, MAX_BACKOFF, deadline).await;
        }
    }

    async fn attempt(&self, url: &str, email: &str, body: &serde_json::Value) -> Attempt {
        let token = match self.tokens.bearer().await {
            Ok(token) => token,
            Err(source) => return Attempt::Failed(SignerError::Credentials { source }),
        };
        let http = match super::api_client() {
            Ok(http) => http,
            Err(source) => return Attempt::Failed(SignerError::Credentials { source }),
        };
        let request = http.post(url).bearer_auth(token.expose_secret());
        let (status, text) = match super::exchange(request.json(body)).await {
            Ok(answer) => answer,
            Err(cause) => return Attempt::Transient(cause),
        };
        if status.is_success() {
            return match signature(email, &text) {
                Ok(signature) => Attempt::Signed(signature),
                Err(e) => Attempt::Failed(e),
            };
        }
        refusal(email, status, &text)
    }
}

/// The signature in a successful answer.
fn signature(email: &str, text: &str) -> Result<Signature, SignerError> {
    let malformed = |what: String| SignerError::Malformed {
        email: email.to_string(),
        what,
    };
    let answer: SignBlobResponse = serde_json::from_str(text)
        .map_err(|e| malformed(format!("not a signBlob answer ({})", super::unreadable(&e))))?;
    let bytes = STANDARD
        .decode(answer.signed_blob.as_bytes())
        .map_err(|_| malformed("`signedBlob` is not base64".into()))?;
    // RS256 with a Google-managed key: an RSA-2048 signature (larger keys allowed).
    if ![256, 384, 512].contains(&bytes.len()) {
        return Err(malformed(format!(
            "`signedBlob` is {} bytes, not an RSA signature",
            bytes.len()
        )));
    }
    Ok(Signature {
        bytes,
        key_id: answer.key_id,
    })
}

/// What a refusal means, and the fix when it is one users meet often.
fn refusal(email: &str, status: StatusCode, text: &str) -> Attempt {
    let error = serde_json::from_str::<ErrorBody>(text)
        .unwrap_or_default()
        .error;
    let said = if error.message.is_empty() {
        format!("HTTP {status}: {}", quote(text))
    } else {
        quote(&format!("{} {}", error.status, error.message))
    };
    let email = email.to_string();
    let disabled = error
        .details
        .iter()
        .find(|d| d.reason == "SERVICE_DISABLED" || d.reason == "ACCESS_NOT_CONFIGURED");
    match status {
        StatusCode::UNAUTHORIZED => Attempt::Unauthenticated(said),
        StatusCode::FORBIDDEN
            if disabled.is_some()
                || (error.message.contains("iamcredentials.googleapis.com")
                    && error.message.contains("disabled")) =>
        {
            let project = disabled
                .and_then(|d| d.metadata.get("consumer"))
                .map(|c| c.trim_start_matches("projects/").to_string())
                .or_else(|| project_of(&email))
                .unwrap_or_else(|| "<project>".into());
            Attempt::Failed(SignerError::ServiceDisabled {
                project,
                email,
                said,
            })
        }
        StatusCode::FORBIDDEN => Attempt::Failed(SignerError::PermissionDenied { email, said }),
        StatusCode::NOT_FOUND => Attempt::Failed(SignerError::AccountNotFound { email, said }),
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Attempt::Transient(GoogleCallError::Answered { said }),
        _ => Attempt::Failed(SignerError::Refused {
            email,
            status: status.as_u16(),
            said,
        }),
    }
}

/// The project of a user-managed service account (`name@PROJECT.iam.gserviceaccount.com`).
fn project_of(email: &str) -> Option<String> {
    let domain = email.split_once('@')?.1;
    domain
        .strip_suffix(".iam.gserviceaccount.com")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "signer@proj-b.iam.gserviceaccount.com";

    fn failed(attempt: Attempt) -> SignerError {
        match attempt {
            Attempt::Failed(e) => e,
            _ => panic!("expected a final failure"),
        }
    }

    #[test]
    fn google_error_bodies_become_named_failures() {
        let disabled = r#"{"error":{"code":403,"message":"IAM Service Account Credentials API has not been used in project 1234 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"consumer":"projects/1234","service":"iamcredentials.googleapis.com"}}]}}"#;
        let e = failed(refusal(EMAIL, StatusCode::FORBIDDEN, disabled));
        assert!(matches!(&e, SignerError::ServiceDisabled { project, .. } if project == "1234"));
        assert!(
            e.to_string()
                .contains("gcloud services enable iamcredentials.googleapis.com --project 1234")
        );

        let denied = r#"{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.signBlob' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED"}]}}"#;
        let e = failed(refusal(EMAIL, StatusCode::FORBIDDEN, denied));
        assert!(matches!(e, SignerError::PermissionDenied { .. }));
        assert!(
            e.to_string()
                .contains("roles/iam.serviceAccountTokenCreator on signer@proj-b")
        );

        let e = failed(refusal(EMAIL, StatusCode::NOT_FOUND, "{}"));
        assert!(matches!(e, SignerError::AccountNotFound { .. }), "{e}");
        let e = failed(refusal(EMAIL, StatusCode::BAD_REQUEST, "not json at all"));
        assert!(e.to_string().contains("HTTP 400"), "{e}");
    }

    #[test]
    fn only_transient_answers_are_retried() {
        for status in [429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(matches!(
                refusal(EMAIL, status, "{}"),
                Attempt::Transient(_)
            ));
        }
        assert!(matches!(
            refusal(EMAIL, StatusCode::UNAUTHORIZED, "{}"),
            Attempt::Unauthenticated(_)
        ));
        assert!(matches!(
            refusal(EMAIL, StatusCode::CONFLICT, "{}"),
            Attempt::Failed(_)
        ));
    }

    #[test]
    fn quoted_answers_are_cut_short() {
        let long = "x".repeat(5000);
        let e = failed(refusal(EMAIL, StatusCode::BAD_REQUEST, &long));
        assert!(e.to_string().len() < 600, "{}", e.to_string().len());
    }

    #[test]
    fn a_disabled_api_without_details_names_the_accounts_project() {
        let body = r#"{"error":{"code":403,"message":"API iamcredentials.googleapis.com is disabled","status":"PERMISSION_DENIED"}}"#;
        // A denial that merely mentions something disabled is a denial.
        let other = r#"{"error":{"code":403,"message":"Permission denied: the account is disabled","status":"PERMISSION_DENIED"}}"#;
        assert!(matches!(
            failed(refusal(EMAIL, StatusCode::FORBIDDEN, other)),
            SignerError::PermissionDenied { .. }
        ));
        let e = failed(refusal(EMAIL, StatusCode::FORBIDDEN, body));
        assert!(matches!(&e, SignerError::ServiceDisabled { project, .. } if project == "proj-b"));
    }

    #[test]
    fn answers_without_a_usable_signature_are_refused() {
        assert!(signature(EMAIL, r#"{"keyId":"k","signedBlob":"%%%"}"#).is_err());
        assert!(signature(EMAIL, r#"{"keyId":"k","signedBlob":""}"#).is_err());
        assert!(signature(EMAIL, r#"{"signedBlob":"AAAA"}"#).is_err());
        assert!(
            signature(EMAIL, r#"{"keyId":"k1","signedBlob":"AAEC"}"#).is_err(),
            "truncated"
        );
        let blob = STANDARD.encode([7u8; 256]);
        let ok = signature(EMAIL, &format!(r#"{{"keyId":"k1","signedBlob":"{blob}"}}"#)).unwrap();
        assert_eq!((ok.bytes, ok.key_id.as_str()), (vec![7; 256], "k1"));
    }
}

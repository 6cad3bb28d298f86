//! How core errors look on the wire: a status code and a JSON body
//! `{"error": "<code>", "message": "..."}`. Internal causes are logged with their whole
//! `source()` chain, never sent: the body of a 500 or 503 is a fixed sentence.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

use crate::Error;

/// An error response. Built from a core [`Error`] or directly for edge-only failures.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
}

impl ApiError {
    /// An error response with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 400 with the given code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// The single body every failed sign-in gets, whatever the reason.
pub const INVALID_CREDENTIALS: &str = "Invalid login or password.";

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidCredentials => {
                ApiError::bad_request("invalid_credentials", INVALID_CREDENTIALS)
            }
            Error::InvalidInput {
                code,
                message,
                source,
            } => {
                // The client sees the reason; the failure underneath (a key host that did
                // not answer, say) goes to the operator's log.
                if let Some(cause) = source {
                    tracing::warn!(code, cause = %crate::error::chain(&*cause), "request refused");
                }
                ApiError::bad_request(code, message)
            }
            Error::MfaTokenInvalid => ApiError::bad_request(
                "invalid_mfa_token",
                "The mfa_token is unknown, expired or used up; sign in again.",
            ),
            Error::Unauthenticated(why) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_id_token", why)
            }
            Error::RecentSignInRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                "requires_recent_login",
                "This change needs a recent sign-in: sign in again (both steps), then retry.",
            ),
            // Alike to clients: registration says only that the name is not available.
            Error::LoginTaken(_) | Error::LoginIsUid(_) => ApiError::new(
                StatusCode::CONFLICT,
                "login_taken",
                "This email or username is already registered.",
            ),
            Error::LookAlikeTaken { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "login_look_alike",
                "This email or username looks like one already registered; choose another.",
            ),
            Error::UidTaken(_) => ApiError::new(
                StatusCode::CONFLICT,
                "uid_taken",
                "This uid is already in use.",
            ),
            Error::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "The account changed at the same time; retry.",
            ),
            Error::Disabled(what) => ApiError::new(StatusCode::FORBIDDEN, "disabled", what),
            Error::UnknownKey(kid) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_key",
                format!("No key `{kid}`."),
            ),
            Error::AccountNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such account.")
            }
            Error::RateLimited(what) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", what).retry_after(600)
            }
            Error::Overloaded => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Too many sign-ins in progress; retry shortly.",
            )
            .retry_after(1),
            cause @ Error::Unavailable { .. } => {
                error!(cause = %cause.chain(), "Firestore unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The account store is unavailable; retry shortly.",
                )
                .retry_after(2)
            }
            Error::Signer(cause) => {
                error!(cause = %crate::error::chain(&cause), "IAM signer unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Tokens cannot be signed right now; retry shortly.",
                )
                .retry_after(2)
            }
            // Logged once by the server as it stops, not per request.
            Error::StartUp(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The server failed to start; retry shortly.",
            )
            .retry_after(2),
            Error::Legacy(cause) => {
                error!(%cause, "legacy verify hook unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Sign-in cannot be checked right now; retry shortly.",
                )
                .retry_after(5)
            }
            Error::Breached(cause) => {
                error!(%cause, "breached-password lookup unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "New passwords cannot be checked right now; retry shortly.",
                )
                .retry_after(5)
            }
            Error::PasswordResetRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                "password_reset_required",
                "This password appears in known data breaches and can no longer be used. A \
                 link to choose a new one has been sent to the account's email address.",
            ),
            Error::Bridge(cause) => {
                error!(cause = %crate::error::chain(&cause), "Firebase Auth unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Firebase Auth cannot be reached right now; retry shortly.",
                )
                .retry_after(2)
            }
            other => {
                error!(cause = %other.chain(), "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error; it has been logged.",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.code, "message": self.message }));
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(error: Error) -> (StatusCode, String) {
        let response = ApiError::from(error).into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_503_or_500_body_shows_no_cause() {
        let cause = std::io::Error::other("tcp connect error 10.1.2.3:8080 secret-cause-text");
        let cases = [
            (
                Error::unavailable("cannot reach Firestore context-text").caused_by(cause),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Error::storage("the call failed context-text")
                    .caused_by(std::io::Error::other("secret-cause-text")),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                Error::internal("RSA signing failed context-text")
                    .caused_by(std::io::Error::other("secret-cause-text")),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                Error::StartUp(std::sync::Arc::new(
                    Error::unavailable("context-text")
                        .caused_by(std::io::Error::other("secret-cause-text")),
                )),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ];
        for (error, expected) in cases {
            assert!(error.chain().contains("secret-cause-text"));
            let (status, body) = body(error).await;
            assert_eq!(status, expected, "{body}");
            assert!(!body.contains("secret-cause-text"), "{body}");
            assert!(!body.contains("context-text"), "{body}");
            assert!(!body.contains("caused by"), "{body}");
        }
    }
}

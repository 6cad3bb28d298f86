//! What an admin request may fail with and how its outcome is logged: [`Refusal`] (a JSON error
//! with a stable reason), extractors whose rejections are refusals rather than axum's plain-text
//! ones, and [`audited`], which logs an action once, after it ran, and records it in the audit
//! trail (Firestore) for the page's audit view.

use std::future::Future;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use tracing::{info, warn};

use super::Admin;
use crate::Error;
use crate::accounts::{AccountSummary, Uid};
use crate::http::body::{JsonObject, read_bytes};
use crate::http::error::ApiError;
use crate::keys::KeyInfo;
use crate::service::{Service, Unlocked};
use crate::store::AuditEntry;

/// A refused admin request: the JSON error response, and its reason for the audit log.
pub(super) struct Refusal {
    reason: &'static str,
    // Boxed: refusals travel through `Result`s whose success is small.
    response: Box<Response>,
}

impl Refusal {
    /// A 400 whose error code is also the logged reason.
    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            reason: code,
            response: Box::new(ApiError::bad_request(code, message).into_response()),
        }
    }
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        let reason = match &e {
            Error::InvalidInput { code, .. } => code,
            Error::AccountNotFound(_) => "not_found",
            Error::UnknownKey(_) => "unknown_key",
            Error::LoginTaken(_) | Error::LoginIsUid(_) => "login_taken",
            Error::LookAlikeTaken { .. } => "login_look_alike",
            Error::UidTaken(_) => "uid_taken",
            Error::Conflict => "conflict",
            Error::Overloaded => "overloaded",
            Error::Unavailable { .. } | Error::Signer(_) | Error::Bridge(_) => "unavailable",
            Error::Key(_) => "key_error",
            _ => "internal",
        };
        Refusal {
            reason,
            response: Box::new(ApiError::from(e).into_response()),
        }
    }
}

/// Request-body errors ([`JsonObject`]'s); their status tells them apart.
impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        let response = e.into_response();
        let reason = match response.status() {
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid_body",
        };
        Refusal {
            reason,
            response: Box::new(response),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.response
    }
}

/// What an action acted on, for the log line of its success.
pub(super) trait Target {
    fn kid(&self) -> Option<&str> {
        None
    }
    fn uid(&self) -> Option<&str> {
        None
    }
}

impl Target for KeyInfo {
    fn kid(&self) -> Option<&str> {
        Some(&self.kid)
    }
}

impl Target for AccountSummary {
    fn uid(&self) -> Option<&str> {
        Some(self.uid.as_str())
    }
}

impl Target for Unlocked {
    fn uid(&self) -> Option<&str> {
        self.uid.as_ref().map(Uid::as_str)
    }
}

impl Target for crate::service::FactorsReset {
    fn uid(&self) -> Option<&str> {
        Some(self.uid.as_str())
    }
}

impl Target for Uid {
    fn uid(&self) -> Option<&str> {
        Some(self.as_str())
    }
}

/// Runs an admin action and logs it once, with the admin, the action, its target and the
/// outcome: `ok`, or `refused` with the reason. A refused account action names no account:
/// only uids are logged, never the login text an admin typed. The same record goes to the
/// audit trail before the answer; if that write fails the action stands (it has run) and
/// the log line says it is missing from the trail.
pub(super) async fn audited<T: Target>(
    service: &Service,
    admin: &Admin,
    action: &'static str,
    kid: Option<&str>,
    work: impl Future<Output = Result<T, Refusal>>,
) -> Result<T, Refusal> {
    let result = work.await;
    let (uid, kid, reason) = match &result {
        Ok(done) => (done.uid(), done.kid(), None),
        Err(refusal) => (None, kid, Some(refusal.reason)),
    };
    let outcome = if reason.is_none() { "ok" } else { "refused" };
    if reason.is_none() {
        info!(admin = %admin.0, action, kid, uid, outcome, "admin action");
    } else {
        warn!(admin = %admin.0, action, kid, outcome, reason, "admin action");
    }
    let entry = AuditEntry {
        at: Timestamp::now(),
        admin: admin.0.clone(),
        action: action.to_string(),
        uid: uid.map(str::to_string),
        kid: kid.map(str::to_string),
        outcome: outcome.to_string(),
        reason: reason.map(str::to_string),
    };
    if let Err(e) = service.store.record_audit(&entry).await {
        warn!(admin = %admin.0, action, error = %crate::error::chain(&e), "admin action not recorded in the audit trail");
    }
    result
}

/// The one parameter of a route's path (a key id or a uid), percent-decoded.
pub(super) struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(segment)) => Ok(Segment(segment)),
            Err(_) => Err(Refusal::bad_request(
                "invalid_path",
                "the path is not valid: a percent-encoded key id or uid must decode to UTF-8",
            )),
        }
    }
}

/// A query string deserialized into `T`; unknown or mistyped parameters are refused.
pub(super) struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(query)) => Ok(ValidQuery(query)),
            // serde's message names the parameter and the expected type (never the value, for
            // the parameter types used here).
            Err(rejection) => Err(Refusal::bad_request(
                "invalid_query",
                rejection
                    .body_text()
                    .replace("Failed to deserialize query string", "invalid query string"),
            )),
        }
    }
}

/// An optional JSON object body: empty, or a JSON object. The gate has already required
/// `Content-Type: application/json`.
pub(super) struct OptionalObject(pub Option<JsonObject>);

impl<S: Send + Sync> FromRequest<S> for OptionalObject {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &S) -> Result<Self, Refusal> {
        let bytes = read_bytes(req, state).await?;
        if bytes.is_empty() {
            return Ok(OptionalObject(None));
        }
        Ok(OptionalObject(Some(JsonObject::parse(&bytes)?)))
    }
}

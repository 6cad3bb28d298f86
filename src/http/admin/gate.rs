//! Who reaches the admin routes. Browsers resend cached Basic credentials on cross-site form
//! posts, so a state-changing request must first be same-origin JSON; then HTTP Basic
//! authentication against the configured argon2id hash, on a hashing budget of its own, with
//! a failure floor that holds the one admin check and a lockout after repeated failures.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use tokio::sync::Semaphore;
use tracing::warn;

use super::Admin;
use crate::Error;
use crate::client_network::ClientNetwork;
use crate::http::error::ApiError;
use crate::passwords::Password;
use crate::service::{AdminCredential, AdminVerdict, Service};

/// How long an admin request waits for the password check in progress to finish.
const CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Admin password checks that may run at once. An admin works alone; a flood of wrong guesses
/// then holds at most this many hashing threads, and the others keep serving sign-ins.
const CONCURRENT_CHECKS: usize = 1;

/// The gate's state: the service (for the credential and the hashing pool) and the admin's
/// own hashing budget.
pub(super) struct Gate {
    service: Arc<Service>,
    checks: Arc<Semaphore>,
}

impl Gate {
    pub(super) fn new(service: Arc<Service>) -> Arc<Gate> {
        Arc::new(Gate {
            service,
            checks: Arc::new(Semaphore::new(CONCURRENT_CHECKS)),
        })
    }
}

/// 404 without an admin credential, whatever the method or path; otherwise the same-origin
/// checks (state-changing methods), then authentication, before the route or method is
/// looked at. The admin's name is handed on to the handler.
pub(super) async fn gate(
    State(gate): State<Arc<Gate>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(credential) = gate.service.admin.as_ref() else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            .into_response();
    };
    // Before authentication, so a cross-site post costs no hashing and gets no Basic-auth
    // challenge (which would make the browser prompt for the admin password).
    if !request.method().is_safe()
        && let Err((reason, refusal)) = same_origin_json(&request)
    {
        warn!(
            action = "admin-request",
            outcome = "refused",
            reason,
            "admin request refused before authentication"
        );
        return refusal.into_response();
    }
    let client = request.extensions().get::<ClientNetwork>().copied();
    match gate
        .authenticate(credential.clone(), request.headers(), client)
        .await
    {
        Ok(admin) => {
            request.extensions_mut().insert(admin);
            next.run(request).await
        }
        Err(response) => response,
    }
}

impl Gate {
    async fn authenticate(
        &self,
        credential: AdminCredential,
        headers: &HeaderMap,
        client: Option<ClientNetwork>,
    ) -> Result<Admin, Response> {
        let Some((user, password)) = basic_credentials(headers) else {
            return Err(unauthorized());
        };
        // Over 4,096 bytes: never the admin's password, and not worth hashing.
        let Ok(password) = Password::new(password) else {
            return Err(unauthorized());
        };
        // Requests of one admin (a page and its API calls) wait their turn briefly; a flood
        // of guesses beyond that is refused.
        let Ok(Ok(checking)) =
            tokio::time::timeout(CHECK_WAIT, self.checks.clone().acquire_owned()).await
        else {
            return Err(ApiError::from(Error::Overloaded).into_response());
        };
        // A place among all password checks, so admin guesses cannot crowd out sign-ins.
        let admitted = self
            .service
            .admit()
            .map_err(|e| ApiError::from(e).into_response())?;
        // The check, its count and the floor run in a task of their own that keeps the one
        // admin check until the floor has passed, whatever the client does meanwhile: at most
        // one guess per floor per instance, however many clients ask at once.
        let service = self.service.clone();
        let task = tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let name = credential.user.clone();
            let verdict = service
                .check_admin(&credential, &user, &password, client, Timestamp::now())
                .await;
            // Only a checked password keeps the floor: a locked answer hashed nothing and
            // tells nothing the 429 does not, and holding the check for it would let a
            // flood of locked-out guesses starve the admin's own network.
            if matches!(verdict, Ok(AdminVerdict::Refused)) {
                tokio::time::sleep_until(started + service.failure_floor()).await;
            }
            drop((checking, admitted));
            (verdict, name)
        });
        match task.await {
            Ok((Ok(AdminVerdict::Admitted), name)) => Ok(Admin(name)),
            Ok((Ok(AdminVerdict::Refused), _)) => Err(unauthorized()),
            Ok((Ok(AdminVerdict::Locked(until)), _)) => Err(locked(until)),
            // The hashing pool's queue is full (503 with Retry-After), Firestore is down, or
            // hashing broke.
            Ok((Err(e), _)) => Err(ApiError::from(e).into_response()),
            Err(e) => Err(ApiError::from(Error::Task(e)).into_response()),
        }
    }
}

/// Admin sign-in is locked: 429 with the wait, and no Basic challenge (the browser would only
/// prompt again for a password that cannot be checked now).
fn locked(until: Timestamp) -> Response {
    let wait = until.duration_since(Timestamp::now()).as_secs().max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "admin_locked",
        format!(
            "admin sign-in is locked after repeated failed attempts; retry in {wait} s \
             (the firegate CLI works meanwhile)"
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}

/// The user name and password of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let raw = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(raw.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "admin credentials required",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"firegate admin\", charset=\"UTF-8\""),
    );
    response
}

/// Refuses what a cross-site page could make a browser send: a request the browser marks
/// `Sec-Fetch-Site: cross-site`, an `Origin` other than this server's host, and any body but
/// JSON (a JSON content type forces a CORS preflight, which this server never grants).
fn same_origin_json(request: &Request) -> Result<(), (&'static str, ApiError)> {
    let headers = request.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err((
            "cross_site",
            ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_site",
                "admin actions are refused from other sites (Sec-Fetch-Site: cross-site); \
                 use the admin page of this server",
            ),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().authority().map(Authority::as_str));
        let same = match (origin.to_str(), host) {
            (Ok(origin), Some(host)) => same_host(origin, host),
            _ => false,
        };
        if !same {
            return Err((
                "cross_origin",
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross_origin",
                    "admin actions are accepted only from this server's own pages: the Origin \
                     header names another host (behind a proxy, forward the original Host)",
                ),
            ));
        }
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err((
            "unsupported_media_type",
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "admin actions must be sent with Content-Type: application/json (a cross-site \
                 form cannot send it), with a JSON body or none",
            ),
        ));
    }
    Ok(())
}

/// True when `origin` (`scheme://host[:port]`) names the same host and port as the `Host`
/// header; a missing port is the scheme's default. `null` and other schemes never match.
fn same_host(origin: &str, host: &str) -> bool {
    let Ok(origin) = origin.parse::<Uri>() else {
        return false;
    };
    let default_port = match origin.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return false,
    };
    let (Some(origin), Ok(host)) = (origin.authority(), host.parse::<Authority>()) else {
        return false;
    };
    origin.host().eq_ignore_ascii_case(host.host())
        && origin.port_u16().unwrap_or(default_port) == host.port_u16().unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::same_host;

    #[test]
    fn an_origin_matches_its_own_host_only() {
        assert!(same_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_host("https://Admin.Example.com", "admin.example.com"));
        assert!(same_host(
            "https://admin.example.com",
            "admin.example.com:443"
        ));
        assert!(!same_host("https://evil.example", "admin.example.com"));
        assert!(!same_host(
            "http://admin.example.com:8081",
            "admin.example.com:8080"
        ));
        assert!(!same_host(
            "http://admin.example.com",
            "admin.example.com:443"
        ));
        assert!(!same_host("null", "admin.example.com"));
        assert!(!same_host("file://admin.example.com", "admin.example.com"));
        assert!(!same_host(
            "https://admin.example.com.evil",
            "admin.example.com"
        ));
    }
}

//! The second factor's routes: `POST /login/second-factor/` finishes a sign-in that
//! answered `second_factor_required`; `GET /mfa/` and the `/mfa/…` changes act for the
//! account whose Firebase ID token is in `Authorization: Bearer …`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde_json::json;

use askama::Template;

use super::body::JsonObject;
use super::error::ApiError;
use super::pages::{self, Language, RequestedLanguage, Words};
use crate::client_network::ClientNetwork;
use crate::service::{Caller, Challenge, Service};

/// Makes one route's handlers.
type Handlers = fn() -> MethodRouter<Arc<Service>>;

/// The routes, each with and without its trailing slash; with `demo_page`, the enrolment
/// page at `GET /mfa/setup/` too.
pub fn routes(demo_page: bool) -> Router<Arc<Service>> {
    let mut router = Router::new();
    if demo_page {
        router = router
            .route("/mfa/setup", get(setup_page))
            .route("/mfa/setup/", get(setup_page));
    }
    let routes: [(&str, Handlers); 6] = [
        ("/login/second-factor", || post(second_factor)),
        ("/mfa", || get(list)),
        ("/mfa/totp/enroll", || post(enroll)),
        ("/mfa/totp/confirm", || post(confirm)),
        ("/mfa/totp/remove", || post(remove)),
        ("/mfa/recovery-codes", || post(regenerate)),
    ];
    for (path, handler) in routes {
        router = router
            .route(path, handler())
            .route(&format!("{path}/"), handler());
    }
    router
}

#[derive(Template)]
#[template(path = "mfa_setup.html")]
struct SetupPage<'a> {
    nonce: &'a str,
    t: Words<'a>,
    /// The Auth emulator's URL, which turns custom tokens into ID tokens for the page; empty
    /// without one.
    auth_emulator: &'a str,
}

/// The demo enrolment page: signs in, exchanges the custom token for an ID token at the Auth
/// emulator (what `signInWithCustomToken` does), shows the QR code and confirms with a code.
async fn setup_page(State(service): State<Arc<Service>>, language: Language) -> Response {
    let nonce = pages::nonce();
    let t = Words::new(&service, language);
    let emulator = service.auth_emulator_url();
    let html = SetupPage {
        nonce: &nonce,
        t,
        auth_emulator: emulator.unwrap_or_default(),
    }
    .render();
    pages::html_response_connecting(html, &nonce, emulator)
}

/// The answer to a right password of an account with a second factor.
pub fn challenge_response(challenge: Challenge) -> Response {
    let body = json!({
        "error": "second_factor_required",
        "message": "Send a code from the authenticator app (or a recovery code) to \
                    /login/second-factor/ with this mfa_token.",
        "mfa_token": challenge.mfa_token.as_str(),
        "factors": challenge.factors,
    });
    no_store((StatusCode::FORBIDDEN, Json(body)).into_response())
}

pub(super) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn second_factor(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    RequestedLanguage(lang): RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let mfa_token = body.string("mfa_token")?;
    let client = client.map(|Extension(network)| network);
    // A passkey's assertion (after POST /login/second-factor/passkey/) or a code.
    let signed_in = match body.optional_string("ceremony")? {
        Some(ceremony) => {
            let credential = body.object("credential")?;
            body.finish("`mfa_token`, `ceremony` and `credential`")?;
            service
                .complete_sign_in_with_passkey(
                    &mfa_token,
                    &ceremony,
                    credential,
                    client,
                    Timestamp::now(),
                )
                .await?
        }
        None => {
            let code = body.string("code")?;
            body.finish("`mfa_token` and `code` (or `ceremony` and `credential`)")?;
            service
                .complete_sign_in(&mfa_token, &code, client, lang, Timestamp::now())
                .await?
        }
    };
    Ok(no_store(
        Json(json!({ "uid": signed_in.uid, "token": signed_in.token })).into_response(),
    ))
}

/// The account the request's `Authorization: Bearer <Firebase ID token>` speaks for, with
/// the language the request names (for the mails it causes).
pub(super) async fn caller(
    service: &Service,
    headers: &HeaderMap,
    RequestedLanguage(lang): RequestedLanguage,
) -> Result<Caller, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_id_token",
                "Send `Authorization: Bearer <Firebase ID token>` of a user signed in with \
                 firegate's custom token (getIdToken()).",
            )
        })?;
    Ok(service.caller(token, lang, Timestamp::now()).await?)
}

async fn list(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
) -> Result<Response, ApiError> {
    let caller = caller(&service, &headers, language).await?;
    Ok(no_store(
        Json(service.list_factors(&caller)).into_response(),
    ))
}

async fn enroll(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
) -> Result<Response, ApiError> {
    let caller = caller(&service, &headers, language).await?;
    let enrollment = service.enroll_totp(&caller, Timestamp::now()).await?;
    Ok(no_store(Json(enrollment).into_response()))
}

async fn confirm(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let code = body.string("code")?;
    body.finish("`code`")?;
    let caller = caller(&service, &headers, language).await?;
    let codes = service
        .confirm_totp(&caller, &code, Timestamp::now())
        .await?;
    Ok(no_store(
        Json(json!({ "enabled": true, "recovery_codes": codes })).into_response(),
    ))
}

async fn remove(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let code = body.string("code")?;
    body.finish("`code`")?;
    let caller = caller(&service, &headers, language).await?;
    let client = client.map(|Extension(network)| network);
    service
        .remove_totp(&caller, &code, client, Timestamp::now())
        .await?;
    Ok(no_store(Json(json!({ "removed": true })).into_response()))
}

async fn regenerate(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let code = body.string("code")?;
    body.finish("`code`")?;
    let caller = caller(&service, &headers, language).await?;
    let client = client.map(|Extension(network)| network);
    let codes = service
        .regenerate_recovery_codes(&caller, &code, client, Timestamp::now())
        .await?;
    Ok(no_store(
        Json(json!({ "recovery_codes": codes })).into_response(),
    ))
}

//! Passkey routes. For the account whose Firebase ID token is in `Authorization: Bearer …`:
//! `POST /passkeys/register/start|finish/`, `GET /passkeys/`, `PATCH|DELETE
//! /passkeys/{id}/`, `POST /passkeys/second-factor/`. For anyone: `POST
//! /passkeys/login/start|finish/` (passwordless) and `POST /login/second-factor/passkey/`
//! (the options of a second step; the assertion goes to `/login/second-factor/`). Under
//! `dev`, `GET /passkeys/demo/` is a page that does both with the browser's authenticator.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde_json::json;

use super::body::JsonObject;
use super::error::ApiError;
use super::mfa::{caller, no_store};
use super::pages;
use super::pages::RequestedLanguage;
use crate::client_network::ClientNetwork;
use crate::service::Service;

/// Makes one route's handlers.
type Handlers = fn() -> MethodRouter<Arc<Service>>;

/// The routes, each with and without its trailing slash; the demo page only with
/// `demo_page` (`dev`).
pub fn routes(demo_page: bool) -> Router<Arc<Service>> {
    let mut router = Router::new();
    if demo_page {
        router = router
            .route("/passkeys/demo", get(demo))
            .route("/passkeys/demo/", get(demo));
    }
    let routes: [(&str, Handlers); 8] = [
        ("/passkeys", || get(list)),
        ("/passkeys/register/start", || post(register_start)),
        ("/passkeys/register/finish", || post(register_finish)),
        ("/passkeys/second-factor", || post(second_factor)),
        ("/passkeys/login/start", || post(login_start)),
        ("/passkeys/login/finish", || post(login_finish)),
        ("/login/second-factor/passkey", || post(second_step_start)),
        ("/passkeys/{id}", || patch(rename).delete(delete)),
    ];
    for (path, handler) in routes {
        router = router
            .route(path, handler())
            .route(&format!("{path}/"), handler());
    }
    router
}

#[derive(Template)]
#[template(path = "passkeys_demo.html")]
struct DemoPage<'a> {
    nonce: &'a str,
}

/// A page that registers a passkey (given an ID token) and signs in with one.
async fn demo() -> Response {
    let nonce = pages::nonce();
    let html = DemoPage { nonce: &nonce }.render();
    pages::html_response(html, &nonce)
}

fn answer(value: impl serde::Serialize) -> Response {
    no_store(Json(value).into_response())
}

async fn list(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
) -> Result<Response, ApiError> {
    let caller = caller(&service, &headers, language).await?;
    Ok(answer(service.list_passkeys(&caller).await?))
}

async fn register_start(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    body: JsonObject,
) -> Result<Response, ApiError> {
    body.finish("none")?;
    let caller = caller(&service, &headers, language).await?;
    let started = service
        .start_passkey_registration(&caller, Timestamp::now())
        .await?;
    Ok(answer(started))
}

async fn register_finish(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let ceremony = body.string("ceremony")?;
    let credential = body.object("credential")?;
    let name = body.optional_string("name")?;
    body.finish("`ceremony`, `credential` and `name`")?;
    let caller = caller(&service, &headers, language).await?;
    let added = service
        .finish_passkey_registration(
            &caller,
            &ceremony,
            credential,
            name.as_deref(),
            Timestamp::now(),
        )
        .await?;
    Ok(answer(added))
}

async fn rename(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    Path(id): Path<String>,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let name = body.string("name")?;
    body.finish("`name`")?;
    let caller = caller(&service, &headers, language).await?;
    Ok(answer(service.rename_passkey(&caller, &id, &name).await?))
}

async fn delete(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&service, &headers, language).await?;
    service
        .delete_passkey(&caller, &id, Timestamp::now())
        .await?;
    Ok(answer(json!({ "deleted": true })))
}

async fn second_factor(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let enabled = body.optional_bool("enabled")?.ok_or_else(|| {
        ApiError::bad_request(
            "missing_field",
            "field `enabled` (true or false) is required",
        )
    })?;
    body.finish("`enabled`")?;
    let caller = caller(&service, &headers, language).await?;
    let enabled = service
        .set_passkey_second_factor(&caller, enabled, Timestamp::now())
        .await?;
    Ok(answer(json!({ "second_factor": enabled })))
}

async fn login_start(
    State(service): State<Arc<Service>>,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let login = match body.optional_string("login")? {
        Some(login) => Some(login),
        None => body.optional_string("email")?,
    };
    body.finish("`login` (optional)")?;
    let login = login.filter(|l| !l.trim().is_empty());
    let started = service
        .start_passkey_sign_in(login.as_deref(), Timestamp::now())
        .await?;
    Ok(answer(started))
}

async fn login_finish(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let ceremony = body.string("ceremony")?;
    let credential = body.object("credential")?;
    body.finish("`ceremony` and `credential`")?;
    let client = client.map(|Extension(network)| network);
    let signed_in = service
        .finish_passkey_sign_in(&ceremony, credential, client, Timestamp::now())
        .await?;
    Ok(answer(
        json!({ "uid": signed_in.uid, "token": signed_in.token }),
    ))
}

async fn second_step_start(
    State(service): State<Arc<Service>>,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let mfa_token = body.string("mfa_token")?;
    body.finish("`mfa_token`")?;
    let started = service
        .start_passkey_second_step(&mfa_token, Timestamp::now())
        .await?;
    Ok(answer(started))
}

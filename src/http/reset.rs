//! Password reset: `POST /password-reset/` asks for a link by mail (`202` with one fixed
//! body, whether or not the account exists), `GET /password-reset/` is the page the link
//! opens, and `POST /password-reset/confirm/` sets the new password (`204`, or `400
//! invalid_token`). Every answer carries `Referrer-Policy: no-referrer` and `no-store`, so
//! the token in the page's address leaks nowhere.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde_json::json;

use super::body::JsonObject;
use super::error::ApiError;
use super::login::login_field;
use super::pages::{self, Language, RequestedLanguage, Words};
use crate::client_network::ClientNetwork;
use crate::messages::{self, Asked, Lang, Locale};
use crate::passwords::Password;
use crate::service::Service;

/// The one answer to a reset request.
const REQUESTED: &str =
    "If an account has this address, a link to choose a new password is on its way.";

/// The `/password-reset` and `/password-reset/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    get(page).post(request)
}

/// The `/password-reset/confirm` and `/password-reset/confirm/` handlers.
pub fn confirm_routes() -> MethodRouter<Arc<Service>> {
    post(confirm)
}

pub(super) fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Who a mail a request causes is written for: the request's language, and the time zone
/// its optional `time_zone` field names (UTC without).
pub(super) fn reader(body: &mut JsonObject, Language(lang): Language) -> Result<Locale, ApiError> {
    let asked = asked(body, Some(lang))?;
    Ok(Locale::utc(lang).in_zone(asked.zone))
}

/// What a request says of its reader: the language it names (`lang`) and the time zone its
/// optional `time_zone` field names (UTC without).
pub(super) fn asked(body: &mut JsonObject, lang: Option<Lang>) -> Result<Asked, ApiError> {
    let mut asked = Asked::utc(lang);
    if let Some(name) = body.optional_string("time_zone")? {
        asked.zone = messages::time_zone(&name)
            .map_err(|why| ApiError::bad_request("invalid_time_zone", why))?;
    }
    Ok(asked)
}

async fn request(
    State(service): State<Arc<Service>>,
    RequestedLanguage(lang): RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let login = login_field(&mut body)?;
    let reader = asked(&mut body, lang)?;
    body.finish("`email` or `username`, and optionally `time_zone`")?;
    service
        .request_password_reset(&login, reader, Timestamp::now())
        .await?;
    Ok(private(
        (StatusCode::ACCEPTED, Json(json!({ "message": REQUESTED }))).into_response(),
    ))
}

async fn confirm(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let token = body.string("token")?;
    let new_password = body.string("new_password")?;
    body.finish("`token` and `new_password`")?;
    let new_password = Password::new(new_password)?;
    service
        .confirm_password_reset(
            &token,
            &new_password,
            client.map(|Extension(network)| network),
            Timestamp::now(),
        )
        .await?;
    Ok(private(StatusCode::NO_CONTENT.into_response()))
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage<'a> {
    nonce: &'a str,
    t: Words<'a>,
}

async fn page(State(service): State<Arc<Service>>, language: Language) -> Response {
    if !service.reset_on() {
        return super::not_found().await.into_response();
    }
    let nonce = pages::nonce();
    let t = Words::new(&service, language);
    // html_response already sends no-referrer and no-store.
    pages::html_response(ResetPage { nonce: &nonce, t }.render(), &nonce)
}

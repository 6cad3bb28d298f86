//! Email verification: `POST /email-verification/` mails a link to the account that signs in
//! with the body's login and password (`202`; a failed sign-in answers as `POST /login/`
//! does), `GET /email-verification/` is the page the link opens, and `POST
//! /email-verification/confirm/` marks the address verified (`204`, or `400 invalid_token`).
//! Answers carry `Referrer-Policy: no-referrer` and `no-store`, as the reset's do.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde_json::json;

use super::body::JsonObject;
use super::error::ApiError;
use super::login::login_field;
use super::pages::{self, Language, RequestedLanguage, Words};
use super::reset::{asked, private};
use crate::client_network::ClientNetwork;
use crate::passwords::Password;
use crate::service::Service;

/// The one answer to a verification request that signed in.
const REQUESTED: &str = "If the address is not verified yet, a link to verify it is on its way.";

/// The `/email-verification` and `/email-verification/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    get(page).post(request)
}

/// The `/email-verification/confirm` and `/email-verification/confirm/` handlers.
pub fn confirm_routes() -> MethodRouter<Arc<Service>> {
    post(confirm)
}

async fn request(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    RequestedLanguage(lang): RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let login = login_field(&mut body)?;
    let password = body.string("password")?;
    let reader = asked(&mut body, lang)?;
    body.finish("`email` or `username`, `password`, and optionally `time_zone`")?;
    let password = Password::new(password)?;
    service
        .request_email_verification(
            &login,
            &password,
            client.map(|Extension(network)| network),
            reader,
            Timestamp::now(),
        )
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
    body.finish("`token`")?;
    service
        .confirm_email_verification(
            &token,
            client.map(|Extension(network)| network),
            Timestamp::now(),
        )
        .await?;
    Ok(private(StatusCode::NO_CONTENT.into_response()))
}

#[derive(Template)]
#[template(path = "email_verification.html")]
struct VerifyPage<'a> {
    nonce: &'a str,
    t: Words<'a>,
}

async fn page(State(service): State<Arc<Service>>, language: Language) -> Response {
    if !service.verification_on() {
        return super::not_found().await.into_response();
    }
    let nonce = pages::nonce();
    let t = Words::new(&service, language);
    pages::html_response(VerifyPage { nonce: &nonce, t }.render(), &nonce)
}

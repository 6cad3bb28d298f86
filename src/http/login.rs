//! `POST /login/`: credentials in, `{uid, token}` out; and `GET /login/`, a small page whose
//! form calls the same endpoint and shows the uid and the token's decoded claims.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde_json::json;

use super::body::JsonObject;
use super::error::ApiError;
use super::pages::{self, Language, RequestedLanguage, Words};
use crate::client_network::ClientNetwork;
use crate::passwords::Password;
use crate::service::{Service, SignInOutcome};

/// The `/login` and `/login/` handlers; `GET` (the demo page) only with `demo_page`.
pub fn routes(demo_page: bool) -> MethodRouter<Arc<Service>> {
    if demo_page {
        get(page).post(login)
    } else {
        post(login)
    }
}

async fn login(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    RequestedLanguage(lang): RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let email = body.optional_string("email")?;
    let username = body.optional_string("username")?;
    let password = body.string("password")?;
    let asked = super::reset::asked(&mut body, lang)?;
    body.finish("`email` or `username`, `password`, and optionally `time_zone`")?;
    let login = match (email, username) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "ambiguous_login",
                "send either `email` or `username`, not both",
            ));
        }
        (Some(login), None) | (None, Some(login)) if login.is_empty() => {
            return Err(ApiError::bad_request(
                "empty_field",
                "the login must not be empty",
            ));
        }
        (Some(login), None) | (None, Some(login)) => login,
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_field",
                "send the login as `email` or `username`",
            ));
        }
    };
    let password = Password::new(password)?;
    let client = client.map(|Extension(network)| network);
    let signed_in = match service
        .sign_in(&login, &password, client, asked, Timestamp::now())
        .await?
    {
        SignInOutcome::SignedIn(signed_in) => signed_in,
        SignInOutcome::SecondFactor(challenge) => {
            return Ok(super::mfa::challenge_response(challenge));
        }
    };
    let mut response =
        Json(json!({ "uid": signed_in.uid, "token": signed_in.token })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The login a client sent, as `email` or as `username` (exactly one of them).
pub(super) fn login_field(body: &mut JsonObject) -> Result<String, ApiError> {
    let email = body.optional_string("email")?;
    let username = body.optional_string("username")?;
    match (email, username) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "ambiguous_login",
            "send either `email` or `username`, not both",
        )),
        (Some(login), None) | (None, Some(login)) if login.is_empty() => Err(
            ApiError::bad_request("empty_field", "the login must not be empty"),
        ),
        (Some(login), None) | (None, Some(login)) => Ok(login),
        (None, None) => Err(ApiError::bad_request(
            "missing_field",
            "send the login as `email` or `username`",
        )),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    nonce: &'a str,
    t: Words<'a>,
}

async fn page(State(service): State<Arc<Service>>, language: Language) -> Response {
    let nonce = pages::nonce();
    let t = Words::new(&service, language);
    let html = LoginPage { nonce: &nonce, t }.render();
    pages::html_response(html, &nonce)
}

//! `POST /register/`: a new account from an email, an optional username and a password (and
//! optionally its preferred `language`); `201 {"uid"}`, `409` when a login is taken, `403` when registration is turned off.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, post};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::body::JsonObject;
use super::error::ApiError;
use super::pages::{Language, RequestedLanguage, named_language};
use super::reset::reader;
use crate::passwords::Password;
use crate::service::Service;

/// The `/register` and `/register/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    post(register)
}

async fn register(
    State(service): State<Arc<Service>>,
    RequestedLanguage(requested): RequestedLanguage,
    mut body: JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email = body.string("email")?;
    let username = body.optional_string("username")?;
    let password = body.string("password")?;
    // The account keeps the language the client names (its `language` field, else the
    // request's `lang` or Accept-Language); naming none keeps none, so its mails follow
    // --default-language.
    let preferred = match body.optional_string("language")? {
        Some(tag) => Some(named_language(&service, &tag)?),
        None => requested,
    };
    let lang = preferred.unwrap_or_else(|| service.messages().default_lang());
    let reader = reader(&mut body, Language(lang))?;
    body.finish("`email`, `password` and optionally `username`, `language` and `time_zone`")?;
    let password = Password::new(password)?;
    let account = service
        .register(
            &email,
            username.as_deref(),
            password,
            reader,
            preferred,
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "uid": account.uid }))))
}

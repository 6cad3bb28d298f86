//! `POST /register/`: a new account from an email, an optional username and a password;
//! `201 {"uid"}`, `409` when a login is taken, `403` when registration is turned off.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, post};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::body::JsonObject;
use super::error::ApiError;
use super::pages::Language;
use super::reset::reader;
use crate::passwords::Password;
use crate::service::Service;

/// The `/register` and `/register/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    post(register)
}

async fn register(
    State(service): State<Arc<Service>>,
    language: Language,
    mut body: JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email = body.string("email")?;
    let username = body.optional_string("username")?;
    let password = body.string("password")?;
    let reader = reader(&mut body, language)?;
    body.finish("`email`, `password` and optionally `username` and `time_zone`")?;
    let password = Password::new(password)?;
    let account = service
        .register(
            &email,
            username.as_deref(),
            password,
            reader,
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "uid": account.uid }))))
}

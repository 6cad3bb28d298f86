//! `POST /password/`: change a password given the current one (and, for an account with a
//! second factor, a current `code`). `204` on success; a wrong current password or code gets
//! exactly the failed-sign-in response; the right password of an account with a factor, sent
//! without a code, `403 second_factor_required` (no `mfa_token`: send the request again with
//! `code`).

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use jiff::Timestamp;
use serde_json::json;

use super::body::JsonObject;
use super::error::ApiError;
use super::login::login_field;
use crate::client_network::ClientNetwork;
use crate::passwords::Password;
use crate::service::{PasswordChange, Service};

/// The `/password` and `/password/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    post(change_password)
}

async fn change_password(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    let login = login_field(&mut body)?;
    let current = body.string("password")?;
    let new = body.string("new_password")?;
    let code = body.optional_string("code")?;
    body.finish(
        "`email` or `username`, `password`, `new_password` and, with a second factor, `code`",
    )?;
    let current = Password::new(current)?;
    let new = Password::new(new)?;
    let changed = service
        .change_password(
            &login,
            &current,
            &new,
            code.as_deref(),
            client.map(|Extension(network)| network),
            Timestamp::now(),
        )
        .await?;
    Ok(match changed {
        PasswordChange::Changed(_) => StatusCode::NO_CONTENT.into_response(),
        PasswordChange::SecondFactorRequired(factors) => {
            let body = json!({
                "error": "second_factor_required",
                "message": "This account has a second factor: send the request again with \
                            `code`, a current authenticator code or an unused recovery code.",
                "factors": factors,
            });
            (StatusCode::FORBIDDEN, Json(body)).into_response()
        }
    })
}

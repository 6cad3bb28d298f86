//! `POST /password/`: change a password given the current one. `204` on success; a wrong
//! current password gets exactly the failed-sign-in response.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, post};
use jiff::Timestamp;

use super::body::JsonObject;
use super::error::ApiError;
use super::login::login_field;
use crate::client_network::ClientNetwork;
use crate::passwords::Password;
use crate::service::Service;

/// The `/password` and `/password/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    post(change_password)
}

async fn change_password(
    State(service): State<Arc<Service>>,
    client: Option<Extension<ClientNetwork>>,
    mut body: JsonObject,
) -> Result<StatusCode, ApiError> {
    let login = login_field(&mut body)?;
    let current = body.string("password")?;
    let new = body.string("new_password")?;
    body.finish("`email` or `username`, `password` and `new_password`")?;
    let current = Password::new(current)?;
    let new = Password::new(new)?;
    service
        .change_password(
            &login,
            &current,
            &new,
            client.map(|Extension(network)| network),
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/account/`: the signed-in account's own settings, for the account whose Firebase ID token
//! is in `Authorization: Bearer …` (as on the `/mfa/` routes). `GET` shows its preferred
//! language and the loaded ones; `PATCH {"language": "ko"}` sets it (`null` keeps none, so its
//! mails follow `--default-language`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use super::body::JsonObject;
use super::error::ApiError;
use super::mfa::caller;
use super::pages::{RequestedLanguage, named_language};
use crate::service::Service;

/// The `/account` and `/account/` handlers.
pub fn routes() -> MethodRouter<Arc<Service>> {
    get(show).patch(change)
}

/// What the account keeps, and what it may choose from.
fn settings(service: &Service, language: Option<&str>) -> Value {
    let catalogs = service.messages();
    let loaded: Vec<&str> = catalogs.languages().map(|l| catalogs.tag(l)).collect();
    json!({ "language": language, "languages": loaded })
}

async fn show(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
) -> Result<Response, ApiError> {
    let caller = caller(&service, &headers, language).await?;
    let kept = caller.account.account.language.as_deref();
    Ok(super::reset::private(
        Json(settings(&service, kept)).into_response(),
    ))
}

async fn change(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    language: RequestedLanguage,
    mut body: JsonObject,
) -> Result<Response, ApiError> {
    if !body.has("language") {
        return Err(ApiError::bad_request(
            "missing_field",
            "field `language` is required: a language tag such as \"ko\", or null for the \
             server's default",
        ));
    }
    let wanted = body.optional_string("language")?;
    body.finish("`language`")?;
    let wanted = match wanted {
        Some(tag) => Some(named_language(&service, &tag)?),
        None => None,
    };
    let caller = caller(&service, &headers, language).await?;
    let kept = service.set_language(&caller, wanted).await?;
    Ok(super::reset::private(
        Json(settings(&service, kept.as_deref())).into_response(),
    ))
}

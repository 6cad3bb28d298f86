//! The admin page and API under `/admin/`: key rotation and account administration, behind
//! HTTP Basic authentication against the configured argon2id hash. Without an admin
//! credential every `/admin` route answers 404. Every action is logged with who and what.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tracing::{info, warn};

use super::body::JsonObject;
use super::error::ApiError;
use super::pages;
use crate::accounts::{AccountSummary, Uid};
use crate::claims::Claims;
use crate::keys::KeyInfo;
use crate::passwords::{Dialect, Password, StoredHash, Verdict};
use crate::service::Service;
use crate::store::{AccountFilter, SchemeCount};

/// The authenticated admin's name, for the audit log.
#[derive(Clone)]
struct Admin(String);

/// Every `/admin` route, wrapped in the Basic-auth check.
pub fn routes(service: Arc<Service>) -> Router<Arc<Service>> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/", get(page))
        .route("/admin/api/keys", get(list_keys))
        .route("/admin/api/keys/{kid}/activate", post(activate_key))
        .route("/admin/api/keys/{kid}/retire", post(retire_key))
        .route("/admin/api/stats", get(stats))
        .route("/admin/api/accounts", get(list_accounts))
        .route(
            "/admin/api/accounts/{login}",
            get(show_account).delete(delete_account),
        )
        .route("/admin/api/accounts/{login}/disable", post(disable_account))
        .route("/admin/api/accounts/{login}/enable", post(enable_account))
        .route(
            "/admin/api/accounts/{login}/claims",
            axum::routing::put(set_claims),
        )
        .layer(middleware::from_fn_with_state(service, authenticate))
}

async fn authenticate(
    State(service): State<Arc<Service>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(credential) = service.admin.as_ref() else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            .into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    let Some((user, password)) = given.as_deref().and_then(|s| s.split_once(':')) else {
        return unauthorized();
    };
    let Ok(password) = Password::new(password.to_string()) else {
        return unauthorized();
    };
    let stored = StoredHash {
        hash: credential.password_hash.clone(),
        dialect: Dialect::Phc,
    };
    // Both checks always run, so timing does not tell a wrong user from a wrong password.
    let user_ok: bool = user.as_bytes().ct_eq(credential.user.as_bytes()).into();
    let password_ok = matches!(
        service.passwords.verify(Some(&stored), &password).await,
        Ok(Verdict::Match { .. })
    );
    if !(user_ok && password_ok) {
        warn!(
            action = "admin-login",
            outcome = "failure",
            "admin authentication failed"
        );
        return unauthorized();
    }
    request
        .extensions_mut()
        .insert(Admin(credential.user.clone()));
    next.run(request).await
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "admin credentials required",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"firegate admin\", charset=\"UTF-8\""),
    );
    response
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    nonce: &'a str,
    user: &'a str,
    keys: Vec<KeyInfo>,
    stats: Vec<SchemeCount>,
    total: u64,
    migrated: u64,
    percent: u64,
}

async fn page(State(service): State<Arc<Service>>, Extension(admin): Extension<Admin>) -> Response {
    let stats = match service.cached_scheme_stats().await {
        Ok(stats) => stats,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let total: u64 = stats.iter().map(|s| s.accounts).sum();
    let migrated = stats
        .iter()
        .filter(|s| s.scheme == "argon2id")
        .map(|s| s.accounts)
        .sum();
    let nonce = pages::nonce();
    let rendered = AdminPage {
        nonce: &nonce,
        user: &admin.0,
        keys: service.rotation().list(),
        stats,
        total,
        migrated,
        percent: (migrated * 100).checked_div(total).unwrap_or(100),
    }
    .render();
    pages::html_response(rendered, &nonce)
}

async fn list_keys(State(service): State<Arc<Service>>) -> Json<Vec<KeyInfo>> {
    Json(service.rotation().list())
}

async fn activate_key(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    Path(kid): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<KeyInfo>, ApiError> {
    let force = if body.is_empty() {
        false
    } else {
        let mut body = JsonObject::parse(&body)?;
        let force = body.optional_bool("force")?.unwrap_or(false);
        body.finish("`force`")?;
        force
    };
    info!(admin = %admin.0, action = "activate-key", kid, force, "admin action");
    Ok(Json(
        service
            .rotation()
            .activate(&kid, force, &format!("admin:{}", admin.0))
            .await?,
    ))
}

async fn retire_key(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    Path(kid): Path<String>,
) -> Result<Json<KeyInfo>, ApiError> {
    info!(admin = %admin.0, action = "retire-key", kid, "admin action");
    Ok(Json(
        service
            .rotation()
            .retire(&kid, &format!("admin:{}", admin.0))
            .await?,
    ))
}

async fn stats(State(service): State<Arc<Service>>) -> Result<Json<Value>, ApiError> {
    let stats = service.cached_scheme_stats().await?;
    let total: u64 = stats.iter().map(|s| s.accounts).sum();
    let migrated: u64 = stats
        .iter()
        .filter(|s| s.scheme == "argon2id")
        .map(|s| s.accounts)
        .sum();
    Ok(Json(
        json!({ "total": total, "argon2id": migrated, "schemes": stats }),
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    scheme: Option<String>,
    disabled: Option<bool>,
    limit: Option<u32>,
    after: Option<String>,
}

async fn list_accounts(
    State(service): State<Arc<Service>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    let filter = AccountFilter {
        scheme: query.scheme,
        disabled: query.disabled,
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let after = query.after.as_deref().map(Uid::parse).transpose()?;
    Ok(Json(
        service
            .list_accounts(&filter, limit, after.as_ref())
            .await?,
    ))
}

async fn show_account(
    State(service): State<Arc<Service>>,
    Path(login): Path<String>,
) -> Result<Json<AccountSummary>, ApiError> {
    Ok(Json(service.show_account(&login).await?))
}

async fn disable_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    Path(login): Path<String>,
) -> Result<Json<AccountSummary>, ApiError> {
    let summary = service.set_disabled(&login, true).await?;
    info!(admin = %admin.0, action = "disable-account", uid = %summary.uid, "admin action");
    Ok(Json(summary))
}

async fn enable_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    Path(login): Path<String>,
) -> Result<Json<AccountSummary>, ApiError> {
    let summary = service.set_disabled(&login, false).await?;
    info!(admin = %admin.0, action = "enable-account", uid = %summary.uid, "admin action");
    Ok(Json(summary))
}

async fn set_claims(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    Path(login): Path<String>,
    body: JsonObject,
) -> Result<Json<AccountSummary>, ApiError> {
    let claims = Claims::parse(Value::Object(body.into_map()))?;
    let summary = service.set_claims(&login, claims).await?;
    info!(admin = %admin.0, action = "set-claims", uid = %summary.uid, "admin action");
    Ok(Json(summary))
}

async fn delete_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    Path(login): Path<String>,
) -> Result<StatusCode, ApiError> {
    let uid = service.delete_account(&login).await?;
    info!(admin = %admin.0, action = "delete-account", %uid, "admin action");
    Ok(StatusCode::NO_CONTENT)
}

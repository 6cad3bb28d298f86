//! The inbound HTTP edge (the only module that names axum): routes, CORS, body limits, JSON
//! errors everywhere, and [`serve`], which runs a router on a listener until shutdown.

mod admin;
mod body;
mod error;
mod login;
mod pages;
mod password;
mod register;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use body::MAX_BODY_BYTES;
pub use error::{ApiError, INVALID_CREDENTIALS};

use crate::config::HttpConfig;
use crate::service::Service;

/// Every route, with CORS for the configured origins and the body limit.
pub fn router(service: Arc<Service>, config: &HttpConfig) -> Router {
    let router = Router::new()
        .route("/login", login::routes())
        .route("/login/", login::routes())
        .route("/register", register::routes())
        .route("/register/", register::routes())
        .route("/password", password::routes())
        .route("/password/", password::routes())
        .route("/healthz", get(healthz))
        .merge(admin::routes(service.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(service)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    match cors(&config.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish. Tests bind `127.0.0.1:0` and pass their own shutdown future.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

//! The inbound HTTP edge (the only module that names axum): routes, CORS, body limits, JSON
//! errors everywhere, and [`serve`], which runs a router on a listener until shutdown.

mod admin;
mod body;
mod error;
mod guard;
mod login;
mod pages;
mod password;
mod register;

use std::future::Future;
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

/// Every route, with CORS for the configured origins, the body limit, the per-client rate
/// limit, the request deadline and the access log.
pub fn router(service: Arc<Service>, config: &HttpConfig) -> Router {
    let guard = guard::Guard::new(config);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let guard = Arc::downgrade(&guard);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                match guard.upgrade() {
                    Some(guard) => guard.forget_idle_clients(),
                    None => break,
                }
            }
        });
    }
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
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        // Outside the guard, so its own answers (429, request timeout) carry it too.
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

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish for up to the configured grace period. Clients that do not send
/// their headers within the header timeout are disconnected. Tests bind `127.0.0.1:0` and
/// pass their own shutdown future.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    // HTTP/1.1 only: it is what Cloud Run speaks to containers, and the header timeout that
    // cuts off slow clients is an HTTP/1 setting.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(
            config.header_timeout_secs.into(),
        ));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    let connections =
        std::sync::Arc::new(tokio::sync::Semaphore::new(config.max_connections as usize));
    loop {
        // At the connection limit, stop accepting until one closes.
        let slot = tokio::select! {
            slot = connections.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(peer)))
            .map_request(|request: axum::http::Request<hyper::body::Incoming>| {
                request.map(axum::body::Body::new)
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let grace = std::time::Duration::from_secs(config.shutdown_grace_secs.into());
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = config.shutdown_grace_secs,
            "in-flight requests cut off after the grace period"
        );
    }
    Ok(())
}

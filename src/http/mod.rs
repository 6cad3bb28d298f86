//! The inbound HTTP edge (the only module that names axum): routes, CORS, body limits, JSON
//! errors everywhere, and [`serve`], which runs them on a listener until shutdown.

mod account;
mod admin;
mod app_check;
mod body;
mod cors;
mod error;
mod guard;
mod idle;
mod login;
mod mfa;
mod pages;
mod passkeys;
mod password;
mod register;
mod reset;
mod verify;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub use body::MAX_BODY_BYTES;
pub use error::{ApiError, INVALID_CREDENTIALS};

use crate::service::Service;

/// Most bytes a connection buffers: a request head (request line and headers) not complete
/// within them is answered `431` and the connection closed, so with
/// [`HttpOptions::max_connections`] it bounds the memory unfinished heads can take. Real heads
/// are far smaller (a Firebase ID token in `Authorization` and an App Check token are about
/// 1 KiB each).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How the HTTP edge treats clients.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Browser origins allowed to call the API (`*` for any, `scheme://host:*` for any port
    /// of a host); empty: same origin only.
    pub cors_origins: Vec<String>,
    /// Requests per minute one client may make to the POST and admin endpoints (0: no limit).
    pub rate_limit_per_minute: u32,
    /// Requests one client may make in a burst.
    pub rate_limit_burst: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Proxies every request passes through (the client is that many entries from the right).
    pub trusted_proxy_hops: u8,
    /// Longest a whole request may take.
    pub request_timeout: Duration,
    /// Longest a connection may take to send a request head, from accept or from the end of
    /// the previous response.
    pub header_timeout: Duration,
    /// Client connections served at once.
    pub max_connections: usize,
    /// Time in-flight requests get after shutdown begins.
    pub shutdown_grace: Duration,
    /// Serve the demo sign-in page at `GET /login/` (`dev` does; `serve` with --demo-page).
    pub demo_page: bool,
}

impl Default for HttpOptions {
    /// The documented defaults of `firegate serve`.
    fn default() -> Self {
        HttpOptions {
            cors_origins: Vec::new(),
            rate_limit_per_minute: 60,
            rate_limit_burst: 20,
            trusted_proxies: Vec::new(),
            trusted_proxy_hops: 0,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_connections: 1000,
            shutdown_grace: Duration::from_secs(10),
            demo_page: false,
        }
    }
}

/// Every route, with CORS for the configured origins, the body limit, the per-client rate
/// limit, the request deadline and the access log. Building it starts nothing; [`serve`]
/// also sweeps the rate limiter's idle clients, and the networks counted for failed token
/// confirmations, while it runs.
pub fn router(service: Arc<Service>, options: &HttpOptions) -> Router {
    build(service, options).0
}

fn build(service: Arc<Service>, options: &HttpOptions) -> (Router, Arc<guard::Guard>) {
    let guard = guard::Guard::new(options);
    let gate = service.clone();
    let router = Router::new()
        .route("/login", login::routes(options.demo_page))
        .route("/login/", login::routes(options.demo_page))
        .route("/register", register::routes())
        .route("/register/", register::routes())
        .route("/password", password::routes())
        .route("/password/", password::routes())
        .route("/password-reset", reset::routes())
        .route("/password-reset/", reset::routes())
        .route("/password-reset/confirm", reset::confirm_routes())
        .route("/password-reset/confirm/", reset::confirm_routes())
        .route("/email-verification", verify::routes())
        .route("/email-verification/", verify::routes())
        .route("/email-verification/confirm", verify::confirm_routes())
        .route("/email-verification/confirm/", verify::confirm_routes())
        .route("/account", account::routes())
        .route("/account/", account::routes())
        .route("/healthz", get(healthz))
        .merge(mfa::routes(options.demo_page))
        .merge(passkeys::routes(options.demo_page))
        .merge(admin::routes(service.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(service.clone())
        // Inside the start-up gate: verifying a token may fetch App Check's keys, which
        // needs no signing key, but a refused request should cost no more than that.
        .layer(axum::middleware::from_fn_with_state(
            service,
            app_check::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            gate,
            wait_for_start_up,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(body::refuse_oversized))
        .layer(axum::middleware::from_fn_with_state(
            guard.clone(),
            guard::guard,
        ))
        // Outside the guard, so its own answers (429, request timeout) carry it too.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    let origins = cors::Origins::new(&options.cors_origins);
    let router = match origins.layer() {
        Some(cors) => router.layer(cors),
        None => router,
    };
    // Outermost: a preflight from an origin not allowed is answered with the setting to change.
    let router = router.layer(axum::middleware::from_fn_with_state(
        cors::Preflights::new(origins),
        cors::refuse_unknown_origins,
    ));
    (router, guard)
}

/// Start-up's gate: every route but sign-in waits until the key that signs is settled
/// (milliseconds after the socket first accepts, `Service::ready`); a sign-in does its reads
/// and password check meanwhile and waits only to sign. So `/healthz` answers once the
/// server can sign.
async fn wait_for_start_up(
    axum::extract::State(service): axum::extract::State<Arc<Service>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !matches!(request.uri().path(), "/login" | "/login/")
        && let Err(e) = service.ready().await
    {
        return ApiError::from(e).into_response();
    }
    next.run(request).await
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}

/// Serves the routes of `service` on `listener` until `shutdown` completes, then stops
/// accepting and lets in-flight requests finish for up to the grace period.
///
/// Only HTTP/1.1 is spoken (what Cloud Run uses towards containers): a connection's first
/// bytes are parsed as an HTTP/1 request head at once, never sniffed for HTTP/2 first, so the
/// header timeout runs from accept. A connection that has not sent a complete request head
/// within it — just opened, or idle after a response — is closed. And when the budget is
/// full, a new connection takes the place of the one that has been idle longest (no request
/// in progress), so a client that keeps reopening sockets cannot hold the budget either: only
/// requests actually in progress can fill it. A connection buffers at most
/// [`MAX_HEAD_BYTES`], so a head that does not end within them is refused, not read on.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    options: &HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let swept = Arc::downgrade(&service);
    let (router, guard) = build(service, options);
    let sweeper = tokio::spawn(sweep_idle_clients(swept, Arc::downgrade(&guard)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        // hyper's default (~400 KiB) times the connection budget is more than an instance's
        // memory; a head past the cap is answered 431 Request Header Fields Too Large.
        .max_buf_size(MAX_HEAD_BYTES);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    let connections = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    let open = Arc::new(idle::Connections::default());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %crate::error::chain(&e), "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // At the limit, close the longest-idle connection to make room; with every one busy
        // with a request, wait until one ends.
        let slot = match connections.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                open.evict_longest_idle();
                tokio::select! {
                    slot = connections.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (id, state) = open.register();
        let service = router
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(peer)))
            .map_request(|request: axum::http::Request<hyper::body::Incoming>| {
                request.map(axum::body::Body::new)
            });
        let service = idle::Tracked::new(service, state.clone());
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        let open = open.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                // Dropping the connection closes its socket.
                () = state.evicted() => {}
            }
            open.remove(id);
            drop(slot);
        });
    }
    drop(listener);
    sweeper.abort();
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = options.shutdown_grace.as_secs(),
            "in-flight requests cut off after the grace period"
        );
    }
    Ok(())
}

/// Forgets idle clients once a minute — the rate limiter's, and the networks counted for
/// failed token confirmations — so their memory follows active clients only; ends when the
/// guard or the service is gone.
async fn sweep_idle_clients(
    service: std::sync::Weak<Service>,
    guard: std::sync::Weak<guard::Guard>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let (Some(service), Some(guard)) = (service.upgrade(), guard.upgrade()) else {
            break;
        };
        guard.forget_idle_clients();
        service.forget_idle_networks();
    }
}

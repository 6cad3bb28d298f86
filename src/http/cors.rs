//! Which browser origins may call the API (CORS), and the answer to a preflight from any
//! other: a `403` whose message and log line name the setting that would allow it, where a
//! browser alone would only say the preflight failed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;

/// How many refused origins are logged by name; past that, refusals are not logged again, so
/// a stream of made-up origins cannot fill the log.
const LOGGED_ORIGINS: usize = 100;

/// The allowed origins: exact ones (`https://app.example`), any port of one host
/// (`http://localhost:*`), or every origin (`*`).
#[derive(Debug, Clone, Default)]
pub struct Origins {
    patterns: Arc<Vec<String>>,
}

impl Origins {
    /// The configured list, as the settings checked it.
    pub fn new(patterns: &[String]) -> Origins {
        Origins {
            patterns: Arc::new(patterns.to_vec()),
        }
    }

    /// Whether a page on `origin` may call the API.
    pub fn allow(&self, origin: &str) -> bool {
        self.patterns.iter().any(|p| matches(p, origin))
    }

    /// The CORS layer answering allowed origins, when any is configured.
    pub fn layer(&self) -> Option<CorsLayer> {
        if self.patterns.is_empty() {
            return None;
        }
        let allow = if self.patterns.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let origins = self.clone();
            AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                origin.to_str().is_ok_and(|o| origins.allow(o))
            })
        };
        Some(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                // A page on an allowed origin reads how long to wait after a 429 or 503.
                .expose_headers([header::RETRY_AFTER])
                .max_age(Duration::from_secs(3600)),
        )
    }
}

/// `pattern` allows `origin`: equal, `*`, or `scheme://host:*` for that host on any port.
fn matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" || pattern == origin {
        return true;
    }
    let Some(host) = pattern.strip_suffix(":*") else {
        return false;
    };
    match origin.strip_prefix(host) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix(':')
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// The refusal of preflights from origins the settings do not allow.
#[derive(Clone)]
pub struct Preflights {
    origins: Origins,
    /// Origins already logged.
    logged: Arc<Mutex<HashSet<String>>>,
}

impl Preflights {
    pub fn new(origins: Origins) -> Preflights {
        Preflights {
            origins,
            logged: Arc::default(),
        }
    }

    /// Logs the first refusal of each origin (up to [`LOGGED_ORIGINS`]).
    fn log_refusal(&self, origin: &str) {
        let origin: String = origin.chars().take(200).collect();
        let first = {
            let Ok(mut logged) = self.logged.lock() else {
                return;
            };
            logged.len() < LOGGED_ORIGINS && logged.insert(origin.clone())
        };
        if first {
            tracing::warn!(
                %origin,
                "refused a browser's CORS preflight from an origin that may not call the API; \
                 to allow it, add it to --cors-origins (FIREGATE_CORS_ORIGINS, or cors-origins \
                 under [http] in firegate.toml)"
            );
        }
    }
}

/// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an origin
/// not allowed gets `403 origin_not_allowed`, naming the setting; everything else goes on
/// (allowed preflights to the CORS layer).
pub async fn refuse_unknown_origins(
    State(preflights): State<Preflights>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or_default().to_string());
    let preflight = request.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    match origin {
        Some(origin) if preflight && !preflights.origins.allow(&origin) => {
            preflights.log_refusal(&origin);
            ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "a browser page on this origin may not call this API: add the origin to \
                 --cors-origins (FIREGATE_CORS_ORIGINS, or cors-origins under [http] in \
                 firegate.toml), e.g. http://localhost:5173",
            )
            .into_response()
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_wildcard_allows_that_host_on_any_port_only() {
        let origins = Origins::new(&["http://localhost:*".into(), "https://app.example".into()]);
        for allowed in [
            "http://localhost:5173",
            "http://localhost:80",
            "http://localhost",
            "https://app.example",
        ] {
            assert!(origins.allow(allowed), "{allowed}");
        }
        for refused in [
            "https://localhost:5173",
            "http://localhost.evil.example",
            "http://localhost:5173.evil.example",
            "http://localhost:",
            "http://localhostx:1",
            "https://app.example:8443",
            "null",
        ] {
            assert!(!origins.allow(refused), "{refused}");
        }
        assert!(Origins::new(&["*".into()]).allow("https://any.example"));
        assert!(!Origins::default().allow("http://localhost:5173"));
    }
}

//! HTML pages: a fresh CSP nonce per response and the security headers every page carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngExt;
use tracing::error;

/// A random nonce that lets exactly this response's inline script and style run.
pub fn nonce() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    STANDARD.encode(bytes)
}

/// A rendered page with its Content-Security-Policy and framing/sniffing headers.
pub fn html_response(rendered: askama::Result<String>, nonce: &str) -> Response {
    let html = match rendered {
        Ok(html) => html,
        Err(e) => {
            error!(error = %crate::error::chain(&e), "page template failed to render");
            return (StatusCode::INTERNAL_SERVER_ERROR, "page unavailable").into_response();
        }
    };
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'"
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

//! HTML pages: a fresh CSP nonce per response, the security headers every page carries, and
//! the language a request gets ([`Language`]) with the words a page shows in it ([`Words`]).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngExt;
use tracing::error;

use crate::messages::{Arg, Catalogs, Lang};
use crate::service::Service;

/// The language a request gets: its `lang` (or `hl`) query parameter when that maps to a
/// loaded catalog, else its `Accept-Language`, else `--default-language`.
#[derive(Debug, Clone, Copy)]
pub struct Language(pub Lang);

impl FromRequestParts<Arc<Service>> for Language {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<Self, Self::Rejection> {
        let explicit = parts.uri.query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "lang" || name == "hl")
                .map(|(_, value)| value.into_owned())
        });
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Ok(Language(
            service.messages().negotiate(explicit.as_deref(), accept),
        ))
    }
}

/// A page's words in its language: `{{ t.get("key") }}` in a template. Placeholders the
/// page's script fills in (`{status}`, `{uid}`, `{issued}`, `{until}`) stay as they are.
pub struct Words<'a> {
    catalogs: &'a Catalogs,
    lang: Lang,
    args: Vec<(&'static str, Arg)>,
}

impl<'a> Words<'a> {
    pub fn new(service: &'a Service, Language(lang): Language) -> Words<'a> {
        let min_chars = i64::try_from(service.min_password_chars()).unwrap_or(i64::MAX);
        Words {
            catalogs: service.messages(),
            lang,
            args: vec![
                ("product", service.product().into()),
                ("min_chars", min_chars.into()),
                ("status", "{status}".into()),
                ("uid", "{uid}".into()),
                ("issued", "{issued}".into()),
                ("until", "{until}".into()),
            ],
        }
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        self.catalogs.page(self.lang, key, &self.args)
    }

    /// The page's language tag, for `<html lang>` (a loaded catalog's, never the request's
    /// text).
    pub fn lang(&self) -> &str {
        self.catalogs.tag(self.lang)
    }
}

/// A random nonce that lets exactly this response's inline script and style run.
pub fn nonce() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    STANDARD.encode(bytes)
}

/// A rendered page with its Content-Security-Policy and framing/sniffing headers.
pub fn html_response(rendered: askama::Result<String>, nonce: &str) -> Response {
    html_response_connecting(rendered, nonce, None)
}

/// [`html_response`] for a page whose script also calls `origin` (the Auth emulator's).
pub fn html_response_connecting(
    rendered: askama::Result<String>,
    nonce: &str,
    origin: Option<&str>,
) -> Response {
    let html = match rendered {
        Ok(html) => html,
        Err(e) => {
            error!(error = %crate::error::chain(&e), "page template failed to render");
            return (StatusCode::INTERNAL_SERVER_ERROR, "page unavailable").into_response();
        }
    };
    let connect = origin.map(|o| format!(" {o}")).unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'{connect}; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
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

//! A local stand-in of Pwned Passwords' range API (`GET /range/{first five hex of the
//! SHA-1}`), in its documented shape: lines `SUFFIX:COUNT` (upper case, CRLF), and with
//! `Add-Padding: true` some made-up suffixes counted 0. It records each prefix asked and
//! whether padding was asked for; `fail_with` makes it answer an error status. Also writes
//! offline copies in the official downloader's format (lines `SHA1HEX:COUNT`, sorted).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha1::{Digest, Sha1};

/// The upper-case hex SHA-1 of `password`, as Pwned Passwords writes it.
pub fn sha1_hex(password: &str) -> String {
    hex::encode_upper(Sha1::digest(password.as_bytes()))
}

/// One range request as received.
#[derive(Debug, Clone)]
pub struct RangeCall {
    pub prefix: String,
    pub padded: bool,
}

#[derive(Default)]
struct Inner {
    /// Full hash → count.
    counts: BTreeMap<String, u64>,
    calls: Vec<RangeCall>,
    fail: Option<u16>,
}

/// The running stand-in.
#[derive(Clone)]
pub struct PwnedStandIn {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl PwnedStandIn {
    /// Starts on a free port, knowing `passwords` with their counts.
    pub async fn start(passwords: &[(&str, u64)]) -> PwnedStandIn {
        let inner = Arc::new(Mutex::new(Inner {
            counts: passwords.iter().map(|(p, n)| (sha1_hex(p), *n)).collect(),
            ..Inner::default()
        }));
        let app = axum::Router::new()
            .route("/range/{prefix}", get(range))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        PwnedStandIn { addr, inner }
    }

    /// The base URL for `--breached-range-url`.
    pub fn url(&self) -> String {
        format!("http://{}/range/", self.addr)
    }

    /// The `serve` flags that look new passwords up here.
    pub fn flags(&self) -> Vec<String> {
        [
            "--breached-check",
            "range",
            "--breached-range-url",
            &self.url(),
        ]
        .map(String::from)
        .to_vec()
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<RangeCall> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// From now on every request is answered `status`.
    pub fn fail_with(&self, status: u16) {
        self.inner.lock().unwrap().fail = Some(status);
    }
}

async fn range(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(prefix): Path<String>,
    headers: HeaderMap,
) -> Response {
    let padded = headers
        .get("add-padding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    let mut inner = inner.lock().unwrap();
    inner.calls.push(RangeCall {
        prefix: prefix.clone(),
        padded,
    });
    if let Some(status) = inner.fail {
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    if prefix.len() != 5 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (
            StatusCode::BAD_REQUEST,
            "The hash prefix was not in a valid format",
        )
            .into_response();
    }
    let prefix = prefix.to_ascii_uppercase();
    let mut lines: Vec<String> = inner
        .counts
        .iter()
        .filter(|(hash, _)| hash.starts_with(&prefix))
        .map(|(hash, n)| format!("{}:{n}", &hash[5..]))
        .collect();
    if padded {
        for i in 0..20u32 {
            lines.push(format!("{:035X}:0", u128::from(i) * 0x1234_5678_9ABC_DEF1));
        }
    }
    lines.join("\r\n").into_response()
}

/// An offline copy holding `passwords` (and a few thousand made-up hashes around them),
/// sorted, in the downloader's format.
pub fn offline_file(passwords: &[(&str, u64)]) -> tempfile::NamedTempFile {
    let mut lines: Vec<(String, u64)> = passwords.iter().map(|(p, n)| (sha1_hex(p), *n)).collect();
    for i in 0..5000u64 {
        lines.push((sha1_hex(&format!("made-up {i}")), i % 7 + 1));
    }
    lines.sort();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for (hash, n) in lines {
        write!(file, "{hash}:{n}\r\n").unwrap();
    }
    file.flush().unwrap();
    file
}

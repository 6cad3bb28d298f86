//! The Pwned Passwords range API client: `GET <base>/<first five hex of the SHA-1>` with
//! `Add-Padding: true` (the answer's size then says nothing of the prefix), within a
//! deadline, its answer read up to a bound. Only the prefix leaves the machine; the rest of
//! the hash is compared here, in constant time.

use std::time::Duration;

use reqwest::Url;
use subtle::ConstantTimeEq;

use super::{BreachedError, PasswordSha1};
use crate::{Error, Result};

/// Longest answer read. A padded answer holds 800–1,000 lines of about 40 bytes.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A client of one range API.
pub struct RangeApi {
    base: Url,
    host: String,
    deadline: Duration,
    loopback: bool,
    /// Built at the first lookup: building loads the CA roots (milliseconds), which a
    /// server's cold start should not wait for.
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
}

impl RangeApi {
    /// Checks the URL (`https://`, or `http://` on a loopback address) and builds the client.
    pub fn new(base: &str, deadline: Duration) -> Result<RangeApi> {
        let mut text = base.trim().to_string();
        if !text.ends_with('/') {
            text.push('/');
        }
        let base = Url::parse(&text).map_err(|e| {
            Error::config(format!(
                "--breached-range-url is not a URL ({e}); give {}",
                super::RANGE_API_URL
            ))
        })?;
        let loopback = match base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(Error::config(
                    "--breached-range-url must be https:// (plain http:// only on a loopback \
                     address such as 127.0.0.1)",
                ));
            }
        }
        let host = match (base.host_str(), base.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => String::new(),
        };
        Ok(RangeApi {
            base,
            host,
            deadline,
            loopback,
            http: std::sync::OnceLock::new(),
        })
    }

    fn client(&self) -> Result<&reqwest::Client, BreachedError> {
        let built = self.http.get_or_init(|| {
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.deadline)
                .timeout(self.deadline)
                .user_agent(concat!("firegate/", env!("CARGO_PKG_VERSION")));
            if self.loopback {
                // A local mirror or stand-in is reached directly, never through an HTTP_PROXY.
                builder = builder.no_proxy();
            }
            builder
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))
        });
        built.as_ref().map_err(|why| self.unusable(why.clone()))
    }

    /// The count the API gives the password's hash (`None`: absent, or a padding line).
    pub(super) async fn count(&self, sha1: &PasswordSha1) -> Result<Option<u64>, BreachedError> {
        let url = self
            .base
            .join(sha1.prefix())
            .map_err(|e| self.unusable(format!("cannot form the request URL: {e}")))?;
        let call = async {
            let response = self
                .client()?
                .get(url)
                .header("Add-Padding", "true")
                .send()
                .await
                .map_err(|e| self.failed(e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(self.unusable(format!("HTTP {status}")));
            }
            crate::bounded_body::read_bounded(response, MAX_ANSWER_BYTES)
                .await
                .map_err(|why| self.unusable(why))
        };
        let body = match tokio::time::timeout(self.deadline, call).await {
            Ok(body) => body?,
            Err(_) => return Err(self.timeout()),
        };
        find(&body, sha1.suffix()).map_err(|why| self.unusable(why))
    }

    fn failed(&self, e: reqwest::Error) -> BreachedError {
        if e.is_timeout() {
            return self.timeout();
        }
        self.unusable(crate::error::chain(&e.without_url()))
    }

    fn timeout(&self) -> BreachedError {
        BreachedError::Timeout {
            host: self.host.clone(),
            deadline_ms: self.deadline.as_millis(),
        }
    }

    fn unusable(&self, why: String) -> BreachedError {
        BreachedError::Unusable {
            host: self.host.clone(),
            why,
        }
    }
}

/// The count of `suffix` in an answer of `SUFFIX:COUNT` lines. Every line is compared (in
/// constant time), so the time taken does not depend on where, or whether, it matched.
/// Padding lines count 0 and are never a match.
fn find(body: &[u8], suffix: &[u8]) -> Result<Option<u64>, String> {
    let mut found = None;
    for (n, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return Err(format!("line {} is not SUFFIX:COUNT", n + 1));
        };
        let (hash, count) = (&line[..colon], &line[colon + 1..]);
        let count: u64 = std::str::from_utf8(count)
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .ok_or_else(|| format!("line {} has no count", n + 1))?;
        if hash.len() == suffix.len() && bool::from(upper(hash).ct_eq(suffix)) && count > 0 {
            found = Some(count);
        }
    }
    Ok(found)
}

/// `hash` in upper case (the API answers upper case; a mirror might not).
fn upper(hash: &[u8]) -> [u8; 35] {
    let mut out = [0u8; 35];
    for (o, b) in out.iter_mut().zip(hash) {
        *o = b.to_ascii_uppercase();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_searched_and_padding_never_matches() {
        let suffix = b"1E4C9B93F3F0682250B6CF8331B7EE68FD8";
        let body = b"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:9659365\r\n";
        assert_eq!(find(body, suffix), Ok(Some(9_659_365)));
        let padded = b"1e4c9b93f3f0682250b6cf8331b7ee68fd8:0\r\n";
        assert_eq!(find(padded, suffix), Ok(None));
        assert!(find(b"garbage", suffix).is_err());
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let deadline = Duration::from_secs(1);
        assert!(RangeApi::new("http://127.0.0.1:9/range", deadline).is_ok());
        assert!(RangeApi::new("http://mirror.example/range", deadline).is_err());
        assert!(RangeApi::new("https://mirror.example/range", deadline).is_ok());
    }
}

//! Request middleware: who the client is (X-Forwarded-For only from trusted proxies), the
//! per-client rate limit on POST and admin endpoints (an IPv4 address or an IPv6 /64), the
//! whole-request deadline, and one access-log line per request in Cloud Logging's
//! `httpRequest` shape, tagged with the Cloud Trace id. The client's network is handed on to
//! the handlers, whose lockout counts depend on it.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use tracing::{Instrument, debug, info, info_span};

use super::HttpOptions;
use super::error::ApiError;
use crate::client_network::ClientNetwork;

/// Settings and state shared by the middleware.
pub struct Guard {
    trusted: Vec<IpNet>,
    hops: usize,
    limiter: Option<DefaultKeyedRateLimiter<ClientNetwork>>,
    timeout: Duration,
}

impl Guard {
    /// Builds the guard from the server settings.
    pub fn new(config: &HttpOptions) -> Arc<Guard> {
        let limiter = NonZeroU32::new(config.rate_limit_per_minute).map(|per_minute| {
            let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Arc::new(Guard {
            trusted: config.trusted_proxies.clone(),
            hops: config.trusted_proxy_hops.into(),
            limiter,
            timeout: config.request_timeout,
        })
    }

    /// Forgets idle clients so the limiter's memory follows active clients only.
    pub fn forget_idle_clients(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// The client's address. With a fixed number of proxy hops: the X-Forwarded-For entry
    /// that many places from the right (the peer when the header is shorter or that entry is
    /// not an address) — from any peer, unless trusted proxies are listed too, and then only
    /// from them. Otherwise the peer, or — when the peer is a trusted proxy — the rightmost
    /// entry that is not itself a trusted proxy. Entries left of the chosen one are whatever
    /// the client sent and are never believed.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) && (self.hops == 0 || !self.trusted.is_empty()) {
            return peer;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if self.hops > 0 {
            return entries
                .len()
                .checked_sub(self.hops)
                .and_then(|i| entries[i].parse::<IpAddr>().ok())
                .map_or(peer, |ip| ip.to_canonical());
        }
        entries
            .into_iter()
            .rev()
            .map_while(|entry| entry.parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
            .find(|ip| !self.is_trusted(*ip))
            .unwrap_or(peer)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }
}

/// Rate limit, deadline and access log, in that order of effect.
pub async fn guard(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let client = guard.client_ip(peer, request.headers());
    let network = ClientNetwork::of(client);
    request.extensions_mut().insert(network);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let user_agent = header_text(request.headers(), header::USER_AGENT);
    let span = match trace_id(request.headers()) {
        Some(trace) => info_span!("request", trace = %trace),
        None => info_span!("request"),
    };

    let response = async {
        // Every POST, and every admin request (each one checks a password hash).
        let limited = method == Method::POST || path == "/admin" || path.starts_with("/admin/");
        if limited
            && let Some(limiter) = &guard.limiter
            && let Err(not_until) = limiter.check_key(&network)
        {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests from this address; retry later.",
            )
            .into_response();
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            return response;
        }
        match tokio::time::timeout(guard.timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                let mut response = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "The request took too long; retry shortly.",
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
        }
    }
    .instrument(span.clone())
    .await;

    let status = response.status().as_u16();
    let latency = format!("{:.3}s", started.elapsed().as_secs_f64());
    let _entered = span.enter();
    if path == "/healthz" {
        debug!(http_request.requestMethod = %method, http_request.requestUrl = %path, http_request.status = status, "request");
    } else {
        info!(
            http_request.requestMethod = %method,
            http_request.requestUrl = %path,
            http_request.status = status,
            http_request.latency = %latency,
            http_request.remoteIp = %client,
            http_request.userAgent = %user_agent,
            "request"
        );
    }
    response
}

/// The trace id of `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`, if well-formed.
fn trace_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-cloud-trace-context")?.to_str().ok()?;
    let id = value.split('/').next()?;
    (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard_with(trusted: &[&str], hops: u8) -> Arc<Guard> {
        Guard::new(&HttpOptions {
            trusted_proxies: trusted.iter().map(|net| net.parse().unwrap()).collect(),
            trusted_proxy_hops: hops,
            ..HttpOptions::default()
        })
    }

    fn guard(trusted: &str) -> Arc<Guard> {
        guard_with(&[trusted], 0)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn with_proxy_hops_the_client_is_that_many_entries_from_the_right() {
        let front_end = ip("169.254.1.1");
        // Cloud Run: Google's front end appends the address it saw.
        let cloud_run = guard_with(&[], 1);
        assert_eq!(
            cloud_run.client_ip(front_end, &xff("198.51.100.1")),
            ip("198.51.100.1")
        );
        // Whatever a client puts in the header itself sits left of that and is ignored, so two
        // clients never share a rate-limit bucket and none can pick another's address.
        assert_eq!(
            cloud_run.client_ip(front_end, &xff("1.2.3.4, 203.0.113.7")),
            ip("203.0.113.7")
        );
        assert_eq!(cloud_run.client_ip(front_end, &HeaderMap::new()), front_end);
        assert_eq!(cloud_run.client_ip(front_end, &xff("not-an-ip")), front_end);
        // Behind a load balancer that appends its own address as well.
        let balanced = guard_with(&[], 2);
        assert_eq!(
            balanced.client_ip(front_end, &xff("1.2.3.4, 203.0.113.7, 34.120.0.1")),
            ip("203.0.113.7")
        );
        assert_eq!(
            balanced.client_ip(front_end, &xff("203.0.113.7")),
            front_end
        );
    }

    #[test]
    fn with_trusted_proxies_listed_the_hops_count_only_on_their_requests() {
        let g = guard_with(&["10.0.0.0/8"], 1);
        let (front_end, stranger) = (ip("10.1.2.3"), ip("203.0.113.9"));
        assert_eq!(
            g.client_ip(front_end, &xff("198.51.100.1")),
            ip("198.51.100.1")
        );
        assert_eq!(
            g.client_ip(stranger, &xff("198.51.100.1")),
            stranger,
            "a client reaching firegate directly cannot pick its address"
        );
        // A dual-stack socket's IPv4-mapped peer is the IPv4 address it carries.
        assert_eq!(
            g.client_ip(ip("::ffff:10.1.2.3"), &xff("198.51.100.1")),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let g = guard("10.0.0.0/8");
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(g.client_ip(stranger, &xff("198.51.100.1")), stranger);
        assert_eq!(
            g.client_ip(proxy, &xff("198.51.100.1")),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        // A client cannot hide behind a spoofed leftmost entry: the rightmost untrusted hop wins.
        assert_eq!(
            g.client_ip(proxy, &xff("1.2.3.4, 198.51.100.1, 10.9.9.9")),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(g.client_ip(proxy, &HeaderMap::new()), proxy);
        assert_eq!(g.client_ip(proxy, &xff("garbage")), proxy);
    }

    #[test]
    fn trace_ids_come_from_the_cloud_trace_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-cloud-trace-context",
            HeaderValue::from_static("105445AA7843BC8BF206B12000100000/1;o=1"),
        );
        assert_eq!(
            trace_id(&h).as_deref(),
            Some("105445aa7843bc8bf206b12000100000")
        );
        h.insert(
            "x-cloud-trace-context",
            HeaderValue::from_static("nothex/1"),
        );
        assert_eq!(trace_id(&h), None);
    }
}

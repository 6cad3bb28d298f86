//! The HTTP server settings groups: where `serve` and `dev` listen, and how the server treats
//! clients (CORS, rate limit, proxies, timeouts, connection budget, shutdown).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

use super::values::{cidr, cors_origin};
use crate::http::HttpOptions;

/// Where `serve` listens.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "HTTP server")]
pub struct ListenArgs {
    /// Address to listen on [default: 0.0.0.0:$PORT].
    #[arg(long, env = "FIREGATE_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Port to listen on when --listen is not given (Cloud Run sets PORT).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
}

impl ListenArgs {
    /// The bind address of a production server: `--listen`, or every interface on `--port`.
    pub fn addr(&self) -> SocketAddr {
        self.listen.unwrap_or(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            self.port,
        ))
    }
}

/// Where `dev` listens: always loopback.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "HTTP server")]
pub struct DevListenArgs {
    /// Port to listen on, on 127.0.0.1.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
}

impl DevListenArgs {
    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port)
    }
}

/// How the server treats clients.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "HTTP server")]
pub struct HttpArgs {
    /// Origins allowed to call the API from a browser, comma-separated, or *.
    ///
    /// For example `https://app.example.com,http://localhost:5173`; `http://localhost:*`
    /// allows any port of one host. A browser's preflight from any other origin gets `403
    /// origin_not_allowed`, naming this setting. `dev` also allows `http://localhost:*` and
    /// `http://127.0.0.1:*`.
    #[arg(long, env = "FIREGATE_CORS_ORIGINS", value_name = "ORIGINS", value_delimiter = ',',
          value_parser = cors_origin)]
    pub cors_origins: Vec<String>,

    /// Serve the demo sign-in page at GET /login/ (always on in `firegate dev`); it is a
    /// developer's tool, not a page for users.
    #[arg(long, env = "FIREGATE_DEMO_PAGE")]
    pub demo_page: bool,

    /// Requests per minute one client IP may make to the POST endpoints (0: no limit).
    #[arg(long, env = "FIREGATE_RATE_LIMIT_PER_MINUTE", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub rate_limit_per_minute: u32,

    /// Requests one client IP may make in a burst before the per-minute rate applies.
    #[arg(long, env = "FIREGATE_RATE_LIMIT_BURST", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_burst: u32,

    /// Proxies whose X-Forwarded-For is believed, as comma-separated CIDRs: the client is
    /// the rightmost entry that is not one of them. For self-hosted reverse proxies; on Cloud
    /// Run use --trusted-proxy-hops instead.
    #[arg(long, env = "FIREGATE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = cidr)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Proxies in front of firegate that append to X-Forwarded-For (Cloud Run: 1).
    ///
    /// Every request passes through them, so the client is the entry this many places from
    /// the right. Cloud Run: 1 (Google's front end); behind an external Application Load
    /// Balancer: 2. 0 ignores the header. Set it only when nothing can reach firegate except
    /// through those proxies.
    #[arg(long, env = "FIREGATE_TRUSTED_PROXY_HOPS", default_value_t = 0, value_name = "N",
          value_parser = clap::value_parser!(u8).range(0..=10))]
    pub trusted_proxy_hops: u8,

    /// Longest a whole request may take, in seconds (then 503).
    #[arg(long, env = "FIREGATE_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=600))]
    pub request_timeout_secs: u32,

    /// Longest a client may take to send the request headers, in seconds (slow clients are
    /// disconnected).
    #[arg(long, env = "FIREGATE_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=600))]
    pub header_timeout_secs: u32,

    /// Most client connections open at once; at the limit the longest-idle one is closed to
    /// make room, and with every one busy a new client waits until one ends. Bounds the
    /// memory connections can take.
    #[arg(long, env = "FIREGATE_MAX_CONNECTIONS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,

    /// After SIGTERM, how long in-flight requests may take to finish, in seconds.
    #[arg(long, env = "FIREGATE_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub shutdown_grace_secs: u32,
}

impl HttpArgs {
    /// The HTTP edge's options.
    pub fn options(&self) -> HttpOptions {
        HttpOptions {
            cors_origins: self.cors_origins.clone(),
            rate_limit_per_minute: self.rate_limit_per_minute,
            rate_limit_burst: self.rate_limit_burst,
            trusted_proxies: self.trusted_proxies.clone(),
            trusted_proxy_hops: self.trusted_proxy_hops,
            request_timeout: Duration::from_secs(self.request_timeout_secs.into()),
            header_timeout: Duration::from_secs(self.header_timeout_secs.into()),
            max_connections: self.max_connections as usize,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs.into()),
            demo_page: self.demo_page,
        }
    }
}

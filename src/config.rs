//! Every setting firegate reads, as clap arguments with environment-variable fallbacks. Values
//! are validated here, at start-up, so a bad setting fails fast with a message that names it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Args;

use crate::passwords::CostLimits;

/// Settings shared by every subcommand that touches keys, passwords or Firestore.
#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Directory holding service-account key files (*.json).
    #[arg(long, global = true, env = "FIREGATE_KEYS_DIR", default_value = "keys")]
    pub keys_dir: PathBuf,

    /// Accept key files that group or others can read (refused by default).
    #[arg(long, global = true, env = "FIREGATE_ALLOW_INSECURE_KEY_PERMISSIONS")]
    pub allow_insecure_key_permissions: bool,

    /// Google Cloud project that holds Firestore [default: the signing key's project_id].
    #[arg(long, global = true, env = "FIREGATE_PROJECT_ID", value_parser = non_empty("--project-id"))]
    pub project_id: Option<String>,

    /// Firestore database id.
    #[arg(long, global = true, env = "FIREGATE_DATABASE_ID", default_value = "(default)", value_parser = non_empty("--database-id"))]
    pub database_id: String,

    /// Firestore emulator address (host:port); when set, no Google credentials are used.
    #[arg(long, global = true, env = "FIRESTORE_EMULATOR_HOST", value_parser = non_empty("FIRESTORE_EMULATOR_HOST"))]
    pub firestore_emulator_host: Option<String>,

    /// Longest one Firestore call may take, retries included, in milliseconds.
    #[arg(long, global = true, env = "FIREGATE_FIRESTORE_TIMEOUT_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u32).range(100..=120_000))]
    pub firestore_timeout_ms: u32,

    /// Firestore collection holding one document per account, keyed by uid.
    #[arg(long, global = true, env = "FIREGATE_ACCOUNTS_COLLECTION", default_value = "firegate_accounts", value_parser = collection_name)]
    pub accounts_collection: String,

    /// Firestore collection holding one document per login identifier (email or username).
    #[arg(long, global = true, env = "FIREGATE_LOGINS_COLLECTION", default_value = "firegate_logins", value_parser = collection_name)]
    pub logins_collection: String,

    /// Firestore collection holding per-login failure counts (brute-force protection).
    #[arg(long, global = true, env = "FIREGATE_LOCKOUTS_COLLECTION", default_value = "firegate_lockouts", value_parser = collection_name)]
    pub lockouts_collection: String,

    /// Consecutive failed sign-ins of one login that lock it (0 turns lockout off).
    #[arg(long, global = true, env = "FIREGATE_LOCKOUT_THRESHOLD", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub lockout_threshold: u32,

    /// Lock after the threshold-th failure, in seconds; every further failure adds as much.
    #[arg(long, global = true, env = "FIREGATE_LOCKOUT_STEP_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub lockout_step_secs: u32,

    /// Longest lock, in seconds.
    #[arg(long, global = true, env = "FIREGATE_LOCKOUT_MAX_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u32).range(1..=604_800))]
    pub lockout_max_secs: u32,

    /// Failures are forgotten after this long without another, in seconds.
    #[arg(long, global = true, env = "FIREGATE_LOCKOUT_RESET_SECS", default_value_t = 43_200,
          value_parser = clap::value_parser!(u32).range(1..=2_592_000))]
    pub lockout_reset_secs: u32,

    /// Days a network stays familiar after a successful sign-in from it: failures from a
    /// familiar network are counted apart, so a lock caused elsewhere does not keep the
    /// account's owner out there (0: every client shares one count per account).
    #[arg(long, global = true, env = "FIREGATE_LOCKOUT_FAMILIAR_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=365))]
    pub lockout_familiar_days: u32,

    /// Firestore collection holding the key state (which key signs, which are retired).
    #[arg(long, global = true, env = "FIREGATE_KEYS_COLLECTION", default_value = "firegate_keys", value_parser = collection_name)]
    pub keys_collection: String,

    /// How often a running server rescans the keys directory and reads the recorded key
    /// state, in seconds: the longest an instance signs with a key after another is activated.
    #[arg(long, global = true, env = "FIREGATE_KEY_REFRESH_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=300))]
    pub key_refresh_secs: u32,

    /// Where Google publishes service-account certificates (activation checks a key is there).
    #[arg(long, global = true, env = "FIREGATE_X509_BASE_URL",
          default_value = crate::keys::GOOGLE_X509_BASE, value_parser = non_empty("--x509-base-url"))]
    pub x509_base_url: String,

    /// Admin user name for the admin page and API (HTTP Basic).
    #[arg(long, global = true, env = "FIREGATE_ADMIN_USER", default_value = "admin", value_parser = non_empty("--admin-user"))]
    pub admin_user: String,

    /// argon2id hash of the admin password (`firegate admin hash-password`); the admin page
    /// and API are off without it.
    #[arg(long, global = true, env = "FIREGATE_ADMIN_PASSWORD_HASH", value_parser = admin_hash)]
    pub admin_password_hash: Option<AdminHash>,

    /// Domain that legacy clients append to bare usernames: `alice@<domain>` also finds the
    /// account whose username is `alice`.
    #[arg(long, global = true, env = "FIREGATE_LEGACY_DOMAIN", value_parser = non_empty("--legacy-domain"))]
    pub legacy_domain: Option<String>,

    /// Lifetime of minted custom tokens, in seconds (Firebase accepts at most 3600).
    #[arg(long, global = true, env = "FIREGATE_TOKEN_LIFETIME", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub token_lifetime: u32,

    /// Identity Platform tenant written into every token as `tenant_id`.
    #[arg(long, global = true, env = "FIREGATE_TENANT_ID", value_parser = non_empty("--tenant-id"))]
    pub tenant_id: Option<String>,

    /// Shortest password accepted for new accounts and password changes, in characters.
    #[arg(long, global = true, env = "FIREGATE_MIN_PASSWORD_LENGTH", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub min_password_length: u32,

    /// Refuse `POST /register/` with 403 (accounts are then created by admins or imports only).
    #[arg(long, global = true, env = "FIREGATE_DISABLE_REGISTRATION")]
    pub disable_registration: bool,

    /// Every failed sign-in takes at least this long, in milliseconds, so response times do
    /// not reveal whether a login exists or which hash scheme it uses (0 turns it off).
    #[arg(long, global = true, env = "FIREGATE_FAILURE_FLOOR_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub failure_floor_ms: u32,

    #[command(flatten)]
    pub passwords: PasswordSettings,

    #[command(flatten)]
    pub cost_limits: CostLimitSettings,
}

/// Ceilings on the cost a stored hash may ask for; a hash above them is refused (the login
/// fails) instead of computed, so a corrupt or hostile row cannot tie up the server.
#[derive(Args, Debug, Clone)]
pub struct CostLimitSettings {
    /// Most PBKDF2 iterations a stored hash may ask for (any dialect), in SHA-256 rounds:
    /// a round of a costlier digest counts more (MD5 3, SHA-512 6, BLAKE2 6-7, SHA3 14).
    #[arg(long, global = true, env = "FIREGATE_MAX_PBKDF2_ROUNDS", default_value_t = 5_000_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pbkdf2_rounds: u32,

    /// Largest scrypt log2(N) a stored hash may ask for.
    #[arg(long, global = true, env = "FIREGATE_MAX_SCRYPT_LOG_N", default_value_t = 20,
          value_parser = clap::value_parser!(u8).range(1..=40))]
    pub max_scrypt_log_n: u8,

    /// Most scrypt memory (128·N·r·p bytes) a stored hash may ask for, in MiB.
    #[arg(long, global = true, env = "FIREGATE_MAX_SCRYPT_MEMORY_MIB", default_value_t = 128,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_scrypt_memory_mib: u64,

    /// Largest bcrypt cost (log2 rounds) a stored hash may ask for.
    #[arg(long, global = true, env = "FIREGATE_MAX_BCRYPT_COST", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(4..=31))]
    pub max_bcrypt_cost: u32,

    /// Most argon2 memory a stored hash may ask for, in KiB (128 MiB = 131072).
    #[arg(long, global = true, env = "FIREGATE_MAX_ARGON2_MEMORY_KIB", default_value_t = 128 << 10,
          value_parser = clap::value_parser!(u32).range(8..))]
    pub max_argon2_memory_kib: u32,

    /// Most argon2 passes (t) a stored hash may ask for at the memory ceiling; a hash with
    /// less memory may make proportionally more (the work is memory × passes).
    #[arg(long, global = true, env = "FIREGATE_MAX_ARGON2_TIME", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_argon2_time: u32,

    /// Most argon2 lanes (p) a stored hash may ask for.
    #[arg(long, global = true, env = "FIREGATE_MAX_ARGON2_LANES", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=16_777_215))]
    pub max_argon2_lanes: u32,

    /// Most sha256-crypt/sha512-crypt rounds a stored hash may ask for.
    #[arg(long, global = true, env = "FIREGATE_MAX_SHA_CRYPT_ROUNDS", default_value_t = 2_000_000,
          value_parser = clap::value_parser!(u32).range(1000..=999_999_999))]
    pub max_sha_crypt_rounds: u32,
}

impl CostLimitSettings {
    /// The limits the password verifier enforces.
    pub fn limits(&self) -> CostLimits {
        CostLimits {
            max_pbkdf2_rounds: self.max_pbkdf2_rounds,
            max_scrypt_log_n: self.max_scrypt_log_n,
            max_scrypt_memory_bytes: self.max_scrypt_memory_mib << 20,
            max_bcrypt_cost: self.max_bcrypt_cost,
            max_argon2_memory_kib: self.max_argon2_memory_kib,
            max_argon2_time: self.max_argon2_time,
            max_argon2_lanes: self.max_argon2_lanes,
            max_sha_crypt_rounds: self.max_sha_crypt_rounds,
        }
    }
}

/// How new password hashes are computed and how many may run at once.
#[derive(Args, Debug, Clone)]
pub struct PasswordSettings {
    /// argon2id memory cost in KiB (OWASP: 19456).
    #[arg(long, global = true, env = "FIREGATE_ARGON2_MEMORY_KIB", default_value_t = 19456,
          value_parser = clap::value_parser!(u32).range(8..=4_194_304))]
    pub argon2_memory_kib: u32,

    /// argon2id iterations (time cost; OWASP: 2).
    #[arg(long, global = true, env = "FIREGATE_ARGON2_ITERATIONS", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub argon2_iterations: u32,

    /// argon2id lanes (parallelism; OWASP: 1).
    #[arg(long, global = true, env = "FIREGATE_ARGON2_PARALLELISM", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub argon2_parallelism: u32,

    /// Password hashes computed at the same time [default: number of CPUs].
    #[arg(long, global = true, env = "FIREGATE_MAX_CONCURRENT_HASHES",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_concurrent_hashes: Option<u32>,

    /// Password checks allowed to wait for a free hashing slot; beyond it requests get 503.
    #[arg(long, global = true, env = "FIREGATE_HASH_QUEUE", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub hash_queue: u32,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        PasswordSettings {
            argon2_memory_kib: 19456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_concurrent_hashes: None,
            hash_queue: 64,
        }
    }
}

impl PasswordSettings {
    /// The configured concurrency, or the number of CPUs available to this process.
    pub fn concurrency(&self) -> usize {
        match self.max_concurrent_hashes {
            Some(n) => n as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Settings of the HTTP server (`serve` and `dev`).
#[derive(Args, Debug, Clone)]
pub struct HttpConfig {
    /// Address to listen on [default: 0.0.0.0:$PORT, or 0.0.0.0:8080 without PORT].
    #[arg(long, env = "FIREGATE_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Port to listen on when --listen is not given (Cloud Run sets PORT).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// Origins allowed to call the API from a browser, comma-separated
    /// (e.g. https://app.example.com,http://localhost:5173).
    #[arg(long, env = "FIREGATE_CORS_ORIGINS", value_delimiter = ',', value_parser = cors_origin)]
    pub cors_origins: Vec<String>,

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

    /// Proxies every request passes through, each appending to X-Forwarded-For: the client is
    /// the entry this many places from the right. Cloud Run: 1 (Google's front end); behind an
    /// external Application Load Balancer: 2. 0 ignores the header. Set it only when nothing
    /// can reach firegate except through those proxies.
    #[arg(long, env = "FIREGATE_TRUSTED_PROXY_HOPS", default_value_t = 0,
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

    /// Most client connections served at once; further clients wait in the kernel's accept
    /// queue until one closes. Bounds the memory connections can take.
    #[arg(long, env = "FIREGATE_MAX_CONNECTIONS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,

    /// After SIGTERM, how long in-flight requests may take to finish, in seconds.
    #[arg(long, env = "FIREGATE_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub shutdown_grace_secs: u32,
}

impl HttpConfig {
    /// The socket address to bind, with `host` used when only a port is configured.
    pub fn listen_addr(&self, host: IpAddr) -> SocketAddr {
        self.listen.unwrap_or(SocketAddr::new(host, self.port))
    }

    /// The bind address of a production server: every interface.
    pub fn public_addr(&self) -> SocketAddr {
        self.listen_addr(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

fn non_empty(setting: &'static str) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |value: &str| {
        if value.trim().is_empty() {
            Err(format!("{setting} must not be empty"))
        } else {
            Ok(value.to_string())
        }
    }
}

/// An argon2id PHC string, checked so a typo fails at start-up rather than at login.
/// The admin password's argon2id hash, kept out of `Debug` output.
#[derive(Clone)]
pub struct AdminHash(String);

impl AdminHash {
    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminHash(<redacted>)")
    }
}

fn admin_hash(value: &str) -> Result<AdminHash, String> {
    crate::passwords::parse(
        crate::passwords::Dialect::Phc,
        value,
        &crate::passwords::CostLimits::default(),
    )
    .ok()
    .filter(|p| p.scheme() == "argon2id")
    .map(|_| AdminHash(value.to_string()))
    .ok_or_else(|| {
        "expected an argon2id hash ($argon2id$v=19$...); create one with \
             `firegate admin hash-password`"
            .to_string()
    })
}

/// Firestore collection ids: non-empty, no `/`, not `.`/`..`, not `__*__`, at most 1500 bytes.
fn collection_name(value: &str) -> Result<String, String> {
    let reserved = value.len() >= 4 && value.starts_with("__") && value.ends_with("__");
    if value.is_empty()
        || value.contains('/')
        || value == "."
        || value == ".."
        || reserved
        || value.len() > 1500
    {
        return Err(
            "a Firestore collection id must be 1-1500 bytes, without '/', \
                    and neither '.', '..' nor of the form __name__"
                .to_string(),
        );
    }
    Ok(value.to_string())
}

/// An IP network in CIDR notation; a bare address means just that address.
fn cidr(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{value}` is not an IP network (e.g. 10.0.0.0/8, ::1)"))
        .and_then(|net| {
            if net.prefix_len() == 0 {
                Err(format!(
                    "`{value}` trusts every address, so no X-Forwarded-For entry could be the \
                     client; behind Cloud Run's front end use --trusted-proxy-hops 1 instead"
                ))
            } else {
                Ok(net)
            }
        })
}

/// A browser origin: `scheme://host[:port]` with no path, or `*` for any origin.
fn cors_origin(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value == "*" {
        return Ok(value.to_string());
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.contains('/') && !host.contains(char::is_whitespace) =>
        {
            Ok(value.to_string())
        }
        _ => Err(format!(
            "`{value}` is not an origin: expected scheme://host[:port] without a path or \
             trailing slash (e.g. https://app.example.com), or *"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Harness {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        http: HttpConfig,
    }

    fn parse(args: &[&str]) -> Result<Harness, String> {
        let mut argv = vec!["firegate"];
        argv.extend_from_slice(args);
        Harness::try_parse_from(argv).map_err(|e| e.to_string())
    }

    #[test]
    fn the_admin_hash_never_shows_in_debug_output() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$\
                    oWqVsGQ8ILlQ0k0pDyvIY0vTl3F0UvMnQrbcZXUGVgk";
        let h = parse(&["--admin-password-hash", hash]).unwrap();
        assert_eq!(
            h.config.admin_password_hash.as_ref().unwrap().as_str(),
            hash
        );
        let shown = format!("{h:?}");
        assert!(shown.contains("AdminHash(<redacted>)"), "{shown}");
        assert!(
            !shown.contains("$argon2id$") && !shown.contains("oWqVsGQ8"),
            "{shown}"
        );
    }

    #[test]
    fn defaults_are_documented_values() {
        let h = parse(&[]).unwrap();
        assert_eq!(h.config.token_lifetime, 3600);
        assert_eq!(h.config.accounts_collection, "firegate_accounts");
        assert_eq!(h.config.logins_collection, "firegate_logins");
        assert_eq!(h.config.passwords.argon2_memory_kib, 19456);
        assert_eq!(h.config.passwords.argon2_iterations, 2);
        assert_eq!(h.config.passwords.argon2_parallelism, 1);
        assert_eq!(h.config.cost_limits.limits(), CostLimits::default());
    }

    #[test]
    fn token_lifetime_over_an_hour_names_the_setting_and_range() {
        let err = parse(&["--token-lifetime", "3601"]).unwrap_err();
        assert!(err.contains("--token-lifetime"), "{err}");
        assert!(err.contains("1..=3600"), "{err}");
    }

    #[test]
    fn argon2_memory_out_of_range_is_refused() {
        let err = parse(&["--argon2-memory-kib", "4"]).unwrap_err();
        assert!(err.contains("--argon2-memory-kib"), "{err}");
    }

    #[test]
    fn collection_names_are_checked() {
        for bad in ["", "a/b", "__x__", ".."] {
            let err = parse(&["--accounts-collection", bad]).unwrap_err();
            assert!(err.contains("--accounts-collection"), "{bad}: {err}");
        }
        assert!(parse(&["--logins-collection", "auth_logins"]).is_ok());
    }

    #[test]
    fn cors_origins_are_a_checked_list() {
        let h = parse(&["--cors-origins", "https://a.example,http://localhost:5173"]).unwrap();
        assert_eq!(
            h.http.cors_origins,
            ["https://a.example", "http://localhost:5173"]
        );
        let err = parse(&["--cors-origins", "https://a.example/"]).unwrap_err();
        assert!(err.contains("not an origin"), "{err}");
        let err = parse(&["--cors-origins", "a.example"]).unwrap_err();
        assert!(err.contains("not an origin"), "{err}");
    }

    #[test]
    fn listen_defaults_to_port_on_every_interface() {
        let h = parse(&["--port", "9999"]).unwrap();
        assert_eq!(h.http.public_addr().to_string(), "0.0.0.0:9999");
        let h = parse(&["--listen", "127.0.0.1:7000", "--port", "9999"]).unwrap();
        assert_eq!(h.http.public_addr().to_string(), "127.0.0.1:7000");
        assert!(parse(&["--port", "99999"]).unwrap_err().contains("--port"));
    }
}

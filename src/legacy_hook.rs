//! The legacy system's verify hook: a signed `POST` of `{login, password, uid}` to the old
//! application, whose answer says whether the password is right (with optional profile
//! fields). Each call has a deadline and a place among a bounded number of calls; the answer
//! is size-bounded and strictly parsed. The book's "Legacy verify hook" page is the contract.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

use crate::accounts::Uid;
use crate::claims::Claims;
use crate::error::LegacyError;
use crate::login::Login;
use crate::passwords::Password;
use crate::{Error, Result};

/// The header carrying the request's time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Firegate-Timestamp";
/// The header carrying `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub const SIGNATURE_HEADER: &str = "X-Firegate-Signature";
/// Longest answer read from the hook; a longer one is unusable.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// How long after a failed call every refused sign-in answers as unavailable.
pub const DOWN_FOR: Duration = Duration::from_secs(30);

/// What recent calls said about the hook: when it last failed and how long calls take.
#[derive(Debug, Default)]
struct Health {
    /// When the last call failed; `None` once a call succeeds.
    failed_at: std::sync::Mutex<Option<Instant>>,
    /// A maximum of recent call times, in microseconds, losing 1/16 at each call.
    typical_us: AtomicU64,
}

impl Health {
    fn record(&self, took: Duration, answered: bool) {
        if let Ok(mut failed_at) = self.failed_at.lock() {
            *failed_at = (!answered).then(Instant::now);
        }
        let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let _ = self
            .typical_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(took.max(old - old / 16))
            });
    }

    fn is_down(&self) -> bool {
        self.failed_at
            .lock()
            .ok()
            .and_then(|failed_at| *failed_at)
            .is_some_and(|at| at.elapsed() < DOWN_FOR)
    }

    fn typical(&self) -> Duration {
        Duration::from_micros(self.typical_us.load(Ordering::Relaxed))
    }
}

/// Sign-ins admitted to the hook per call place: the one calling and those waiting for it.
const ENTRIES_PER_PLACE: usize = 2;

/// Shortest shared secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the hook is and how it is called.
#[derive(Debug, Clone)]
pub struct LegacyHookOptions {
    /// The hook's URL: `https://…`, or `http://` on a loopback address.
    pub url: String,
    /// The secret both sides sign with (from the environment or the settings file)…
    pub secret: Option<SecretString>,
    /// … or the file holding it (readable by its owner only).
    pub secret_file: Option<PathBuf>,
    /// Longest one call may take, waiting for a place included.
    pub deadline: Duration,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Logins no account holds are asked too, and created when the hook knows them.
    pub create_unknown: bool,
    /// Start-up fails when the hook's server does not answer ([`LegacyHook::probe`]).
    pub required: bool,
}

/// What the hook said about a login and password.
#[derive(Debug)]
pub enum HookAnswer {
    /// The password is right; the profile fields the hook chose to send.
    Valid(Profile),
    /// The password is wrong (or the login unknown to the legacy system).
    Invalid,
}

/// What a `valid` answer may say about the account besides the password being right.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    pub uid: Option<Uid>,
    pub email: Option<Login>,
    pub username: Option<Login>,
    pub email_verified: Option<bool>,
    pub disabled: Option<bool>,
    pub claims: Option<Claims>,
}

/// A uid written as a JSON string or a non-negative integer, kept as text.
fn text_or_integer<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Uid {
        Text(String),
        Integer(u64),
    }
    Ok(
        Option::<Uid>::deserialize(deserializer)?.map(|uid| match uid {
            Uid::Text(text) => text,
            Uid::Integer(n) => n.to_string(),
        }),
    )
}

/// The answer as the hook writes it: every field known, nothing else accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    valid: bool,
    /// A string, or an integer as most apps' primary keys are (`user.pk`, `$user['id']`).
    #[serde(default, deserialize_with = "text_or_integer")]
    uid: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    claims: Option<serde_json::Value>,
}

/// The verify hook client.
pub struct LegacyHook {
    url: Url,
    host: String,
    secret: SecretString,
    deadline: Duration,
    create_unknown: bool,
    places: Arc<Semaphore>,
    entries: Arc<Semaphore>,
    capacity: usize,
    health: Health,
    http: reqwest::Client,
}

impl std::fmt::Debug for LegacyHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyHook")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl LegacyHook {
    /// Checks the URL (HTTPS, or HTTP on loopback) and the secret, and builds the client.
    /// Redirects are not followed: a password goes to the configured URL only.
    pub fn new(options: &LegacyHookOptions) -> Result<LegacyHook> {
        let url = checked_url(&options.url)?;
        let secret = match (&options.secret, &options.secret_file) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "the legacy verify hook's secret is given twice: set \
                     FIREGATE_LEGACY_VERIFY_SECRET or --legacy-verify-secret-file, not both",
                ));
            }
            (Some(secret), None) => secret.clone(),
            (None, Some(file)) => read_secret(file)?,
            (None, None) => {
                return Err(Error::config(
                    "--legacy-verify-url needs the shared secret its requests are signed \
                     with: set FIREGATE_LEGACY_VERIFY_SECRET or --legacy-verify-secret-file \
                     (make one with `openssl rand -hex 32`)",
                ));
            }
        };
        if secret.expose_secret().len() < MIN_SECRET_BYTES {
            return Err(Error::config(format!(
                "the legacy verify hook's shared secret is shorter than {MIN_SECRET_BYTES} \
                 bytes; make one with `openssl rand -hex 32`"
            )));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // The password goes to the hook and nowhere else: never through an HTTP_PROXY
            // from the environment (a loopback hook may be plain HTTP).
            .no_proxy()
            .connect_timeout(options.deadline)
            .timeout(options.deadline)
            .build()
            .map_err(|e| Error::internal("cannot build the HTTP client").caused_by(e))?;
        let capacity = options.concurrency.max(1) * ENTRIES_PER_PLACE;
        Ok(LegacyHook {
            host: host_of(&url),
            url,
            secret,
            deadline: options.deadline,
            create_unknown: options.create_unknown,
            places: Arc::new(Semaphore::new(options.concurrency.max(1))),
            entries: Arc::new(Semaphore::new(capacity)),
            capacity,
            health: Health::default(),
            http,
        })
    }

    /// Takes one of the sign-ins that may be between the hook and the end of their check
    /// at once (each place's call plus as many waiting), or `None` when all are taken: the
    /// sign-in is then refused as overloaded before anything is asked or counted. Held from
    /// before the call until the sign-in has its place among the password checks again, it
    /// bounds how many wait for that place.
    pub fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.entries.clone().try_acquire_owned().ok()
    }

    /// Sign-ins between the hook and the end of their check right now.
    pub fn entered(&self) -> usize {
        self.capacity - self.entries.available_permits()
    }

    /// Whether logins no account holds are asked too.
    pub fn creates_unknown(&self) -> bool {
        self.create_unknown
    }

    /// The answer to a refused sign-in while the hook is down ([`LegacyHook::is_down`]).
    pub fn down(&self) -> LegacyError {
        LegacyError::Down {
            host: self.host.clone(),
        }
    }

    /// The host the hook is on, for logs.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Asks the hook whether `password` is right for `login` (the account's `uid` when one
    /// exists). A timeout, a refused connection, an answer other than 200, or one that is not
    /// the documented JSON is a [`LegacyError`]: never a sign-in, never a wrong password.
    pub async fn verify(
        &self,
        login: &str,
        password: &Password,
        uid: Option<&Uid>,
    ) -> std::result::Result<HookAnswer, LegacyError> {
        let call = async {
            let _place = self
                .places
                .acquire()
                .await
                .map_err(|_| self.unreachable("the hook client is closed".into()))?;
            self.call(login, password, uid).await
        };
        let started = Instant::now();
        let answer = match tokio::time::timeout(self.deadline, call).await {
            Ok(answer) => answer,
            Err(_) => Err(self.timeout()),
        };
        self.health.record(started.elapsed(), answer.is_ok());
        answer
    }

    /// Whether the hook's last call failed within [`DOWN_FOR`]: every refused sign-in then
    /// answers as a legacy-checked one does (503), so an outage tells nobody which logins
    /// the hook would have been asked about.
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }

    /// How long a refused sign-in takes at least while the hook is configured: recent hook
    /// calls' time (a slowly decaying maximum, at most the deadline). Padding every refusal
    /// to it keeps a wrong password checked by the hook from being told by its timing from
    /// an unknown login or a wrong password checked here.
    pub fn refusal_time(&self) -> Duration {
        self.health.typical().min(self.deadline)
    }

    /// Whether the hook's server answers at all (a `GET` answered below 500 counts): for
    /// `--legacy-verify-required` at start-up. Sends no login and no password.
    pub async fn probe(&self) -> std::result::Result<(), LegacyError> {
        let sent = self.http.get(self.url.clone()).send().await;
        match sent {
            Ok(response) if response.status().is_server_error() => Err(LegacyError::Status {
                host: self.host.clone(),
                status: response.status().as_u16(),
                fix: "",
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e)),
        }
    }

    async fn call(
        &self,
        login: &str,
        password: &Password,
        uid: Option<&Uid>,
    ) -> std::result::Result<HookAnswer, LegacyError> {
        let body = Zeroizing::new(
            serde_json::to_vec(&serde_json::json!({
                "login": login,
                "password": password.expose(),
                "uid": uid.map(Uid::as_str),
            }))
            .map_err(|e| self.unreachable(format!("cannot encode the request: {e}")))?,
        );
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = sign(self.secret.expose_secret().as_bytes(), timestamp, &body);
        let response = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| self.failed(e))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(LegacyError::Status {
                host: self.host.clone(),
                status: status.as_u16(),
                fix: match status {
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                        "; the hook refused the request's signature: check that both sides \
                         have the same secret and clocks within five minutes"
                    }
                    _ => "",
                },
            });
        }
        let bytes = crate::bounded_body::read_bounded(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|why| self.malformed(why))?;
        parse_answer(&bytes).map_err(|why| self.malformed(why))
    }

    fn failed(&self, e: reqwest::Error) -> LegacyError {
        if e.is_timeout() {
            return self.timeout();
        }
        // The URL is left out: it may carry a user and password of its own.
        let e = e.without_url();
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            why = format!("{why}: {cause}");
            source = cause.source();
        }
        self.unreachable(why)
    }

    fn timeout(&self) -> LegacyError {
        LegacyError::Timeout {
            host: self.host.clone(),
            deadline_ms: self.deadline.as_millis(),
        }
    }

    fn unreachable(&self, why: String) -> LegacyError {
        LegacyError::Unreachable {
            host: self.host.clone(),
            why,
        }
    }

    fn malformed(&self, why: String) -> LegacyError {
        LegacyError::Malformed {
            host: self.host.clone(),
            why,
        }
    }
}

/// The secret in `file`, without its final newline. The file must be private to its owner,
/// as key files are; its content is never quoted.
fn read_secret(file: &Path) -> Result<SecretString> {
    use std::os::unix::fs::PermissionsExt;
    let shown = file.display();
    let meta = std::fs::metadata(file)
        .map_err(Error::io(format!("--legacy-verify-secret-file {shown}")))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "--legacy-verify-secret-file {shown}: readable by group or others (mode \
             {mode:03o}); run `chmod 600 {shown}`"
        )));
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(file)
            .map_err(Error::io(format!("--legacy-verify-secret-file {shown}")))?,
    );
    let secret = text.strip_suffix('\n').unwrap_or(&text);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    Ok(SecretString::from(secret.to_string()))
}

/// `v1=` and the hex HMAC-SHA256, keyed by `secret`, of `<timestamp>.<body>`: the value of
/// [`SIGNATURE_HEADER`].
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this never refuses; an empty signature would only
    // be refused by the hook.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The hook's URL, if it is one a password may go to: HTTPS, or HTTP to a loopback address
/// (an old app on the same machine or pod).
fn checked_url(text: &str) -> Result<Url> {
    let url = Url::parse(text.trim()).map_err(|e| {
        Error::config(format!(
            "--legacy-verify-url is not a URL ({e}); give https://old-app.example/firegate-verify"
        ))
    })?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Error::config(format!(
            "--legacy-verify-url {}: passwords go to the hook, so it must be https:// (plain \
             http:// only on a loopback address such as 127.0.0.1)",
            host_of(&url)
        ))),
        other => Err(Error::config(format!(
            "--legacy-verify-url: scheme `{other}` is not https"
        ))),
    }
}

/// `host[:port]`, for messages (never the path, query or user of the URL).
fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => "(no host)".to_string(),
    }
}

/// Parses an answer strictly. Messages say which field is wrong, never quote a value.
fn parse_answer(bytes: &[u8]) -> std::result::Result<HookAnswer, String> {
    let answer: Answer = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "not the documented JSON object ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    if !answer.valid {
        let extra = answer.uid.is_some()
            || answer.email.is_some()
            || answer.username.is_some()
            || answer.email_verified.is_some()
            || answer.disabled.is_some()
            || answer.claims.is_some();
        if extra {
            return Err("an answer with \"valid\": false carries no other field".into());
        }
        return Ok(HookAnswer::Invalid);
    }
    let field = |name: &str, e: Error| match e {
        Error::InvalidInput { message, .. } => format!("`{name}`: {message}"),
        other => format!("`{name}`: {other}"),
    };
    let uid = answer
        .uid
        .map(|u| Uid::parse(&u))
        .transpose()
        .map_err(|e| field("uid", e))?;
    let email = answer
        .email
        .map(|e| Login::parse(&e))
        .transpose()
        .map_err(|e| field("email", e))?;
    if email.as_ref().is_some_and(|e| !e.is_email()) {
        return Err("`email` is not an email address".into());
    }
    let username = answer
        .username
        .map(|u| Login::parse(&u))
        .transpose()
        .map_err(|e| field("username", e))?;
    if username.as_ref().is_some_and(Login::is_email) {
        return Err("`username` must not contain '@'".into());
    }
    let claims = answer
        .claims
        .map(Claims::parse)
        .transpose()
        .map_err(|e| field("claims", e))?;
    Ok(HookAnswer::Valid(Profile {
        uid,
        email,
        username,
        email_verified: answer.email_verified,
        disabled: answer.disabled,
        claims,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"k"*32,b"1700000000.{}",
        //   hashlib.sha256).hexdigest())'
        assert_eq!(
            sign(&[b'k'; 32], 1_700_000_000, b"{}"),
            "v1=0b3b35525c10b3757ffa78df69037021fc3168d8390a51a4fcb4a8d56a25b557"
        );
    }

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        assert!(checked_url("https://old.example/verify").is_ok());
        assert!(checked_url("http://127.0.0.1:8000/verify").is_ok());
        assert!(checked_url("http://[::1]:8000/verify").is_ok());
        assert!(checked_url("http://localhost/verify").is_ok());
        let refused = checked_url("http://old.example/verify")
            .unwrap_err()
            .to_string();
        assert!(refused.contains("https://"), "{refused}");
        assert!(checked_url("ftp://127.0.0.1/").is_err());
        assert!(checked_url("not a url").is_err());
    }

    #[test]
    fn answers_are_parsed_strictly() {
        assert!(matches!(
            parse_answer(br#"{"valid": false}"#),
            Ok(HookAnswer::Invalid)
        ));
        let Ok(HookAnswer::Valid(profile)) = parse_answer(
            br#"{"valid": true, "uid": "42", "email": "kim@example.com", "username": "kim",
                 "email_verified": true, "disabled": false, "claims": {"role": "teacher"}}"#,
        ) else {
            panic!("a valid answer")
        };
        assert_eq!(profile.uid.unwrap().as_str(), "42");
        assert_eq!(profile.username.unwrap().as_str(), "kim");
        let Ok(HookAnswer::Valid(profile)) = parse_answer(br#"{"valid": true, "uid": 301}"#) else {
            panic!("an integer uid")
        };
        assert_eq!(profile.uid.unwrap().as_str(), "301");
        for bad in [
            &br#"{"valid": true, "extra": 1}"#[..],
            br#"{"valid": "yes"}"#,
            br#"{"valid": false, "uid": "42"}"#,
            br#"{"valid": true, "claims": {"sub": "x"}}"#,
            br#"{"valid": true, "email": "kim"}"#,
            br#"{"valid": true, "username": "kim@example.com"}"#,
            br#"{"valid": true, "uid": ""}"#,
            br#"{"valid": true, "uid": -1}"#,
            br#"{"valid": true, "uid": 1.5}"#,
            b"[]",
            b"",
        ] {
            assert!(
                parse_answer(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn malformed_answers_never_quote_a_value() {
        let why = parse_answer(br#"{"valid": "hunter2-secret"}"#)
            .err()
            .unwrap();
        assert!(!why.contains("hunter2"), "{why}");
    }
}

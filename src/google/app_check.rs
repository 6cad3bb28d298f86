//! Firebase App Check tokens (`X-Firebase-AppCheck`), verified as Firebase documents for
//! custom backends: RS256 against App Check's JWKS (fetched through the shared API client,
//! kept as long as its `Cache-Control: max-age` says, refetched for an unknown `kid` at most
//! once a minute), `iss` = `https://firebaseappcheck.googleapis.com/<project number>`, `aud`
//! holding `projects/<project number or id>`, `sub` an allowed app id, `exp`. Replay
//! protection (`consume`) asks App Check's REST `verifyAppCheckToken`, as firebase-admin
//! does, whether a limited-use token was seen before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::time::Instant;

use super::credentials::AccessTokens;
use crate::error::GoogleCallError;

/// App Check's public keys.
pub const APP_CHECK_JWKS_URL: &str = "https://firebaseappcheck.googleapis.com/v1/jwks";
/// App Check's REST API (`verifyAppCheckToken` is in v1beta, where firebase-admin calls it).
pub const APP_CHECK_API_URL: &str = "https://firebaseappcheck.googleapis.com/v1beta/";

/// Longest token read, in bytes (a real one is under 1 KiB).
const MAX_TOKEN_BYTES: usize = 4 * 1024;
/// Longest JWKS answer read.
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Kept at least this long, and refetched at most this often for unknown key ids.
const MIN_CACHE: Duration = Duration::from_secs(60);

/// After a failed JWKS fetch, how long requests are answered from what is known (the keys
/// fetched before, even stale, or unavailable) without fetching again: an unreachable JWKS
/// must not make every request wait for a fetch of its own.
const FAILED_FETCH_BACKOFF: Duration = Duration::from_secs(30);
/// At most six hours, as firebase-admin keeps it.
const MAX_CACHE: Duration = Duration::from_secs(6 * 60 * 60);

/// The routes App Check guards, by what they do. The HTTP edge maps paths to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteGroup {
    /// Sign-in, its second step and password changes.
    SignIn,
    /// `POST /register/`.
    Registration,
    /// Password reset and email verification, asked and confirmed.
    Reset,
    /// Passkey ceremonies.
    Passkeys,
}

impl RouteGroup {
    /// Every group, in the order settings and logs name them.
    pub const ALL: [RouteGroup; 4] = [
        RouteGroup::SignIn,
        RouteGroup::Registration,
        RouteGroup::Reset,
        RouteGroup::Passkeys,
    ];

    /// The group's name in settings and logs.
    pub fn name(self) -> &'static str {
        match self {
            RouteGroup::SignIn => "sign-in",
            RouteGroup::Registration => "registration",
            RouteGroup::Reset => "reset",
            RouteGroup::Passkeys => "passkeys",
        }
    }

    /// The group named `name`.
    pub fn parse(name: &str) -> Option<RouteGroup> {
        RouteGroup::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// What App Check does for a group of routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppCheckMode {
    /// Not looked at.
    #[default]
    Off,
    /// Verified; a request that would be refused is logged and counted, and served.
    Monitor,
    /// Verified; a request without a valid token is answered `401 app_check_failed`.
    Enforce,
}

impl AppCheckMode {
    pub fn parse(text: &str) -> Option<AppCheckMode> {
        match text {
            "off" => Some(AppCheckMode::Off),
            "monitor" => Some(AppCheckMode::Monitor),
            "enforce" => Some(AppCheckMode::Enforce),
            _ => None,
        }
    }
}

/// App Check's settings.
#[derive(Debug, Clone, Default)]
pub struct AppCheckOptions {
    /// The mode of each route group (absent: off).
    pub modes: HashMap<RouteGroup, AppCheckMode>,
    /// The Firebase project's number (the console's "Project number").
    pub project_number: String,
    /// The project's id, which `aud` may name instead of the number.
    pub project_id: Option<String>,
    /// App ids allowed as `sub`; empty: any app of the project.
    pub app_ids: Vec<String>,
    /// Registration and reset consume limited-use tokens (`verifyAppCheckToken`).
    pub consume: bool,
    pub jwks_url: String,
    pub api_url: String,
}

impl AppCheckOptions {
    /// The mode of `group`.
    pub fn mode(&self, group: RouteGroup) -> AppCheckMode {
        self.modes.get(&group).copied().unwrap_or_default()
    }

    /// Whether any group is verified.
    pub fn on(&self) -> bool {
        self.modes.values().any(|m| *m != AppCheckMode::Off)
    }
}

/// Why a token was not taken: the client's token is wrong (`Invalid`, which says what, never
/// the token) or Google could not be asked (`Unavailable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppCheckError {
    Invalid(String),
    Unavailable(String),
}

impl std::fmt::Display for AppCheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppCheckError::Invalid(why) | AppCheckError::Unavailable(why) => f.write_str(why),
        }
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCheckClaims {
    /// `sub`: the Firebase app id.
    pub app_id: String,
}

struct Keys {
    keys: HashMap<String, (Vec<u8>, Vec<u8>)>,
    expires: Instant,
    /// When the keys were last fetched for a key id they did not hold.
    unknown_refetch: Option<Instant>,
}

/// Verifies App Check tokens, caching the JWKS.
pub struct AppCheckVerifier {
    options: AppCheckOptions,
    keys: std::sync::RwLock<Option<std::sync::Arc<Keys>>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    /// When the last fetch failed and why: for [`FAILED_FETCH_BACKOFF`] no other is tried.
    failed: std::sync::Mutex<Option<(Instant, String)>>,
    fetches: AtomicU32,
    tokens: AccessTokens,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<i64>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: String,
    #[serde(default)]
    n: String,
    #[serde(default)]
    e: String,
}

fn invalid(why: impl Into<String>) -> AppCheckError {
    AppCheckError::Invalid(why.into())
}

impl AppCheckVerifier {
    pub fn new(options: AppCheckOptions) -> AppCheckVerifier {
        AppCheckVerifier {
            options,
            keys: std::sync::RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            failed: std::sync::Mutex::new(None),
            fetches: AtomicU32::new(0),
            tokens: AccessTokens::new(),
        }
    }

    pub fn options(&self) -> &AppCheckOptions {
        &self.options
    }

    /// How many times the JWKS was fetched.
    pub fn fetches(&self) -> u32 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Verifies `token` at `now` (seconds since the epoch).
    pub async fn verify(&self, token: &str, now: i64) -> Result<AppCheckClaims, AppCheckError> {
        if token.is_empty() {
            return Err(invalid("no App Check token (X-Firebase-AppCheck)"));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("the App Check token is too long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("the App Check token is not a JWT"));
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| invalid(format!("the App Check token's {what} is not base64url")))
        };
        let header: Header = serde_json::from_slice(&decode(header, "header")?)
            .map_err(|_| invalid("the App Check token's header is not JSON"))?;
        if header.alg != "RS256" {
            return Err(invalid("the App Check token is not signed with RS256"));
        }
        if header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(invalid("the App Check token's type is not JWT"));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("the App Check token names no key (`kid`)"))?;
        let (n, e) = self.key(&kid).await?;
        let signature = decode(signature, "signature")?;
        let signed = &token[..token.len() - signature_len(token)];
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
            .map_err(|_| invalid("the App Check token's signature does not verify"))?;
        let claims: Claims = serde_json::from_slice(&decode(payload, "payload")?)
            .map_err(|_| invalid("the App Check token's payload is not JSON"))?;
        self.check(claims, now)
    }

    fn check(&self, c: Claims, now: i64) -> Result<AppCheckClaims, AppCheckError> {
        let number = &self.options.project_number;
        if c.iss != format!("https://firebaseappcheck.googleapis.com/{number}") {
            return Err(invalid(
                "the App Check token's issuer is not this project's (`iss`)",
            ));
        }
        let audiences = match c.aud {
            Some(Audience::One(one)) => vec![one],
            Some(Audience::Many(many)) => many,
            None => Vec::new(),
        };
        let ours = |aud: &String| {
            aud.strip_prefix("projects/")
                .is_some_and(|p| p == number || self.options.project_id.as_deref() == Some(p))
        };
        if !audiences.iter().any(ours) {
            return Err(invalid(
                "the App Check token is for another project (`aud`)",
            ));
        }
        let exp = c
            .exp
            .ok_or_else(|| invalid("the App Check token has no `exp`"))?;
        if exp <= now {
            return Err(invalid("the App Check token has expired"));
        }
        let allowed = if self.options.app_ids.is_empty() {
            // An app id is `1:<project number>:<platform>:<hex>`.
            c.sub.split(':').nth(1) == Some(number.as_str())
        } else {
            self.options.app_ids.contains(&c.sub)
        };
        if !allowed {
            return Err(invalid(
                "the App Check token is for an app not allowed here (`sub`)",
            ));
        }
        Ok(AppCheckClaims { app_id: c.sub })
    }

    /// The key `kid` as (n, e), from the cache or a fetch.
    async fn key(&self, kid: &str) -> Result<(Vec<u8>, Vec<u8>), AppCheckError> {
        if let Some(found) = self.cached(kid, Instant::now(), false) {
            return Ok(found);
        }
        let _one = self.fetching.lock().await;
        let now = Instant::now();
        // Another request may have fetched while this one waited.
        if let Some(found) = self.cached(kid, now, false) {
            return Ok(found);
        }
        let current = self.current();
        let fresh = current.as_ref().is_some_and(|k| k.expires > now);
        // An unknown key id may be a key Google has just added: refetch, but not for every
        // request that names a made-up one.
        let refetched = current.as_ref().and_then(|k| k.unknown_refetch);
        let may_refetch = refetched.is_none_or(|at| now.duration_since(at) >= MIN_CACHE);
        if !fresh || may_refetch {
            let failed = self
                .failed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let recent = failed.filter(|(at, _)| now.duration_since(*at) < FAILED_FETCH_BACKOFF);
            if let Some((_, why)) = recent {
                // Keys fetched before still verify while the JWKS cannot be fetched.
                return self
                    .cached(kid, now, true)
                    .ok_or(AppCheckError::Unavailable(why));
            }
            match self.fetch().await {
                Ok(mut fetched) => {
                    fetched.unknown_refetch = if fresh { Some(now) } else { refetched };
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
                        Some(std::sync::Arc::new(fetched));
                    *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
                Err(e) => {
                    *self.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((now, e.to_string()));
                    return self.cached(kid, now, true).ok_or(e);
                }
            }
        }
        self.cached(kid, Instant::now(), true).ok_or_else(|| {
            invalid("the App Check token's key is not among App Check's public keys")
        })
    }

    fn current(&self) -> Option<std::sync::Arc<Keys>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn cached(&self, kid: &str, now: Instant, stale_ok: bool) -> Option<(Vec<u8>, Vec<u8>)> {
        let keys = self.current()?;
        if !stale_ok && keys.expires <= now {
            return None;
        }
        keys.keys.get(kid).cloned()
    }

    async fn fetch(&self) -> Result<Keys, AppCheckError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let url = &self.options.jwks_url;
        let unavailable = |why: String| {
            AppCheckError::Unavailable(format!("cannot fetch App Check's JWKS from {url}: {why}"))
        };
        let client = super::api_client().map_err(|e| unavailable(crate::error::chain(&e)))?;
        let response = client
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| unavailable(crate::error::chain(&GoogleCallError::transport(e))))?;
        let status = response.status();
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(super::id_token::max_age)
            .unwrap_or(MIN_CACHE)
            .clamp(MIN_CACHE, MAX_CACHE);
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(unavailable(format!(
                "the answer is over {MAX_JWKS_BYTES} bytes"
            )));
        }
        let text = response
            .text()
            .await
            .map_err(|e| unavailable(crate::error::chain(&GoogleCallError::transport(e))))?;
        if !status.is_success() {
            return Err(unavailable(format!(
                "HTTP {status}: {}",
                super::quote(&text)
            )));
        }
        if text.len() > MAX_JWKS_BYTES {
            return Err(unavailable(format!(
                "the answer is over {MAX_JWKS_BYTES} bytes"
            )));
        }
        let jwks: Jwks = serde_json::from_str(&text)
            .map_err(|e| unavailable(format!("not a JWKS ({})", super::unreadable(&e))))?;
        let mut keys = HashMap::new();
        for jwk in jwks.keys {
            let n = URL_SAFE_NO_PAD.decode(&jwk.n);
            let e = URL_SAFE_NO_PAD.decode(&jwk.e);
            match (jwk.kty.as_str(), n, e) {
                ("RSA", Ok(n), Ok(e)) if !jwk.kid.is_empty() => {
                    keys.insert(jwk.kid, (n, e));
                }
                _ => tracing::warn!(kid = %jwk.kid, "skipping an unusable App Check key"),
            }
        }
        let now = Instant::now();
        Ok(Keys {
            keys,
            expires: now + max_age,
            unknown_refetch: None,
        })
    }

    /// Consumes a limited-use token: `Ok(true)` when App Check has seen it before (a
    /// replay), through `verifyAppCheckToken` with the server's Google credentials.
    pub async fn consume(&self, token: &str) -> Result<bool, AppCheckError> {
        let unavailable = |why: String| {
            AppCheckError::Unavailable(format!("App Check's verifyAppCheckToken: {why}"))
        };
        let bearer = self
            .tokens
            .bearer()
            .await
            .map_err(|e| unavailable(crate::error::chain(&e)))?;
        let client = super::api_client().map_err(|e| unavailable(crate::error::chain(&e)))?;
        let url = format!(
            "{}projects/{}:verifyAppCheckToken",
            self.options.api_url, self.options.project_number
        );
        let sent = client
            .post(url)
            .bearer_auth(bearer.expose_secret())
            .timeout(Duration::from_secs(5))
            .json(&serde_json::json!({ "appCheckToken": token }));
        let (status, text) = super::exchange(sent)
            .await
            .map_err(|e| unavailable(crate::error::chain(&e)))?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            self.tokens.reset();
        }
        if !status.is_success() {
            let said: super::ErrorBody = serde_json::from_str(&text).unwrap_or_default();
            let why = format!("HTTP {status}: {}", super::quote(&said.error.message));
            return Err(
                if status.is_client_error()
                    && status != reqwest::StatusCode::UNAUTHORIZED
                    && status != reqwest::StatusCode::FORBIDDEN
                {
                    invalid(format!("App Check refused the token ({why})"))
                } else {
                    unavailable(why)
                },
            );
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Verified {
            #[serde(default)]
            already_consumed: bool,
        }
        let verified: Verified = serde_json::from_str(&text)
            .map_err(|e| unavailable(format!("an answer {}", super::unreadable(&e))))?;
        Ok(verified.already_consumed)
    }
}

/// The length of a JWT's signature part and the dot before it.
fn signature_len(token: &str) -> usize {
    token.rsplit('.').next().map_or(0, |s| s.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(app_ids: &[&str]) -> AppCheckVerifier {
        AppCheckVerifier::new(AppCheckOptions {
            project_number: "123456".into(),
            project_id: Some("demo-p".into()),
            app_ids: app_ids.iter().map(|s| s.to_string()).collect(),
            ..AppCheckOptions::default()
        })
    }

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({
            "iss": "https://firebaseappcheck.googleapis.com/123456",
            "sub": "1:123456:web:abc",
            "aud": ["projects/123456", "projects/demo-p"],
            "exp": now + 3600, "iat": now,
        })
    }

    fn check(v: &AppCheckVerifier, c: serde_json::Value) -> Result<AppCheckClaims, AppCheckError> {
        v.check(serde_json::from_value(c).unwrap(), 1_000)
    }

    #[test]
    fn the_claims_are_checked_as_firebase_documents() {
        let v = verifier(&[]);
        assert_eq!(check(&v, claims(1_000)).unwrap().app_id, "1:123456:web:abc");
        let mut by_id = claims(1_000);
        by_id["aud"] = serde_json::json!(["projects/demo-p"]);
        assert!(check(&v, by_id).is_ok(), "the project id names it too");
        for (field, value, expect) in [
            (
                "iss",
                serde_json::json!("https://firebaseappcheck.googleapis.com/9"),
                "issuer",
            ),
            (
                "aud",
                serde_json::json!(["projects/other"]),
                "another project",
            ),
            (
                "aud",
                serde_json::json!("projects/other"),
                "another project",
            ),
            ("exp", serde_json::json!(999), "expired"),
            ("sub", serde_json::json!("1:999:web:abc"), "not allowed"),
        ] {
            let mut c = claims(1_000);
            c[field] = value;
            let Err(AppCheckError::Invalid(why)) = check(&v, c) else {
                panic!("{field} must be checked");
            };
            assert!(why.contains(expect), "{field}: {why}");
        }
        let listed = verifier(&["1:123456:ios:def"]);
        assert!(
            check(&listed, claims(1_000)).is_err(),
            "only the listed apps"
        );
    }
}

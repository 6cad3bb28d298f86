//! Firebase ID tokens, verified as the Admin SDKs' `verifyIdToken` does: RS256 against
//! Google's `securetoken` certificates (fetched through the shared API client and kept as
//! long as their `Cache-Control: max-age` says), `iss` =
//! `https://securetoken.google.com/<project>`, `aud` = the project, `exp`, `iat` and
//! `auth_time` in order, a `sub` of 1–128 bytes. The Auth emulator's tokens are unsigned
//! (`alg: none`): they are taken only when the verifier is built to allow them, which the
//! caller decides (an emulator host set, and a `demo-` project or `dev`), so a stray
//! environment variable in production cannot turn signature checks off.

use std::collections::HashMap;
use std::time::Duration;

use super::GoogleCallError;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use der::DecodePem;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::time::Instant;

/// Longest ID token read, in bytes: a real one is about 1 KB, and claims are small.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Clock difference tolerated between Google and this machine for `iat` and `auth_time`.
const CLOCK_SKEW_SECS: i64 = 60;

/// Kept at least this long, and refetched at most this often for an unknown key id.
const MIN_CACHE: Duration = Duration::from_secs(60);
/// At most a day: a huge `max-age` neither pins old keys nor overflows the clock.
const MAX_CACHE: Duration = Duration::from_secs(24 * 60 * 60);

/// What a verifier checks tokens against.
#[derive(Debug, Clone)]
pub struct IdTokenOptions {
    /// The Firebase project the tokens are for.
    pub project_id: String,
    /// The certificates' URL ([`SECURETOKEN_CERTS_URL`], or a stand-in in tests).
    pub certs_url: String,
    /// Take the Auth emulator's unsigned tokens.
    pub allow_unsigned: bool,
}

/// What a verified ID token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    /// `sub`: the uid.
    pub uid: String,
    /// `auth_time`: when the user signed in, seconds since the epoch.
    pub auth_time: i64,
    /// `firebase.sign_in_provider` (`custom` for a custom-token sign-in).
    pub sign_in_provider: String,
    /// `firebase.tenant`, for an Identity Platform tenant's user.
    pub tenant: Option<String>,
}

/// Why a token was refused: the client's token is wrong (`Invalid`, which says what) or the
/// certificates could not be fetched (`Unavailable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenError {
    Invalid(String),
    Unavailable(String),
}

struct Certificates {
    keys: HashMap<String, Vec<u8>>,
    fetched: Instant,
    expires: Instant,
}

/// Verifies Firebase ID tokens, caching Google's certificates.
pub struct IdTokenVerifier {
    options: IdTokenOptions,
    cache: tokio::sync::Mutex<Option<Certificates>>,
    fetches: std::sync::atomic::AtomicU32,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    aud: String,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    firebase: Option<FirebaseClaim>,
}

#[derive(Deserialize)]
struct FirebaseClaim {
    #[serde(default)]
    sign_in_provider: String,
    #[serde(default)]
    tenant: Option<String>,
}

fn invalid(why: impl Into<String>) -> IdTokenError {
    IdTokenError::Invalid(why.into())
}

impl IdTokenVerifier {
    pub fn new(options: IdTokenOptions) -> IdTokenVerifier {
        IdTokenVerifier {
            options,
            cache: tokio::sync::Mutex::new(None),
            fetches: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// The project tokens must be for.
    pub fn project_id(&self) -> &str {
        &self.options.project_id
    }

    /// Whether unsigned (emulator) tokens are taken.
    pub fn allows_unsigned(&self) -> bool {
        self.options.allow_unsigned
    }

    /// How many times the certificates were fetched (the cache's effect shows in tests).
    pub fn fetches(&self) -> u32 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Verifies `token` at `now`. Error texts name the failed check, never the token.
    pub async fn verify(&self, token: &str, now: Timestamp) -> Result<IdToken, IdTokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("the ID token is too long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "the ID token is not a JWT (three dot-separated parts)",
            ));
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| invalid(format!("the ID token's {what} is not base64url")))
        };
        let header: Header = serde_json::from_slice(&decode(header, "header")?)
            .map_err(|_| invalid("the ID token's header is not JSON"))?;
        let signed = &token[..token.len() - signature.len() - 1];
        match header.alg.as_str() {
            "RS256" => {
                let kid = header
                    .kid
                    .ok_or_else(|| invalid("the ID token names no key (`kid`)"))?;
                let key = self.key(&kid).await?;
                let signature = decode(signature, "signature")?;
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key)
                    .verify(signed.as_bytes(), &signature)
                    .map_err(|_| invalid("the ID token's signature does not verify"))?;
            }
            "none" if self.options.allow_unsigned => {}
            "none" => {
                return Err(invalid(
                    "the ID token is unsigned (the Auth emulator's); firegate takes those only \
                     for a demo- project or under `firegate dev`",
                ));
            }
            other => {
                return Err(invalid(format!(
                    "the ID token is signed with `{other}`; Firebase ID tokens use RS256"
                )));
            }
        }
        let claims: Claims = serde_json::from_slice(&decode(payload, "payload")?)
            .map_err(|_| invalid("the ID token's payload is not JSON"))?;
        self.check(claims, now)
    }

    fn check(&self, c: Claims, now: Timestamp) -> Result<IdToken, IdTokenError> {
        let project = &self.options.project_id;
        if c.aud != *project {
            return Err(invalid(format!(
                "the ID token is for another project (`aud` is not `{project}`)"
            )));
        }
        if c.iss != format!("https://securetoken.google.com/{project}") {
            return Err(invalid(
                "the ID token's issuer is not https://securetoken.google.com/<project>",
            ));
        }
        if c.sub.is_empty() || c.sub.len() > crate::google::MAX_SUB_BYTES {
            return Err(invalid(
                "the ID token's subject (`sub`) is empty or too long",
            ));
        }
        let now = now.as_second();
        let exp = c.exp.ok_or_else(|| invalid("the ID token has no `exp`"))?;
        if exp <= now {
            return Err(invalid(
                "the ID token has expired; get a fresh one (getIdToken)",
            ));
        }
        let iat = c.iat.ok_or_else(|| invalid("the ID token has no `iat`"))?;
        if iat > now + CLOCK_SKEW_SECS {
            return Err(invalid("the ID token is issued in the future (`iat`)"));
        }
        let auth_time = c
            .auth_time
            .ok_or_else(|| invalid("the ID token has no `auth_time`"))?;
        if auth_time > now + CLOCK_SKEW_SECS {
            return Err(invalid(
                "the ID token's sign-in is in the future (`auth_time`)",
            ));
        }
        let firebase = c
            .firebase
            .ok_or_else(|| invalid("the ID token has no `firebase` claim"))?;
        Ok(IdToken {
            uid: c.sub,
            auth_time,
            sign_in_provider: firebase.sign_in_provider,
            tenant: firebase.tenant,
        })
    }

    /// The public key (DER `RSAPublicKey`) of key id `kid`, from the cache or a fetch.
    async fn key(&self, kid: &str) -> Result<Vec<u8>, IdTokenError> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let fresh = cache.as_ref().is_some_and(|c| c.expires > now);
        let known = cache.as_ref().is_some_and(|c| c.keys.contains_key(kid));
        // An unknown key id may be a key Google has just added: refetch, but not for every
        // request that names a made-up one.
        let recent = cache
            .as_ref()
            .is_some_and(|c| now.duration_since(c.fetched) < MIN_CACHE);
        if !fresh || (!known && !recent) {
            *cache = Some(self.fetch().await?);
        }
        cache
            .as_ref()
            .and_then(|c| c.keys.get(kid).cloned())
            .ok_or_else(|| invalid("the ID token's key is not among Google's securetoken keys"))
    }

    async fn fetch(&self) -> Result<Certificates, IdTokenError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unavailable = |why: String| {
            IdTokenError::Unavailable(format!(
                "cannot fetch the ID-token certificates from {}: {why}",
                self.options.certs_url
            ))
        };
        let client = super::api_client().map_err(|e| unavailable(crate::error::chain(&e)))?;
        let response = client
            .get(&self.options.certs_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| unavailable(crate::error::chain(&GoogleCallError::transport(e))))?;
        let status = response.status();
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(MIN_CACHE)
            .clamp(MIN_CACHE, MAX_CACHE);
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
        let pems: HashMap<String, String> = serde_json::from_str(&text)
            .map_err(|_| unavailable("the answer is not a JSON map of key id to PEM".into()))?;
        let mut keys = HashMap::new();
        for (kid, pem) in pems {
            match x509_cert::Certificate::from_pem(pem.as_bytes()) {
                Ok(cert) => {
                    let key = cert
                        .tbs_certificate()
                        .subject_public_key_info()
                        .subject_public_key
                        .raw_bytes()
                        .to_vec();
                    keys.insert(kid, key);
                }
                Err(e) => {
                    tracing::warn!(%kid, error = %e, "skipping an unreadable securetoken certificate")
                }
            }
        }
        let now = Instant::now();
        Ok(Certificates {
            keys,
            fetched: now,
            expires: now + max_age,
        })
    }
}

/// `max-age` of a `Cache-Control` header.
pub(super) fn max_age(header: &str) -> Option<Duration> {
    header.split(',').find_map(|d| {
        let (name, value) = d.trim().split_once('=')?;
        name.eq_ignore_ascii_case("max-age")
            .then(|| value.trim().parse().ok().map(Duration::from_secs))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(claims: serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.")
    }

    fn verifier(allow_unsigned: bool) -> IdTokenVerifier {
        IdTokenVerifier::new(IdTokenOptions {
            project_id: "demo-p".into(),
            certs_url: "http://127.0.0.1:9/none".into(),
            allow_unsigned,
        })
    }

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({
            "iss": "https://securetoken.google.com/demo-p", "aud": "demo-p", "sub": "kim",
            "iat": now, "exp": now + 3600, "auth_time": now,
            "firebase": {"sign_in_provider": "custom", "identities": {}},
        })
    }

    #[tokio::test]
    async fn unsigned_tokens_only_when_allowed_and_claims_checked() {
        let now = Timestamp::now();
        let s = now.as_second();
        let token = unsigned(claims(s));
        let ok = verifier(true).verify(&token, now).await.unwrap();
        assert_eq!(ok.uid, "kim");
        assert_eq!(ok.sign_in_provider, "custom");
        let Err(IdTokenError::Invalid(why)) = verifier(false).verify(&token, now).await else {
            panic!("an unsigned token must be refused");
        };
        assert!(why.contains("unsigned"), "{why}");
        for (field, value, expect) in [
            ("aud", serde_json::json!("other"), "another project"),
            ("iss", serde_json::json!("https://x"), "issuer"),
            ("exp", serde_json::json!(s - 1), "expired"),
            ("iat", serde_json::json!(s + 3600), "future"),
            ("auth_time", serde_json::json!(s + 3600), "future"),
            ("sub", serde_json::json!(""), "subject"),
        ] {
            let mut c = claims(s);
            c[field] = value;
            let Err(IdTokenError::Invalid(why)) = verifier(true).verify(&unsigned(c), now).await
            else {
                panic!("{field} must be checked");
            };
            assert!(why.contains(expect), "{field}: {why}");
        }
    }

    #[test]
    fn cache_control_max_age_is_read() {
        assert_eq!(
            max_age("public, max-age=19845, must-revalidate, no-transform"),
            Some(Duration::from_secs(19845))
        );
        assert_eq!(max_age("no-cache"), None);
    }
}

//! A local stand-in of Firebase App Check for custom backends, in its documented shapes: the
//! JWKS (`GET /v1/jwks`, `{"keys": [{"kty": "RSA", "kid", "n", "e", …}]}` with
//! `Cache-Control: max-age`) and `POST /v1beta/projects/{number}:verifyAppCheckToken`
//! (`{"appCheckToken"}` → `{"alreadyConsumed": bool}`, a bearer token required). It mints
//! tokens as App Check's token exchange would (RS256, `iss`, `aud`, `sub` = the app id), can
//! add a key (as Google rotates them), and counts JWKS fetches and verify calls.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The project number the stand-in issues tokens for.
pub const PROJECT_NUMBER: &str = "424242424242";
/// A web app of that project.
pub const APP_ID: &str = "1:424242424242:web:0a1b2c3d4e5f";

struct Key {
    kid: String,
    pair: RsaKeyPair,
}

#[derive(Default)]
struct Recorded {
    jwks_fetches: u32,
    /// The JWKS answers 503 (an outage).
    jwks_down: bool,
    verify_calls: u32,
    consumed: HashSet<String>,
}

struct Inner {
    keys: Mutex<Vec<Arc<Key>>>,
    recorded: Mutex<Recorded>,
}

/// The running stand-in.
#[derive(Clone)]
pub struct AppCheckStandIn {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

fn new_key(kid: &str) -> Arc<Key> {
    let generated = firegate::keys::keygen::generate_rsa(2048).unwrap();
    Arc::new(Key {
        kid: kid.to_string(),
        pair: RsaKeyPair::from_pkcs8(generated.pkcs8_der()).unwrap(),
    })
}

impl AppCheckStandIn {
    pub async fn start() -> AppCheckStandIn {
        let inner = Arc::new(Inner {
            keys: Mutex::new(vec![new_key("appcheck-key-1")]),
            recorded: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/v1/jwks", get(jwks))
            .route("/v1beta/projects/{call}", post(verify))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        AppCheckStandIn { addr, inner }
    }

    /// The `serve` flags that verify App Check against this stand-in, in `mode`.
    pub fn flags(&self, mode: &str) -> Vec<String> {
        [
            "--app-check",
            mode,
            "--app-check-project-number",
            PROJECT_NUMBER,
            "--app-check-jwks-url",
            &format!("http://{}/v1/jwks", self.addr),
            "--app-check-api-url",
            &format!("http://{}/v1beta/", self.addr),
        ]
        .map(String::from)
        .to_vec()
    }

    /// A new key joins the JWKS and signs from now on.
    pub fn rotate(&self, kid: &str) {
        self.inner.keys.lock().unwrap().push(new_key(kid));
    }

    /// The JWKS answers 503 from now on (`true`), or again its keys.
    pub fn set_jwks_down(&self, down: bool) {
        self.inner.recorded.lock().unwrap().jwks_down = down;
    }

    pub fn jwks_fetches(&self) -> u32 {
        self.inner.recorded.lock().unwrap().jwks_fetches
    }

    pub fn verify_calls(&self) -> u32 {
        self.inner.recorded.lock().unwrap().verify_calls
    }

    /// The claims of a valid token for [`APP_ID`] of a project whose id is `project`.
    pub fn claims(project: &str) -> Value {
        let now = jiff::Timestamp::now().as_second();
        json!({
            "iss": format!("https://firebaseappcheck.googleapis.com/{PROJECT_NUMBER}"),
            "sub": APP_ID,
            "aud": [format!("projects/{PROJECT_NUMBER}"), format!("projects/{project}")],
            "provider": "recaptcha_enterprise",
            "iat": now,
            "exp": now + 3600,
            "jti": format!("{:x}", rand::random::<u64>()),
        })
    }

    /// `claims` signed by the newest key.
    pub fn token(&self, claims: &Value) -> String {
        let key = self.inner.keys.lock().unwrap().last().unwrap().clone();
        sign(&key.pair, &key.kid, claims)
    }

    /// `claims` signed by a key App Check never published, under `kid`.
    pub fn forged(claims: &Value, kid: &str) -> String {
        sign(&new_key(kid).pair, kid, claims)
    }
}

fn sign(pair: &RsaKeyPair, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn jwks(State(inner): State<Arc<Inner>>) -> Response {
    {
        let mut recorded = inner.recorded.lock().unwrap();
        recorded.jwks_fetches += 1;
        if recorded.jwks_down {
            return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let keys: Vec<Value> = inner
        .keys
        .lock()
        .unwrap()
        .iter()
        .map(|k| {
            let public = k.pair.public_key();
            json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
                "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            })
        })
        .collect();
    (
        [(header::CACHE_CONTROL, "public, max-age=21600")],
        Json(json!({ "keys": keys })),
    )
        .into_response()
}

async fn verify(
    State(inner): State<Arc<Inner>>,
    Path(call): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut recorded = inner.recorded.lock().unwrap();
    recorded.verify_calls += 1;
    if call != format!("{PROJECT_NUMBER}:verifyAppCheckToken") {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})),
        )
            .into_response();
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    if !bearer {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}))).into_response();
    }
    let Some(token) = body["appCheckToken"].as_str() else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": 400, "message": "appCheckToken is required", "status": "INVALID_ARGUMENT"}}))).into_response();
    };
    let already = !recorded.consumed.insert(token.to_string());
    Json(json!({ "alreadyConsumed": already })).into_response()
}

//! A local stand-in for the two Google services that have no emulator: the metadata server
//! (default account email, project id, access tokens) and IAM Credentials `signBlob`, with
//! the documented request and response shapes, including Google's error bodies. It signs with
//! its own RSA key and publishes that key's certificate the way Google's x509 endpoint does,
//! and records what it was sent so tests can assert on it. Scripted answers (`fail_next`) and
//! an added latency drive the failure tests.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// The default service account the stand-in's metadata server reports.
pub const EMAIL: &str = "runtime@signer-project.iam.gserviceaccount.com";
/// The id of the stand-in's signing key.
pub const KEY_ID: &str = "standin0key0id0000000000000000000000001";

/// The account whose certificates sign Firebase ID tokens.
pub const SECURETOKEN: &str = "securetoken@system.gserviceaccount.com";

/// One `signBlob` call as received.
#[derive(Debug, Clone)]
pub struct SignCall {
    /// The account in the path.
    pub account: String,
    /// The `Authorization` header.
    pub authorization: String,
    /// The decoded `payload`.
    pub payload: Vec<u8>,
}

/// A scripted `signBlob` answer: status and body.
pub type Scripted = (u16, Value);

#[derive(Default)]
struct Recorded {
    calls: Vec<SignCall>,
    script: VecDeque<Scripted>,
    /// Metadata requests by path, including those refused for a missing header.
    metadata: Vec<String>,
    latency: Duration,
    securetoken_fetches: u32,
}

struct Inner {
    key: RsaKeyPair,
    certificate: String,
    project: String,
    token_lifetime_secs: u64,
    tokens_issued: AtomicU32,
    recorded: Mutex<Recorded>,
}

/// The running stand-in (it stops with the test's runtime).
#[derive(Clone)]
pub struct GoogleStandIn {
    pub addr: SocketAddr,
    /// The signing key's public half, PEM, for independent verification.
    pub public_pem: String,
    inner: Arc<Inner>,
}

impl GoogleStandIn {
    /// Starts on a free port; its metadata server says the project is `project` and hands
    /// out access tokens valid for `token_lifetime_secs`.
    pub async fn start(project: &str, token_lifetime_secs: u64) -> GoogleStandIn {
        let generated = firegate::keys::keygen::generate_rsa(2048).unwrap();
        let key = RsaKeyPair::from_pkcs8(generated.pkcs8_der()).unwrap();
        let certificate = firegate::keys::self_signed_certificate(generated.key(), EMAIL).unwrap();
        let inner = Arc::new(Inner {
            key,
            certificate,
            project: project.to_string(),
            token_lifetime_secs,
            tokens_issued: AtomicU32::new(0),
            recorded: Mutex::default(),
        });
        let app = axum::Router::new()
            .route(
                "/computeMetadata/v1/instance/service-accounts/default/email",
                get(email),
            )
            .route(
                "/computeMetadata/v1/instance/service-accounts/default/token",
                get(token),
            )
            .route("/computeMetadata/v1/project/project-id", get(project_id))
            .route(
                "/v1/projects/{project}/serviceAccounts/{call}",
                post(sign_blob),
            )
            .route("/x509/{email}", get(certificates))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        GoogleStandIn {
            addr,
            public_pem: generated.public_pem().to_string(),
            inner,
        }
    }

    /// The stand-in of Google's securetoken certificate URL (`--id-token-certs-url`): the
    /// same certificate, so [`GoogleStandIn::id_token`]'s tokens verify against it.
    pub fn securetoken_url(&self) -> String {
        format!("{}/x509/{SECURETOKEN}", self.url())
    }

    /// How many times the securetoken certificates were fetched.
    pub fn securetoken_fetches(&self) -> u32 {
        self.recorded().securetoken_fetches
    }

    /// A Firebase ID token with `claims`, signed RS256 by the stand-in's key as Google's
    /// securetoken service signs them (`kid` = [`KEY_ID`]).
    pub fn id_token(&self, claims: &Value) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = json!({"alg": "RS256", "kid": KEY_ID, "typ": "JWT"});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.inner.key.public_modulus_len()];
        self.inner
            .key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A signed ID token of `uid` in `project`, from a custom-token sign-in just now (what
    /// `getIdToken()` returns after `signInWithCustomToken`).
    pub fn signed_in(&self, project: &str, uid: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        self.id_token(&json!({
            "iss": format!("https://securetoken.google.com/{project}"),
            "aud": project, "sub": uid, "user_id": uid,
            "iat": now, "exp": now + 3600, "auth_time": now,
            "firebase": {"sign_in_provider": "custom", "identities": {}},
        }))
    }

    /// `host:port`, as `GCE_METADATA_HOST` takes it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://host:port`, the IAM Credentials base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment a firegate process signs through the stand-in with: no key file, no
    /// credentials file (so Application Default Credentials fall back to the metadata
    /// server), and the stand-in's certificates for `keys check`.
    pub fn env(&self, home: &std::path::Path) -> Vec<(&'static str, String)> {
        vec![
            ("FIREGATE_SIGNER", "iam".into()),
            ("GCE_METADATA_HOST", self.host()),
            ("FIREGATE_IAM_CREDENTIALS_URL", self.url()),
            ("FIREGATE_X509_BASE_URL", format!("{}/x509", self.url())),
            ("HOME", home.to_str().unwrap().to_string()),
            // Empty: removed, so Application Default Credentials fall back to the metadata
            // server whatever the developer's shell holds.
            ("GOOGLE_APPLICATION_CREDENTIALS", String::new()),
        ]
    }

    /// The next `signBlob` calls get these answers, in order, instead of a signature.
    pub fn fail_next(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.recorded().script.extend(answers);
    }

    /// Delay added before every `signBlob` answer.
    pub fn set_latency(&self, latency: Duration) {
        self.recorded().latency = latency;
    }

    /// Every `signBlob` call so far.
    pub fn calls(&self) -> Vec<SignCall> {
        self.recorded().calls.clone()
    }

    /// Every metadata request so far, by path.
    pub fn metadata_requests(&self) -> Vec<String> {
        self.recorded().metadata.clone()
    }

    /// Access tokens handed out so far.
    pub fn tokens_issued(&self) -> u32 {
        self.inner.tokens_issued.load(Ordering::SeqCst)
    }

    /// Waits (polling, bounded) until `condition` holds.
    pub async fn wait_until(&self, what: &str, condition: impl Fn(&GoogleStandIn) -> bool) {
        crate::common::eventually(what, || async { condition(self) }).await;
    }

    fn recorded(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner.recorded.lock().unwrap()
    }
}

/// The body Google's APIs answer an error with.
pub fn google_error(code: u16, status: &str, message: &str, reason: Option<&str>) -> Scripted {
    let details = match reason {
        Some(reason) => json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "googleapis.com",
            "metadata": {
                "consumer": "projects/424242",
                "service": "iamcredentials.googleapis.com",
            },
        }]),
        None => json!([]),
    };
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status, "details": details}}),
    )
}

/// IAM's answer when the caller lacks `iam.serviceAccounts.signBlob`.
pub fn permission_denied() -> Scripted {
    google_error(
        403,
        "PERMISSION_DENIED",
        "Permission 'iam.serviceAccounts.signBlob' denied on resource (or it may not exist).",
        Some("IAM_PERMISSION_DENIED"),
    )
}

/// IAM's answer when the IAM Credentials API is not enabled in the caller's project.
pub fn service_disabled() -> Scripted {
    google_error(
        403,
        "PERMISSION_DENIED",
        "IAM Service Account Credentials API has not been used in project 424242 before or it \
         is disabled. Enable it by visiting https://console.developers.google.com/apis/api/\
         iamcredentials.googleapis.com/overview?project=424242 then retry.",
        Some("SERVICE_DISABLED"),
    )
}

fn metadata_flavored(inner: &Inner, headers: &HeaderMap, path: &str) -> bool {
    inner
        .recorded
        .lock()
        .unwrap()
        .metadata
        .push(path.to_string());
    headers.get("metadata-flavor").and_then(|v| v.to_str().ok()) == Some("Google")
}

fn missing_flavor() -> Response {
    (
        StatusCode::FORBIDDEN,
        "Missing Metadata-Flavor:Google header.",
    )
        .into_response()
}

async fn email(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if !metadata_flavored(&inner, &headers, "email") {
        return missing_flavor();
    }
    EMAIL.into_response()
}

async fn project_id(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if !metadata_flavored(&inner, &headers, "project-id") {
        return missing_flavor();
    }
    inner.project.clone().into_response()
}

async fn token(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if !metadata_flavored(&inner, &headers, "token") {
        return missing_flavor();
    }
    let n = inner.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({
        "access_token": format!("standin-access-token-{n}"),
        "expires_in": inner.token_lifetime_secs,
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn sign_blob(
    State(inner): State<Arc<Inner>>,
    Path((project, call)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(account) = call.strip_suffix(":signBlob") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if project != "-" {
        let (code, body) = google_error(400, "INVALID_ARGUMENT", "project must be -", None);
        return (StatusCode::from_u16(code).unwrap(), Json(body)).into_response();
    }
    let payload = body["payload"]
        .as_str()
        .and_then(|p| STANDARD.decode(p).ok())
        .unwrap_or_default();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (scripted, latency) = {
        let mut recorded = inner.recorded.lock().unwrap();
        recorded.calls.push(SignCall {
            account: account.to_string(),
            authorization: authorization.clone(),
            payload: payload.clone(),
        });
        (recorded.script.pop_front(), recorded.latency)
    };
    tokio::time::sleep(latency).await;
    if let Some((code, body)) = scripted {
        return (StatusCode::from_u16(code).unwrap(), Json(body)).into_response();
    }
    // The metadata server's tokens, or a self-signed JWT (what google-cloud-auth sends for
    // a service-account key file).
    if !authorization.starts_with("Bearer standin-access-token-")
        && !authorization.starts_with("Bearer eyJ")
    {
        let (code, body) = google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
            None,
        );
        return (StatusCode::from_u16(code).unwrap(), Json(body)).into_response();
    }
    if account != EMAIL {
        let (code, body) = google_error(
            404,
            "NOT_FOUND",
            &format!("Not found; Gaia id not found for email {account}"),
            None,
        );
        return (StatusCode::from_u16(code).unwrap(), Json(body)).into_response();
    }
    let mut signature = vec![0; inner.key.public_modulus_len()];
    inner
        .key
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &payload,
            &mut signature,
        )
        .unwrap();
    Json(json!({"keyId": KEY_ID, "signedBlob": STANDARD.encode(signature)})).into_response()
}

async fn certificates(State(inner): State<Arc<Inner>>, Path(email): Path<String>) -> Response {
    if email == SECURETOKEN {
        inner.recorded.lock().unwrap().securetoken_fetches += 1;
        // Google's own header on this URL.
        let cache = "public, max-age=3600, must-revalidate, no-transform";
        let mut response = Json(json!({ KEY_ID: inner.certificate })).into_response();
        response
            .headers_mut()
            .insert("cache-control", cache.parse().unwrap());
        return response;
    }
    if email != EMAIL {
        return Json(json!({})).into_response();
    }
    Json(json!({ KEY_ID: inner.certificate })).into_response()
}

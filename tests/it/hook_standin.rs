//! A legacy application's verify hook, in the test process: it checks each request's
//! signature as the book's samples do, answers from a table of users, counts the calls, and
//! can be switched to failing (a status, or no answer at all) or to holding calls until
//! several have arrived (to make first sign-ins race).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The shared secret of every test hook.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";

/// How the hook answers.
#[derive(Clone)]
pub enum Mode {
    /// From its table of users.
    Answer,
    /// This HTTP status, for every call.
    Status(u16),
    /// Never: the call hangs until firegate's deadline.
    Hang,
    /// From its table, once this many calls wait together.
    Gather(Arc<tokio::sync::Barrier>),
    /// From its table, after this long (a legacy application's own password check).
    #[allow(
        dead_code,
        reason = "the benchmark's stand-in (bench/hook_standin.rs) answers so"
    )]
    Delay(std::time::Duration),
}

struct Inner {
    /// Holds the secret's file, private to its owner, as an operator would keep it.
    secret_dir: tempfile::TempDir,
    users: Mutex<HashMap<String, (String, Value)>>,
    mode: Mutex<Mode>,
    calls: AtomicU32,
    bodies: Mutex<Vec<Value>>,
}

/// The running hook (it stops with the test's runtime).
#[derive(Clone)]
pub struct HookStandIn {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl HookStandIn {
    pub async fn start() -> HookStandIn {
        let secret_dir = tempfile::tempdir().unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let file = secret_dir.path().join("hook-secret");
            std::fs::write(&file, format!("{SECRET}\n")).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let inner = Arc::new(Inner {
            secret_dir,
            users: Mutex::default(),
            mode: Mutex::new(Mode::Answer),
            calls: AtomicU32::new(0),
            bodies: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/verify", post(verify))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        HookStandIn { addr, inner }
    }

    /// `http://127.0.0.1:<port>/verify`.
    pub fn url(&self) -> String {
        format!("http://{}/verify", self.addr)
    }

    /// A file holding the shared secret (mode 600), for `--legacy-verify-secret-file`.
    pub fn secret_file(&self) -> String {
        let file = self.inner.secret_dir.path().join("hook-secret");
        file.to_str().unwrap().to_string()
    }

    /// A user of the legacy system: the login, the password, and the profile fields a
    /// `valid` answer carries besides `"valid": true`.
    pub fn user(&self, login: &str, password: &str, profile: Value) {
        self.inner
            .users
            .lock()
            .unwrap()
            .insert(login.into(), (password.into(), profile));
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    /// Signed calls received (forged ones are not counted).
    pub fn calls(&self) -> u32 {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// The bodies of the signed calls, as received.
    pub fn bodies(&self) -> Vec<Value> {
        self.inner.bodies.lock().unwrap().clone()
    }
}

async fn verify(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let timestamp: i64 = header("x-firegate-timestamp").parse().unwrap_or(0);
    let expected = firegate::legacy_hook::sign(SECRET.as_bytes(), timestamp, body.as_bytes());
    let fresh = (jiff::Timestamp::now().as_second() - timestamp).abs() <= 300;
    if !fresh || header("x-firegate-signature") != expected {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: Value = serde_json::from_str(&body).unwrap();
    inner.calls.fetch_add(1, Ordering::SeqCst);
    inner.bodies.lock().unwrap().push(request.clone());
    let mode = inner.mode.lock().unwrap().clone();
    match mode {
        Mode::Answer => {}
        Mode::Status(status) => return StatusCode::from_u16(status).unwrap().into_response(),
        Mode::Hang => std::future::pending::<()>().await,
        Mode::Gather(barrier) => {
            barrier.wait().await;
        }
        Mode::Delay(latency) => tokio::time::sleep(latency).await,
    }
    let login = request["login"].as_str().unwrap_or_default();
    let password = request["password"].as_str().unwrap_or_default();
    let users = inner.users.lock().unwrap();
    match users.get(login) {
        Some((right, profile)) if right == password => {
            let mut answer = profile.clone();
            answer["valid"] = json!(true);
            Json(answer).into_response()
        }
        _ => Json(json!({"valid": false})).into_response(),
    }
}

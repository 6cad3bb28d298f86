//! The book's sample hooks (`examples/verify-hooks/`) on the real frameworks: Flask and Django
//! from the rehearsals' pinned virtualenvs (PyPI), PHP's built-in server (Debian's php-cli),
//! Express on the machine's Node. Each refuses a forged or stale request, and firegate signs
//! a legacy account in, and creates an unknown one, through it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use firegate::passwords::Dialect;
use serde_json::json;

use crate::common::{TestApp, free_addr};
use crate::hook_standin::SECRET;
use crate::rehearsal::datasets::{ensure_virtualenvs, work_dir};

const PW: &str = "old-app password 9";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/verify-hooks")
}

/// A sample's command, and the command that hashes a password as its old app stored them.
struct Sample {
    name: &'static str,
    serve: fn(port: u16) -> Command,
    hash: fn() -> Command,
}

fn venv_python(venv: &str) -> Command {
    Command::new(work_dir().join(format!("venv-{venv}/bin/python")))
}

const SAMPLES: &[Sample] = &[
    Sample {
        name: "flask",
        serve: |_| {
            let mut command = venv_python("werkzeug31");
            command.arg("flask_hook.py");
            command
        },
        hash: || {
            let mut command = venv_python("werkzeug31");
            command.args([
                "-c",
                "import sys; from werkzeug.security import generate_password_hash as g; \
                 print(g(sys.argv[1]))",
            ]);
            command
        },
    },
    Sample {
        name: "django",
        serve: |_| {
            let mut command = venv_python("django52");
            command.arg("django_hook.py");
            command
        },
        hash: || {
            let mut command = venv_python("django52");
            command.args([
                "-c",
                "import sys; from django.conf import settings; settings.configure(); \
                 from django.contrib.auth.hashers import make_password; \
                 print(make_password(sys.argv[1]))",
            ]);
            command
        },
    },
    Sample {
        name: "express",
        serve: |_| {
            let mut command = Command::new("node");
            command.arg("express_hook.js");
            command
        },
        hash: || {
            let mut command = Command::new("node");
            command.args([
                "-e",
                "const c = require('node:crypto'); const s = c.randomBytes(16); \
                 console.log(`scrypt$${s.toString('hex')}$${c.scryptSync(process.argv[1], s, 32).toString('hex')}`)",
            ]);
            command
        },
    },
    Sample {
        name: "php",
        serve: |port| {
            let mut command = Command::new("php");
            command.args(["-S", &format!("127.0.0.1:{port}"), "php_hook.php"]);
            command
        },
        hash: || {
            let mut command = Command::new("php");
            command.args([
                "-r",
                "echo password_hash($argv[1], PASSWORD_DEFAULT), \"\\n\";",
            ]);
            command
        },
    },
];

/// A sample hook running on a free port, stopped on drop.
struct Running {
    child: Child,
    url: String,
    _users: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hash_of(sample: &Sample, password: &str) -> String {
    let output = (sample.hash)().arg(password).output().unwrap();
    assert!(
        output.status.success(),
        "{} hash: {}",
        sample.name,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Starts `sample` with its old app's users: `kim` (uid 301), `max` (uid 302) and `ana`
/// (uid 303, deactivated there).
async fn start(sample: &Sample) -> Running {
    let users = tempfile::tempdir().unwrap();
    let file = users.path().join("users.json");
    let table = json!({
        "kim": {"hash": hash_of(sample, PW), "uid": "301", "email": "kim@example.com"},
        "max": {"hash": hash_of(sample, PW), "uid": "302"},
        "ana": {"hash": hash_of(sample, PW), "uid": "303", "active": false},
    });
    std::fs::write(&file, table.to_string()).unwrap();
    let port = free_addr().port();
    let child = (sample.serve)(port)
        .current_dir(samples())
        .env("PORT", port.to_string())
        .env("FIREGATE_LEGACY_VERIFY_SECRET", SECRET)
        .env("LEGACY_USERS", &file)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start the {} sample: {e}", sample.name));
    let url = format!("http://127.0.0.1:{port}/firegate-verify");
    let running = Running {
        child,
        url,
        _users: users,
    };
    crate::common::eventually(&format!("the {} sample answers", sample.name), || {
        std::future::ready(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
    })
    .await;
    running
}

/// A request signed with `secret` at `timestamp`: the status the hook answers.
async fn send(url: &str, secret: &str, timestamp: i64) -> u16 {
    let body = json!({"login": "kim", "password": PW, "uid": "301"}).to_string();
    let signature = firegate::legacy_hook::sign(secret.as_bytes(), timestamp, body.as_bytes());
    send_signed(url, Some(&signature), timestamp, body).await
}

/// `body` with `signature` (none: no signature header) at `timestamp`: the status.
async fn send_signed(url: &str, signature: Option<&str>, timestamp: i64, body: String) -> u16 {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Firegate-Timestamp", timestamp.to_string());
    if let Some(signature) = signature {
        request = request.header("X-Firegate-Signature", signature);
    }
    request.body(body).send().await.unwrap().status().as_u16()
}

/// A server asking the sample at `url`, creating unknown logins.
async fn firegate_on(url: &str, secret_dir: &Path) -> TestApp {
    use std::os::unix::fs::PermissionsExt;
    let file = secret_dir.join("secret");
    std::fs::write(&file, SECRET).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    TestApp::builder()
        .flags(&[
            "--legacy-verify-url",
            url,
            "--legacy-verify-secret-file",
            file.to_str().unwrap(),
            "--legacy-create-unknown",
            // Django's PBKDF2 takes a million rounds; on a busy test machine, seconds.
            "--legacy-verify-deadline-ms",
            "60000",
        ])
        .start()
        .await
}

#[tokio::test]
async fn every_sample_hook_refuses_forged_requests_and_signs_legacy_accounts_in() {
    ensure_virtualenvs();
    for sample in SAMPLES {
        let hook = start(sample).await;
        let now = jiff::Timestamp::now().as_second();
        let name = sample.name;
        assert_eq!(send(&hook.url, SECRET, now).await, 200, "{name}: signed");
        let forged = "another secret of the same length, another secret";
        assert_eq!(send(&hook.url, forged, now).await, 401, "{name}: forged");
        assert_eq!(
            send(&hook.url, SECRET, now - 3600).await,
            401,
            "{name}: stale"
        );
        // The signature covers the body: another body under a right signature, or none.
        let signed = json!({"login": "kim", "password": PW, "uid": "301"}).to_string();
        let signature = firegate::legacy_hook::sign(SECRET.as_bytes(), now, signed.as_bytes());
        let other = json!({"login": "max", "password": PW, "uid": "301"}).to_string();
        assert_eq!(
            send_signed(&hook.url, Some(&signature), now, other).await,
            401,
            "{name}: another body"
        );
        assert_eq!(
            send_signed(&hook.url, None, now, signed).await,
            401,
            "{name}: unsigned"
        );

        let dir = tempfile::tempdir().unwrap();
        let app = firegate_on(&hook.url, dir.path()).await;
        let kim = app.insert_with_hash("kim", "", Dialect::External).await;
        let (status, _) = app.sign_in("kim", "not the password").await;
        assert_eq!(status, 400, "{name}: wrong password");
        let (status, body) = app.sign_in("kim", PW).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["uid"], kim.uid.as_str(), "{name}");
        assert_eq!(
            app.stored("kim").await.account.password.scheme_name(),
            "argon2id"
        );

        // Unknown here, known there: created with the old app's uid.
        let (status, body) = app.sign_in("max", PW).await;
        assert_eq!(
            (status, body["uid"].as_str()),
            (200, Some("302")),
            "{name}: {body}"
        );
        // Deactivated there: refused, and nothing created here.
        let (status, body) = app.sign_in("ana", PW).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert!(
            crate::import::account(&app, "303").await.is_none(),
            "{name}"
        );
        // An unknown login is refused as a wrong password is.
        let (status, _) = app.sign_in("nobody", PW).await;
        assert_eq!(status, 400, "{name}: unknown");
    }
}

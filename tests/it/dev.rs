//! `firegate dev`, run as a newcomer runs it: its banner's commands work as printed, the
//! admin page has a password of the run, pages on this machine may call the API, its
//! emulator keeps its port from run to run, and nothing outlives it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::firegate_as_user;

/// The binary with nothing of the caller's settings (no ./firegate.toml either) and plain
/// text logs.
/// A running `firegate dev`: what it printed up to its "Press Ctrl-C" line, and its
/// emulator's pid.
struct Dev {
    child: std::process::Child,
    banner: String,
    emulator_pid: Option<u32>,
}

impl Dev {
    /// `firegate dev --port port` in `work`, started as `command` says.
    fn start(work: &std::path::Path, port: u16, command: impl FnOnce(&mut Command)) -> Dev {
        let mut dev = firegate_as_user();
        dev.current_dir(work)
            .args(["dev", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command(&mut dev);
        let mut child = dev.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
            text
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut emulator_pid = None;
        let mut ready = false;
        let mut banner = String::new();
        for line in (&mut stdout).lines() {
            let line = line.unwrap();
            banner.push_str(&line);
            banner.push('\n');
            if let Some(pid) = line.split("(pid ").nth(1) {
                emulator_pid = pid.trim_end_matches(')').parse::<u32>().ok();
            }
            if line.contains("Press Ctrl-C") {
                ready = true;
                break;
            }
        }
        if !ready {
            let _ = child.kill();
            panic!("dev did not come up:\n{banner}\n{}", errors.join().unwrap());
        }
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Dev {
            child,
            banner,
            emulator_pid,
        }
    }

    /// The banner's line that starts with `prefix` (after its indentation).
    fn line(&self, prefix: &str) -> &str {
        self.banner
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", self.banner))
    }

    /// `host:port` of the Firestore emulator the banner names.
    fn emulator_host(&self) -> String {
        let export = self.line("export FIRESTORE_EMULATOR_HOST=");
        export["export FIRESTORE_EMULATOR_HOST=".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    /// Stops `dev` with SIGINT and waits until it and its emulator are gone.
    fn stop(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("dev did not exit after SIGINT");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(exit.success(), "{exit:?}");
        let emulator_pid = self.emulator_pid.expect("dev prints the emulator pid");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{emulator_pid}")).exists() {
            assert!(
                Instant::now() < deadline,
                "emulator {emulator_pid} outlived firegate dev"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A free port on 127.0.0.1 whose emulator port (ten above) is free too.
fn free_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let beside = port.checked_add(firegate::cli::EMULATOR_PORT_OFFSET);
        if beside.is_some_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return port;
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn dev_serves_a_working_login_and_leaves_no_emulator_behind() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    // dev keeps its local key whatever the environment's signer.
    let dev = Dev::start(work.path(), port, |c| {
        c.env("FIREGATE_SIGNER", "iam");
    });
    let seen = dev.banner.clone();
    assert!(seen.contains("created a development key"), "{seen}");
    assert!(seen.contains("dev signs with its local key"), "{seen}");
    assert!(work.path().join("keys").read_dir().unwrap().count() == 1);

    let status = runtime().block_on(async {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/login/"))
            .json(&serde_json::json!({"email": firegate::cli::DEMO_EMAIL, "password": firegate::cli::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    assert!(
        seen.contains("export FIRESTORE_EMULATOR_HOST=127.0.0.1:")
            && seen.contains("FIREGATE_PROJECT_ID=demo-firegate"),
        "dev says how to reach its emulator from another terminal:\n{seen}"
    );
    assert!(seen.contains("uid firegate-demo"), "{seen}");
    dev.stop();

    // After the rotation runbook's `keys generate`, two keys and nothing recorded: dev
    // still starts, its own key signing.
    let generated = firegate_as_user()
        .current_dir(work.path())
        .args([
            "keys",
            "generate",
            "--project-id",
            "demo-firegate",
            "--client-email",
            "firegate-dev@demo-firegate.iam.gserviceaccount.com",
        ])
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let json_files = work
        .path()
        .join("keys")
        .read_dir()
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(json_files, 2, "the dev key and the generated one");
    let dev = Dev::start(work.path(), free_port(), |_| {});
    assert!(
        dev.banner
            .contains("2 keys in the keys directory: dev's own key"),
        "{}",
        dev.banner
    );
    dev.stop();
}

/// The banner's `accounts` line works as printed from another terminal: outside cargo it
/// names the binary by its path (`firegate` is not on PATH after a build), and under
/// `cargo run` it says `cargo run -q --`.
#[test]
fn the_banner_prints_an_accounts_command_that_works() {
    let work = tempfile::tempdir().unwrap();
    let dev = Dev::start(work.path(), free_port(), |c| {
        c.env_remove("CARGO").env_remove("CARGO_MANIFEST_DIR");
    });
    let export = dev.line("export FIRESTORE_EMULATOR_HOST=").to_string();
    let command = dev
        .banner
        .lines()
        .map(str::trim)
        .find(|l| l.ends_with(" accounts list"))
        .unwrap_or_else(|| panic!("no accounts command in:\n{}", dev.banner))
        .to_string();
    assert!(
        command.starts_with(env!("CARGO_BIN_EXE_firegate")),
        "the binary's own path: {command}"
    );
    // Another terminal: a shell with nothing of firegate's in its environment, and no
    // firegate on its PATH.
    let shell = Command::new("sh")
        .arg("-c")
        .arg(format!("{export}; {command}"))
        .current_dir(work.path())
        .env_remove("FIRESTORE_EMULATOR_HOST")
        .env_remove("FIREGATE_PROJECT_ID")
        .env("FIREGATE_CONFIG", "/dev/null")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&shell.stdout);
    assert!(
        shell.status.success() && out.contains("firegate-demo"),
        "`{export}; {command}`:\n{out}\n{}",
        String::from_utf8_lossy(&shell.stderr)
    );
    dev.stop();

    // Started by cargo (which sets CARGO and CARGO_MANIFEST_DIR): the cargo command, in the
    // checkout.
    let dev = Dev::start(work.path(), free_port(), |c| {
        c.env("CARGO", "cargo")
            .env("CARGO_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    });
    assert_eq!(dev.line("cargo run"), "cargo run -q -- accounts list");
    assert!(
        dev.banner
            .contains("In another terminal (in this checkout)"),
        "{}",
        dev.banner
    );
    dev.stop();
}

/// dev turns the admin page on with a password of its own run, printed in the banner (a new
/// one each run); pages on this machine may call the API from a browser; and its emulator
/// listens on the same port from one run to the next, so the `export` line stays right.
#[test]
fn dev_serves_the_admin_page_allows_local_pages_and_keeps_its_emulator_port() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let dev = Dev::start(work.path(), port, |_| {});
    let host = dev.emulator_host();
    assert_eq!(
        host,
        format!("127.0.0.1:{}", port + firegate::cli::EMULATOR_PORT_OFFSET),
        "{}",
        dev.banner
    );
    let password = admin_password(&dev);
    let base = format!("http://127.0.0.1:{port}");
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let admin = |password: &str| {
            http.get(format!("{base}/admin/api/stats"))
                .basic_auth("admin", Some(password))
                .send()
        };
        assert_eq!(admin(&password).await.unwrap().status(), 200);
        assert_eq!(admin("not the password").await.unwrap().status(), 401);

        for origin in ["http://localhost:5173", "http://127.0.0.1:3000"] {
            let preflight = http
                .request(reqwest::Method::OPTIONS, format!("{base}/login/"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
                .await
                .unwrap();
            assert_eq!(preflight.status(), 200, "{origin}");
            assert_eq!(preflight.headers()["access-control-allow-origin"], origin);
        }
        let elsewhere = http
            .request(reqwest::Method::OPTIONS, format!("{base}/login/"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(elsewhere.status(), 403, "only this machine's pages");
    });
    dev.stop();

    let again = Dev::start(work.path(), port, |_| {});
    assert_eq!(again.emulator_host(), host, "the same port on the next run");
    assert_ne!(admin_password(&again), password, "a password per run");
    again.stop();

    // With its port taken, the emulator takes a free one, and says so.
    let taken = std::net::TcpListener::bind(&*host).unwrap();
    let busy = Dev::start(work.path(), port, |_| {});
    assert_ne!(busy.emulator_host(), host);
    assert!(
        busy.banner.contains(&format!(
            "port {} is taken",
            port + firegate::cli::EMULATOR_PORT_OFFSET
        )),
        "{}",
        busy.banner
    );
    busy.stop();
    drop(taken);
}

/// The admin password the banner prints: `admin page: URL (user admin, password P; a new
/// one each run)`.
fn admin_password(dev: &Dev) -> String {
    let line = dev.line("admin page:");
    line.split("password ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no password in {line:?}"))
        .to_string()
}

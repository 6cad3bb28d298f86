//! The test harness: one Firestore emulator per test run (or the one `FIRESTORE_EMULATOR_HOST`
//! names), a fresh project id, keys directory and server for every test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use clap::Parser;
use firegate::app::App;
use firegate::cli::{Cli, Command};
use firegate::emulator::Emulator;
use firegate::service::Service;
use rand::RngExt;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// `host:port` of the run's emulator, started on first use. It is never dropped: the
/// kernel stops it when the test process exits (PR_SET_PDEATHSIG).
pub fn emulator_host() -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    HOST.get_or_init(|| match std::env::var("FIRESTORE_EMULATOR_HOST") {
        Ok(host) if !host.is_empty() => host,
        _ => {
            let emulator = Emulator::start(None).expect("start the Firestore emulator");
            EMULATOR.get_or_init(|| emulator).host().to_string()
        }
    })
    .clone()
}

/// A project id no other test uses.
pub fn project_id() -> String {
    let n: u64 = rand::rng().random();
    format!("test-{n:016x}")
}

/// One key shared by the run (RSA generation is slow); each test copies it into its own dir.
pub fn shared_key() -> &'static Path {
    static KEY: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_dir, path) = KEY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = firegate::keygen::write_dev_key(dir.path(), "demo-firegate").unwrap();
        (dir, path)
    });
    path
}

/// A keys directory holding a copy of the shared key (mode 0600).
pub fn keys_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(shared_key(), dir.path().join("key.json")).unwrap();
    dir
}

/// The public key of the shared key, as PEM.
pub fn shared_public_pem() -> String {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared_key()).unwrap()).unwrap();
    let key = pem::parse(json["private_key"].as_str().unwrap()).unwrap();
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    rsa::PrivateKey::from_pkcs8_der(key.contents())
        .unwrap()
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

/// Settings every test uses, as `(flag, environment variable, value)`: its keys dir,
/// project, the emulator, cheap argon2 parameters, no failure floor, a generous deadline.
fn base_settings(keys: &Path, project: &str) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "--keys-dir",
            "FIREGATE_KEYS_DIR",
            keys.to_str().unwrap().to_string(),
        ),
        ("--project-id", "FIREGATE_PROJECT_ID", project.to_string()),
        (
            "--firestore-emulator-host",
            "FIRESTORE_EMULATOR_HOST",
            emulator_host(),
        ),
        (
            "--argon2-memory-kib",
            "FIREGATE_ARGON2_MEMORY_KIB",
            "1024".into(),
        ),
        (
            "--argon2-iterations",
            "FIREGATE_ARGON2_ITERATIONS",
            "1".into(),
        ),
        (
            "--failure-floor-ms",
            "FIREGATE_FAILURE_FLOOR_MS",
            "0".into(),
        ),
        // Generous: a cold emulator on a busy 2-core machine can stall for seconds.
        (
            "--firestore-timeout-ms",
            "FIREGATE_FIRESTORE_TIMEOUT_MS",
            "20000".into(),
        ),
    ]
}

/// The test settings as `serve` flags (every one of them is a `serve` flag).
pub fn base_args(keys: &Path, project: &str) -> Vec<String> {
    base_settings(keys, project)
        .into_iter()
        .flat_map(|(flag, _, value)| [flag.to_string(), value])
        .collect()
}

/// An argon2id hash of `password` with the given cost, as `firegate admin hash-password`
/// writes it (for admin credentials in tests).
pub async fn argon2id_hash(password: &str, memory_kib: u32, iterations: u32) -> String {
    let passwords = firegate::passwords::Passwords::new(&firegate::passwords::PasswordOptions {
        argon2_memory_kib: memory_kib,
        argon2_iterations: iterations,
        ..Default::default()
    })
    .unwrap();
    passwords
        .hash(&firegate::passwords::Password::new(password.into()).unwrap())
        .await
        .unwrap()
        .hash
}

/// The `firegate` binary without the caller's firegate variables (nor `PORT` and
/// `FIRESTORE_EMULATOR_HOST`): what it reads is what the test gives it.
pub fn firegate_clean() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_firegate"));
    for (key, _) in std::env::vars() {
        if key.starts_with("FIREGATE_") || key == "FIRESTORE_EMULATOR_HOST" || key == "PORT" {
            command.env_remove(key);
        }
    }
    command
}

/// The `firegate` binary with the test settings in its environment: each command reads the
/// ones it has a flag for, so any command line works. Inherited firegate variables are
/// removed first, and no settings file is read (not even a ./firegate.toml left in the
/// working directory).
pub fn firegate_command(keys: &Path, project: &str) -> std::process::Command {
    let mut command = firegate_clean();
    command.env("FIREGATE_CONFIG", "/dev/null");
    for (_, var, value) in base_settings(keys, project) {
        command.env(var, value);
    }
    command
}

/// Sets each variable; an empty value removes it (e.g. the project, to have it looked up).
pub fn set_env(command: &mut std::process::Command, env: &[(&str, String)]) {
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
}

/// Parses a command line the way `firegate` does.
pub fn parse_cli(args: &[String]) -> Cli {
    let mut argv = vec!["firegate".to_string()];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).unwrap()
}

/// A running server with its own project, keys and port: the test vocabulary is its methods
/// (`sign_in`, `cli`, `stored`, …).
pub struct TestApp {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
    pub http: reqwest::Client,
    pub keys: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The server's Firestore project.
    pub fn project(&self) -> String {
        self.service.store.project_id().to_string()
    }

    /// `POST /login/` with `{"email": login, "password": …}`: the status and the JSON body
    /// (`null` when the body is not JSON).
    pub async fn sign_in(&self, login: &str, password: &str) -> (u16, serde_json::Value) {
        let response = self
            .post_json(
                "/login/",
                serde_json::json!({"email": login, "password": password}),
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// Runs a `firegate` command on this server's project and keys, off the runtime's
    /// threads (so this process's own servers keep answering): success, stdout, stderr.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let (keys, project) = (self.keys.path().to_path_buf(), self.project());
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let stdin = stdin.map(String::from);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            outcome(run_firegate(&keys, &project, &args, stdin.as_deref()))
        })
        .await
        .unwrap()
    }

    /// POSTs a JSON body to `path`.
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Stores an account with a given (possibly legacy) hash, as an import would.
    pub async fn insert_with_hash(
        &self,
        login: &str,
        hash: &str,
        dialect: firegate::passwords::Dialect,
    ) -> firegate::accounts::Account {
        let login = firegate::login::Login::parse(login).unwrap();
        let (email, username) = if login.is_email() {
            (Some(login), None)
        } else {
            (None, Some(login))
        };
        let now = jiff::Timestamp::now();
        let account = firegate::accounts::Account {
            uid: firegate::accounts::Uid::generate(),
            email,
            username,
            password: firegate::passwords::StoredHash::of_typed(hash.to_string(), dialect),
            created_at: now,
            updated_at: now,
            disabled: false,
            claims: Default::default(),
            firebase: Default::default(),
            factors: Default::default(),
            email_verified: None,
        };
        self.service.store.create_account(&account).await.unwrap();
        account
    }

    /// The stored account holding `login`.
    pub async fn stored(&self, login: &str) -> firegate::store::StoredAccount {
        let login = firegate::login::Login::parse(login).unwrap();
        self.service
            .store
            .find_by_login(&[login])
            .await
            .unwrap()
            .expect("account exists")
    }

    /// Creates an account through the service (argon2id hash).
    pub async fn create(&self, login: &str, password: &str) -> firegate::accounts::Account {
        self.create_as(None, login, password).await
    }

    /// Creates an account with a chosen uid, as `accounts create --uid` does.
    pub async fn create_with_uid(
        &self,
        uid: &str,
        login: &str,
        password: &str,
    ) -> firegate::accounts::Account {
        let uid = firegate::accounts::Uid::parse(uid).unwrap();
        self.create_as(Some(uid), login, password).await
    }

    /// `POST /register/` with an email, a username and a password: the status and the JSON
    /// body.
    pub async fn register(
        &self,
        email: &str,
        username: &str,
        password: &str,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::json!({"email": email, "username": username, "password": password});
        let response = self.post_json("/register/", body).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    async fn create_as(
        &self,
        uid: Option<firegate::accounts::Uid>,
        login: &str,
        password: &str,
    ) -> firegate::accounts::Account {
        let login = firegate::login::Login::parse(login).unwrap();
        let (email, username) = if login.is_email() {
            (Some(login), None)
        } else {
            (None, Some(login))
        };
        self.service
            .create_account(
                firegate::service::NewAccount {
                    uid,
                    email,
                    email_verified: None,
                    username,
                    password: firegate::passwords::Password::new(password.into()).unwrap(),
                    claims: Default::default(),
                },
                jiff::Timestamp::now(),
            )
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a server on `127.0.0.1:0` with the default test flags.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with extra flags (e.g. `--legacy-domain x`).
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    spawn_app_full(extra, &[]).await
}

/// Starts a server with extra global flags and extra `serve` flags (e.g. `--cors-origins`).
pub async fn spawn_app_full(extra: &[&str], serve: &[&str]) -> TestApp {
    spawn_app_in(keys_dir(), &project_id(), extra, serve).await
}

/// Starts a server on a given keys directory and project (several servers may share them),
/// through the same [`App`] wiring `firegate serve` uses.
pub async fn spawn_app_in(keys: TempDir, project: &str, extra: &[&str], serve: &[&str]) -> TestApp {
    spawn_app_tuned(keys, project, extra, serve, |_| {}).await
}

/// [`spawn_app_in`], with the options changed by `tune` before the server is built (for what
/// the process environment decides, which tests running side by side cannot each set).
pub async fn spawn_app_tuned(
    keys: TempDir,
    project: &str,
    extra: &[&str],
    serve: &[&str],
    tune: impl FnOnce(&mut firegate::app::AppOptions),
) -> TestApp {
    let mut args = vec!["serve".to_string()];
    args.extend(base_args(keys.path(), project));
    args.extend(extra.iter().map(|s| s.to_string()));
    // Tests hammer one server from one address; the rate limit has its own test.
    args.extend(["--listen", "127.0.0.1:0", "--rate-limit-per-minute", "0"].map(String::from));
    args.extend(serve.iter().map(|s| s.to_string()));
    let Command::Serve(serve) = parse_cli(&args).command else {
        unreachable!("parsed a serve command line")
    };
    let mut options = serve.server.app_options(serve.listen.addr());
    tune(&mut options);
    let app = App::build(options).await.unwrap();
    let (addr, service) = (app.addr(), app.service().clone());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    // The key state is read while the server already serves; tests look at the ring at once.
    service.ready().await.unwrap();
    TestApp {
        addr,
        service,
        http: reqwest::Client::new(),
        keys,
        shutdown: Some(tx),
    }
}

/// Runs the `firegate` binary with the test flags for `keys` and `project`, feeding `stdin`.
pub fn run_firegate(
    keys: &Path,
    project: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write;
    let mut child = firegate_command(keys, project)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Success, stdout and stderr of a finished command.
pub fn outcome(output: std::process::Output) -> (bool, String, String) {
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A loopback address with a port free a moment ago.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `firegate serve` as a child process (for signals, memory and log capture), stopped on drop.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    pub logs: Arc<std::sync::Mutex<String>>,
    pub keys: TempDir,
    pub project: String,
}

impl ServerProcess {
    /// Starts `firegate serve` with JSON logs and waits until it answers `/healthz`.
    pub async fn start(extra: &[&str], serve: &[&str]) -> ServerProcess {
        ServerProcess::start_in(keys_dir(), project_id(), extra, serve, &[]).await
    }

    /// [`start`](Self::start) with its keys, project and extra environment variables (an
    /// empty value removes that variable).
    pub async fn start_in(
        keys: TempDir,
        project: String,
        extra: &[&str],
        serve: &[&str],
        env: &[(&str, String)],
    ) -> ServerProcess {
        let addr = free_addr();
        let mut command = firegate_command(keys.path(), &project);
        set_env(&mut command, env);
        command
            .args(["serve", "--listen", &addr.to_string()])
            .args(extra)
            .args(serve)
            .env("FIREGATE_LOG_FORMAT", "json");
        ServerProcess::spawn(command, addr, keys, project).await
    }

    /// Runs `command`, a `firegate serve` that listens on `addr`, and waits until it answers
    /// `/healthz`.
    pub async fn spawn(
        mut command: std::process::Command,
        addr: SocketAddr,
        keys: TempDir,
        project: String,
    ) -> ServerProcess {
        let mut child = command
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "server did not start: {}",
                logs.lock().unwrap()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        ServerProcess {
            child,
            addr,
            logs,
            keys,
            project,
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The logs once they hold `needle` (e.g. the access-log line of the last request), so a
    /// test reads them after the server wrote them rather than after a fixed wait.
    pub async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let logs = self.logs.lock().unwrap().clone();
            if logs.contains(needle) {
                return logs;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the logs never held `{needle}`:\n{logs}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Runs a `firegate` command against the same project and keys.
    pub fn command(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        run_firegate(self.keys.path(), &self.project, args, stdin)
    }

    /// A line of /proc/<pid>/status, in kB (e.g. `VmRSS`, `VmHWM`).
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Sends a signal to the server.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

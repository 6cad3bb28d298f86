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
        let path = firegate::keys::keygen::write_dev_key(dir.path(), "demo-firegate").unwrap();
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

/// The service options `firegate serve FLAGS…` would use on `keys` for `project`.
pub fn serve_options(
    keys: &Path,
    project: &str,
    flags: &[&str],
) -> firegate::service::ServiceOptions {
    let mut args = vec!["serve".to_string()];
    args.extend(base_args(keys, project));
    args.extend(flags.iter().map(|f| f.to_string()));
    let Command::Serve(serve) = parse_cli(&args).command else {
        unreachable!("parsed a serve command line")
    };
    serve.server.service_options()
}

/// Builds the service `firegate serve FLAGS…` would on `keys` for `project`, without
/// serving: start-up's refusal as its whole message.
pub async fn build_service(
    keys: &Path,
    project: &str,
    flags: &[&str],
) -> Result<Arc<Service>, String> {
    Service::build(serve_options(keys, project, flags))
        .await
        .map_err(|e| e.to_string())
}

/// A running server with its own project, keys and port: the test vocabulary is its methods
/// (`sign_in`, `cli`, `stored`, …).
pub struct TestApp {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
    pub http: reqwest::Client,
    pub keys: TempDir,
    admin_password: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// A server with the test defaults; see [`TestAppBuilder`] for the options.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            keys: None,
            project: None,
            flags: Vec::new(),
            admin_password: None,
            auth_emulator: false,
        }
    }

    /// A server with the test defaults.
    pub async fn start() -> TestApp {
        TestApp::builder().start().await
    }

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
        self.post(
            "/login/",
            serde_json::json!({"email": login, "password": password}),
        )
        .await
    }

    /// [`sign_in`](Self::sign_in) from client `ip` (in `X-Forwarded-For`, for a server
    /// started [`behind_proxy`](TestAppBuilder::behind_proxy)).
    pub async fn sign_in_from(
        &self,
        ip: &str,
        login: &str,
        password: &str,
    ) -> (u16, serde_json::Value) {
        let request = self
            .http
            .post(self.url("/login/"))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({"email": login, "password": password}));
        answer(request.send().await.unwrap()).await
    }

    /// An admin API request with the admin's credential, sent as the admin page sends it
    /// (JSON); the server was started with [`TestAppBuilder::admin`].
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let password = self
            .admin_password
            .as_deref()
            .expect("the server was started with an admin password");
        self.admin_as(password, method, path)
    }

    /// An admin API request with `password` as the admin's (e.g. a guess).
    pub fn admin_as(
        &self,
        password: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        admin_request(&self.http, method, self.url(path), password)
    }

    /// POSTs a JSON body to `path`: the status and the JSON body (`null` when empty or not
    /// JSON).
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        answer(self.post_json(path, body).await).await
    }

    /// Runs a `firegate` command on this server's project and keys, off the runtime's
    /// threads (so this process's own servers keep answering): success, stdout, stderr.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        cli_in(self.keys.path(), &self.project(), args, stdin).await
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
        let (email, username) = email_or_username(login);
        let hash = firegate::passwords::StoredHash::of_typed(hash.to_string(), dialect);
        self.store_account(email, username, hash, 0).await
    }

    /// Writes an account straight to the store, created `age_secs` ago.
    async fn store_account(
        &self,
        email: Option<firegate::login::Login>,
        username: Option<firegate::login::Login>,
        password: firegate::passwords::StoredHash,
        age_secs: i64,
    ) -> firegate::accounts::Account {
        let created = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(age_secs);
        let account = firegate::accounts::Account {
            uid: firegate::accounts::Uid::generate(),
            email,
            username,
            password,
            created_at: created,
            updated_at: created,
            disabled: false,
            claims: Default::default(),
            firebase: Default::default(),
            language: None,
            factors: Default::default(),
            email_verified: None,
        };
        self.service.store.create_account(&account).await.unwrap();
        account
    }

    /// Stores an account as firegate did before its login rules: no alias or look-alike
    /// check, logins kept as typed, created `age_secs` ago.
    pub async fn seed(
        &self,
        email: Option<&str>,
        username: Option<&str>,
        password: &str,
        age_secs: i64,
    ) -> firegate::accounts::Account {
        use firegate::login::Login;
        let hash = self
            .service
            .passwords
            .hash(&firegate::passwords::Password::new(password.into()).unwrap())
            .await
            .unwrap();
        let hash =
            firegate::passwords::StoredHash::of_typed(hash.hash, firegate::passwords::Dialect::Phc);
        let email = email.map(|e| Login::as_typed(e).unwrap());
        let username = username.map(|u| Login::as_typed(u).unwrap());
        self.store_account(email, username, hash, age_secs).await
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

    /// `POST /register/` with `body` (`email`, `username`, `password`): status and JSON body.
    pub async fn register(&self, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.post("/register/", body).await
    }

    /// `POST /password/`: `login`'s password changed from `old` to `new`.
    pub async fn change_password(
        &self,
        login: &str,
        old: &str,
        new: &str,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::json!({"email": login, "password": old, "new_password": new});
        self.post("/password/", body).await
    }

    async fn create_as(
        &self,
        uid: Option<firegate::accounts::Uid>,
        login: &str,
        password: &str,
    ) -> firegate::accounts::Account {
        let (email, username) = email_or_username(login);
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

/// `login` parsed, as the email or the username of an account.
fn email_or_username(
    login: &str,
) -> (
    Option<firegate::login::Login>,
    Option<firegate::login::Login>,
) {
    let login = firegate::login::Login::parse(login).unwrap();
    if login.is_email() {
        (Some(login), None)
    } else {
        (None, Some(login))
    }
}

/// The admin password of servers started with [`TestAppBuilder::admin`].
pub const ADMIN_PASSWORD: &str = "admin secret";

/// How a test's server is started: `TestApp::builder().admin().lockout(3, 2).start().await`.
/// Every option is a `serve` flag; the ones tests share have a method, the rest go through
/// [`flags`](Self::flags). Later flags win over earlier ones and over the test defaults.
#[must_use]
pub struct TestAppBuilder {
    keys: Option<TempDir>,
    project: Option<String>,
    flags: Vec<String>,
    admin_password: Option<String>,
    auth_emulator: bool,
}

impl TestAppBuilder {
    /// Extra `serve` flags, as on the command line.
    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.flags.extend(flags.iter().map(|s| s.to_string()));
        self
    }

    /// One `serve` flag with its value.
    pub fn flag(self, name: &str, value: impl ToString) -> Self {
        self.flags(&[name, &value.to_string()])
    }

    /// The admin API on, with [`ADMIN_PASSWORD`] (a cheap argon2id hash); see [`TestApp::admin`].
    pub fn admin(self) -> Self {
        self.admin_password(ADMIN_PASSWORD)
    }

    /// The admin API on, with this password (a cheap argon2id hash).
    pub fn admin_password(mut self, password: &str) -> Self {
        self.admin_password = Some(password.to_string());
        self
    }

    /// The admin API on with a hash made elsewhere (e.g. one that is costly to check); the
    /// password, for [`TestApp::admin`], is `password`.
    pub fn admin_password_hash(mut self, password: &str, hash: &str) -> Self {
        self.admin_password = Some(password.to_string());
        self.flag("--admin-password-hash", hash)
    }

    /// Logins lock after `threshold` failures (0: never), for `step_secs` per failure.
    pub fn lockout(self, threshold: u32, step_secs: u64) -> Self {
        self.flag("--lockout-threshold", threshold)
            .flag("--lockout-step-secs", step_secs)
    }

    /// No lockout at all.
    pub fn no_lockout(self) -> Self {
        self.flag("--lockout-threshold", 0)
    }

    /// Failed checks answer no sooner than this (the tests' default is 0).
    pub fn failure_floor_ms(self, ms: u64) -> Self {
        self.flag("--failure-floor-ms", ms)
    }

    /// Behind one trusted proxy: the client is the address in `X-Forwarded-For` (see
    /// [`TestApp::sign_in_from`]).
    pub fn behind_proxy(self) -> Self {
        self.flag("--trusted-proxy-hops", 1)
    }

    /// Bare usernames also sign in as `username@domain`.
    pub fn legacy_domain(self, domain: &str) -> Self {
        self.flag("--legacy-domain", domain)
    }

    /// The per-client rate limit (the tests' default is none).
    pub fn rate_limit(self, per_minute: u32, burst: u32) -> Self {
        self.flag("--rate-limit-per-minute", per_minute)
            .flag("--rate-limit-burst", burst)
    }

    /// Connections that send no complete request head within `secs` are closed.
    pub fn header_timeout_secs(self, secs: u64) -> Self {
        self.flag("--header-timeout-secs", secs)
    }

    /// Another Firestore emulator than the run's.
    pub fn emulator(self, host: &str) -> Self {
        self.flag("--firestore-emulator-host", host)
    }

    /// Mail (password resets, verification) sent to `sink`, links on `https://auth.example.com`.
    pub fn mail_sink(self, sink: &crate::smtp_sink::SmtpSink) -> Self {
        self.flags(&[
            "--mail-url",
            &sink.url(),
            "--public-url",
            "https://auth.example.com",
            "--mail-from",
            "Timetable <no-reply@school.example>",
        ])
    }

    /// Mail through a fresh in-process SMTP sink ([`mail_sink`](Self::mail_sink)): the
    /// started app and the sink that receives its mail.
    pub async fn start_with_mail(self) -> (TestApp, crate::smtp_sink::SmtpSink) {
        let sink = crate::smtp_sink::SmtpSink::start(false);
        let app = self.mail_sink(&sink).start().await;
        (app, sink)
    }

    /// Sign-in needs a verified email (a link is mailed to the unverified).
    pub fn require_verified_email(self) -> Self {
        self.flags(&["--require-verified-email"])
    }

    /// The Firebase Auth bridge graduating accounts to an Identity Toolkit at `url`, with a
    /// one-second deadline.
    pub fn bridge(self, url: &str) -> Self {
        self.flags(&[
            "--firebase-auth",
            "graduate",
            "--firebase-api-key",
            "test-key",
            "--identity-toolkit-url",
            url,
            "--firebase-auth-deadline-secs",
            "1",
        ])
    }

    /// Accounts marked external are checked by `hook` (a legacy application's verify hook),
    /// its secret read from a private file.
    pub fn verify_hook(self, hook: &crate::hook_standin::HookStandIn) -> Self {
        self.flags(&[
            "--legacy-verify-url",
            &hook.url(),
            "--legacy-verify-secret-file",
            &hook.secret_file(),
        ])
    }

    /// The signer reads its keys directory again every `secs` seconds.
    pub fn key_refresh_secs(self, secs: u64) -> Self {
        self.flag("--key-refresh-secs", secs)
    }

    /// Certificates published at `url` (a stand-in of Google's x509 endpoint).
    pub fn x509_base_url(self, url: &str) -> Self {
        self.flag("--x509-base-url", url)
    }

    /// ID tokens verified against the certificates at `url` (a stand-in of Google's
    /// securetoken URL).
    pub fn id_token_certs_url(self, url: &str) -> Self {
        self.flag("--id-token-certs-url", url)
    }

    /// As with `FIREBASE_AUTH_EMULATOR_HOST` set (which tests running side by side cannot
    /// each set in one process): the Auth emulator's unsigned ID tokens are taken for a
    /// `demo-` project.
    pub fn auth_emulator(mut self) -> Self {
        self.auth_emulator = true;
        self
    }

    /// This keys directory and project (several servers may share them).
    pub fn in_project(mut self, keys: TempDir, project: &str) -> Self {
        self.keys = Some(keys);
        self.project = Some(project.to_string());
        self
    }

    /// Starts the server on `127.0.0.1:0`, through the same [`App`] wiring `firegate serve`
    /// uses, once its key state has been read.
    pub async fn start(self) -> TestApp {
        let keys = self.keys.unwrap_or_else(keys_dir);
        let project = self.project.unwrap_or_else(project_id);
        let mut args = vec!["serve".to_string()];
        args.extend(base_args(keys.path(), &project));
        // Tests hammer one server from one address; the rate limit has its own test.
        args.extend(["--listen", "127.0.0.1:0", "--rate-limit-per-minute", "0"].map(String::from));
        if let Some(password) = &self.admin_password
            && !self.flags.iter().any(|f| f == "--admin-password-hash")
        {
            args.push("--admin-password-hash".into());
            args.push(argon2id_hash(password, 1024, 1).await);
        }
        args.extend(self.flags);
        let Command::Serve(serve) = parse_cli(&args).command else {
            unreachable!("parsed a serve command line")
        };
        let mut options = serve.server.app_options(serve.listen.addr());
        options.service.factors.auth_emulator |= self.auth_emulator;
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
            admin_password: self.admin_password,
            shutdown: Some(tx),
        }
    }
}

/// Waits until `done` holds, for at most a minute, checking every 50 ms; fails naming `what`.
/// For what happens after an answer (a hash finishing, a log line, a lock expiring).
/// The decoded payload of a JWT (`header.payload.signature`), unverified.
pub fn token_payload(token: &str) -> serde_json::Value {
    jwt_part(token.split('.').nth(1).expect("a JWT has a payload"))
}

/// One base64url part of a JWT, decoded as JSON.
pub fn jwt_part(part: &str) -> serde_json::Value {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

pub async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "waited a minute, and still not: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// An admin API request to `url` with `password` as the admin's, sent as the admin page sends
/// it (JSON).
pub fn admin_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    password: &str,
) -> reqwest::RequestBuilder {
    http.request(method, url)
        .basic_auth("admin", Some(password))
        .header("content-type", "application/json")
}

/// Sends `request`: the status and the JSON body (`null` for an empty body); fails unless a
/// body is JSON, said so in its content type.
pub async fn send(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    json_answer(request.send().await.unwrap()).await
}

/// The status and JSON body of a response (`null` for an empty body); fails unless a body is
/// JSON, said so in its content type.
pub async fn json_answer(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.to_str().unwrap().starts_with("application/json"));
    let text = response.text().await.unwrap();
    if text.is_empty() {
        return (status, serde_json::Value::Null);
    }
    assert!(json, "{status}: not a JSON response: {text}");
    (status, serde_json::from_str(&text).unwrap())
}

/// The status and JSON body of a response (`null` when the body is empty or not JSON).
pub async fn answer(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// Runs the `firegate` binary with the test flags for `keys` and `project`, feeding `stdin`.
pub fn run_firegate(
    keys: &Path,
    project: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut command = firegate_command(keys, project);
    command.args(args);
    run_with_stdin(command, stdin.unwrap_or(""))
}

/// Runs `command` to its end, feeding it `stdin`: its output.
pub fn run_with_stdin(mut command: std::process::Command, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs a `firegate` command on `project` and `keys` off the runtime's threads (so this
/// process's own servers keep answering): success, stdout, stderr.
pub async fn cli_in(
    keys: &Path,
    project: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    let (keys, project) = (keys.to_path_buf(), project.to_string());
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.map(String::from);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        outcome(run_firegate(&keys, &project, &args, stdin.as_deref()))
    })
    .await
    .unwrap()
}

/// The claims of a custom token, if `public_pem` verifies its RS256 signature and it is for
/// the Identity Toolkit audience.
pub fn verify_token(
    token: &str,
    public_pem: &str,
) -> jsonwebtoken::errors::Result<serde_json::Value> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[firegate::custom_token::AUDIENCE]);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes())?;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map(|d| d.claims)
}

/// The `firegate` binary with plain-text logs and no settings file, as a user runs it (no
/// inherited firegate variables, nor `RUST_LOG`).
pub fn firegate_as_user() -> std::process::Command {
    let mut command = firegate_clean();
    command.env_remove("RUST_LOG");
    command.env("FIREGATE_LOG_FORMAT", "text");
    command.env("FIREGATE_CONFIG", "/dev/null");
    command
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

    /// An admin API request with [`ADMIN_PASSWORD`] (the server's `--admin-password-hash`
    /// is of that password).
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        admin_request(
            &reqwest::Client::new(),
            method,
            self.url(path),
            ADMIN_PASSWORD,
        )
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

//! `firegate dev`: the one-command local run. It creates a development key when the keys
//! directory has none, starts a Firestore emulator unless `FIRESTORE_EMULATOR_HOST` names one,
//! creates a demo account, turns the admin page on with a password of this run, and serves on
//! loopback until Ctrl-C, then stops the emulator.

use jiff::Timestamp;
use rand::RngExt;
use secrecy::SecretString;

use crate::app::{self, App};
use crate::claims::Claims;
use crate::config::{DevArgs, SignerKind};
use crate::emulator::Emulator;
use crate::keys::{self, keygen};
use crate::login::Login;
use crate::mail::MailUrl;
use crate::passwords::{Password, Passwords};
use crate::service::{NewAccount, Service, ServiceOptions};
use crate::{Error, Result};

/// Project id of development keys (`demo-` projects never reach Google from the emulators).
pub const DEV_PROJECT: &str = "demo-firegate";
/// The demo account's email, username and password (development only).
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "firegate-demo";

/// The demo account's uid: the same on every run, so data a client stored under it in the
/// emulator is found again while the emulator runs.
pub const DEMO_UID: &str = "firegate-demo";

/// Browser origins `dev` lets call the API besides any configured: pages a developer serves
/// on their own machine (Vite, webpack, `python -m http.server`, …), on any port.
pub const DEV_CORS_ORIGINS: [&str; 2] = ["http://localhost:*", "http://127.0.0.1:*"];

/// How far above dev's own port its Firestore emulator listens when that port is free
/// (8090 beside the default 8080), so the `export FIRESTORE_EMULATOR_HOST=…` line printed
/// for other terminals stays right from one run to the next.
pub const EMULATOR_PORT_OFFSET: u16 = 10;

/// Runs the development server until Ctrl-C or SIGTERM (also while it is still starting).
pub async fn run(args: DevArgs) -> Result<()> {
    // One signal listener for the whole run, polled from the start: a Ctrl-C between start-up
    // and serving is not lost.
    let mut shutdown = Box::pin(app::shutdown_signal());
    let (app, emulator) = tokio::select! {
        started = start(args) => started?,
        () = &mut shutdown => {
            println!("stopped before the server was up");
            return Ok(());
        }
    };
    let served = app.run(shutdown).await;
    drop(emulator);
    served
}

/// Everything up to the banner: the key, the emulator, the service, the demo account.
async fn start(mut args: DevArgs) -> Result<(App, Option<Emulator>)> {
    // Only the emulators accept dev's key, and IAM cannot be reached from a laptop anyway:
    // dev signs with its local key even where the environment says `FIREGATE_SIGNER=iam`.
    if args.server.signer.signer != SignerKind::Key {
        println!("dev signs with its local key (--signer iam is for `firegate serve`)");
        args.server.signer.signer = SignerKind::Key;
    }
    // First, so a busy port is reported before anything else starts.
    let listener = app::bind(args.listen.addr(), "--port").await?;
    let addr = listener
        .local_addr()
        .map_err(crate::Error::io("cannot read the listening address"))?;
    let dir = args.server.keys.dir.keys_dir.clone();
    if !dir.exists() || keys::key_files(&dir)?.is_empty() {
        let path =
            tokio::task::spawn_blocking(move || keygen::write_dev_key(&dir, DEV_PROJECT)).await??;
        println!("created a development key: {}", path.display());
    }

    let emulator = match args.server.store.firestore_emulator_host {
        Some(_) => None,
        None => {
            let preferred = addr.port().checked_add(EMULATOR_PORT_OFFSET);
            let emulator = tokio::task::spawn_blocking(move || start_emulator(preferred)).await??;
            println!(
                "started the Firestore emulator on {} (pid {})",
                emulator.host(),
                emulator.pid()
            );
            println!("(the emulator keeps nothing: accounts and data start over each run)");
            args.server.store.firestore_emulator_host = Some(emulator.host().to_string());
            Some(emulator)
        }
    };

    // Pages on this machine may call the API from a browser, whatever port serves them.
    let cors = &mut args.server.http.cors_origins;
    if !cors.iter().any(|o| o == "*") {
        cors.extend(DEV_CORS_ORIGINS.iter().map(|o| o.to_string()));
    }
    // The admin page is on, with a password of this run unless one is configured.
    let admin_password = if args.server.admin.admin_password_hash.is_some() {
        None
    } else {
        let password = dev_admin_password();
        let options = args.server.service_options().passwords;
        let hash = Passwords::new(&options)?
            .hash(&Password::new(password.clone())?)
            .await?
            .hash;
        args.server.admin.admin_password_hash = Some(SecretString::from(hash));
        Some(password)
    };

    // Reset mails go to the log, with links to this server's page, unless told otherwise.
    let reset = &mut args.server.reset;
    if reset.mail_url.is_none() {
        reset.mail_url = Some(MailUrl::Log);
    }
    if reset.public_url.is_none() && reset.reset_link_template.is_none() {
        reset.public_url = Some(format!("http://{addr}"));
    }
    args.server.http.demo_page = true;
    // Passkeys on the demo page: browsers take `localhost` as a relying party (an IP is none).
    let passkeys = &mut args.server.passkeys;
    if passkeys.webauthn_rp_id.is_none() {
        passkeys.webauthn_rp_id = Some("localhost".into());
        passkeys.webauthn_origins = vec![format!("http://localhost:{}", addr.port())];
    }
    let mut options = args.server.app_options(addr);
    // dev takes the Auth emulator's unsigned ID tokens whatever the project is called.
    options.service.factors.dev = true;
    let allow = args.server.keys.allow_insecure_key_permissions;
    let keys_dir = &args.server.keys.dir.keys_dir;
    while_firestore_starts(|| prefer_dev_key(&options.service, keys_dir, allow)).await?;
    let service = while_firestore_starts(|| Service::build(options.service.clone())).await?;
    while_firestore_starts(|| ensure_demo_account(&service)).await?;
    let admin_user = args.server.admin.admin_user.clone();
    let project = service.store.project_id().to_string();
    let app = App::new(listener, service, options.http)?;
    let url = format!("http://{}", app.addr());
    let host = args
        .server
        .store
        .firestore_emulator_host
        .clone()
        .unwrap_or_default();
    let admin = match admin_password {
        Some(password) => format!("user {admin_user}, password {password}; a new one each run"),
        None => "the user and password you configured".to_string(),
    };
    let (firegate, checkout) = super::this_binary::command();
    println!(
        "\nfiregate is listening on {url}\n\
         \n  demo login:    {DEMO_EMAIL} (or username {DEMO_USERNAME}), uid {DEMO_UID}\
         \n  demo password: {DEMO_PASSWORD}\
         \n  login page:    {url}/login/\
         \n  reset page:    {url}/password-reset/ (reset mails are printed here)\
         \n  admin page:    {url}/admin/ ({admin})\
         \n  browser pages: http://localhost:<any port> and http://127.0.0.1:<any port> may call the API\
         \n\n  curl -s {url}/login/ -H 'Content-Type: application/json' \\\
         \n       -d '{{\"email\": \"{DEMO_EMAIL}\", \"password\": \"{DEMO_PASSWORD}\"}}'\n\
         \nIn another terminal{checkout}, `firegate accounts …` reaches this emulator as:\
         \n\n  export FIRESTORE_EMULATOR_HOST={host} FIREGATE_PROJECT_ID={project}\
         \n  {firegate} accounts list\n\
         \nPress Ctrl-C to stop{}.",
        if emulator.is_some() {
            " (the emulator stops too)"
        } else {
            ""
        }
    );
    Ok((app, emulator))
}

/// Starts dev's emulator on `preferred` when that port is free, else on any free port
/// (saying so: the `export` line of other terminals changes). Blocking.
fn start_emulator(preferred: Option<u16>) -> Result<Emulator> {
    let Some(port) = preferred else {
        return Emulator::start(None);
    };
    if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
        return Emulator::start_on(port, None);
    }
    let emulator = Emulator::start(None)?;
    println!(
        "port {port} is taken: the Firestore emulator listens on {} this run",
        emulator.host()
    );
    Ok(emulator)
}

/// A password for this run's admin page: 16 random characters (about 79 bits) in groups of
/// four, from letters and digits that cannot be mistaken for one another.
fn dev_admin_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// With several key files (after the rotation runbook's `keys generate`), records dev's own
/// key as the one that signs, unless the emulator already records a choice (one that
/// `FIRESTORE_EMULATOR_HOST` names keeps it; dev's own emulator starts empty): dev always
/// starts.
async fn prefer_dev_key(
    options: &ServiceOptions,
    dir: &std::path::Path,
    allow_insecure: bool,
) -> Result<()> {
    let dir = dir.to_path_buf();
    let loaded =
        tokio::task::spawn_blocking(move || keys::load_dir(&dir, allow_insecure)).await??;
    let dev_key = loaded.keys.iter().find(|k| {
        k.file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("dev-"))
    });
    let (true, Some(dev_key)) = (loaded.keys.len() > 1, dev_key) else {
        return Ok(());
    };
    let project = options
        .project_id
        .clone()
        .unwrap_or_else(|| dev_key.project_id.clone());
    let store = crate::store::Store::connect(project.clone(), options.store.clone()).await?;
    if store.recorded_key_state().await?.is_some() {
        return Ok(());
    }
    let state = keys::RecordedState {
        active: Some(dev_key.kid.clone()),
        project: Some(project),
        changed_by: "firegate:dev".into(),
        changed_at: Some(Timestamp::now()),
        ..Default::default()
    };
    store.record_key_state(&state, None).await?;
    println!(
        "{} keys in the keys directory: dev's own key {} signs",
        loaded.keys.len(),
        dev_key.kid
    );
    Ok(())
}

/// Runs `attempt` again for up to a minute while Firestore does not answer yet: a freshly
/// started emulator can take seconds to serve its first calls, each of which may time out.
async fn while_firestore_starts<T, F>(mut attempt: impl FnMut() -> F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match attempt().await {
            Err(Error::Unavailable { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await
            }
            done => return done,
        }
    }
}

async fn ensure_demo_account(service: &Service) -> Result<()> {
    let demo = NewAccount {
        uid: Some(crate::accounts::Uid::parse(DEMO_UID)?),
        email: Some(Login::parse(DEMO_EMAIL)?),
        email_verified: None,
        username: Some(Login::parse(DEMO_USERNAME)?),
        password: Password::new(DEMO_PASSWORD.to_string())?,
        claims: Claims::parse(serde_json::json!({ "demo": true }))?,
    };
    match service.create_account(demo, Timestamp::now()).await {
        Ok(account) => {
            println!("created the demo account (uid {})", account.uid);
            Ok(())
        }
        Err(Error::LoginTaken(_) | Error::UidTaken(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

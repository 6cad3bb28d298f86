//! The command line: one clap parser, one function per subcommand, each building the core
//! from the same [`Config`] and calling one library function.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jiff::Timestamp;
use tokio::net::TcpListener;
use tracing::{error, info};

use crate::accounts::Uid;
use crate::claims::Claims;
use crate::config::{Config, HttpConfig};
use crate::login::Login;
use crate::passwords::Password;
use crate::service::{NewAccount, Service};
use crate::telemetry::{self, LogFormat};
use crate::{Error, Result, dev, http};

/// firegate: Firebase custom tokens for accounts whose passwords live in Firestore.
#[derive(Parser, Debug)]
#[command(name = "firegate", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    /// Log format.
    #[arg(
        long,
        env = "FIREGATE_LOG_FORMAT",
        value_enum,
        default_value = "auto",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API (POST /login/) until SIGTERM or Ctrl-C.
    Serve {
        #[command(flatten)]
        http: HttpConfig,
    },
    /// Run locally with everything needed: a development key, a Firestore emulator and a
    /// demo account are created when missing.
    Dev {
        #[command(flatten)]
        http: HttpConfig,
    },
    /// Manage accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
}

/// Account administration.
#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Create an account; the password is read from stdin (never from the command line).
    Create {
        /// Email or username; give it twice for an account with both.
        #[arg(long = "login", required = true, num_args = 1, action = clap::ArgAction::Append)]
        logins: Vec<String>,
        /// Firebase uid [default: a random 28-character uid].
        #[arg(long)]
        uid: Option<String>,
        /// Developer claims as a JSON object, copied into every token.
        #[arg(long)]
        claims: Option<String>,
    },
    /// Show an account as JSON (never its password hash).
    Show {
        /// Email or username.
        login: String,
    },
}

/// Runs the parsed command line to completion and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let default_level = match cli.command {
        Command::Serve { .. } | Command::Dev { .. } => "info",
        _ => "warn",
    };
    telemetry::init(cli.log_format, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.config, cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(config: Config, command: Command) -> Result<()> {
    match command {
        Command::Serve { http } => serve(config, http).await,
        Command::Dev { http } => dev::run(config, http).await,
        Command::Accounts { command } => accounts(config, command).await,
    }
}

/// `firegate serve`: bind, answer at once, and check Firestore in the background so a cold
/// start is not delayed by a round trip; an unreachable Firestore stops the server.
async fn serve(config: Config, http_config: HttpConfig) -> Result<()> {
    let service = Service::build(&config).await?;
    let addr = http_config.public_addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
    info!(%addr, kid = %service.keys.active().kid, "listening");
    let (failed_tx, failed_rx) = tokio::sync::oneshot::channel();
    let store = service.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.ping().await {
            error!(error = %e, "Firestore is unreachable at start-up; stopping");
            let _ = failed_tx.send(e);
        }
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<Error>();
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            Ok(e) = failed_rx => { let _ = stop_tx.send(e); }
        }
    };
    let router = http::router(service, &http_config);
    http::serve(listener, router, shutdown)
        .await
        .map_err(|e| Error::Internal(format!("server failed: {e}")))?;
    match stop_rx.await {
        Ok(e) => Err(e),
        Err(_) => Ok(()),
    }
}

/// Completes on SIGTERM (Cloud Run) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    info!("shutdown signal received; finishing in-flight requests");
}

async fn accounts(config: Config, command: AccountsCommand) -> Result<()> {
    let service = Service::build(&config).await?;
    match command {
        AccountsCommand::Create {
            logins,
            uid,
            claims,
        } => {
            let (email, username) = split_logins(&logins)?;
            let uid = uid.as_deref().map(Uid::parse).transpose()?;
            let claims = claims
                .as_deref()
                .map(Claims::from_json)
                .transpose()?
                .unwrap_or_default();
            let password = read_password()?;
            let account = service
                .create_account(
                    NewAccount {
                        uid,
                        email,
                        username,
                        password,
                        claims,
                    },
                    Timestamp::now(),
                )
                .await?;
            println!("{}", account.uid);
        }
        AccountsCommand::Show { login } => {
            let summary = service.show_account(&login).await?;
            let json = serde_json::to_string_pretty(&summary)
                .map_err(|e| Error::Internal(e.to_string()))?;
            println!("{json}");
        }
    }
    Ok(())
}

/// One email and/or one username from repeated `--login` flags.
fn split_logins(logins: &[String]) -> Result<(Option<Login>, Option<Login>)> {
    let mut email = None;
    let mut username = None;
    for raw in logins {
        let login = Login::parse(raw)?;
        let slot = if login.is_email() {
            &mut email
        } else {
            &mut username
        };
        if slot.replace(login).is_some() {
            return Err(Error::invalid(
                "invalid_login",
                "give at most one email and one username with --login",
            ));
        }
    }
    Ok((email, username))
}

/// Reads a password from stdin: without echo on a terminal, otherwise the first line.
pub fn read_password() -> Result<Password> {
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(|e| {
            Error::invalid(
                "unreadable_password",
                format!("cannot read the password: {e}"),
            )
        })?
    } else {
        let mut text = String::new();
        std::io::stdin()
            .take(crate::passwords::MAX_PASSWORD_BYTES as u64 + 2)
            .read_to_string(&mut text)
            .map_err(|e| {
                Error::invalid(
                    "unreadable_password",
                    format!("cannot read the password from stdin: {e}"),
                )
            })?;
        let line = text.split('\n').next().unwrap_or_default();
        line.strip_suffix('\r').unwrap_or(line).to_string()
    };
    Password::new(text)
}

//! The command line: one clap parser, one function per subcommand, each building the core
//! from the same [`Config`] and calling one library function.

mod accounts;
mod import;
mod keys;

pub use accounts::{AccountsCommand, read_password};
pub use import::ImportArgs;
pub use keys::{AdminCommand, KeysCommand};

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tracing::info;

use crate::config::{Config, HttpConfig};
use crate::service::Service;
use crate::telemetry::{self, LogFormat};
use crate::{Error, Result, dev, http};

/// firegate: Firebase custom tokens for accounts whose passwords live in Firestore.
#[derive(Parser, Debug)]
#[command(
    name = "firegate",
    version,
    about,
    max_term_width = 100,
    args_override_self = true
)]
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
    /// Import accounts from a legacy user table (CSV, JSON Lines or Django dumpdata).
    Import(Box<ImportArgs>),
    /// Rotate service-account keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Admin credential tools.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
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
        Command::Accounts { command } => accounts::run(config, command).await,
        Command::Import(args) => import::run(config, *args).await,
        Command::Keys { command } => keys::run(config, command).await,
        Command::Admin { command } => keys::run_admin(config, command).await,
    }
}

/// `firegate serve`: bind first, so a client connecting during start-up waits in the listen
/// backlog rather than being refused; then load the keys and read the recorded key state (an
/// unreachable Firestore stops start-up with a clear message, which also opens the
/// connection the first sign-in uses); then serve.
async fn serve(config: Config, http_config: HttpConfig) -> Result<()> {
    let addr = http_config.public_addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
    let service = Service::build(&config).await?;
    info!(%addr, kid = %service.keys.active().kid, "listening");
    tokio::spawn(service.clone().keep_keys_fresh());
    let router = http::router(service, &http_config);
    http::serve(listener, router, &http_config, shutdown_signal())
        .await
        .map_err(|e| Error::Internal(format!("server failed: {e}")))
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

//! The command line: one clap parser whose subcommands each flatten only the settings groups
//! they read (see [`crate::config`]), and one function per subcommand that turns them into
//! options and calls the library.

mod accounts;
mod dev;
mod emulator;
mod firebase_auth;
mod import;
mod keys;

pub use accounts::{AccountsCommand, read_new_password, read_password};
pub use dev::{DEMO_EMAIL, DEMO_PASSWORD, DEMO_USERNAME, DEV_PROJECT};
pub use import::ImportArgs;
pub use keys::{AdminCommand, KeysCommand};

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::app::{self, App};
use crate::config::{DevArgs, ServeArgs};
use crate::telemetry::{self, LogFormat};
use crate::{Error, Result};

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
    /// Log format: json (Cloud Logging), text, or auto (text on a terminal).
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

/// Settings every account command accepts (it builds the same service as `serve`) but an
/// operator rarely passes to one: hidden from their help, which stays within a screen.
const ACCOUNTS_HELP_HIDES: &[&str] = &[
    "database_id",
    "firestore_timeout_ms",
    "accounts_collection",
    "logins_collection",
    "lockouts_collection",
    "tokens_collection",
    "firebase_queue_collection",
    "audit_collection",
    "keys_collection",
    "signer",
    "service_account",
    "iam_credentials_url",
    "iam_deadline_secs",
    "allow_insecure_key_permissions",
    "argon2_memory_kib",
    "argon2_iterations",
    "argon2_parallelism",
    "firebase_api_key",
    "identity_toolkit_url",
    "firebase_auth_deadline_secs",
];

impl Cli {
    /// Parses the process's arguments (exiting with clap's message on a bad one), with the
    /// account commands' help trimmed to what they are given day to day.
    pub fn parse_args() -> Cli {
        let mut command = Cli::command().mut_subcommand("accounts", |accounts| {
            let names: Vec<String> = accounts
                .get_subcommands()
                .map(|sub| sub.get_name().to_owned())
                .collect();
            names.iter().fold(accounts, |accounts, name| {
                accounts.mut_subcommand(name, |sub| {
                    ACCOUNTS_HELP_HIDES
                        .iter()
                        .fold(sub, |sub, id| sub.mut_arg(*id, |arg| arg.hide(true)))
                        .after_help(
                            "Also accepted: every Firestore, signer, hashing and bridge setting of \
                             `firegate serve` (book: \"Configuration\").",
                        )
                })
            })
        });
        let matches = command.get_matches_mut();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API (POST /login/) until SIGTERM or Ctrl-C.
    Serve(Box<ServeArgs>),
    /// Run locally with everything needed: a development key, a Firestore emulator and a
    /// demo account are created when missing.
    Dev(Box<DevArgs>),
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
    /// Bring existing accounts into Firebase Auth (the Firebase Auth bridge's bulk passes).
    FirebaseAuth {
        #[command(subcommand)]
        command: firebase_auth::FirebaseAuthCommand,
    },
    /// Admin credential tools.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Start a Firestore emulator, print its host:port, and run until SIGTERM or Ctrl-C (the
    /// one launcher the test suites and benchmarks share).
    #[command(hide = true)]
    Emulator(emulator::EmulatorArgs),
}

/// Why a command ended unsuccessfully: an error to print, or an exit code already explained
/// on the terminal (an import that refused rows or stopped early).
#[derive(Debug)]
pub enum Failure {
    Error(Error),
    Exit(u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

/// Runs the parsed command line to completion and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    // Before any Google client starts: google-cloud-auth signs service-account key files
    // with the process's default provider and panics without one. An error means one is
    // installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let default_level = match cli.command {
        Command::Serve(_) | Command::Dev(_) => "info",
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
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Exit(code)) => ExitCode::from(code),
        Err(Failure::Error(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> std::result::Result<(), Failure> {
    match command {
        Command::Serve(args) => Ok(serve(*args).await?),
        Command::Dev(args) => Ok(dev::run(*args).await?),
        Command::Accounts { command } => Ok(accounts::run(command).await?),
        Command::Import(args) => import::run(*args).await,
        Command::Keys { command } => Ok(keys::run(command).await?),
        Command::Admin { command } => Ok(keys::run_admin(command).await?),
        Command::FirebaseAuth { command } => Ok(firebase_auth::run(command).await?),
        Command::Emulator(args) => Ok(emulator::run(args).await?),
    }
}

/// `firegate serve`: bind, load the keys, open Firestore, then serve until SIGTERM or Ctrl-C,
/// reading the recorded key state meanwhile (nothing is signed before it is read; an
/// unreachable Firestore or a record naming a key not here stops the server with a clear
/// message).
async fn serve(args: ServeArgs) -> Result<()> {
    args.server
        .bridge
        .check_for_server()
        .map_err(crate::Error::Config)?;
    let app = App::build(args.server.app_options(args.listen.addr())).await?;
    app.run(app::shutdown_signal()).await
}

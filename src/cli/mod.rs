//! The command line: one clap parser whose subcommands each flatten only the settings groups
//! they read (see [`crate::config`]), and one function per subcommand that turns them into
//! options and calls the library.

/// `println!` for a command's output: a reader that closed the pipe (`| head`, `| true`) ends
/// the output, not the process (Rust ignores SIGPIPE, so `println!` would panic).
macro_rules! out {
    ($($arg:tt)*) => {
        crate::cli::write_out(format_args!($($arg)*))
    };
}

mod accounts;
mod config;
mod dev;
mod emulator;
mod firebase_auth;
mod help;
mod import;
mod keys;
mod this_binary;

pub use accounts::{AccountsCommand, read_new_password, read_password};
pub use dev::{
    DEMO_EMAIL, DEMO_PASSWORD, DEMO_USERNAME, DEV_CORS_ORIGINS, DEV_PROJECT, EMULATOR_PORT_OFFSET,
};
pub use import::ImportArgs;
pub use keys::{AdminCommand, KeysCommand};

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

pub use config::ConfigCommand;

use crate::app::{self, App};
use crate::config::{
    Catalogue, ConfigFile, DevArgs, Effective, FileError, NOT_ON_COMMAND_LINE, ServeArgs,
};
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

    /// Settings file [default: ./firegate.toml if present]; flags and variables win over it.
    #[arg(long, env = "FIREGATE_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,

    /// The settings the command runs with and where each came from (`config show`).
    #[arg(skip)]
    pub settings: Effective,
}

/// Why the command line was not accepted.
#[derive(Debug)]
pub enum ParseError {
    /// clap's own (including `--help` and `--version`, which print and exit).
    Clap(clap::Error),
    /// The settings file's problems.
    File(FileError),
}

impl Cli {
    /// Parses the process's arguments over the settings file (exiting with the message on a
    /// bad one), with help pages trimmed to what is set day to day.
    pub fn parse_args() -> Cli {
        match Cli::parse_layered(std::env::args_os()) {
            Ok(cli) => cli,
            Err(ParseError::Clap(e)) => e.exit(),
            Err(ParseError::File(e)) => {
                eprintln!("error: {e}");
                std::process::exit(2)
            }
        }
    }

    /// Parses `argv` the way `firegate` does: the settings file (`--config`,
    /// `FIREGATE_CONFIG`, else ./firegate.toml) under the environment and the flags.
    pub fn parse_layered<I, T>(argv: I) -> std::result::Result<Cli, ParseError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let catalogue = Catalogue::of(&Cli::command());
        let shaped = help::shape(Cli::command());
        let argv =
            help::help_subcommand_as_flag(&shaped, argv.into_iter().map(Into::into).collect());
        let file = Cli::settings_file(&shaped, &argv, &catalogue)?;
        let mut command = match &file {
            Some(file) => crate::config::apply(shaped, file),
            None => shaped,
        };
        let matches = command
            .try_get_matches_from_mut(&argv)
            .map_err(ParseError::Clap)?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(ParseError::Clap)?;
        let (mut leaf, mut leaf_matches) = (&command, &matches);
        while let Some((name, sub_matches)) = leaf_matches.subcommand() {
            match leaf.find_subcommand(name) {
                Some(sub) => (leaf, leaf_matches) = (sub, sub_matches),
                None => break,
            }
        }
        cli.settings = Effective::of(leaf, leaf_matches, &catalogue, file.as_ref());
        let on_command_line = cli.settings.settings.iter().find(|r| {
            NOT_ON_COMMAND_LINE.contains(&r.setting.id.as_str())
                && matches!(r.source, crate::config::Source::Flag(_))
        });
        if let Some(refused) = on_command_line {
            let message = format!(
                "--{} is not taken on the command line, where `ps` shows it to every user; set \
                 {} or {} in the settings file\n",
                refused.setting.flag,
                refused.setting.env,
                refused.setting.name()
            );
            return Err(ParseError::Clap(
                clap::Error::raw(clap::error::ErrorKind::ValueValidation, message).with_cmd(leaf),
            ));
        }
        Ok(cli)
    }

    /// The command line's parser as [`parse_layered`](Cli::parse_layered) builds it: help
    /// pages trimmed to the day-one settings, and the values of the settings file, if any, as
    /// the defaults of the settings they name.
    pub fn command_over(file: Option<&ConfigFile>) -> clap::Command {
        let command = help::shape(Cli::command());
        match file {
            Some(file) => crate::config::apply(command, file),
            None => command,
        }
    }

    /// The settings file to read, checked, if there is one. A help or version request reads
    /// none (help describes the built-in defaults, and must show even when the file is
    /// broken), and neither does `config init`, which writes it.
    fn settings_file(
        command: &clap::Command,
        argv: &[OsString],
        catalogue: &Catalogue,
    ) -> std::result::Result<Option<ConfigFile>, ParseError> {
        let Ok(first_look) = command
            .clone()
            .ignore_errors(true)
            .try_get_matches_from(argv)
        else {
            return Ok(None);
        };
        let mut path = Vec::new();
        let mut at = &first_look;
        while let Some((name, sub)) = at.subcommand() {
            path.push(name);
            at = sub;
        }
        if path == ["config", "init"] {
            return Ok(None);
        }
        let named = first_look.get_one::<PathBuf>("config");
        match crate::config::locate(named.map(PathBuf::as_path)) {
            Some(path) => ConfigFile::read(&path, catalogue)
                .map(Some)
                .map_err(ParseError::File),
            None => Ok(None),
        }
    }

    /// Where the settings file is, read or to be written: `--config`, `FIREGATE_CONFIG`, else
    /// ./firegate.toml.
    pub fn settings_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_FILE))
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
    /// Import accounts from a legacy database or an export (CSV, JSON Lines, dumpdata, …).
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
    /// The settings file (firegate.toml): print the settings in effect, or write a starter.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
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
    if let Some(file) = &cli.settings.file {
        tracing::info!(file = %file.display(), "settings file read");
    }
    let file = cli.settings_path();
    match runtime.block_on(dispatch(cli.command, &cli.settings, &file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Exit(code)) => ExitCode::from(code),
        Err(Failure::Error(e)) => {
            eprintln!("{}", failure_message(&e));
            ExitCode::FAILURE
        }
    }
}

/// What the terminal shows of a failed command: the error and each cause under it,
/// `error: …` then `  caused by: …` lines.
fn failure_message(e: &Error) -> String {
    format!("error: {}", e.chain())
}

async fn dispatch(
    command: Command,
    settings: &Effective,
    file: &std::path::Path,
) -> std::result::Result<(), Failure> {
    match command {
        Command::Serve(args) => Ok(serve(*args).await?),
        Command::Dev(args) => Ok(dev::run(*args).await?),
        Command::Accounts { command } => Ok(accounts::run(command).await?),
        Command::Import(args) => import::run(*args).await,
        Command::Keys { command } => Ok(keys::run(command).await?),
        Command::Admin { command } => Ok(keys::run_admin(command).await?),
        Command::FirebaseAuth { command } => Ok(firebase_auth::run(command).await?),
        Command::Config { command } => Ok(config::run(command, settings, file)?),
        Command::Emulator(args) => Ok(emulator::run(args).await?),
    }
}

/// `firegate serve`: bind, load the keys, open Firestore, then serve until SIGTERM or Ctrl-C,
/// reading the recorded key state meanwhile (nothing is signed before it is read; an
/// unreachable Firestore or a record naming a key not here stops the server with a clear
/// message).
async fn serve(args: ServeArgs) -> Result<()> {
    args.server.check().map_err(crate::Error::config)?;
    let app = App::build(args.server.app_options(args.listen.addr())).await?;
    app.run(app::shutdown_signal()).await
}

/// Writes one line of output (see `out!`); a closed pipe is silent, another failure is said
/// on standard error.
pub(crate) fn write_out(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    match writeln!(std::io::stdout().lock(), "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("error: cannot write to standard output: {e}"),
        Ok(()) => {}
    }
}

#[cfg(test)]
mod failure_tests {
    use std::error::Error as _;

    use super::failure_message;
    use crate::Error;

    #[test]
    fn a_failure_prints_each_cause_on_its_own_line() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused here");
        let error = Error::unavailable("cannot reach Firestore at 127.0.0.1:1").caused_by(cause);
        assert_eq!(
            failure_message(&error),
            "error: Firestore is unavailable: cannot reach Firestore at 127.0.0.1:1\n  \
             caused by: refused here"
        );
        let wrapped = Error::internal("start-up stopped").caused_by(error);
        assert_eq!(
            failure_message(&wrapped),
            "error: internal error: start-up stopped\n  caused by: Firestore is unavailable: \
             cannot reach Firestore at 127.0.0.1:1\n  caused by: refused here"
        );
    }

    #[test]
    fn a_bad_key_file_shows_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.json");
        let error = Error::from(crate::keys::load_file(&missing, false).unwrap_err());
        let cause = error.source().map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("No such file or directory"), "{error:?}");
        let shown = failure_message(&error);
        assert!(shown.starts_with("error: "), "{shown}");
        assert!(
            shown.contains("gone.json: cannot read the key file"),
            "{shown}"
        );
        // The cause is shown once, not again on a `caused by` line that repeats it.
        assert_eq!(
            shown.matches("No such file or directory").count(),
            1,
            "{shown}"
        );
    }
}

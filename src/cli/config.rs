//! `firegate config …`: the settings file. `show` prints the settings `serve` would run with
//! and where each comes from; `init` writes a commented starter file.

use std::io::Write as _;
use std::path::Path;

use clap::{CommandFactory as _, Subcommand};

use super::Cli;
use crate::config::{self, Catalogue, Effective, ServeArgs};
use crate::{Error, Result};

/// The settings file.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the settings `firegate serve` would run with here, as TOML, each with where its
    /// value comes from (flag, variable, file and line, or default); never a secret. It takes
    /// every setting of `serve`, so `config show --port 9000` shows the flag's effect.
    Show {
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
    /// Write a commented starter settings file with every setting: ./firegate.toml, or the
    /// file --config names.
    Init {
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Print the file instead of writing it.
        #[arg(long, conflicts_with = "force")]
        stdout: bool,
    },
}

/// Runs one `config` subcommand; `effective` holds the parsed settings and `file` is where
/// the settings file is (`--config`, `FIREGATE_CONFIG`, else ./firegate.toml).
pub fn run(command: ConfigCommand, effective: &Effective, file: &Path) -> Result<()> {
    match command {
        ConfigCommand::Show { serve } => {
            out!("{}", config::show(effective).trim_end_matches('\n'));
            if let Err(refused) = serve.server.check() {
                out!("\n# `firegate serve` would refuse to start: {refused}");
            }
            Ok(())
        }
        ConfigCommand::Init { force, stdout } => {
            let text = config::starter(&Catalogue::of(&Cli::command()));
            if stdout {
                out!("{}", text.trim_end_matches('\n'));
                return Ok(());
            }
            write_new(file, &text, force)?;
            out!(
                "wrote {}: every setting, commented at its default; check it with \
                 `firegate config show`",
                file.display()
            );
            Ok(())
        }
    }
}

/// Writes `text` to `path`, readable by its owner only (it may come to hold secrets), and
/// never over an existing file unless `force`.
fn write_new(path: &Path, text: &str, force: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut out = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::config(format!(
                "{} exists; `firegate config init --force` replaces it",
                path.display()
            ))
        } else {
            Error::io(format!("cannot write {}", path.display()))(e)
        }
    })?;
    out.write_all(text.as_bytes())
        .map_err(Error::io(format!("cannot write {}", path.display())))
}

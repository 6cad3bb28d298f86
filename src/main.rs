//! The `firegate` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    firegate::cli::run(firegate::cli::Cli::parse())
}

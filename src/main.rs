//! The `firegate` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

/// A static musl build (compared in scripts/bench.sh, not shipped) allocates with mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    firegate::cli::run(firegate::cli::Cli::parse_args())
}

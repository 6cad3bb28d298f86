//! The `firegate` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

/// A static musl build (not shipped; `bench/run.py cold-ab` can time it against the glibc build)
/// allocates with mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    firegate::cli::run(firegate::cli::Cli::parse_args())
}

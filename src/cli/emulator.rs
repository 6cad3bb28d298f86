//! `firegate emulator` (hidden): the one Firestore emulator launcher, shared by the Rust
//! tests, the end-to-end suite and the benchmarks. Once the emulator serves it prints
//! `host:port` on a line of its own, then `pid <JVM pid>` (benchmarks measure its CPU), and it
//! stops the emulator on SIGTERM or Ctrl-C (the kernel stops it if this process dies outright).

use std::io::Write;
use std::path::PathBuf;

use crate::emulator::Emulator;
use crate::{Error, Result, app};
use clap::Args;

/// Where to run the emulator.
#[derive(Args, Debug)]
pub struct EmulatorArgs {
    /// Port to listen on [default: a free one].
    #[arg(long)]
    port: Option<u16>,
    /// A firestore.rules file to load.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

/// Runs the emulator until SIGTERM or Ctrl-C.
pub async fn run(args: EmulatorArgs) -> Result<()> {
    let emulator = tokio::task::spawn_blocking(move || match args.port {
        Some(port) => Emulator::start_on(port, args.rules.as_deref()),
        None => Emulator::start(args.rules.as_deref()),
    })
    .await??;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}\npid {}", emulator.host(), emulator.pid())
        .and_then(|()| out.flush())
        .map_err(Error::io("cannot write to standard output"))?;
    drop(out);
    app::shutdown_signal().await;
    drop(emulator);
    Ok(())
}

//! `firegate emulator` (hidden): the one Firestore emulator launcher, shared by the Rust
//! tests, the end-to-end suite and the benchmarks. It prints `host:port` on a line of its own
//! once the emulator serves, and stops it when stdin closes or a signal arrives.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use tokio::io::AsyncReadExt;

use crate::emulator::Emulator;
use crate::{Error, Result, app};

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

/// Runs the emulator until stdin reaches its end, SIGTERM or Ctrl-C.
pub async fn run(args: EmulatorArgs) -> Result<()> {
    let emulator = tokio::task::spawn_blocking(move || match args.port {
        Some(port) => Emulator::start_on(port, args.rules.as_deref()),
        None => Emulator::start(args.rules.as_deref()),
    })
    .await??;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", emulator.host())
        .and_then(|()| out.flush())
        .map_err(Error::io("cannot write to standard output"))?;
    drop(out);
    let stdin_closed = async {
        let mut sink = [0u8; 256];
        let mut stdin = tokio::io::stdin();
        while stdin.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    };
    tokio::select! {
        () = stdin_closed => {}
        () = app::shutdown_signal() => {}
    }
    drop(emulator);
    Ok(())
}

//! The integration tests' stand-in for IAM Credentials and the metadata server
//! (`tests/it/google_standin.rs`, the same module), as a process for the bench driver:
//!
//!     cargo run --release --example google_standin -- [PROJECT] [LATENCY_MS]
//!
//! prints `standin HOST:PORT` once it listens, adds LATENCY_MS to every `signBlob`, and when
//! its standard input closes prints `signBlob N metadata M` (the calls it answered) and exits.

// A failed unwrap in a test or benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/it/google_standin.rs"]
mod google_standin;

/// The harness's `eventually`, which the module's `wait_until` names; this process never waits.
mod common {
    pub async fn eventually<F, Fut>(_what: &str, mut done: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        while !done().await {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

use std::io::Read;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let project = args.next().unwrap_or_else(|| "demo-bench".into());
    let latency_ms: u64 = args.next().map_or(0, |ms| ms.parse().expect("LATENCY_MS"));
    let standin = google_standin::GoogleStandIn::start(&project, 3600).await;
    standin.set_latency(Duration::from_millis(latency_ms));
    println!("standin {}", standin.host());
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .unwrap()
        .unwrap();
    let (sign, metadata) = (standin.calls().len(), standin.metadata_requests().len());
    println!("signBlob {sign} metadata {metadata}");
}

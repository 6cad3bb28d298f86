//! The integration tests' verify-hook stand-in (`tests/it/hook_standin.rs`, the same module),
//! as a process for the bench driver:
//!
//!     cargo run --release --example hook_standin -- LATENCY_MS PASSWORD LOGIN...
//!
//! knows each LOGIN with PASSWORD, answers each call after LATENCY_MS, prints `hook URL
//! SECRET_FILE` once it listens, and when its standard input closes prints `calls N` and exits.

// A failed unwrap in a benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/it/hook_standin.rs"]
mod hook_standin;

use std::io::Read;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let latency_ms: u64 = args
        .next()
        .expect("LATENCY_MS")
        .parse()
        .expect("LATENCY_MS");
    let password = args.next().expect("PASSWORD");
    let hook = hook_standin::HookStandIn::start().await;
    for login in args {
        hook.user(&login, &password, serde_json::json!({}));
    }
    hook.set_mode(hook_standin::Mode::Delay(Duration::from_millis(latency_ms)));
    println!("hook {} {}", hook.url(), hook.secret_file());
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .unwrap()
        .unwrap();
    println!("calls {}", hook.calls());
}

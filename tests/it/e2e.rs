//! The end-to-end suite in `tests/e2e` (Node: the Firebase JS SDK, both Firebase emulators, a
//! headless Chromium) run against the binary this `cargo test` built, so `cargo test` alone
//! covers it.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than the suite ever needs (about a minute), short enough to end a hung run.
const TIMEOUT: Duration = Duration::from_secs(300);

#[test]
fn end_to_end_suite_passes() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    install_packages(&suite);
    let (standin_host, standin_pem) = google_standin();
    let output = tempfile::NamedTempFile::new().unwrap();
    // setpriv: if this test process dies, npm is told to stop (and passes it on).
    let mut command = Command::new("setpriv");
    command
        .args(["--pdeathsig", "TERM", "--", "npm", "test", "--silent"])
        .current_dir(&suite)
        .env("FIREGATE_BIN", env!("CARGO_BIN_EXE_firegate"))
        // The run's one emulator (the suite keeps to its own project on it).
        .env("FIRESTORE_EMULATOR_HOST", crate::common::emulator_host())
        // The stand-in of the metadata server and IAM Credentials, for `--signer iam`.
        .env("E2E_GOOGLE_STANDIN", standin_host)
        .env("E2E_GOOGLE_STANDIN_PUBLIC_PEM", standin_pem)
        .stdin(Stdio::null())
        .stdout(output.reopen().unwrap())
        .stderr(output.reopen().unwrap())
        // Its own process group, so a timeout can stop npm and everything below it.
        .process_group(0);
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run `npm test` in {}: {e}; install Node 20+",
            suite.display()
        )
    });

    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            stop_group(child.id());
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    let text = std::fs::read_to_string(output.path()).unwrap_or_default();
    match status {
        Some(status) if status.success() => println!("{text}"),
        Some(status) => panic!(
            "the end-to-end suite failed ({status}); logs in tests/e2e/artifacts/logs:\n{text}"
        ),
        None => panic!(
            "the end-to-end suite did not finish within {} s and was stopped:\n{text}",
            TIMEOUT.as_secs()
        ),
    }
}

/// Starts the Google stand-in on a runtime of its own that lives as long as the test
/// process; returns its host and its signing key's public PEM.
fn google_standin() -> (String, String) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let standin = crate::google_standin::GoogleStandIn::start("e2e", 3600).await;
            tx.send((standin.host(), standin.public_pem.clone()))
                .unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// SIGTERM to the suite's process group, SIGKILL ten seconds later if anything is left.
fn stop_group(pgid: u32) {
    use nix::sys::signal::{Signal, killpg};
    let group = nix::unistd::Pid::from_raw(pgid as i32);
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    // No signal: only checks whether the group still exists.
    while Instant::now() < deadline && killpg(group, None).is_ok() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = killpg(group, Signal::SIGKILL);
}

/// Installs the suite's Node packages from the committed lockfile, unless a `node_modules` is
/// there already (`.ci/run` installs them before the tests).
pub fn install_packages(suite: &Path) {
    if suite.join("node_modules").is_dir() {
        return;
    }
    let installed = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(suite)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `npm ci` in {}: {e}; install Node 20+",
                suite.display()
            )
        });
    assert!(
        installed.status.success(),
        "`npm ci` in tests/e2e failed:\n{}{}",
        String::from_utf8_lossy(&installed.stdout),
        String::from_utf8_lossy(&installed.stderr)
    );
}

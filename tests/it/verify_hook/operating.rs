//! The verify hook as an operator runs it: accounts imported with `--hash external`, the
//! count of accounts still needing the legacy system, the logs (never a password), and the
//! start-up checks (HTTPS, the secret off the command line, `--legacy-verify-required`).

use serde_json::json;

use crate::common::{ServerProcess, firegate_command, free_addr, keys_dir, project_id};
use crate::hook_standin::{HookStandIn, Mode, SECRET};

const PW: &str = "pw-only-the-hook-may-see-5d1";
const WRONG: &str = "wrong-guess-never-logged-77e";

#[tokio::test]
async fn imported_accounts_move_off_the_legacy_system_and_no_log_holds_a_password() {
    let hook = HookStandIn::start().await;
    hook.user("rin", PW, json!({"uid": "501"}));
    hook.user("sol", PW, json!({}));
    let server = ServerProcess::start_in(
        keys_dir(),
        project_id(),
        &["--legacy-verify-url", &hook.url()],
        &[],
        &[("FIREGATE_LEGACY_VERIFY_SECRET", SECRET.to_string())],
    )
    .await;

    // Ids and logins only: no hash column at all.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        "id,username,email\n501,rin,rin@example.com\n502,sol,\n",
    )
    .unwrap();
    let import = server.command(
        &["import", csv.to_str().unwrap(), "--hash", "external"],
        None,
    );
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let stats = || {
        let output = server.command(&["accounts", "stats"], None);
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(
        stats().contains("2 accounts still need the legacy system"),
        "{}",
        stats()
    );

    let http = reqwest::Client::new();
    let sign_in = |login: &'static str, password: &'static str| {
        let (http, url) = (http.clone(), server.url("/login/"));
        async move {
            let response = http
                .post(url)
                .json(&json!({"email": login, "password": password}))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(sign_in("rin", PW).await, 200);
    assert_eq!(sign_in("sol", WRONG).await, 400);
    hook.set_mode(Mode::Status(500));
    assert_eq!(sign_in("sol", PW).await, 503);
    hook.set_mode(Mode::Answer);

    assert!(
        stats().contains("1 account still needs the legacy system"),
        "{}",
        stats()
    );
    server
        .wait_for_log("accounts still checked by the legacy system: 1")
        .await;
    let logs = server.wait_for_log("legacy_unavailable").await;
    assert!(logs.contains("legacy verify hook unavailable"), "{logs}");
    for secret in [PW, WRONG, SECRET] {
        assert!(!logs.contains(secret), "a secret in the logs:\n{logs}");
    }
    assert_eq!(hook.calls(), 3);
}

#[tokio::test]
async fn start_up_refuses_an_unsafe_or_missing_hook() {
    let keys = keys_dir();
    let project = project_id();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = firegate_command(keys.path(), &project);
        command.args(["serve", "--listen", &free_addr().to_string()]);
        command.args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let secret = [("FIREGATE_LEGACY_VERIFY_SECRET", SECRET)];

    let (ok, err) = run(
        &["--legacy-verify-url", "http://legacy.example/verify"],
        &secret,
    );
    assert!(!ok && err.contains("must be https://"), "{err}");

    let (ok, err) = run(
        &[
            "--legacy-verify-url",
            "https://legacy.example/verify",
            "--legacy-verify-secret",
            SECRET,
        ],
        &[],
    );
    assert!(
        !ok && err.contains("not taken on the command line"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");

    let (ok, err) = run(
        &["--legacy-verify-url", "https://legacy.example/verify"],
        &[],
    );
    assert!(
        !ok && err.contains("FIREGATE_LEGACY_VERIFY_SECRET"),
        "{err}"
    );

    let (ok, err) = run(&["--legacy-create-unknown"], &secret);
    assert!(!ok && err.contains("set --legacy-verify-url too"), "{err}");

    let closed = format!("http://{}/verify", free_addr());
    let (ok, err) = run(
        &["--legacy-verify-url", &closed, "--legacy-verify-required"],
        &secret,
    );
    assert!(!ok && err.contains("--legacy-verify-required"), "{err}");
}

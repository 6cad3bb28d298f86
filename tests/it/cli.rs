//! The `firegate` binary: start-up failures, the accounts commands, the help pages.

use std::process::Stdio;

use clap::CommandFactory as _;
use firegate::cli::Cli;

use crate::common::{
    TestApp, firegate_as_user, firegate_command, keys_dir, project_id, run_with_stdin,
};

#[test]
fn a_broken_key_file_stops_start_up_naming_file_and_field() {
    let keys = tempfile::tempdir().unwrap();
    let file = keys.path().join("sa.json");
    std::fs::write(
        &file,
        br#"{"type":"service_account","project_id":"p","private_key_id":"k","client_email":"a@b"}"#,
    )
    .unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let output = firegate_as_user()
        .args([
            "serve",
            "--keys-dir",
            keys.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("sa.json") && stderr.contains("`private_key` is missing"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_firestore_stops_start_up_with_a_clear_message() {
    let keys = keys_dir();
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = firegate_as_user()
        .args([
            "serve",
            "--keys-dir",
            keys.path().to_str().unwrap(),
            "--firestore-emulator-host",
        ])
        .arg(unused.to_string())
        .args(["--firestore-timeout-ms", "2000", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: Firestore is unavailable: ")
            && stderr.contains(&format!("cannot reach Firestore at {unused}"))
            && stderr.contains("is the emulator running there?"),
        "{stderr}"
    );
    // The transport's own words follow as the cause.
    assert!(stderr.contains("\n  caused by: "), "{stderr}");
}

#[test]
fn accounts_create_reads_the_password_from_stdin_and_show_hides_the_hash() {
    let keys = keys_dir();
    let project = project_id();
    let firegate = || {
        let mut command = firegate_command(keys.path(), &project);
        command.env("FIREGATE_LOG_FORMAT", "text");
        command
    };
    let mut create = firegate();
    create.args([
        "accounts",
        "create",
        "--login",
        "Min@Example.com",
        "--login",
        "min",
        "--uid",
        "legacy-7",
    ]);
    create.args(["--claims", r#"{"role":"admin"}"#]);
    let output = run_with_stdin(create, "s3cret-from-stdin\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "legacy-7");

    let output = firegate()
        .args(["accounts", "show", "--login", "min"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["uid"], "legacy-7");
    assert_eq!(
        shown["logins"],
        serde_json::json!(["min@example.com", "min"])
    );
    assert_eq!(shown["hash_scheme"], "argon2id");
    assert_eq!(shown["disabled"], false);
    assert_eq!(shown["claims"], serde_json::json!({"role": "admin"}));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("$argon2") && !text.contains("s3cret"),
        "{text}"
    );

    let output = firegate()
        .args(["accounts", "show", "nobody"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no account has the uid `nobody`"));
}

#[test]
fn help_all_documents_every_setting_with_its_environment_variable() {
    let output = firegate_as_user()
        .args(["serve", "--help-all"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let serve = Cli::command();
    let serve = serve.find_subcommand("serve").unwrap();
    for arg in serve
        .get_arguments()
        .filter(|a| firegate::config::is_setting(a))
    {
        let env = arg.get_env().unwrap().to_string_lossy();
        let flag = format!("--{}", arg.get_long().unwrap());
        assert!(help.contains(&*env), "{env} missing from --help-all");
        assert!(help.contains(&flag), "{flag} missing from --help-all");
    }
    let short = firegate_as_user()
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let short = String::from_utf8_lossy(&short.stdout);
    for env in [
        "FIREGATE_KEYS_DIR",
        "FIREGATE_PROJECT_ID",
        "FIREGATE_CORS_ORIGINS",
        "PORT",
    ] {
        assert!(short.contains(env), "{env} missing from --help");
    }
    assert!(!short.contains("FIREGATE_ARGON2_MEMORY_KIB"), "{short}");
}

/// Every command and subcommand's `--help`, as `firegate a b`.
fn every_command() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: Vec<String>, all: &mut Vec<Vec<String>>) {
        all.push(path.clone());
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut inner = path.clone();
            inner.push(sub.get_name().to_string());
            walk(sub, inner, all);
        }
    }
    let mut all = Vec::new();
    walk(&Cli::command(), Vec::new(), &mut all);
    all
}

/// Help pages have a line budget: a page that grows past it fails here, not on a
/// newcomer's screen. `serve --help` may take 80 lines, every other page 60. Hidden settings
/// are still accepted, and `--help-all` shows them.
#[test]
fn every_help_page_fits_its_budget() {
    let pages = every_command();
    assert!(pages.len() > 25, "{pages:?}");
    for path in pages {
        let budget = if path == ["serve"] { 80 } else { 60 };
        let output = firegate_as_user()
            .args(&path)
            .arg("--help")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        let name = path.join(" ");
        assert!(output.status.success(), "firegate {name} --help");
        let help = String::from_utf8_lossy(&output.stdout);
        let lines = help.lines().count();
        assert!(
            lines <= budget,
            "firegate {name} --help is {lines} lines, over its budget of {budget}:\n{help}"
        );
        // `firegate help …` prints the same page.
        let mut via_help = vec!["help".to_string()];
        via_help.extend(path.iter().cloned());
        let output = firegate_as_user()
            .args(&via_help)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            help,
            "firegate help {name}"
        );
        let all = firegate_as_user()
            .args(&path)
            .arg("--help-all")
            .output()
            .unwrap();
        assert!(all.status.success(), "firegate {name} --help-all");
        // An accounts command (not a group of them, as `accounts mfa`) names the project.
        let group = help.contains("\nCommands:");
        if path.first().is_some_and(|c| c == "accounts") && path.len() == 2 && !group {
            assert!(help.contains("--project-id"), "firegate {name} --help");
        }
    }
    // A hidden setting is still a setting.
    let output = firegate_as_user()
        .args(["accounts", "stats", "--tokens-collection", "x", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let all = firegate_as_user()
        .args(["accounts", "stats", "--help-all"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&all.stdout).contains("--tokens-collection"));
}

#[test]
fn admin_hash_password_refuses_a_short_password() {
    let mut child = firegate_as_user()
        .args(["admin", "hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"hunter2\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 12"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(out.stdout.is_empty(), "no hash printed");
}

#[test]
fn keys_generate_refuses_a_service_account_of_another_project() {
    let work = tempfile::tempdir().unwrap();
    firegate::keys::keygen::write_dev_key(&work.path().join("keys"), "school-timetable").unwrap();
    let out = firegate_as_user()
        .current_dir(work.path())
        .args([
            "keys",
            "generate",
            "--client-email",
            "firegate@other-project.iam.gserviceaccount.com",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("belongs to project other-project, but the keys in")
            && err.contains("sign for school-timetable"),
        "{err}"
    );
    let files = work.path().join("keys").read_dir().unwrap().count();
    assert_eq!(files, 1, "nothing written");
}

/// A reader that is gone before anything is written (`| true`): every printing command ends
/// quietly with its own exit code instead of panicking on the broken pipe.
#[tokio::test]
async fn a_closed_stdout_ends_every_printing_command_quietly() {
    let app = TestApp::start().await;
    let uid = app
        .create("pipe@example.com", "a long enough password")
        .await
        .uid;
    for args in [
        vec!["accounts", "show", uid.as_str()],
        vec!["accounts", "stats"],
        vec!["accounts", "list"],
        vec!["keys", "list"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = firegate_command(app.keys.path(), &app.project())
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn a_malformed_secret_setting_is_refused_without_showing_it() {
    let keys = crate::common::keys_dir();
    let project = crate::common::project_id();
    let marker = "Sup3rSecretMarker";
    for (variable, value, setting) in [
        (
            "FIREGATE_MFA_KEY",
            format!("{marker}-not-base64!"),
            "--mfa-key",
        ),
        (
            "FIREGATE_FIREBASE_API_KEY",
            format!("{marker} has a space"),
            "--firebase-api-key",
        ),
        (
            "FIREGATE_ADMIN_PASSWORD_HASH",
            format!("{marker}-a-plain-password"),
            "--admin-password-hash",
        ),
    ] {
        let output = crate::common::firegate_command(keys.path(), &project)
            .env(variable, &value)
            .arg("serve")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}: {stderr}");
        assert!(
            stderr.contains(setting),
            "{variable} names its setting: {stderr}"
        );
        assert!(!stderr.contains(marker), "{variable} shown:\n{stderr}");
    }
}

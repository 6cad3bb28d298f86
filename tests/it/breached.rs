//! Breached passwords: a password found in Pwned Passwords is refused wherever a password is
//! set (registration, change, reset, the admin API, the CLI), looked up through a local
//! stand-in of the range API (`pwned_standin.rs`; no Google or HIBP endpoint is reachable
//! here) or in an offline file in the downloader's format written by the test; the
//! threshold; an unreachable API failing open or closed; a legacy account's first sign-in
//! under each `--breached-at-sign-in` policy; and neither the password nor its hash prefix
//! in the logs.

use reqwest::Method;
use serde_json::json;

use crate::common::{ServerProcess, TestApp, send};
use crate::pwned_standin::{PwnedStandIn, offline_file, sha1_hex};
use firegate::passwords::Dialect;

/// In the stand-in's breaches.
const BREACHED: &str = "correct horse battery";
/// Not in them.
const FRESH: &str = "a walk by the grey river at dawn";
/// A Werkzeug 2.2.3 `md5$` hash (from the shared fixtures, `legacy-hashes.jsonl`) and its
/// password, which the tests' breaches hold too.
const LEGACY_HASH: &str = "md5$rQ6GbxQ9SxdbxCio$ff732f37f242f6402de739c63f88ad72";
const LEGACY_PASSWORD: &str = "hunter23116";

async fn standin() -> PwnedStandIn {
    PwnedStandIn::start(&[(BREACHED, 42), (LEGACY_PASSWORD, 7), ("seen twice only", 2)]).await
}

fn flags(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn a_breached_password_is_refused_wherever_a_password_is_set() {
    let pwned = standin().await;
    let (app, sink) = TestApp::builder()
        .admin()
        .flags(&flags(&pwned.flags()))
        .start_with_mail()
        .await;

    let (status, body) = app
        .register(json!({"email": "kim@example.com", "password": BREACHED}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_breached"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("breaches"),
        "{body}"
    );
    let (status, body) = app
        .register(json!({"email": "kim@example.com", "password": FRESH}))
        .await;
    assert!((200..300).contains(&status), "{body}");

    let (status, body) = app
        .change_password("kim@example.com", FRESH, BREACHED)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_breached"))
    );

    app.post("/password-reset/", json!({"email": "kim@example.com"}))
        .await;
    let mail = sink.mail("kim@example.com", 1).await;
    let text = mail["text"].as_str().unwrap();
    let at = text.find("token=").unwrap() + "token=".len();
    let token = &text[at..at + 43];
    let confirm = |password: &'static str| {
        app.post(
            "/password-reset/confirm/",
            json!({"token": token, "new_password": password}),
        )
    };
    let (status, body) = confirm(BREACHED).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_breached"))
    );

    let uid = app.stored("kim@example.com").await.account.uid;
    let path = format!("/admin/api/accounts/{uid}/password");
    let (status, body) = send(
        app.admin(Method::PUT, &path)
            .body(json!({"password": BREACHED}).to_string()),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_breached"))
    );

    let mut cli = vec!["accounts", "set-password", "--login", "kim@example.com"];
    let standin_flags = pwned.flags();
    cli.extend(flags(&standin_flags));
    let (set, _, stderr) = app
        .cli(&cli, Some(&format!("{BREACHED}\n{BREACHED}\n")))
        .await;
    assert!(!set, "the CLI refuses it too");
    assert!(stderr.contains("breaches"), "{stderr}");

    // Nothing above changed the password.
    assert_eq!(app.sign_in("kim@example.com", FRESH).await.0, 200);
    // Only five hex characters of the SHA-1 left, with padding asked for.
    let calls = pwned.calls();
    assert!(calls.len() >= 6, "{calls:?}");
    for call in &calls {
        assert_eq!(call.prefix.len(), 5, "{call:?}");
        assert!(call.padded, "{call:?}");
    }
    assert!(calls.iter().any(|c| c.prefix == sha1_hex(BREACHED)[..5]));
}

#[tokio::test]
async fn an_offline_copy_is_searched_and_the_threshold_applies() {
    let file = offline_file(&[(BREACHED, 42), ("seen twice only", 2)]);
    let path = file.path().to_str().unwrap();
    let app = TestApp::builder()
        .flags(&["--breached-check", "file", "--breached-file", path])
        .flags(&["--breached-min-count", "3"])
        .start()
        .await;
    let (status, body) = app
        .register(json!({"email": "lee@example.com", "password": BREACHED}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_breached"))
    );
    let (status, body) = app
        .register(json!({"email": "lee@example.com", "password": "seen twice only"}))
        .await;
    assert!(
        (200..300).contains(&status),
        "below --breached-min-count: {body}"
    );
    let (status, body) = app
        .change_password("lee@example.com", "seen twice only", BREACHED)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_breached"))
    );
    let (status, _) = app
        .change_password("lee@example.com", "seen twice only", FRESH)
        .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn an_unreachable_api_fails_open_or_closed_as_configured() {
    let pwned = standin().await;
    pwned.fail_with(503);
    let open = TestApp::builder()
        .flags(&flags(&pwned.flags()))
        .start()
        .await;
    let (status, body) = open
        .register(json!({"email": "open@example.com", "password": BREACHED}))
        .await;
    assert!((200..300).contains(&status), "fail open: {body}");

    let closed = TestApp::builder()
        .flags(&flags(&pwned.flags()))
        .flags(&["--breached-unreachable", "closed"])
        .start()
        .await;
    let (status, body) = closed
        .register(json!({"email": "closed@example.com", "password": FRESH}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
}

/// A legacy account holding a breached password, on a server with `policy`.
async fn legacy_sign_in(policy: &str) -> (TestApp, crate::smtp_sink::SmtpSink, PwnedStandIn) {
    let pwned = standin().await;
    let (app, sink) = TestApp::builder()
        .flags(&flags(&pwned.flags()))
        .flags(&["--breached-at-sign-in", policy])
        .start_with_mail()
        .await;
    app.insert_with_hash("old@example.com", LEGACY_HASH, Dialect::Werkzeug)
        .await;
    (app, sink, pwned)
}

#[tokio::test]
async fn allow_lets_a_breached_legacy_password_sign_in_unchecked() {
    let (app, _sink, pwned) = legacy_sign_in("allow").await;
    assert_eq!(app.sign_in("old@example.com", LEGACY_PASSWORD).await.0, 200);
    let stored = app.stored("old@example.com").await.account;
    assert_eq!(stored.breached_at, None);
    assert_eq!(stored.password.scheme_name(), "argon2id", "upgraded");
    assert!(pwned.calls().is_empty(), "{:?}", pwned.calls());
}

#[tokio::test]
async fn flag_signs_in_upgrades_and_marks_the_account() {
    let (app, sink, _pwned) = legacy_sign_in("flag").await;
    let (status, body) = app.sign_in("old@example.com", LEGACY_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let stored = app.stored("old@example.com").await.account;
    assert!(stored.breached_at.is_some(), "marked");
    assert_eq!(
        stored.password.scheme_name(),
        "argon2id",
        "upgraded after the check"
    );
    assert_eq!(app.service.breached_count().await.unwrap(), 1);
    let (ok, stdout, stderr) = app.cli(&["accounts", "stats"], None).await;
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("found in breaches at a legacy sign-in (not changed since): 1"),
        "{stdout}"
    );
    // An argon2id hash is not checked again at sign-in; a new password clears the mark.
    assert_eq!(app.sign_in("old@example.com", LEGACY_PASSWORD).await.0, 200);
    assert_eq!(
        app.change_password("old@example.com", LEGACY_PASSWORD, FRESH)
            .await
            .0,
        204
    );
    assert_eq!(
        app.stored("old@example.com").await.account.breached_at,
        None
    );
    assert_eq!(app.service.breached_count().await.unwrap(), 0);
    assert!(sink.mails_to("old@example.com").is_empty());
}

#[tokio::test]
async fn reset_refuses_the_sign_in_and_mails_a_reset_link() {
    let (app, sink, _pwned) = legacy_sign_in("reset").await;
    let (status, body) = app.sign_in("old@example.com", LEGACY_PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("password_reset_required")),
        "{body}"
    );
    assert!(body.get("token").is_none());
    let stored = app.stored("old@example.com").await.account;
    assert!(stored.breached_at.is_some(), "marked");
    assert_eq!(
        stored.password.scheme_name(),
        "werkzeug-hmac-md5",
        "no upgrade of a password that must go"
    );

    let mail = sink.mail("old@example.com", 1).await;
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("data breaches"), "{text}");
    let at = text.find("token=").unwrap() + "token=".len();
    let token = &text[at..at + 43];
    let (status, body) = app
        .post(
            "/password-reset/confirm/",
            json!({"token": token, "new_password": FRESH}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    assert_eq!(app.sign_in("old@example.com", FRESH).await.0, 200);
    assert_eq!(
        app.stored("old@example.com").await.account.breached_at,
        None
    );
}

#[tokio::test]
async fn the_reset_mail_speaks_the_accounts_language() {
    let (app, sink, _pwned) = legacy_sign_in("reset").await;
    let now = jiff::Timestamp::now();
    let account = firegate::accounts::Account {
        uid: firegate::accounts::Uid::generate(),
        email: Some(firegate::login::Login::parse("kor@example.com").unwrap()),
        email_verified: None,
        username: None,
        password: firegate::passwords::StoredHash::of_typed(LEGACY_HASH.into(), Dialect::Werkzeug),
        created_at: now,
        updated_at: now,
        disabled: false,
        claims: Default::default(),
        firebase: Default::default(),
        language: Some("ko".into()),
        factors: Default::default(),
        breached_at: None,
    };
    app.service.store.create_account(&account).await.unwrap();
    assert_eq!(app.sign_in("kor@example.com", LEGACY_PASSWORD).await.0, 403);
    let mail = sink.mail("kor@example.com", 1).await;
    assert!(
        mail["text"].as_str().unwrap().contains("유출된 비밀번호"),
        "{mail}"
    );
}

#[tokio::test]
async fn neither_the_password_nor_its_hash_prefix_reaches_the_logs() {
    let pwned = standin().await;
    let server = ServerProcess::start(&[], &flags(&pwned.flags())).await;
    let http = reqwest::Client::new();
    let register = |password: &str| {
        http.post(server.url("/register/"))
            .json(&json!({"email": "log@example.com", "password": password}))
            .send()
    };
    assert_eq!(register(BREACHED).await.unwrap().status(), 400);
    pwned.fail_with(503);
    assert!(register(FRESH).await.unwrap().status().is_success());
    let logs = server
        .wait_for_log("breached-password lookup unavailable")
        .await;
    for (password, what) in [(BREACHED, "refused"), (FRESH, "unchecked")] {
        let sha1 = sha1_hex(password);
        assert!(!logs.contains(password), "{what} password in the logs");
        assert!(
            !logs.contains(&sha1[..5]),
            "{what} hash prefix in the logs:\n{logs}"
        );
        assert!(
            !logs.to_ascii_uppercase().contains(&sha1[5..]),
            "{what} hash in the logs"
        );
    }
}

#[tokio::test]
async fn under_reset_an_account_the_hook_created_with_a_breached_password_stays_refused() {
    let pwned = standin().await;
    let hook = crate::hook_standin::HookStandIn::start().await;
    let (app, sink) = TestApp::builder()
        .flags(&flags(&pwned.flags()))
        .flags(&["--breached-at-sign-in", "reset", "--legacy-create-unknown"])
        .verify_hook(&hook)
        .start_with_mail()
        .await;
    hook.user("new@example.com", LEGACY_PASSWORD, json!({}));
    for attempt in 1..=2 {
        let (status, body) = app.sign_in("new@example.com", LEGACY_PASSWORD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("password_reset_required")),
            "attempt {attempt}: {body}"
        );
    }
    assert!(
        app.stored("new@example.com")
            .await
            .account
            .breached_at
            .is_some()
    );
    sink.mail("new@example.com", 1).await;
}

//! The legacy verify hook: accounts whose passwords stayed in the old application are checked
//! there once, at their first sign-in, then sign in on their own argon2id hash; an unknown
//! login can be created through it; a hook without an answer is 503 and changes nothing.

mod operating;
mod samples;

use firegate::passwords::Dialect;
use serde_json::json;

use crate::common::TestApp;
use crate::hook_standin::{HookStandIn, Mode};

const PW: &str = "legacy-password-41";

/// An account imported without a hash: the legacy system checks its password.
async fn legacy_account(app: &TestApp, login: &str) -> firegate::accounts::Account {
    app.insert_with_hash(login, "", Dialect::External).await
}

/// A hook stand-in and an app that creates the logins it does not know through it.
async fn creating_unknown() -> (HookStandIn, TestApp) {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder()
        .verify_hook(&hook)
        .flags(&["--legacy-create-unknown"])
        .start()
        .await;
    (hook, app)
}

#[tokio::test]
async fn a_legacy_account_moves_on_its_first_sign_in_and_the_hook_is_never_asked_again() {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder().verify_hook(&hook).start().await;
    let account = legacy_account(&app, "kim").await;
    hook.user(
        "kim",
        PW,
        json!({"claims": {"role": "teacher"}, "disabled": false}),
    );

    let (status, body) = app.sign_in("kim", PW).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], account.uid.as_str());
    assert_eq!(hook.calls(), 1);
    let sent = &hook.bodies()[0];
    assert_eq!(sent["login"], "kim");
    assert_eq!(sent["uid"], account.uid.as_str());

    let stored = app.stored("kim").await.account;
    assert_eq!(stored.password.scheme_name(), "argon2id");
    assert_eq!(stored.claims.to_json(), r#"{"role":"teacher"}"#);

    // From now on the account's own hash answers: right and wrong, the hook hears nothing.
    let (status, _) = app.sign_in("kim", PW).await;
    assert_eq!(status, 200);
    let (status, _) = app.sign_in("kim", "not-the-password").await;
    assert_eq!(status, 400);
    assert_eq!(hook.calls(), 1, "the hook is asked once per account");
}

#[tokio::test]
async fn what_firegate_holds_wins_over_the_hooks_answer() {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder().verify_hook(&hook).start().await;
    for login in ["ana", "ben"] {
        legacy_account(&app, login).await;
        hook.user(
            login,
            PW,
            json!({"disabled": false, "claims": {"role": "admin", "school": "north"}}),
        );
    }
    // An admin disabled ana here and gave ben a role: the hook enables nobody and adds only
    // the claim names ben does not have.
    for args in [
        &["accounts", "disable", "--login", "ana"][..],
        &[
            "accounts",
            "set-claims",
            "--login",
            "ben",
            r#"{"role":"teacher"}"#,
        ][..],
    ] {
        let (ok, _, err) = app.cli(args, None).await;
        assert!(ok, "{err}");
    }
    let (status, body) = app.sign_in("ana", PW).await;
    assert_eq!(status, 400, "{body}");
    assert!(app.stored("ana").await.account.disabled);
    let (status, body) = app.sign_in("ben", PW).await;
    assert_eq!(status, 200, "{body}");
    let payload = crate::common::token_payload(body["token"].as_str().unwrap());
    assert_eq!(
        payload["claims"],
        json!({"role": "teacher", "school": "north"})
    );
}

#[tokio::test]
async fn any_path_that_checks_a_password_moves_the_account() {
    let hook = HookStandIn::start().await;
    let (app, _mail) = TestApp::builder()
        .verify_hook(&hook)
        .start_with_mail()
        .await;
    legacy_account(&app, "ana@example.com").await;
    hook.user("ana@example.com", PW, json!({}));
    // Asking for a verification link checks the password as a sign-in does: the hook's
    // answer moves the account there too, so the hook is asked once.
    let asked = app
        .post_json(
            "/email-verification/",
            json!({"email": "ana@example.com", "password": PW}),
        )
        .await;
    assert_eq!(asked.status().as_u16(), 202);
    assert_eq!(hook.calls(), 1);
    assert!(
        !app.stored("ana@example.com")
            .await
            .account
            .password
            .is_external()
    );
    assert_eq!(app.sign_in("ana@example.com", PW).await.0, 200);
    assert_eq!(hook.calls(), 1);
}

#[tokio::test]
async fn a_wrong_password_from_the_hook_counts_toward_the_lockout() {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder()
        .verify_hook(&hook)
        .lockout(2, 60)
        .start()
        .await;
    legacy_account(&app, "lee@example.com").await;
    hook.user("lee@example.com", PW, json!({}));

    for _ in 0..2 {
        let (status, body) = app.sign_in("lee@example.com", "wrong-guess").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_credentials"))
        );
    }
    assert_eq!(hook.calls(), 2);
    // Locked: even the right password is refused, without asking the hook.
    let (status, _) = app.sign_in("lee@example.com", PW).await;
    assert_eq!(status, 400);
    assert_eq!(hook.calls(), 2);
    assert!(
        app.stored("lee@example.com")
            .await
            .account
            .password
            .is_external()
    );
}

#[tokio::test]
async fn an_unknown_logins_wrong_passwords_count_and_a_locked_one_never_reaches_the_hook() {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder()
        .verify_hook(&hook)
        .flags(&["--legacy-create-unknown"])
        .lockout(2, 60)
        .start()
        .await;
    hook.user("zed", PW, json!({}));
    for _ in 0..2 {
        let (status, body) = app.sign_in("zed", "wrong-guess").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_credentials"))
        );
    }
    assert_eq!(hook.calls(), 2);
    let (status, _) = app.sign_in("zed", PW).await;
    assert_eq!(status, 400, "locked before the hook is asked");
    assert_eq!(hook.calls(), 2);
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 0);
}

#[tokio::test]
async fn a_hook_without_an_answer_is_503_and_changes_nothing() {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder()
        .verify_hook(&hook)
        .lockout(1, 60)
        .flag("--legacy-verify-deadline-ms", 300)
        .start()
        .await;
    legacy_account(&app, "ana").await;
    hook.user("ana", PW, json!({}));

    for mode in [Mode::Status(500), Mode::Status(401), Mode::Hang] {
        hook.set_mode(mode);
        for password in [PW, "wrong-guess"] {
            let response = app
                .post_json("/login/", json!({"email": "ana", "password": password}))
                .await;
            assert_eq!(response.status(), 503);
            assert!(response.headers().get("retry-after").is_some());
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], "unavailable");
        }
    }
    assert!(app.stored("ana").await.account.password.is_external());

    // Nothing was counted (the threshold is one): the right password signs in once the
    // hook answers again.
    hook.set_mode(Mode::Answer);
    let (status, body) = app.sign_in("ana", PW).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unreachable_hook_is_503() {
    // A hook on a port nobody listens on.
    let hook = HookStandIn::start().await;
    let closed = format!("http://{}/verify", crate::common::free_addr());
    let app = TestApp::builder()
        .verify_hook(&hook)
        .flags(&["--legacy-verify-url", &closed, "--legacy-create-unknown"])
        .start()
        .await;
    legacy_account(&app, "ana").await;
    let (status, body) = app.sign_in("ana", PW).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")));
    // An unknown login answers exactly as a legacy one while the hook is down.
    let (status, body) = app.sign_in("nobody-here", PW).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")));
}

#[tokio::test]
async fn while_the_hook_is_down_every_refused_sign_in_answers_as_a_legacy_one() {
    let hook = HookStandIn::start().await;
    let app = TestApp::builder().verify_hook(&hook).start().await;
    legacy_account(&app, "ana").await;
    app.create("native@example.com", PW).await;
    // Up: an unknown login and a wrong password are plain refusals.
    for (login, password) in [("nobody-here", PW), ("native@example.com", "wrong-guess")] {
        let (status, body) = app.sign_in(login, password).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_credentials"))
        );
    }
    hook.set_mode(Mode::Status(500));
    let (status, body) = app.sign_in("ana", PW).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")));
    // Down: the same refusals answer as the legacy account did, so nobody learns which
    // logins the hook checks; a right password of an account checked here still signs in.
    for (login, password) in [("nobody-here", PW), ("native@example.com", "wrong-guess")] {
        let (status, body) = app.sign_in(login, password).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("unavailable")),
            "{login}"
        );
    }
    assert_eq!(app.sign_in("native@example.com", PW).await.0, 200);
    // Up again after one answered call.
    hook.set_mode(Mode::Answer);
    hook.user("ana", PW, json!({}));
    assert_eq!(app.sign_in("ana", PW).await.0, 200);
    let (status, _) = app.sign_in("nobody-here", PW).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_unknown_login_is_created_through_the_hook() {
    let (hook, app) = creating_unknown().await;
    hook.user(
        "max",
        PW,
        json!({"uid": "legacy-1207", "email": "max@example.com", "email_verified": true}),
    );

    // Unknown to the hook too, or a wrong password: a wrong password, nothing created.
    let (status, _) = app.sign_in("stranger", PW).await;
    assert_eq!(status, 400);
    let (status, _) = app.sign_in("max", "wrong-guess").await;
    assert_eq!(status, 400);
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 0);

    let (status, body) = app.sign_in("max", PW).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "legacy-1207");
    let stored = app.stored("max@example.com").await.account;
    assert_eq!(stored.uid.as_str(), "legacy-1207");
    assert_eq!(stored.username.as_ref().unwrap().as_str(), "max");
    assert_eq!(stored.email_verified, Some(true));
    assert_eq!(stored.password.scheme_name(), "argon2id");

    let calls = hook.calls();
    let (status, _) = app.sign_in("max@example.com", PW).await;
    assert_eq!(status, 200);
    assert_eq!(
        hook.calls(),
        calls,
        "a created account is never asked about again"
    );
}

#[tokio::test]
async fn two_concurrent_first_sign_ins_create_one_account() {
    let (hook, app) = creating_unknown().await;
    for (login, uid) in [("eve", Some("legacy-7")), ("ivy", None)] {
        let mut profile = json!({});
        if let Some(uid) = uid {
            profile["uid"] = json!(uid);
        }
        hook.user(login, PW, profile);
        // Both calls reach the hook before either answers, so both creations race.
        hook.set_mode(Mode::Gather(std::sync::Arc::new(
            tokio::sync::Barrier::new(2),
        )));
        let (first, second) = tokio::join!(app.sign_in(login, PW), app.sign_in(login, PW));
        assert_eq!(first.0, 200, "{}", first.1);
        assert_eq!(second.0, 200, "{}", second.1);
        assert_eq!(first.1["uid"], second.1["uid"]);
    }
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 2);
}

#[tokio::test]
async fn a_slow_hook_holds_no_place_among_the_password_checks() {
    let hook = HookStandIn::start().await;
    // One place among the password checks, and a hook that never answers within the test.
    let app = TestApp::builder()
        .verify_hook(&hook)
        .flags(&["--max-concurrent-hashes", "1", "--hash-queue", "0"])
        .flag("--legacy-verify-deadline-ms", 60_000)
        .start()
        .await;
    legacy_account(&app, "ana").await;
    app.create("native@example.com", PW).await;
    hook.set_mode(Mode::Hang);
    let url = app.url("/login/");
    let waiting = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({"email": "ana", "password": PW}))
            .send()
            .await
    });
    crate::common::eventually("the hook holds a call", || {
        std::future::ready(hook.calls() == 1)
    })
    .await;
    let (status, body) = app.sign_in("native@example.com", PW).await;
    assert_eq!(status, 200, "{body}");
    waiting.abort();
}

#[tokio::test]
async fn sign_ins_waiting_on_the_hook_are_bounded() {
    let hook = HookStandIn::start().await;
    // One call place: one sign-in calling, one waiting for the place, and no more.
    let app = TestApp::builder()
        .verify_hook(&hook)
        .flag("--legacy-verify-concurrency", 1)
        .flag("--legacy-verify-deadline-ms", 60_000)
        .start()
        .await;
    for login in ["ana", "ben", "cat"] {
        legacy_account(&app, login).await;
    }
    hook.set_mode(Mode::Hang);
    let mut waiting = Vec::new();
    for login in ["ana", "ben"] {
        let url = app.url("/login/");
        waiting.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"email": login, "password": PW}))
                .send()
                .await
        }));
    }
    crate::common::eventually("one sign-in calls the hook", || {
        std::future::ready(hook.calls() == 1)
    })
    .await;
    crate::common::eventually("both sign-ins wait on the hook", || {
        std::future::ready(app.service.sign_ins_at_the_hook() == 2)
    })
    .await;
    let (status, body) = app.sign_in("cat", PW).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("overloaded")),
        "{body}"
    );
    assert_eq!(
        hook.calls(),
        1,
        "the refused sign-in never reached the hook"
    );
    for task in waiting {
        task.abort();
    }
}

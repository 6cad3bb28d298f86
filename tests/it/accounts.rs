//! The account lifecycle over HTTP and the admin CLI: registration, password change,
//! disable/enable, delete, claims.

use serde_json::{Value, json};

use crate::common::TestApp;

#[tokio::test]
async fn registered_accounts_sign_in() {
    let app = TestApp::start().await;
    let (status, body) = app
        .register(
            json!({"email": "New@Example.com", "password": "long enough", "username": "newbie"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let uid = body["uid"].as_str().unwrap().to_string();
    assert_eq!(uid.len(), 28);
    assert!(uid.chars().all(|c| c.is_ascii_alphanumeric()));
    for login in [
        json!({"email": "new@example.com"}),
        json!({"username": "newbie"}),
    ] {
        let mut body = login.clone();
        body["password"] = json!("long enough");
        let (status, got) = app.post("/login", body).await;
        assert_eq!(
            (status, got["uid"].as_str()),
            (200, Some(uid.as_str())),
            "{login}"
        );
    }
    assert_eq!(
        app.stored("new@example.com")
            .await
            .account
            .password
            .scheme_name(),
        "argon2id"
    );
}

#[tokio::test]
async fn duplicate_registrations_conflict_whatever_the_case() {
    let app = TestApp::start().await;
    assert_eq!(
        app.post(
            "/register",
            json!({"email": "dup@example.com", "password": "password-1"})
        )
        .await
        .0,
        201
    );
    for email in ["dup@example.com", "DUP@Example.COM"] {
        let (status, body) = app
            .register(json!({"email": email, "password": "password-2"}))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("login_taken")),
            "{email}"
        );
    }
    assert_eq!(
        app.register(json!({"email": "x@example.com", "username": "u1", "password": "password-3"}))
            .await
            .0,
        201
    );
    let (status, _) = app
        .register(json!({"email": "y@example.com", "username": "u1", "password": "password-3"}))
        .await;
    assert_eq!(status, 409, "a taken username conflicts too");
    // The losing registration left nothing behind: y@ is still free.
    assert_eq!(
        app.register(json!({"email": "y@example.com", "password": "password-3"}))
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_email_create_one_account() {
    let app = TestApp::start().await;
    let attempts = (0..20).map(|i| {
        app.register(json!({"email": "race@example.com", "password": format!("password {i}")}))
    });
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 1);
}

#[tokio::test]
async fn registration_input_is_checked() {
    let app = TestApp::start().await;
    let long = "p".repeat(64);
    let cases = [
        (
            json!({"email": "a@example.com", "password": "short"}),
            "weak_password",
        ),
        (json!({"email": "a@example.com"}), "missing_field"),
        (json!({"password": "long enough"}), "missing_field"),
        (
            json!({"email": "not-an-email", "password": "long enough"}),
            "invalid_email",
        ),
        (
            json!({"email": "a@localhost", "password": "long enough"}),
            "invalid_email",
        ),
        (
            json!({"email": "a@example.com", "username": "b@c", "password": "long enough"}),
            "invalid_username",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "admin": true}),
            "unknown_field",
        ),
        (
            json!({"email": "a@example.com", "password": "x".repeat(4097)}),
            "password_too_long",
        ),
    ];
    for (body, code) in cases {
        let (status, got) = app.register(body.clone()).await;
        assert_eq!((status, got["error"].as_str()), (400, Some(code)), "{body}");
    }
    // No composition rules, 64+ characters and any Unicode are fine, and used whole.
    let (status, _) = app
        .register(json!({"email": "ok@example.com", "password": long}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(app.sign_in("ok@example.com", &"p".repeat(63)).await.0, 400);
    assert_eq!(
        app.register(json!({"email": "kr@example.com", "password": "비밀번호여덟자"}))
            .await
            .0,
        400,
        "7 characters"
    );
    assert_eq!(
        app.register(json!({"email": "kr@example.com", "password": "비밀번호여덟글자"}))
            .await
            .0,
        201,
        "8 characters"
    );
}

#[tokio::test]
async fn registration_can_be_turned_off() {
    let app = TestApp::builder()
        .flags(&["--disable-registration"])
        .start()
        .await;
    let (status, body) = app
        .register(json!({"email": "a@example.com", "password": "long enough"}))
        .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("disabled")));
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 0);
}

#[tokio::test]
async fn a_password_change_replaces_the_old_password() {
    let app = TestApp::start().await;
    app.create("kim@example.com", "old password").await;
    let (status, body) = app
        .change_password("kim@example.com", "wrong", "new password")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );
    let (status, body) = app
        .change_password("kim@example.com", "old password", "short")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("weak_password"))
    );

    let (status, _) = app.post("/password", json!({"email": "kim@example.com", "password": "old password", "new_password": "new password"})).await;
    assert_eq!(status, 204);
    assert_eq!(app.sign_in("kim@example.com", "old password").await.0, 400);
    assert_eq!(app.sign_in("kim@example.com", "new password").await.0, 200);
    assert_eq!(
        app.stored("kim@example.com")
            .await
            .account
            .password
            .scheme_name(),
        "argon2id"
    );
}

#[tokio::test]
async fn admins_disable_enable_delete_and_reset_accounts() {
    let app = TestApp::start().await;
    let account = app.create("lee@example.com", "first password").await;
    let sign_in = |password: &'static str| app.sign_in("lee@example.com", password);

    let (ok, out, err) = app
        .cli(&["accounts", "disable", "--login", "lee@example.com"], None)
        .await;
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["disabled"],
        true
    );
    assert_eq!(sign_in("first password").await.0, 400);
    assert!(
        app.cli(&["accounts", "enable", "--login", "lee@example.com"], None)
            .await
            .0
    );
    assert_eq!(sign_in("first password").await.0, 200);

    let (ok, _, err) = app
        .cli(
            &["accounts", "set-password", "--login", "lee@example.com"],
            Some("second password\n"),
        )
        .await;
    assert!(ok, "{err}");
    assert_eq!(sign_in("first password").await.0, 400);
    assert_eq!(sign_in("second password").await.0, 200);

    let (ok, out, _) = app.cli(&["accounts", "list", "--json"], None).await;
    assert!(ok);
    let listed: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["uid"], account.uid.as_str());
    assert!(!out.contains("$argon2"));

    let (ok, _, err) = app
        .cli(&["accounts", "delete", "--login", "lee@example.com"], None)
        .await;
    assert!(
        !ok && err.contains("--yes"),
        "delete without confirmation is refused: {err}"
    );
    assert!(
        app.cli(
            &["accounts", "delete", "--login", "lee@example.com", "--yes"],
            None
        )
        .await
        .0
    );
    assert_eq!(sign_in("second password").await.0, 400);
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 0);
    // Deleting freed the login.
    assert_eq!(
        app.register(json!({"email": "lee@example.com", "password": "third password"}))
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn claims_are_validated_and_reach_the_token() {
    let app = TestApp::start().await;
    app.create("t@example.com", "password-1").await;
    let (ok, _, err) = app
        .cli(
            &[
                "accounts",
                "set-claims",
                "--login",
                "t@example.com",
                r#"{"role":"teacher","grade":[1,2]}"#,
            ],
            None,
        )
        .await;
    assert!(ok, "{err}");
    let (_, body) = app
        .post(
            "/login/",
            json!({"email": "t@example.com", "password": "password-1"}),
        )
        .await;
    let payload = crate::common::token_payload(body["token"].as_str().unwrap());
    assert_eq!(
        payload["claims"],
        json!({"role": "teacher", "grade": [1, 2]})
    );

    let big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(1000));
    for (claims, why) in [
        (r#"{"sub":"x"}"#, "reserved"),
        (r#"{"firebase":1}"#, "reserved"),
        (big.as_str(), "at most 1000"),
        ("[1]", "JSON object"),
        ("{", "not valid JSON"),
    ] {
        let (ok, _, err) = app
            .cli(
                &["accounts", "set-claims", "--login", "t@example.com", claims],
                None,
            )
            .await;
        assert!(!ok && err.contains(why), "{claims}: {err}");
    }
    let shown: Value = serde_json::from_str(
        &app.cli(&["accounts", "show", "--login", "t@example.com"], None)
            .await
            .1,
    )
    .unwrap();
    assert_eq!(
        shown["claims"],
        json!({"role": "teacher", "grade": [1, 2]}),
        "refused claims changed nothing"
    );
}

#[tokio::test]
async fn account_commands_take_a_uid_show_failures_and_say_when_nothing_was_locked() {
    let app = TestApp::start().await;
    let account = app.create("uid-user@example.com", "the password").await;
    assert_eq!(
        app.sign_in("uid-user@example.com", "a wrong one").await.0,
        400
    );
    let (ok, out, err) = app
        .cli(&["accounts", "show", account.uid.as_str()], None)
        .await;
    assert!(ok, "a uid names the account too: {err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["email"], "uid-user@example.com");
    assert_eq!(shown["lockout"]["failures"], 1, "{out}");

    let (ok, out, err) = app
        .cli(
            &["accounts", "unlock", "--login", "uid-user@example.com"],
            None,
        )
        .await;
    assert!(ok && out.starts_with("unlocked"), "{out}{err}");
    let (ok, out, err) = app
        .cli(
            &["accounts", "unlock", "--login", "nobody@example.com"],
            None,
        )
        .await;
    assert!(ok && out.starts_with("nothing to unlock"), "{out}{err}");

    let (ok, out, _) = app.cli(&["accounts", "list"], None).await;
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    let scheme_at = |line: &str, value: &str| line.find(value);
    assert_eq!(
        scheme_at(lines[0], "SCHEME"),
        scheme_at(lines[1], "argon2id"),
        "columns line up:\n{out}"
    );
}

/// `accounts show UID` shows the account with that uid even when another account's username
/// is that text (registered before the uid existed); `--login` finds the username's holder.
#[tokio::test]
async fn account_commands_read_a_uid_as_a_uid_and_a_login_only_with_login() {
    let app = TestApp::start().await;
    let (status, _) = app
        .register(json!({"email": "decoy@example.com", "username": "legacy-42", "password": "the decoy's password"}))
        .await;
    assert_eq!(status, 201);
    let (ok, out, err) = app
        .cli(
            &[
                "accounts",
                "create",
                "--uid",
                "legacy-42",
                "--login",
                "victim@example.com",
            ],
            Some("the victim's password\n"),
        )
        .await;
    assert!(ok && out.trim() == "legacy-42", "{out}{err}");

    let (ok, out, err) = app.cli(&["accounts", "show", "legacy-42"], None).await;
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&shown["uid"], &shown["email"]),
        (&json!("legacy-42"), &json!("victim@example.com"))
    );
    let (ok, out, err) = app
        .cli(&["accounts", "show", "--login", "legacy-42"], None)
        .await;
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["email"], "decoy@example.com");

    let (ok, _, err) = app
        .cli(&["accounts", "show", "victim@example.com"], None)
        .await;
    assert!(
        !ok && err.contains("no account has the uid `victim@example.com`"),
        "a login is no uid: {err}"
    );
    let (ok, _, err) = app.cli(&["accounts", "show"], None).await;
    assert!(!ok && err.contains("--login"), "a uid or --login: {err}");
}

/// The other order: once an account has a uid, no new login may be that text (register,
/// `accounts create`), except an account's own uid as its own username.
#[tokio::test]
async fn a_new_login_may_not_be_another_accounts_uid() {
    let app = TestApp::start().await;
    app.create_with_uid("legacy-42", "victim@example.com", "the victim's password")
        .await;
    let (status, body) = app
        .register(json!({"email": "decoy@example.com", "username": "legacy-42", "password": "the decoy's password"}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("login_taken")),
        "{body}"
    );
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 1);

    let (ok, _, err) = app
        .cli(
            &["accounts", "create", "--login", "legacy-42"],
            Some("another password\n"),
        )
        .await;
    assert!(
        !ok && err.contains("is the uid of another account"),
        "{err}"
    );
    let (ok, out, err) = app
        .cli(
            &["accounts", "create", "--uid", "kim", "--login", "kim"],
            Some("kim's own password\n"),
        )
        .await;
    assert!(ok && out.trim() == "kim", "its own uid: {out}{err}");
}

#[tokio::test]
async fn account_commands_that_sign_nothing_need_no_keys_directory_with_a_project_id() {
    let app = TestApp::start().await;
    app.create("kim@example.com", "kim's password").await;
    let project = app.project();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-keys-here");
    let run = |args: &'static [&'static str]| {
        let (missing, project) = (missing.clone(), project.clone());
        tokio::task::spawn_blocking(move || {
            crate::common::outcome(crate::common::run_firegate(&missing, &project, args, None))
        })
    };
    let (ok, stdout, stderr) = run(&["accounts", "stats", "--json"]).await.unwrap();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"accounts\": 1"), "{stdout}");
    let (ok, stdout, stderr) = run(&["accounts", "show", "--login", "kim@example.com"])
        .await
        .unwrap();
    assert!(ok && stdout.contains("kim@example.com"), "{stdout}{stderr}");
    let (ok, _, stderr) = run(&["accounts", "disable", "--login", "kim@example.com"])
        .await
        .unwrap();
    assert!(ok, "{stderr}");
    assert_eq!(
        app.sign_in("kim@example.com", "kim's password").await.0,
        400
    );
}

#[tokio::test]
async fn uids_longer_than_every_firebase_sdk_takes_are_refused() {
    let app = TestApp::start().await;
    let emoji = "😀".repeat(128);
    let create = [
        "accounts",
        "create",
        "--login",
        "emoji@example.com",
        "--uid",
    ];
    let password = Some("a long password\n");
    let (ok, _, stderr) = app.cli(&[&create[..], &[&emoji]].concat(), password).await;
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("128 bytes"), "{stderr}");
    let fits = "😀".repeat(32);
    let (ok, _, stderr) = app.cli(&[&create[..], &[&fits]].concat(), password).await;
    assert!(ok, "{stderr}");
}

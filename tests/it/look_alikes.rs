//! Logins that look alike — the same Unicode TR39 skeleton: `аdmin` with a Cyrillic `а` and
//! `admin`, a no-break space for a space — are one login. A registration or `accounts
//! create` of a look-alike is refused, deleting the account frees its logins' look, and
//! accounts from before look-alike claims get theirs from `accounts claim-look-alikes`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{TestApp, emulator_host};

const PW: &str = "a long password";

/// Removes the look-alike claim of `login`, leaving its account as one written before claims.
async fn forget_claim(app: &TestApp, login: &str) {
    let skeleton = firegate::login::Login::parse(login).unwrap().skeleton();
    let id = format!(
        "_skeleton_{}",
        hex::encode(Sha256::digest(skeleton.as_bytes()))
    );
    let url = format!(
        "http://{}/v1/projects/{}/databases/(default)/documents/firegate_logins/{id}",
        emulator_host(),
        app.project()
    );
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth("owner")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the claim of {login} exists");
    let response = reqwest::Client::new()
        .delete(&url)
        .bearer_auth("owner")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_login_that_looks_like_a_registered_one_is_refused_until_that_one_is_deleted() {
    let app = TestApp::start().await;
    let first = [
        json!({"email": "admin@school.example", "username": "admin", "password": PW}),
        json!({"email": "kim@school.example", "username": "kim lee", "password": PW}),
    ];
    for body in first {
        assert_eq!(app.register(body).await.0, 201);
    }
    for body in [
        json!({"email": "x1@school.example", "username": "\u{430}dmin", "password": PW}),
        json!({"email": "\u{430}dmin@school.example", "password": PW}),
        json!({"email": "x3@school.example", "username": "kim\u{a0}lee", "password": PW}),
        json!({"email": "x4@school.example", "username": "\u{430}dm\u{456}n", "password": PW}),
    ] {
        let (status, got) = app.register(body.clone()).await;
        assert_eq!(
            (status, got["error"].as_str()),
            (409, Some("login_look_alike")),
            "{body}"
        );
    }
    // A refused registration leaves nothing behind.
    let (status, _) = app
        .register(json!({"email": "x1@school.example", "password": PW}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(app.sign_in("admin", PW).await.0, 200);
    assert_eq!(app.sign_in("\u{430}dmin", PW).await.0, 400);

    let (ok, _, err) = app
        .cli(
            &["accounts", "create", "--login", "\u{430}dmin"],
            Some("a long password\n"),
        )
        .await;
    assert!(!ok && err.contains("looks like `admin`"), "{err}");

    let (ok, _, err) = app
        .cli(&["accounts", "delete", "--login", "admin", "--yes"], None)
        .await;
    assert!(ok, "{err}");
    let (status, got) = app
        .register(json!({"email": "x5@school.example", "username": "\u{430}dmin", "password": PW}))
        .await;
    assert_eq!(status, 201, "deleting admin freed its look: {got}");
}

#[tokio::test]
async fn accounts_from_before_claims_get_theirs_and_keep_signing_in() {
    let app = TestApp::start().await;
    app.create("admin", PW).await;
    app.create("kim lee", PW).await;
    forget_claim(&app, "admin").await;
    forget_claim(&app, "kim lee").await;
    // Nothing claims `kim lee`'s look yet, so its look-alike goes through.
    let twin = app.create("kim\u{a0}lee", PW).await;

    let (ok, out, err) = app.cli(&["accounts", "claim-look-alikes"], None).await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["accounts"], 3, "{report}");
    let look_alikes = report["look_alikes"].as_array().unwrap();
    assert_eq!(look_alikes.len(), 1, "{report}");
    assert_eq!(look_alikes[0]["login"], "kim lee");
    assert_eq!(look_alikes[0]["holder_uid"], twin.uid.as_str());

    let (status, got) = app
        .register(json!({"email": "x@school.example", "username": "\u{430}dmin", "password": PW}))
        .await;
    assert_eq!(
        (status, got["error"].as_str()),
        (409, Some("login_look_alike"))
    );
    for login in ["admin", "kim lee", "kim\u{a0}lee"] {
        assert_eq!(app.sign_in(login, PW).await.0, 200, "{login}");
    }
    // Running it again changes nothing.
    let (ok, again, err) = app.cli(&["accounts", "claim-look-alikes"], None).await;
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap(), report);
}

#[tokio::test]
async fn look_alike_logins_are_one_login_and_invisible_characters_are_refused() {
    let app = TestApp::builder().start().await;
    let app = &app;
    let register = |email: &str, username: Option<&str>| {
        let mut body = json!({"email": email, "password": "a long password"});
        if let Some(name) = username {
            body["username"] = json!(name);
        }
        async move {
            let (status, body) = app.register(body).await;
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    };
    assert_eq!(
        register("jose\u{301}@example.com", Some("Jose\u{301}"))
            .await
            .0,
        201
    );
    for (look_alike, why) in [
        ("jos\u{e9}@example.com", "NFC of the stored NFD"),
        ("ｊｏｓé@ｅｘａｍｐｌｅ.com", "fullwidth forms"),
    ] {
        assert_eq!(
            register(look_alike, None).await,
            (409, "login_taken".to_string()),
            "{why}"
        );
    }
    for hidden in [
        "jo\u{200B}se@example.com",
        "jose\u{200D}@example.com",
        "\u{FEFF}jose@example.com",
    ] {
        assert_eq!(
            register(hidden, None).await,
            (400, "invalid_login".to_string()),
            "{hidden:?}"
        );
    }
    assert_eq!(
        register("lee@example.com", Some("le\u{2060}e")).await,
        (400, "invalid_login".to_string()),
        "usernames too"
    );
    // Every spelling signs in to the one account.
    for spelling in [
        "JOSÉ@example.com",
        "jose\u{301}@EXAMPLE.com",
        "ｊｏｓé@example.com",
    ] {
        assert_eq!(
            app.sign_in(spelling, "a long password").await.0,
            200,
            "{spelling}"
        );
    }
    let by_name = app
        .post_json(
            "/login/",
            json!({"username": "Jos\u{e9}", "password": "a long password"}),
        )
        .await;
    assert_eq!(by_name.status(), 200);
    // A username stored unnormalised before these rules still signs in as it was typed.
    let old = "Ma\u{301}ria\u{200B}";
    app.seed(None, Some(old), "old password", 0).await;
    let typed = app
        .post_json(
            "/login/",
            json!({"username": old, "password": "old password"}),
        )
        .await;
    assert_eq!(typed.status(), 200);
}

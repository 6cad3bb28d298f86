//! Logins that look alike — the same Unicode TR39 skeleton: `аdmin` with a Cyrillic `а` and
//! `admin`, a no-break space for a space — are one login. A registration or `accounts
//! create` of a look-alike is refused, deleting the account frees its logins' look, and
//! accounts from before look-alike claims get theirs from `accounts claim-look-alikes`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{TestApp, emulator_host, spawn_app};

const PW: &str = "a long password";

async fn register(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app.post_json("/register/", body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

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
    let app = spawn_app().await;
    let first = [
        json!({"email": "admin@school.example", "username": "admin", "password": PW}),
        json!({"email": "kim@school.example", "username": "kim lee", "password": PW}),
    ];
    for body in first {
        assert_eq!(register(&app, body).await.0, 201);
    }
    for body in [
        json!({"email": "x1@school.example", "username": "\u{430}dmin", "password": PW}),
        json!({"email": "\u{430}dmin@school.example", "password": PW}),
        json!({"email": "x3@school.example", "username": "kim\u{a0}lee", "password": PW}),
        json!({"email": "x4@school.example", "username": "\u{430}dm\u{456}n", "password": PW}),
    ] {
        let (status, got) = register(&app, body.clone()).await;
        assert_eq!(
            (status, got["error"].as_str()),
            (409, Some("login_look_alike")),
            "{body}"
        );
    }
    // A refused registration leaves nothing behind.
    let (status, _) = register(&app, json!({"email": "x1@school.example", "password": PW})).await;
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
    let (status, got) = register(
        &app,
        json!({"email": "x5@school.example", "username": "\u{430}dmin", "password": PW}),
    )
    .await;
    assert_eq!(status, 201, "deleting admin freed its look: {got}");
}

#[tokio::test]
async fn accounts_from_before_claims_get_theirs_and_keep_signing_in() {
    let app = spawn_app().await;
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

    let (status, got) = register(
        &app,
        json!({"email": "x@school.example", "username": "\u{430}dmin", "password": PW}),
    )
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

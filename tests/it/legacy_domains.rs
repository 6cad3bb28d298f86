//! `--legacy-domain`: a bare username also signs in as `username@domain`, whatever its case;
//! registration cannot take over such an alias in either order, and a newer account never
//! shadows an older one's alias.

use firegate::login::Login;
use firegate::passwords::Password;
use serde_json::{Value, json};

use crate::common::TestApp;

#[tokio::test]
async fn registration_cannot_take_over_a_legacy_domain_alias_in_either_order() {
    let app = TestApp::builder()
        .legacy_domain("school.example")
        .start()
        .await;
    // An imported username first: its alias cannot be registered as an email.
    let kim = app.seed(None, Some("kim"), "kim's password", 3600).await;
    let (response, _) = app
        .register(json!({"email": "Kim@School.example", "password": "attacker's password"}))
        .await;
    assert_eq!(response, 409);
    let (status, body) = app.sign_in("kim@school.example", "kim's password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(kim.uid.as_str()))
    );
    assert_eq!(
        app.sign_in("kim@school.example", "attacker's password")
            .await
            .0,
        400
    );
    // A registered email first: an account with that username cannot be created after it.
    let (response, _) = app
        .register(json!({"email": "lee@school.example", "password": "lee's password"}))
        .await;
    assert_eq!(response, 201);
    let created = app
        .service
        .create_account(
            firegate::service::NewAccount {
                uid: None,
                email: None,
                email_verified: None,
                username: Some(Login::parse("lee").unwrap()),
                password: Password::new("other password".into()).unwrap(),
                claims: Default::default(),
            },
            jiff::Timestamp::now(),
        )
        .await;
    assert!(
        matches!(created, Err(firegate::Error::LoginTaken(ref l)) if l == "lee@school.example"),
        "{created:?}"
    );
    // An account holding both spellings itself is fine.
    let (response, _) = app.register(json!({"email": "park@school.example", "username": "park", "password": "park's password"})).await;
    assert_eq!(response, 201);
}

#[tokio::test]
async fn a_mixed_case_legacy_username_signs_in_under_the_legacy_domain() {
    let app = TestApp::builder()
        .legacy_domain("school.example")
        .start()
        .await;
    let kim = app.seed(None, Some("Kim"), "kim's password", 3600).await;
    for typed in ["Kim", "Kim@school.example", "Kim@SCHOOL.example"] {
        let (status, body) = app.sign_in(typed, "kim's password").await;
        assert_eq!(
            (status, body["uid"].as_str()),
            (200, Some(kim.uid.as_str())),
            "{typed}"
        );
    }
}

#[tokio::test]
async fn a_newer_account_never_shadows_an_older_ones_alias() {
    let app = TestApp::builder()
        .legacy_domain("school.example")
        .start()
        .await;
    // Both pairs exist (written before the rule, or racing each other): the older wins.
    let old_name = app.seed(None, Some("kim"), "username password", 7200).await;
    let new_email = app
        .seed(Some("kim@school.example"), None, "email password", 60)
        .await;
    let (status, body) = app.sign_in("kim@school.example", "username password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(old_name.uid.as_str()))
    );
    assert_eq!(
        app.sign_in("kim@school.example", "email password").await.0,
        400
    );

    let old_email = app
        .seed(Some("lee@school.example"), None, "email password", 7200)
        .await;
    let new_name = app.seed(None, Some("lee"), "username password", 60).await;
    let (status, body) = app.sign_in("lee@school.example", "email password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(old_email.uid.as_str()))
    );
    assert_eq!(
        app.sign_in("lee@school.example", "username password")
            .await
            .0,
        400
    );
    // The bare username names only the username account.
    let bare = app
        .post_json(
            "/login/",
            json!({"username": "lee", "password": "username password"}),
        )
        .await;
    assert_eq!(bare.status(), 200);
    let body: Value = bare.json().await.unwrap();
    assert_eq!(body["uid"], new_name.uid.as_str());
    assert_ne!(new_email.uid, new_name.uid);
}

//! Signing in over HTTP against the emulator: tokens, failures, uniqueness, legacy domains.

use firegate::service::AccountRef;
use serde_json::{Value, json};

use crate::common::{TestApp, shared_public_pem, verify_token};

#[tokio::test]
async fn a_right_password_yields_a_token_signed_by_the_service_account() {
    let app = TestApp::start().await;
    let account = app.create("kim@example.com", "correct horse").await;

    let response = app
        .post_json(
            "/login/",
            json!({"email": "Kim@Example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], account.uid.as_str());

    let token = body["token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let key = app.service.signer.key_ring().unwrap().active();
    assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
    let claims = verify_token(token, &shared_public_pem()).unwrap();
    assert_eq!(claims["uid"], account.uid.as_str());
    assert_eq!(claims["iss"], key.client_email);
    assert_eq!(claims["sub"], key.client_email);
    let now = jiff::Timestamp::now().as_second();
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now - 60..=now).contains(&iat), "iat {iat} vs now {now}");
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    assert!(claims.get("claims").is_none());

    let other = firegate::keys::keygen::generate_rsa(2048).unwrap();
    assert!(verify_token(token, other.public_pem()).is_err());
}

#[tokio::test]
async fn both_paths_and_the_username_field_work() {
    let app = TestApp::start().await;
    app.create("legacy_kim", "pw-123456").await;
    for path in ["/login", "/login/"] {
        let (status, _) = app
            .post(
                path,
                json!({"username": "legacy_kim", "password": "pw-123456"}),
            )
            .await;
        assert_eq!(status, 200, "{path}");
        let (status, _) = app
            .post(
                path,
                json!({"email": "legacy_kim", "password": "pw-123456"}),
            )
            .await;
        assert_eq!(status, 200, "{path} with the login sent as email");
    }
    // Usernames match exactly.
    let (status, _) = app
        .post(
            "/login/",
            json!({"username": "Legacy_kim", "password": "pw-123456"}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn every_failed_sign_in_gets_the_same_400_body() {
    let app = TestApp::start().await;
    let account = app.create("lee@example.com", "right password").await;
    app.create("off@example.com", "right password").await;
    app.service
        .set_disabled(&AccountRef::Login("off@example.com".into()), true)
        .await
        .unwrap();

    let wrong = app.sign_in("lee@example.com", "wrong password").await;
    let unknown = app.sign_in("nobody@example.com", "right password").await;
    let disabled = app.sign_in("off@example.com", "right password").await;
    let expected =
        json!({"error": "invalid_credentials", "message": firegate::http::INVALID_CREDENTIALS});
    for (what, got) in [
        ("wrong", wrong),
        ("unknown", unknown),
        ("disabled", disabled),
    ] {
        assert_eq!(got, (400, expected.clone()), "{what}");
    }

    app.service
        .set_disabled(&AccountRef::Login("off@example.com".into()), false)
        .await
        .unwrap();
    let (status, _) = app.sign_in("off@example.com", "right password").await;
    assert_eq!(status, 200, "re-enabled account signs in");
    let (status, body) = app.sign_in("lee@example.com", "right password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(account.uid.as_str()))
    );
}

#[tokio::test]
async fn an_unknown_login_costs_a_password_hash_like_a_wrong_password() {
    let app = TestApp::start().await;
    app.create("han@example.com", "right password").await;
    let before = app.service.passwords.hashes_computed();
    let unknown = app.sign_in("ghost@example.com", "whatever").await;
    assert_eq!(unknown.0, 400);
    assert_eq!(app.service.passwords.hashes_computed(), before + 1);
    let wrong = app.sign_in("han@example.com", "wrong").await;
    assert_eq!(
        wrong, unknown,
        "the same answer whether or not the login exists"
    );
    assert_eq!(app.service.passwords.hashes_computed(), before + 2);
}

#[tokio::test]
async fn concurrent_creations_of_one_login_yield_exactly_one_account() {
    let app = TestApp::start().await;
    let attempts = (0..20).map(|i| {
        let service = app.service.clone();
        tokio::spawn(async move {
            service
                .create_account(
                    firegate::service::NewAccount {
                        uid: None,
                        email: Some(firegate::login::Login::parse("race@example.com").unwrap()),
                        email_verified: None,
                        username: None,
                        password: firegate::passwords::Password::new(format!("password {i}"))
                            .unwrap(),
                        claims: Default::default(),
                    },
                    jiff::Timestamp::now(),
                )
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let created = results
        .iter()
        .filter(|r| r.as_ref().unwrap().is_ok())
        .count();
    let taken = results
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Err(firegate::Error::LoginTaken(_))))
        .count();
    assert_eq!((created, taken), (1, 19));
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 1);
}

#[tokio::test]
async fn a_legacy_domain_maps_to_the_bare_username() {
    let app = TestApp::builder()
        .legacy_domain("school.example")
        .start()
        .await;
    let account = app.create("park", "pw-legacy").await;
    let (status, body) = app.sign_in("park@school.example", "pw-legacy").await;
    assert_eq!(status, 200);
    assert_eq!(body["uid"], account.uid.as_str());
    let (status, _) = app.sign_in("park@elsewhere.example", "pw-legacy").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn claims_are_copied_into_the_token() {
    let app = TestApp::start().await;
    let account = app
        .service
        .create_account(
            firegate::service::NewAccount {
                uid: Some(firegate::accounts::Uid::parse("legacy-1042").unwrap()),
                email: Some(firegate::login::Login::parse("teacher@example.com").unwrap()),
                email_verified: None,
                username: None,
                password: firegate::passwords::Password::new("pw-claims".into()).unwrap(),
                claims: firegate::claims::Claims::parse(json!({"role": "teacher", "school": 7}))
                    .unwrap(),
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(account.uid.as_str(), "legacy-1042");
    let (status, body) = app.sign_in("teacher@example.com", "pw-claims").await;
    assert_eq!(status, 200);
    let claims = verify_token(body["token"].as_str().unwrap(), &shared_public_pem()).unwrap();
    assert_eq!(claims["uid"], "legacy-1042");
    assert_eq!(claims["claims"], json!({"role": "teacher", "school": 7}));
}

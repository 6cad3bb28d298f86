//! Password reset by mail, against a real SMTP server (mailin's, in-process: `smtp_sink.rs`)
//! and the Firestore emulator: request → mail → link → new password; the one answer for unknown
//! addresses; tokens single use, expiring, outdated by a password change, stored hashed; the
//! per-account mail limit; the Trigger Email document; a failing SMTP server.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{ServerProcess, TestApp, eventually, keys_dir, project_id};
use crate::smtp_sink::SmtpSink;

/// The token in a reset mail's link.
fn token_in(mail: &Value) -> String {
    let text = mail["text"].as_str().unwrap();
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    text[at..at + 43].to_string()
}

async fn request(app: &TestApp, email: &str) -> (u16, Value) {
    let response = app
        .post_json("/password-reset/", json!({ "email": email }))
        .await;
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["referrer-policy"],
        "no-referrer",
        "no answer of the reset flow sends a referrer"
    );
    (status, response.json().await.unwrap())
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> (u16, Value) {
    app.post(
        "/password-reset/confirm/",
        json!({ "token": token, "new_password": password }),
    )
    .await
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_ends_the_lockout() {
    let (app, sink) = TestApp::builder()
        .flags(&["--lockout-threshold", "3"])
        .start_with_mail()
        .await;
    app.create("kim@example.com", "old password").await;
    for _ in 0..3 {
        assert_eq!(app.sign_in("kim@example.com", "guess").await.0, 400);
    }
    assert_eq!(
        app.sign_in("kim@example.com", "old password").await.0,
        400,
        "locked"
    );

    let (status, body) = request(&app, "kim@example.com").await;
    assert_eq!(status, 202);
    let mail = sink.mail("kim@example.com", 1).await;
    assert_eq!(mail["from"], "no-reply@school.example");
    let token = token_in(&mail);
    assert!(mail["text"].as_str().unwrap().contains(&format!(
        "https://auth.example.com/password-reset/?lang=en#token={token}"
    )));
    assert!(mail["html"].as_str().unwrap().contains(&token));
    // Stored by its SHA-256 only.
    let id = hex::encode(Sha256::digest(token.as_bytes()));
    assert!(app.service.store.find_token(&id).await.unwrap().is_some());
    assert!(
        app.service
            .store
            .find_token(&token)
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(
        confirm(&app, &token, "short").await.0,
        400,
        "the registration policy applies"
    );
    assert_eq!(confirm(&app, &token, "a new password").await.0, 204);
    assert_eq!(
        app.sign_in("kim@example.com", "a new password").await.0,
        200,
        "signs in with the new password, the lockout cleared"
    );
    assert_eq!(app.sign_in("kim@example.com", "old password").await.0, 400);
    let (status, body2) = confirm(&app, &token, "yet another password").await;
    assert_eq!(
        (status, body2["error"].as_str()),
        (400, Some("invalid_token")),
        "single use"
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let (app, sink) = TestApp::builder().start_with_mail().await;
    app.create("kim@example.com", "old password").await;
    let unknown = request(&app, "nobody@example.com").await;
    let known = request(&app, "kim@example.com").await;
    assert_eq!(unknown, known, "one status and one body for both");
    sink.mail("kim@example.com", 1).await;
    assert!(sink.mails_to("nobody@example.com").is_empty());
    assert_eq!(sink.mails.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_expired_and_outdated_tokens_are_one_refusal() {
    let (app, sink) = TestApp::builder().start_with_mail().await;
    app.create("kim@example.com", "old password").await;
    request(&app, "kim@example.com").await;
    let token = token_in(&sink.mail("kim@example.com", 1).await);

    for wrong in [
        "x".repeat(43),
        "not-a-token".to_string(),
        format!("{token}x"),
    ] {
        let (status, body) = confirm(&app, &wrong, "a new password").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_token")),
            "{wrong:?}"
        );
    }
    // After its lifetime (an hour): the service is asked two hours on.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
    let password = firegate::passwords::Password::new("a new password".into()).unwrap();
    let expired = app
        .service
        .confirm_password_reset(&token, &password, None, later)
        .await;
    assert!(
        matches!(
            expired,
            Err(firegate::Error::InvalidInput {
                code: "invalid_token",
                ..
            })
        ),
        "{expired:?}"
    );
    // A password change after the mail outdates its link.
    let (ok, _, err) = app
        .cli(
            &["accounts", "set-password", "--login", "kim@example.com"],
            Some("changed by admin\n"),
        )
        .await;
    assert!(ok, "{err}");
    let (status, body) = confirm(&app, &token, "a new password").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_token"))
    );
    assert_eq!(
        app.sign_in("kim@example.com", "changed by admin").await.0,
        200
    );
}

#[tokio::test]
async fn each_account_gets_at_most_its_hourly_mails() {
    let (app, sink) = TestApp::builder()
        .flags(&["--reset-mails-per-hour", "2"])
        .start_with_mail()
        .await;
    app.create("kim@example.com", "old password").await;
    app.create("lee@example.com", "old password").await;
    for _ in 0..3 {
        assert_eq!(request(&app, "kim@example.com").await.0, 202);
    }
    sink.mail("kim@example.com", 2).await;
    // A later request's mail arriving shows the third one for kim was handled by then.
    request(&app, "lee@example.com").await;
    sink.mail("lee@example.com", 1).await;
    assert_eq!(sink.mails_to("kim@example.com").len(), 2);
}

#[tokio::test]
async fn the_trigger_email_transport_writes_the_extensions_document() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder()
        .flags(&[
            "--mail-url",
            "firestore:firegate_mail",
            "--reset-link-template",
            "https://app.example.com/reset?token={token}",
        ])
        .start()
        .await;
    app.create("kim@example.com", "old password").await;
    assert_eq!(request(&app, "kim@example.com").await.0, 202);
    eventually("the mail document is written", || async {
        !mail_documents(&app).await.is_empty()
    })
    .await;
    let docs = mail_documents(&app).await;
    assert_eq!(docs.len(), 1, "one document for the one mail");
    let fields = docs[0]["fields"].clone();
    assert_eq!(fields["to"]["stringValue"], "kim@example.com");
    let message = &fields["message"]["mapValue"]["fields"];
    let text = message["text"]["stringValue"].as_str().unwrap();
    assert!(
        text.contains("https://app.example.com/reset?token="),
        "{text}"
    );
    assert!(
        message["html"]["stringValue"]
            .as_str()
            .unwrap()
            .contains("<a href")
    );
    assert!(
        message["subject"]["stringValue"]
            .as_str()
            .unwrap()
            .contains("Reset")
    );
    assert!(sink.mails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_smtp_server_is_logged_and_the_answer_unchanged() {
    let sink = SmtpSink::start(true);
    let url = sink.url();
    let server = ServerProcess::start_in(
        keys_dir(),
        project_id(),
        &[
            "--mail-url",
            &url,
            "--public-url",
            "https://auth.example.com",
        ],
        &[],
        &[],
    )
    .await;
    let created = server.command(
        &["accounts", "create", "--login", "kim@example.com"],
        Some("old password\n"),
    );
    assert!(created.status.success());
    let response = reqwest::Client::new()
        .post(server.url("/password-reset/"))
        .json(&json!({"email": "kim@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let logs = server.wait_for_log("password reset mail not sent").await;
    assert!(logs.contains("451"), "the log names the server's refusal");
    assert!(!logs.contains("token="), "the link never reaches the log");
}

async fn confirm_verification(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .post_json("/email-verification/confirm/", json!({ "token": token }))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn with_required_verification_a_registration_signs_in_after_its_link() {
    let (app, sink) = TestApp::builder()
        .require_verified_email()
        .start_with_mail()
        .await;
    let (registered, _) = app
        .register(json!({ "email": "new@example.com", "password": "a new passphrase" }))
        .await;
    assert_eq!(registered, 201);
    let mail = sink.mail("new@example.com", 1).await;
    assert_eq!(mail["subject"], "Confirm your firegate email address");
    let token = token_in(&mail);
    assert!(mail["text"].as_str().unwrap().contains(&format!(
        "https://auth.example.com/email-verification/?lang=en#token={token}"
    )));
    let (status, refused) = app.sign_in("new@example.com", "a new passphrase").await;
    let (_, wrong) = app.sign_in("new@example.com", "not the passphrase").await;
    assert_eq!(
        (status, &refused),
        (400, &wrong),
        "unverified: answered like a wrong password"
    );
    let (_, shown, _) = app
        .cli(&["accounts", "show", "--login", "new@example.com"], None)
        .await;
    assert!(shown.contains("\"email_verified\": false"), "{shown}");

    // A reset token does not verify, a verification token does, once.
    assert_eq!(
        confirm(&app, &token, "another passphrase").await.0,
        400,
        "a verification token is no reset token"
    );
    assert_eq!(confirm_verification(&app, &token).await.0, 204);
    assert_eq!(
        confirm_verification(&app, &token).await.0,
        400,
        "single use"
    );
    assert_eq!(
        app.sign_in("new@example.com", "a new passphrase").await.0,
        200
    );
    let (_, shown, _) = app
        .cli(&["accounts", "show", "--login", "new@example.com"], None)
        .await;
    assert!(shown.contains("\"email_verified\": true"), "{shown}");

    // Asking again for a verified address sends nothing; a wrong password is a failed sign-in.
    let asked = app
        .post_json(
            "/email-verification/",
            json!({ "email": "new@example.com", "password": "a new passphrase" }),
        )
        .await;
    assert_eq!(asked.status().as_u16(), 202);
    let wrong = app
        .post_json(
            "/email-verification/",
            json!({ "email": "new@example.com", "password": "wrong" }),
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 400);
    // The refused sign-in above mailed a fresh link (the owner may have lost the first);
    // once verified, no more. Both requests have answered, so any mail of theirs is sent or
    // on its way.
    eventually("the background mails are sent", || async {
        app.service.mails_in_flight() == 0
    })
    .await;
    sink.mail("new@example.com", 2).await;
    assert_eq!(sink.mails_to("new@example.com").len(), 2, "no third mail");
}

#[tokio::test]
async fn a_reset_proves_the_address_and_takes_over_a_squatted_registration() {
    let (app, sink) = TestApp::builder()
        .require_verified_email()
        .start_with_mail()
        .await;
    // Someone registers the owner's address first.
    let (squatted, _) = app
        .register(json!({ "email": "owner@example.com", "password": "squatter's choice" }))
        .await;
    assert_eq!(squatted, 201);
    assert_eq!(
        app.sign_in("owner@example.com", "squatter's choice")
            .await
            .0,
        400,
        "the squatter cannot sign in without the owner's mail"
    );
    let (changed, _) = app
        .change_password(
            "owner@example.com",
            "squatter's choice",
            "to void the owner's link",
        )
        .await;
    assert_eq!(
        changed, 400,
        "nor change the password, which would outdate the owner's reset link"
    );
    // The owner, whose mailbox it is, resets the password.
    assert_eq!(request(&app, "owner@example.com").await.0, 202);
    // Two mails are verification links (registration, the squatter's refused sign-in),
    // which the squatter never saw; they have an allowance of their own. Each is sent in the
    // background, so the reset's may come before the sign-in's.
    sink.mail("owner@example.com", 3).await;
    let reset = sink
        .mails_to("owner@example.com")
        .into_iter()
        .find(|m| m["subject"] == "Reset your firegate password")
        .expect("a reset mail among the three");
    assert_eq!(
        confirm(&app, &token_in(&reset), "the owner's own").await.0,
        204
    );
    assert_eq!(
        app.sign_in("owner@example.com", "the owner's own").await.0,
        200,
        "the reset verified the address"
    );
    assert_eq!(
        app.sign_in("owner@example.com", "squatter's choice")
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn repeated_bad_tokens_from_one_network_are_counted_and_then_refused() {
    let (app, _sink) = TestApp::builder()
        .flags(&["--rate-limit-per-minute", "0"])
        .start_with_mail()
        .await;
    let bad = "A".repeat(43);
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(confirm(&app, &bad, "whatever password").await.0);
    }
    assert_eq!(&statuses[..20], &[400; 20]);
    assert_eq!(statuses[20], 429, "the 21st failure in an hour");
}

/// Stores an account whose email was accepted under older, looser rules, as Firestore may
/// still hold it (a sign-in finds it as typed), with an unverified address.
async fn stored_before_the_rule(app: &TestApp, email: &str, password: &str) {
    let now = jiff::Timestamp::now();
    let account = firegate::accounts::Account {
        uid: firegate::accounts::Uid::generate(),
        email: Some(firegate::login::Login::as_typed(email).unwrap()),
        email_verified: Some(false),
        username: None,
        password: firegate::passwords::StoredHash::of_typed(
            crate::common::argon2id_hash(password, 1024, 1).await,
            firegate::passwords::Dialect::Phc,
        ),
        created_at: now,
        updated_at: now,
        disabled: false,
        claims: Default::default(),
        firebase: Default::default(),
        language: None,
        factors: Default::default(),
        breached_at: None,
    };
    app.service.store.create_account(&account).await.unwrap();
}

/// Display names, lists and quotes that lettre or the Trigger Email extension would read as
/// some other address, or several.
const NOT_ONE_ADDRESS: [&str; 6] = [
    "\"ceo@school.example\"<attacker@evil.example>",
    "\"ceo@school.example\" <attacker@evil.example>",
    "n1<victim@school.example>",
    "victim9@school.example,attacker9@evil.example",
    "victim@school.example;attacker@evil.example",
    "\"victim@school.example\"@evil.example",
];

#[tokio::test]
async fn a_registration_must_be_one_bare_address_and_mails_nobody_else() {
    let (app, sink) = TestApp::builder()
        .require_verified_email()
        .start_with_mail()
        .await;
    for email in NOT_ONE_ADDRESS {
        let (status, body) = app
            .register(json!({ "email": email, "password": "a new passphrase" }))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_email")),
            "{email}: {body}"
        );
    }
    let (registered, _) = app
        .register(json!({ "email": "kim@school.example", "password": "a new passphrase" }))
        .await;
    assert_eq!(registered, 201);
    // Its mail arriving shows that the refused ones, had they sent any, would be in by now.
    sink.mail("kim@school.example", 1).await;
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(app.service.store.count_accounts().await.unwrap(), 1);
}

#[tokio::test]
async fn an_address_stored_with_a_display_name_gets_no_mail_and_requests_naming_one_are_refused() {
    let (app, sink) = TestApp::builder()
        .require_verified_email()
        .start_with_mail()
        .await;
    app.create("victim@school.example", "the victim's own")
        .await;
    stored_before_the_rule(&app, "n1<victim@school.example>", "attacker's choice").await;

    for email in NOT_ONE_ADDRESS
        .iter()
        .chain(["n1<victim@school.example>"].iter())
    {
        let reset = app
            .post_json("/password-reset/", json!({ "email": email }))
            .await;
        let status = reset.status().as_u16();
        let body: Value = reset.json().await.unwrap();
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_email")),
            "reset for {email}"
        );
        let resend = app
            .post_json(
                "/email-verification/",
                json!({ "email": email, "password": "attacker's choice" }),
            )
            .await;
        assert_eq!(resend.status().as_u16(), 400, "verification for {email}");
    }
    // An unverified sign-in mails a fresh link, but only to the bare address the login is.
    let (status, _) = app
        .sign_in("n1<victim@school.example>", "attacker's choice")
        .await;
    assert_eq!(status, 400, "unverified");

    assert_eq!(request(&app, "victim@school.example").await.0, 202);
    let mail = sink.mail("victim@school.example", 1).await;
    assert_eq!(mail["subject"], "Reset your firegate password");
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "only the victim's own reset: {mails:?}");
}

/// The documents of the Trigger Email collection `firegate_mail`.
async fn mail_documents(app: &TestApp) -> Vec<Value> {
    let url = format!(
        "http://{}/v1/projects/{}/databases/(default)/documents/firegate_mail",
        crate::common::emulator_host(),
        app.project()
    );
    let listed: Value = reqwest::Client::new()
        .get(&url)
        .bearer_auth("owner")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["documents"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_trigger_email_document_names_one_bare_address() {
    let app = TestApp::builder()
        .flags(&[
            "--mail-url",
            "firestore:firegate_mail",
            "--public-url",
            "https://auth.example.com",
        ])
        .require_verified_email()
        .start()
        .await;
    let listed = "victim9@school.example,attacker9@evil.example";
    stored_before_the_rule(&app, listed, "attacker's choice").await;
    app.create("kim@school.example", "old password").await;
    assert_eq!(app.sign_in(listed, "attacker's choice").await.0, 400);
    assert_eq!(request(&app, "kim@school.example").await.0, 202);
    eventually("kim's mail document is written", || async {
        mail_documents(&app)
            .await
            .iter()
            .any(|d| d["fields"]["to"]["stringValue"] == "kim@school.example")
    })
    .await;
    let docs = mail_documents(&app).await;
    let to: Vec<&Value> = docs.iter().map(|d| &d["fields"]["to"]).collect();
    assert_eq!(to.len(), 1, "{to:?}");
}

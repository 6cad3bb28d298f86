//! Whose language a mail speaks: a mail a request causes (the verification link a sign-in
//! sends, the second-factor mails) speaks the language the request names (`lang`/`hl`, else
//! `Accept-Language`), else the one its account keeps; registration keeps the language the
//! client names (or none), `PATCH /account/` changes it, and the mails no request causes (an
//! admin's factor reset) speak it. Operators' keys English lacks are warned about once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ServerProcess, TestApp, project_id, send};
use crate::mfa::{MfaApp, PW, spawn_mfa_in};
use crate::smtp_sink::SmtpSink;

const VERIFY_KO: &str = "[firegate] 이메일 주소 인증 안내";
const VERIFY_EN: &str = "Confirm your firegate email address";

/// A JSON request to `path` speaking `accept_language`: status and body.
async fn speaking(
    app: &TestApp,
    method: Method,
    path: &str,
    accept_language: Option<&str>,
    bearer: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).json(&body);
    if let Some(header) = accept_language {
        request = request.header("accept-language", header);
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    send(request).await
}

/// Enrols an authenticator for the account of `token` through requests speaking
/// `accept_language`: its recovery codes.
async fn enrol(app: &TestApp, token: &str, accept_language: Option<&str>) -> Vec<String> {
    let (status, body) = speaking(
        app,
        Method::POST,
        "/mfa/totp/enroll/",
        accept_language,
        Some(token),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let secret =
        firegate::factors::TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let code = secret.code_at(jiff::Timestamp::now());
    let (status, body) = speaking(
        app,
        Method::POST,
        "/mfa/totp/confirm/",
        accept_language,
        Some(token),
        json!({"code": code}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// A mail's text part.
fn text(mail: &Value) -> &str {
    mail["text"].as_str().unwrap()
}

#[tokio::test]
async fn a_sign_in_mails_its_verification_link_in_the_language_it_names() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder()
        .mail_sink(&sink)
        .flags(&["--require-verified-email", "--reset-mails-per-hour", "10"])
        .start()
        .await;
    // Registered naming no language: the account keeps none, and its first link is English.
    let register = json!({"email": "kim@example.com", "password": PW});
    assert_eq!(app.post("/register/", register).await.0, 201);
    assert_eq!(sink.mail("kim@example.com", 1).await["subject"], VERIFY_EN);
    let sign_in = json!({"email": "kim@example.com", "password": PW});
    let (status, _) = speaking(
        &app,
        Method::POST,
        "/login/",
        Some("ko-KR,ko;q=0.9"),
        None,
        sign_in.clone(),
    )
    .await;
    assert_eq!(status, 400, "unverified");
    let mail = sink.mail("kim@example.com", 2).await;
    assert_eq!(mail["subject"], VERIFY_KO);
    assert!(text(&mail).contains("?lang=ko#token="), "{mail}");
    // A sign-in naming no language: the account keeps none, so the default.
    let (status, _) = speaking(&app, Method::POST, "/login/", None, None, sign_in.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(sink.mail("kim@example.com", 3).await["subject"], VERIFY_EN);
    // `lang` comes before Accept-Language; a time zone is the reader's.
    let mut zoned = sign_in.clone();
    zoned["time_zone"] = json!("Asia/Seoul");
    let (status, _) = speaking(
        &app,
        Method::POST,
        "/login/?lang=ko",
        Some("en"),
        None,
        zoned,
    )
    .await;
    assert_eq!(status, 400);
    let mail = sink.mail("kim@example.com", 4).await;
    assert_eq!(mail["subject"], VERIFY_KO);
    assert!(text(&mail).contains(" KST까지"), "{mail}");
}

#[tokio::test]
async fn second_factor_mails_speak_the_language_of_the_request_that_caused_them() {
    let sink = SmtpSink::start(false);
    let builder = TestApp::builder()
        .mail_sink(&sink)
        .flags(&["--reset-mails-per-hour", "10"]);
    let m: MfaApp = spawn_mfa_in(&project_id(), builder).await;
    let uid = m.app.create("lee@example.com", PW).await.uid.to_string();
    let token = m.id_token(&uid);
    let app = &m.app;
    let recovery = enrol(app, &token, Some("ko-KR,ko;q=0.9,en;q=0.8")).await;
    let added = sink.mail("lee@example.com", 1).await;
    assert_eq!(added["subject"], "[firegate] 2단계 인증 변경 안내");
    assert!(
        text(&added).contains("인증 앱이 2단계 인증 수단으로 추가됐어요."),
        "{added}"
    );

    // The second sign-in step, from a Korean browser, with a recovery code.
    let mfa_token = m.first_step("lee@example.com").await;
    let step = json!({"mfa_token": mfa_token, "code": recovery[0]});
    let (status, body) = speaking(
        app,
        Method::POST,
        "/login/second-factor/",
        Some("ko"),
        None,
        step,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let used = sink.mail("lee@example.com", 2).await;
    assert!(text(&used).contains("복구 코드로 로그인했어요."), "{used}");

    // New recovery codes from an English browser, then the authenticator removed from a
    // Korean one (`hl`, as Google's links spell it).
    let token = m.id_token(&uid);
    let regenerate = json!({"code": recovery[1]});
    let (status, body) = speaking(
        app,
        Method::POST,
        "/mfa/recovery-codes/",
        Some("en-US"),
        Some(&token),
        regenerate,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["recovery_codes"][0].as_str().unwrap().to_string();
    let made = sink.mail("lee@example.com", 3).await;
    assert!(
        text(&made).contains("New recovery codes were made"),
        "{made}"
    );
    let remove = json!({"code": fresh});
    let (status, body) = speaking(
        app,
        Method::POST,
        "/mfa/totp/remove/?hl=ko",
        Some("en-US"),
        Some(&token),
        remove,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let removed = sink.mail("lee@example.com", 4).await;
    assert!(
        text(&removed).contains("인증 앱이 2단계 인증 수단에서 삭제됐어요."),
        "{removed}"
    );
}

#[tokio::test]
async fn an_account_keeps_the_language_its_owner_sets_for_mails_no_request_causes() {
    let sink = SmtpSink::start(false);
    let builder = TestApp::builder().admin().mail_sink(&sink);
    let m = spawn_mfa_in(&project_id(), builder).await;
    let app = &m.app;
    let uid = app.create("park@example.com", PW).await.uid.to_string();
    let token = m.id_token(&uid);
    let change = |body: Value, bearer: Option<String>| async move {
        speaking(
            app,
            Method::PATCH,
            "/account/",
            None,
            bearer.as_deref(),
            body,
        )
        .await
    };

    let (status, body) = change(json!({"language": "ko"}), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("missing_id_token"))
    );
    let (status, body) = change(json!({"language": "ko-KR"}), Some(token.clone())).await;
    assert_eq!(
        (status, body),
        (200, json!({"language": "ko", "languages": ["en", "ko"]}))
    );
    assert_eq!(
        app.stored("park@example.com")
            .await
            .account
            .language
            .as_deref(),
        Some("ko")
    );
    let (status, body) = change(json!({"language": "<fr>"}), Some(token.clone())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_language"))
    );
    assert!(!body.to_string().contains("<fr>"), "not echoed: {body}");
    let (status, body) = change(json!({}), Some(token.clone())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("missing_field"))
    );
    let (status, body) = send(app.http.get(app.url("/account/")).bearer_auth(&token)).await;
    assert_eq!((status, &body["language"]), (200, &json!("ko")));

    // Enrolled by requests naming no language, then reset by an admin: the account's Korean.
    enrol(app, &token, None).await;
    let added = sink.mail("park@example.com", 1).await;
    assert!(
        text(&added).contains("인증 앱이 2단계 인증 수단으로 추가됐어요."),
        "{added}"
    );
    let reset = format!("/admin/api/accounts/{uid}/mfa/reset");
    assert_eq!(send(app.admin(Method::POST, &reset)).await.0, 200);
    let reset_mail = sink.mail("park@example.com", 2).await;
    assert!(
        text(&reset_mail).contains("관리자가 2단계 인증을 해제했어요."),
        "{reset_mail}"
    );

    // `null` keeps none again: the default's English.
    let token = m.id_token(&uid);
    let (status, body) = change(json!({"language": null}), Some(token.clone())).await;
    assert_eq!((status, &body["language"]), (200, &Value::Null));
    assert_eq!(app.stored("park@example.com").await.account.language, None);
    enrol(app, &token, None).await;
    let added = sink.mail("park@example.com", 3).await;
    assert!(
        text(&added).contains("authenticator app was added"),
        "{added}"
    );
}

#[tokio::test]
async fn registration_keeps_the_language_the_client_names_or_none() {
    let app = TestApp::builder().start().await;
    let register = |email: &str, accept_language: Option<&'static str>, language: Option<&str>| {
        let mut body = json!({"email": email, "password": PW});
        if let Some(tag) = language {
            body["language"] = json!(tag);
        }
        let app = &app;
        async move { speaking(app, Method::POST, "/register/", accept_language, None, body).await }
    };
    assert_eq!(register("a@example.com", None, None).await.0, 201);
    assert_eq!(app.stored("a@example.com").await.account.language, None);
    assert_eq!(
        register("b@example.com", Some("ko-KR,ko;q=0.9"), None)
            .await
            .0,
        201
    );
    assert_eq!(
        app.stored("b@example.com")
            .await
            .account
            .language
            .as_deref(),
        Some("ko")
    );
    assert_eq!(
        register("c@example.com", Some("en-US"), Some("ko")).await.0,
        201
    );
    assert_eq!(
        app.stored("c@example.com")
            .await
            .account
            .language
            .as_deref(),
        Some("ko")
    );
    // A browser language we have no catalog for is no choice: nothing kept.
    assert_eq!(register("d@example.com", Some("fr-FR"), None).await.0, 201);
    assert_eq!(app.stored("d@example.com").await.account.language, None);
    let (status, body) = register("e@example.com", None, Some("xx")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_language"))
    );
}

#[tokio::test]
async fn an_operators_key_english_lacks_is_warned_about_once_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ko.ftl");
    std::fs::write(
        &file,
        "reset-heading = 비밀번호 다시 정하기\nreset-headng = 오타\n",
    )
    .unwrap();
    let server = ServerProcess::start(&[], &["--messages-dir", dir.path().to_str().unwrap()]).await;
    let logs = server.wait_for_log("reset-headng").await;
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("reset-headng"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(
        warnings[0].contains(&file.display().to_string()),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("English has no such key"),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn a_reset_that_names_no_language_is_mailed_in_the_accounts_own() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder().mail_sink(&sink).start().await;
    // Registered from a Korean browser: the account keeps Korean.
    let body = json!({"email": "kim@example.com", "password": PW});
    let (status, _) = speaking(&app, Method::POST, "/register/", Some("ko-KR"), None, body).await;
    assert_eq!(status, 201);
    // A native app asks for a reset naming no language: the mail is the account's.
    let (status, _) = app
        .post("/password-reset/", json!({"email": "kim@example.com"}))
        .await;
    assert_eq!(status, 202);
    let mail = sink.mail("kim@example.com", 1).await;
    assert_eq!(mail["subject"], "[firegate] 비밀번호 재설정 안내");
}

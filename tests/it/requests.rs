//! Malformed requests: each gets a specific JSON error and a 4xx, never a 500, and none costs
//! a password hash.

use serde_json::{Value, json};

use crate::common::{ServerProcess, TestApp, answer};

/// `POST /login/` with this body, of this content type if any.
async fn post_login(
    app: &TestApp,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = app.http.post(app.url("/login/")).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn bad_bodies_get_specific_errors_and_cost_no_hash() {
    let app = TestApp::start().await;
    app.create("kim@example.com", "right password").await;
    let before = app.service.passwords.hashes_computed();
    let json_ct = Some("application/json");
    let long_password = "p".repeat(4097);
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            json_ct,
            b"{\"email\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "not an object",
            json_ct,
            b"[1, 2]".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "form content type",
            Some("application/x-www-form-urlencoded"),
            b"email=a&password=b".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            None,
            br#"{"email":"a","password":"b"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "missing password",
            json_ct,
            br#"{"email":"kim@example.com"}"#.to_vec(),
            400,
            "missing_field",
        ),
        (
            "missing login",
            json_ct,
            br#"{"password":"x"}"#.to_vec(),
            400,
            "missing_field",
        ),
        (
            "extra field",
            json_ct,
            br#"{"email":"kim@example.com","password":"x","remember":true}"#.to_vec(),
            400,
            "unknown_field",
        ),
        (
            "number password",
            json_ct,
            br#"{"email":"kim@example.com","password":12345}"#.to_vec(),
            400,
            "invalid_field",
        ),
        (
            "array email",
            json_ct,
            br#"{"email":["kim@example.com"],"password":"x"}"#.to_vec(),
            400,
            "invalid_field",
        ),
        (
            "empty email",
            json_ct,
            br#"{"email":"","password":"x"}"#.to_vec(),
            400,
            "empty_field",
        ),
        (
            "empty password",
            json_ct,
            br#"{"email":"kim@example.com","password":""}"#.to_vec(),
            400,
            "empty_field",
        ),
        (
            "both logins",
            json_ct,
            br#"{"email":"kim@example.com","username":"kim","password":"x"}"#.to_vec(),
            400,
            "ambiguous_login",
        ),
        (
            "malformed email",
            json_ct,
            br#"{"email":"kim@","password":"x"}"#.to_vec(),
            400,
            "invalid_email",
        ),
        (
            "non-UTF-8",
            json_ct,
            b"{\"email\":\"k\xff\xfe\",\"password\":\"x\"}".to_vec(),
            400,
            "invalid_encoding",
        ),
        (
            "password over 4 KiB",
            json_ct,
            serde_json::to_vec(&json!({"email": "kim@example.com", "password": long_password}))
                .unwrap(),
            400,
            "password_too_long",
        ),
        (
            "body over 16 KiB",
            json_ct,
            serde_json::to_vec(
                &json!({"email": "kim@example.com", "password": "x".repeat(17_000)}),
            )
            .unwrap(),
            413,
            "body_too_large",
        ),
    ];
    for (what, ct, body, status, code) in cases {
        let (got_status, got) = post_login(&app, ct, body).await;
        assert_eq!(got_status, status, "{what}: {got}");
        assert_eq!(got["error"], code, "{what}: {got}");
        assert!(
            got["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {got}"
        );
    }
    assert_eq!(
        app.service.passwords.hashes_computed(),
        before,
        "no bad request was hashed"
    );
}

#[tokio::test]
async fn error_messages_never_echo_submitted_values() {
    let app = TestApp::start().await;
    // A field of the wrong type: the message names the field, never what it held.
    let (status, got) = post_login(
        &app,
        Some("application/json"),
        br#"{"email":"a@b.c","password":["s3cret-value"]}"#.to_vec(),
    )
    .await;
    assert_eq!((status, &got["error"]), (400, &json!("invalid_field")));
    assert_eq!(got["message"], "field `password` must be a string");
    assert!(!got.to_string().contains("s3cret-value"), "{got}");

    // An unknown field: the message names it (a name is no value) and the accepted fields,
    // and echoes neither its value nor the login and password sent beside it.
    let (status, got) = post_login(
        &app,
        Some("application/json"),
        br#"{"email":"kim@example.com","password":"s3cret-password","s3cret-field":"s3cret-value"}"#
            .to_vec(),
    )
    .await;
    assert_eq!((status, &got["error"]), (400, &json!("unknown_field")));
    assert_eq!(
        got["message"],
        "unexpected field `s3cret-field`; accepted fields: `email` or `username`, `password`, \
         and optionally `time_zone`"
    );
    for value in ["s3cret-value", "s3cret-password", "kim@example.com"] {
        assert!(!got.to_string().contains(value), "{value} echoed: {got}");
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let app = TestApp::start().await;
    let response = app.http.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "not_found"
    );
    let response = app.http.put(app.url("/login/")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "method_not_allowed"
    );
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_login_page_is_served_with_security_headers() {
    let app = TestApp::builder().flags(&["--demo-page"]).start().await;
    for path in ["/login", "/login/"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'nonce-"),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        let html = response.text().await.unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
    }
}

/// A browser's CORS preflight of a JSON `POST /login/` from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url("/login/"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::builder()
        .flags(&["--cors-origins", "https://app.example"])
        .start()
        .await;
    let allowed = preflight(&app, "https://app.example").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let refused = preflight(&app, "https://evil.example").await;
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(refused.status(), 403, "refused, naming the setting");
    // Any port of one host.
    let app = TestApp::builder()
        .flags(&["--cors-origins", "http://localhost:*"])
        .start()
        .await;
    let vite = preflight(&app, "http://localhost:5173").await;
    assert_eq!(
        vite.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let other = preflight(&app, "http://localhost.evil.example").await;
    assert_eq!(other.status(), 403);
    // The answer itself lets the page read how long to wait after a 429 or 503.
    let answer = app
        .http
        .post(app.url("/login/"))
        .header("origin", "https://app.example")
        .json(&serde_json::json!({"email": "nobody@example.com", "password": "whatever"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase(),
        "retry-after"
    );
}

#[tokio::test]
async fn the_demo_page_is_served_only_when_asked_for() {
    let plain = TestApp::start().await;
    let page = reqwest::get(plain.url("/login/")).await.unwrap();
    assert_eq!(page.status(), 405, "serve has no demo page by default");
    let demo = TestApp::builder().flags(&["--demo-page"]).start().await;
    let page = reqwest::get(demo.url("/login/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form"));
}

/// A browser's preflight from an origin the settings do not allow (here: none configured)
/// is refused with the setting to change, in the answer and once in the log, where it used to
/// be a bare `405`.
#[tokio::test]
async fn a_preflight_from_an_origin_not_allowed_names_the_setting() {
    let server = ServerProcess::start(&[], &[]).await;
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let refused = http
            .request(reqwest::Method::OPTIONS, server.url("/login/"))
            .header("origin", "http://localhost:5173")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "origin_not_allowed", "{body}");
        let message = body["message"].as_str().unwrap();
        for setting in ["--cors-origins", "FIREGATE_CORS_ORIGINS", "[http]"] {
            assert!(message.contains(setting), "{setting}: {message}");
        }
    }
    let logs = server
        .wait_for_log("refused a browser's CORS preflight")
        .await;
    assert!(logs.contains("http://localhost:5173"), "{logs}");
    assert_eq!(
        logs.matches("refused a browser's CORS preflight").count(),
        1,
        "once per origin"
    );
    // An OPTIONS that is no preflight is still no method of the route.
    let plain = http
        .request(reqwest::Method::OPTIONS, server.url("/login/"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 405);
}

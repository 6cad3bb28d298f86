//! Firebase App Check on the public routes, against a local stand-in of App Check's JWKS and
//! `verifyAppCheckToken` (`app_check_standin.rs`: no Google endpoint is reachable here):
//! monitor serves and counts what enforce refuses; forged, expired, wrong-audience and
//! other-app tokens are refused; an unknown `kid` refetches the JWKS once; modes per route
//! group; the header allowed by CORS; replay protection consuming limited-use tokens.

use serde_json::{Value, json};

use crate::app_check_standin::AppCheckStandIn;
use crate::common::{ServerProcess, TestApp, keys_dir, project_id};
use crate::google_standin::GoogleStandIn;
use firegate::google::RouteGroup;

const PASSWORD: &str = "app check password";

fn flags(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

async fn sign_in_with(app: &TestApp, token: Option<&str>) -> (u16, Value) {
    let mut request = app
        .http
        .post(app.url("/login/"))
        .json(&json!({"email": "kim@example.com", "password": PASSWORD}));
    if let Some(token) = token {
        request = request.header("X-Firebase-AppCheck", token);
    }
    crate::common::json_answer(request.send().await.unwrap()).await
}

async fn app_with(standin: &AppCheckStandIn, mode: &str) -> TestApp {
    let app = TestApp::builder()
        .flags(&flags(&standin.flags(mode)))
        .start()
        .await;
    app.create("kim@example.com", PASSWORD).await;
    app
}

#[tokio::test]
async fn monitor_serves_and_counts_what_enforce_refuses() {
    let standin = AppCheckStandIn::start().await;
    let monitor = app_with(&standin, "monitor").await;
    assert_eq!(sign_in_with(&monitor, None).await.0, 200);
    assert_eq!(sign_in_with(&monitor, Some("not.a.token")).await.0, 200);
    assert_eq!(monitor.service.app_check_refusals(RouteGroup::SignIn), 2);
    let good = standin.token(&AppCheckStandIn::claims(&monitor.project()));
    assert_eq!(sign_in_with(&monitor, Some(&good)).await.0, 200);
    assert_eq!(monitor.service.app_check_refusals(RouteGroup::SignIn), 2);

    let enforce = app_with(&standin, "enforce").await;
    let (status, body) = sign_in_with(&enforce, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("app_check_failed"))
    );
    let good = standin.token(&AppCheckStandIn::claims(&enforce.project()));
    let (status, body) = sign_in_with(&enforce, Some(&good)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(enforce.service.app_check_refusals(RouteGroup::SignIn), 1);
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let standin = AppCheckStandIn::start().await;
    let app = app_with(&standin, "enforce").await;
    let claims = AppCheckStandIn::claims(&app.project());
    let with = |field: &str, value: Value| {
        let mut c = claims.clone();
        c[field] = value;
        standin.token(&c)
    };
    let now = jiff::Timestamp::now().as_second();
    let cases = [
        ("forged", AppCheckStandIn::forged(&claims, "appcheck-key-1")),
        ("expired", with("exp", json!(now - 1))),
        (
            "wrong audience",
            with("aud", json!(["projects/999", "projects/someone-else"])),
        ),
        (
            "wrong issuer",
            with("iss", json!("https://firebaseappcheck.googleapis.com/999")),
        ),
        (
            "another project's app",
            with("sub", json!("1:999:web:0a1b2c")),
        ),
    ];
    for (what, token) in cases {
        let (status, body) = sign_in_with(&app, Some(&token)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("app_check_failed")),
            "{what}"
        );
    }
    assert_eq!(
        sign_in_with(&app, Some(&standin.token(&claims))).await.0,
        200
    );
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once() {
    let standin = AppCheckStandIn::start().await;
    let app = app_with(&standin, "enforce").await;
    let claims = AppCheckStandIn::claims(&app.project());
    assert_eq!(
        sign_in_with(&app, Some(&standin.token(&claims))).await.0,
        200
    );
    assert_eq!(
        sign_in_with(&app, Some(&standin.token(&claims))).await.0,
        200
    );
    assert_eq!(standin.jwks_fetches(), 1, "cached");
    standin.rotate("appcheck-key-2");
    assert_eq!(
        sign_in_with(&app, Some(&standin.token(&claims))).await.0,
        200
    );
    assert_eq!(standin.jwks_fetches(), 2, "refetched for the new kid");
    // A made-up kid right after is not worth another fetch.
    let made_up = AppCheckStandIn::forged(&claims, "made-up-kid");
    assert_eq!(sign_in_with(&app, Some(&made_up)).await.0, 401);
    assert_eq!(standin.jwks_fetches(), 2);
}

#[tokio::test]
async fn each_route_group_has_its_own_mode() {
    let standin = AppCheckStandIn::start().await;
    let app = app_with(&standin, "off,registration=enforce,sign-in=monitor").await;
    let (status, body) = app
        .register(json!({"email": "new@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("app_check_failed"))
    );
    assert_eq!(
        sign_in_with(&app, None).await.0,
        200,
        "sign-in only monitors"
    );
    let (status, _) = app
        .post("/password-reset/", json!({"email": "kim@example.com"}))
        .await;
    assert_ne!(status, 401, "reset is off");
    assert_eq!(app.service.app_check_refusals(RouteGroup::Registration), 1);
    assert_eq!(app.service.app_check_refusals(RouteGroup::SignIn), 1);
    assert_eq!(app.service.app_check_refusals(RouteGroup::Reset), 0);
}

#[tokio::test]
async fn browsers_may_send_the_header() {
    let standin = AppCheckStandIn::start().await;
    let app = TestApp::builder()
        .flags(&flags(&standin.flags("enforce")))
        .flags(&["--cors-origins", "https://app.example.com"])
        .start()
        .await;
    let response = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/login/"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-firebase-appcheck",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("x-firebase-appcheck"), "{allowed}");
}

#[tokio::test]
async fn consume_refuses_a_replayed_limited_use_token() {
    let standin = AppCheckStandIn::start().await;
    let project = project_id();
    // Application Default Credentials from the stand-in metadata server.
    let google = GoogleStandIn::start(&project, 3600).await;
    let home = tempfile::tempdir().unwrap();
    let env: Vec<(&str, String)> = google
        .env(home.path())
        .into_iter()
        .filter(|(name, _)| {
            matches!(
                *name,
                "GCE_METADATA_HOST" | "HOME" | "GOOGLE_APPLICATION_CREDENTIALS"
            )
        })
        .collect();
    let mut serve = standin.flags("enforce");
    serve.push("--app-check-consume".into());
    let server =
        ServerProcess::start_in(keys_dir(), project.clone(), &flags(&serve), &[], &env).await;
    let http = reqwest::Client::new();
    let token = standin.token(&AppCheckStandIn::claims(&project));
    let register = |email: &str| {
        http.post(server.url("/register/"))
            .header("X-Firebase-AppCheck", &token)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
    };
    let first = register("first@example.com").await.unwrap();
    assert!(first.status().is_success(), "{}", first.status());
    let (status, body) =
        crate::common::json_answer(register("second@example.com").await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("app_check_failed")),
        "replayed"
    );
    assert_eq!(standin.verify_calls(), 2);
    // Sign-in verifies without consuming.
    let signed_in = http
        .post(server.url("/login/"))
        .header("X-Firebase-AppCheck", &token)
        .json(&json!({"email": "first@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    assert_eq!(standin.verify_calls(), 2);
    let logs = server.logs.lock().unwrap().clone();
    assert!(!logs.contains(&token), "the token never reaches the logs");
    assert!(logs.contains("used before"), "{logs}");
}

#[tokio::test]
async fn an_unreachable_jwks_is_fetched_once_in_a_while_not_per_request() {
    let standin = AppCheckStandIn::start().await;
    standin.set_jwks_down(true);
    let app = app_with(&standin, "enforce").await;
    let claims = AppCheckStandIn::claims(&app.project());
    for _ in 0..3 {
        let (status, body) = sign_in_with(&app, Some(&standin.token(&claims))).await;
        assert_eq!(status, 503, "{body}");
    }
    assert_eq!(
        standin.jwks_fetches(),
        1,
        "one fetch, then the failure is remembered"
    );
}

//! The admin API's gate: every method on every admin path meets it first, a wrong guess
//! holds the one admin check for the failure floor even after its client hangs up, repeated
//! failures lock admin sign-in except for the admin's own network, and a flood of locked-out
//! guesses does not starve that network.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::common::{ADMIN_PASSWORD, TestApp, answer, send};

/// `GET /admin/api/keys` with `password` as the admin's, from client `ip` (for a server
/// started behind a proxy).
fn keys_request(app: &TestApp, ip: &str, password: &str) -> reqwest::RequestBuilder {
    app.admin_as(password, Method::GET, "/admin/api/keys")
        .header("x-forwarded-for", ip)
}

/// The answer to [`keys_request`].
async fn keys_from(app: &TestApp, ip: &str, password: &str) -> reqwest::Response {
    keys_request(app, ip, password).send().await.unwrap()
}

#[tokio::test]
async fn every_method_on_every_admin_path_meets_the_gate_first() {
    let off = TestApp::builder().start().await;
    let on = TestApp::builder().admin().start().await;
    let ask = |app: &TestApp, method: Method, path: &str, password: Option<&str>| {
        let request = match password {
            Some(password) => app.admin_as(password, method, path),
            None => app
                .http
                .request(method, app.url(path))
                .header("content-type", "application/json"),
        };
        async move {
            let (status, body) = answer(request.send().await.unwrap()).await;
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    };
    let cases = [
        (Method::POST, "/admin/api/keys"),
        (Method::DELETE, "/admin/api/stats"),
        (Method::PUT, "/admin"),
        (Method::PATCH, "/admin/"),
        (Method::GET, "/admin/api/nothing-here"),
        (Method::POST, "/admin/api/keys/k/activate/extra"),
    ];
    for (method, path) in &cases {
        let (status, code) = ask(&off, method.clone(), path, None).await;
        assert_eq!(
            (status, code.as_str()),
            (404, "not_found"),
            "off: {method} {path}"
        );
        let (status, code) = ask(&on, method.clone(), path, None).await;
        assert_eq!(
            (status, code.as_str()),
            (401, "unauthorized"),
            "on: {method} {path}"
        );
    }
    let (status, code) = ask(&on, Method::POST, "/admin/api/keys", Some(ADMIN_PASSWORD)).await;
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
    let (status, code) = ask(
        &on,
        Method::GET,
        "/admin/api/nothing-here",
        Some(ADMIN_PASSWORD),
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let (status, _) = ask(&on, Method::GET, "/admin/api/keys", Some(ADMIN_PASSWORD)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_wrong_admin_guess_keeps_the_check_for_the_floor_after_its_client_hangs_up() {
    let app = TestApp::builder()
        .failure_floor_ms(6000)
        .no_lockout()
        .admin()
        .start()
        .await;
    let hashed = app.service.passwords.hashes_computed();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let guess = impatient
        .execute(
            app.admin_as("guess", Method::GET, "/admin/api/keys")
                .build()
                .unwrap(),
        )
        .await;
    assert!(guess.is_err(), "the guesser hung up during the floor");
    // The next request waits its two seconds for the check, which the hung-up guess still
    // holds: refused without hashing, however right its password.
    let (status, body) = send(app.admin(Method::GET, "/admin/api/keys")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("overloaded")));
    assert_eq!(app.service.passwords.hashes_computed() - hashed, 1);
}

#[tokio::test]
async fn repeated_admin_failures_lock_admin_sign_in_but_not_for_the_admins_own_network() {
    let app = TestApp::builder()
        .lockout(3, 600)
        .admin()
        .behind_proxy()
        .start()
        .await;
    let (admin_home, attacker) = ("198.51.100.7", "203.0.113.9");
    assert_eq!(
        keys_from(&app, admin_home, ADMIN_PASSWORD).await.status(),
        200
    );
    for i in 0..3 {
        let guess = format!("guess {i}");
        assert_eq!(keys_from(&app, attacker, &guess).await.status(), 401);
    }
    let hashed = app.service.passwords.hashes_computed();
    let locked = keys_from(&app, attacker, ADMIN_PASSWORD).await;
    assert_eq!(locked.status(), 429, "locked, even with the right password");
    assert!(locked.headers().get("retry-after").is_some());
    assert!(locked.headers().get("www-authenticate").is_none());
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"], "admin_locked");
    assert_eq!(
        keys_from(&app, attacker, "guess 4").await.status(),
        429,
        "and the answer does not depend on the password"
    );
    assert_eq!(
        app.service.passwords.hashes_computed(),
        hashed,
        "no hash while locked"
    );
    assert_eq!(
        keys_from(&app, admin_home, ADMIN_PASSWORD).await.status(),
        200,
        "the admin's own network has a count of its own"
    );
}

#[tokio::test]
async fn a_flood_of_locked_out_guesses_does_not_starve_the_admins_own_network() {
    // A floor long enough that two held checks outlast the admin's two-second wait.
    let app = TestApp::builder()
        .lockout(2, 600)
        .failure_floor_ms(1500)
        .admin()
        .behind_proxy()
        .start()
        .await;
    let (admin_home, attacker) = ("198.51.100.7", "203.0.113.9");
    let ok = keys_from(&app, admin_home, ADMIN_PASSWORD).await;
    assert_eq!(ok.status(), 200);
    for i in 0..2 {
        let guess = format!("guess {i}");
        let refused = keys_from(&app, attacker, &guess).await;
        assert_eq!(refused.status(), 401);
    }
    // Locked for the attacker: each of these is answered without hashing, so none may hold
    // the one admin check for the floor.
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..6 {
        flood.spawn(keys_request(&app, attacker, &format!("flood {i}")).send());
    }
    // The server is answering the flood once its first answer is back; were a locked guess
    // to hold the check for the floor, the rest would now hold it for longer than the admin
    // may wait.
    let first = flood.join_next().await.unwrap().unwrap().unwrap();
    assert_eq!(first.status(), 429);
    let admin = keys_from(&app, admin_home, ADMIN_PASSWORD).await;
    assert_eq!(admin.status(), 200, "the admin got in during the flood");
    for answer in flood.join_all().await {
        assert_eq!(answer.unwrap().status(), 429);
    }
}

//! The per-client rate limit on sign-ins: 429 with Retry-After once the bucket is empty, back
//! once it refills, GETs never limited; IPv6 clients share their /64, IPv4-mapped addresses
//! are their IPv4 address.

use serde_json::{Value, json};

use crate::common::{TestApp, eventually};

#[tokio::test]
async fn the_rate_limit_answers_429_then_recovers() {
    // One request per 6 s after a burst of 3: the burst is spent long before the bucket
    // refills, however slow this machine is.
    let app = TestApp::builder().rate_limit(10, 3).start().await;
    for _ in 0..3 {
        assert_eq!(app.sign_in("x@example.com", "pw").await.0, 400);
    }
    let response = app
        .post_json(
            "/login/",
            json!({"email": "x@example.com", "password": "pw"}),
        )
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=6).contains(&retry), "{retry}");
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "rate_limited"
    );
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "GETs are not limited"
    );
    // Back once the bucket refills: wait for it, however long the machine takes.
    eventually("the limit lifts", || async {
        match app.sign_in("x@example.com", "pw").await.0 {
            400 => true,
            429 => false,
            other => panic!("expected the limit to lift, got {other}"),
        }
    })
    .await;
}

#[tokio::test]
async fn ipv6_clients_share_their_slash_64s_rate_limit() {
    let app = TestApp::builder()
        .behind_proxy()
        .rate_limit(1, 2)
        .start()
        .await;
    let app = &app;
    let guess = |client| async move { app.sign_in_from(client, "x@example.com", "pw").await.0 };
    assert_eq!(guess("2001:db8:1:2::1").await, 400);
    assert_eq!(guess("2001:db8:1:2::2").await, 400);
    assert_eq!(guess("2001:db8:1:2:ffff::3").await, 429, "same /64");
    assert_eq!(
        guess("2001:db8:1:3::1").await,
        400,
        "the next /64 is another client"
    );
    // IPv4 clients written as IPv4-mapped IPv6 are their own IPv4 address, not one /64.
    assert_eq!(guess("::ffff:198.51.100.1").await, 400);
    assert_eq!(guess("::ffff:198.51.100.2").await, 400);
    assert_eq!(guess("198.51.100.3").await, 400);
}

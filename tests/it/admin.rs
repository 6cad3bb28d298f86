//! The admin API against the emulator: authentication on every route, refused cross-site
//! requests, the account actions (disable, enable, set password, delete, claims), listing and
//! statistics, JSON errors for malformed requests, load shedding and the audit log.

use firegate::passwords::Dialect;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, ServerProcess, TestApp, argon2id_hash, json_answer, send};

/// Every admin API route, with a body each would accept.
fn api_routes(kid: &str) -> Vec<(Method, String, Value)> {
    let account = "/admin/api/accounts/lee@example.com";
    vec![
        (Method::GET, "/admin/api/keys".into(), Value::Null),
        (Method::GET, "/admin/api/signer".into(), Value::Null),
        (
            Method::POST,
            format!("/admin/api/keys/{kid}/activate"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/admin/api/keys/{kid}/retire"),
            json!({}),
        ),
        (Method::GET, "/admin/api/stats".into(), Value::Null),
        (Method::GET, "/admin/api/audit".into(), Value::Null),
        (Method::GET, "/admin/api/accounts".into(), Value::Null),
        (Method::POST, format!("{account}/unlock"), json!({})),
        (Method::GET, account.into(), Value::Null),
        (Method::DELETE, account.into(), Value::Null),
        (Method::POST, format!("{account}/disable"), json!({})),
        (Method::POST, format!("{account}/enable"), json!({})),
        (
            Method::PUT,
            format!("{account}/claims"),
            json!({"role": "x"}),
        ),
        (
            Method::PUT,
            format!("{account}/password"),
            json!({"password": "a new password"}),
        ),
    ]
}

#[tokio::test]
async fn every_admin_route_requires_the_credential() {
    // Two dozen wrong credentials would lock admin sign-in (tested in `admin_lockout`).
    let app = TestApp::builder().admin().no_lockout().start().await;
    app.create("lee@example.com", "first password").await;
    let kid = app.service.signer.key_ring().unwrap().active().kid.clone();
    let mut routes = api_routes(&kid);
    routes.push((Method::GET, "/admin/".into(), Value::Null));
    for (method, path, body) in routes {
        for credential in [
            None,
            Some(("admin", "wrong")),
            Some(("root", ADMIN_PASSWORD)),
        ] {
            let mut request = app
                .http
                .request(method.clone(), app.url(&path))
                .header("content-type", "application/json");
            if !body.is_null() {
                request = request.body(body.to_string());
            }
            if let Some((user, password)) = credential {
                request = request.basic_auth(user, Some(password));
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} {credential:?}");
            assert!(
                response.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic")
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized", "{method} {path}");
        }
    }
    let stored = app.stored("lee@example.com").await.account;
    assert!(!stored.disabled && stored.claims == Default::default());
    assert_eq!(
        app.sign_in("lee@example.com", "first password").await.0,
        200
    );
    assert_eq!(app.service.signer.key_ring().unwrap().active().kid, kid);
}

#[tokio::test]
async fn cross_site_requests_are_refused_and_change_nothing() {
    let app = TestApp::builder().admin().start().await;
    let uid = app.create("lee@example.com", "first password").await.uid;
    let account = format!("/admin/api/accounts/{uid}");
    let disable = &format!("{account}/disable");
    let form = |credential: bool| {
        let request = app
            .http
            .post(app.url(disable))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .body("disabled=true");
        if credential {
            request.basic_auth("admin", Some(ADMIN_PASSWORD))
        } else {
            request
        }
    };
    for credential in [true, false] {
        let response = form(credential).send().await.unwrap();
        assert_eq!(response.status(), 403, "credential: {credential}");
        // No Basic-auth challenge: the browser must not prompt for the admin password.
        assert!(response.headers().get("www-authenticate").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "cross_site");
    }
    // A form post of a browser that sends neither header: its content type alone refuses it.
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
    ] {
        let (status, body) = send(
            app.http
                .post(app.url(disable))
                .basic_auth("admin", Some(ADMIN_PASSWORD))
                .header("content-type", content_type)
                .body("{}"),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (415, Some("unsupported_media_type"))
        );
    }
    let (status, _) = send(
        app.http
            .post(app.url(disable))
            .basic_auth("admin", Some(ADMIN_PASSWORD)),
    )
    .await;
    assert_eq!(status, 415, "no content type at all");
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let (status, body) =
            send(app.admin(Method::DELETE, &account).header("origin", origin)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("cross_origin")),
            "{origin}"
        );
    }
    let (status, body) = send(
        app.admin(Method::PUT, &format!("{account}/password"))
            .header("sec-fetch-site", "cross-site")
            .body(json!({"password": "attacker's choice"}).to_string()),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("cross_site")));

    let stored = app.stored("lee@example.com").await.account;
    assert!(!stored.disabled, "nothing changed");
    assert_eq!(
        app.sign_in("lee@example.com", "first password").await.0,
        200
    );

    // The admin page's own requests: same origin, JSON.
    let (status, body) = send(
        app.admin(Method::POST, disable)
            .header("origin", format!("http://{}", app.addr))
            .header("sec-fetch-site", "same-origin")
            .body("{}"),
    )
    .await;
    assert_eq!((status, body["disabled"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn disabled_accounts_cannot_sign_in_until_enabled() {
    let app = TestApp::builder().admin().start().await;
    let account = app.create("lee@example.com", "first password").await;
    let path = |action: &str| format!("/admin/api/accounts/{}/{action}", account.uid);
    let (status, body) = send(app.admin(Method::POST, &path("disable"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["disabled"], true);
    assert_eq!(body["uid"], account.uid.as_str());
    assert_eq!(
        app.sign_in("lee@example.com", "first password").await.0,
        400
    );

    let (status, body) = send(app.admin(Method::POST, &path("enable"))).await;
    assert_eq!((status, body["disabled"].as_bool()), (200, Some(false)));
    assert_eq!(
        app.sign_in("lee@example.com", "first password").await.0,
        200
    );

    let (status, body) = send(app.admin(
        Method::POST,
        "/admin/api/accounts/nobody@example.com/disable",
    ))
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn admins_set_passwords_over_http() {
    let app = TestApp::builder().admin().start().await;
    let uid = app.create("lee@example.com", "first password").await.uid;
    let path = &format!("/admin/api/accounts/{uid}/password");
    let (status, body) = send(
        app.admin(Method::PUT, path)
            .body(json!({"password": "second password"}).to_string()),
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(
        app.sign_in("lee@example.com", "first password").await.0,
        400
    );
    assert_eq!(
        app.sign_in("lee@example.com", "second password").await.0,
        200
    );

    // The registration policy, and bodies that say nothing or too much.
    for (body, status, code) in [
        (json!({"password": "short"}), 400, "weak_password"),
        (
            json!({"password": "x".repeat(4097)}),
            400,
            "password_too_long",
        ),
        (json!({}), 400, "missing_field"),
        (
            json!({"password": "long enough", "admin": true}),
            400,
            "unknown_field",
        ),
    ] {
        let (got, answer) = send(app.admin(Method::PUT, path).body(body.to_string())).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let (status, body) = send(
        app.admin(
            Method::PUT,
            "/admin/api/accounts/nobody@example.com/password",
        )
        .body(json!({"password": "long enough"}).to_string()),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(
        app.sign_in("lee@example.com", "second password").await.0,
        200
    );
}

#[tokio::test]
async fn deleting_an_account_frees_its_login() {
    let app = TestApp::builder().admin().start().await;
    let uid = app.create("lee@example.com", "first password").await.uid;
    let path = &format!("/admin/api/accounts/{uid}");
    let (status, _) = send(app.admin(Method::DELETE, path)).await;
    assert_eq!(status, 204);
    let (status, body) = send(app.admin(Method::GET, path)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(
        app.sign_in("lee@example.com", "first password").await.0,
        400
    );
    let (status, _) = app
        .register(json!({"email": "lee@example.com", "password": "third password"}))
        .await;
    assert_eq!(status, 201, "the login is free again");
    assert_eq!(
        app.sign_in("lee@example.com", "third password").await.0,
        200
    );
}

#[tokio::test]
async fn claims_set_over_http_reach_the_next_token() {
    let app = TestApp::builder().admin().start().await;
    let uid = app.create("lee@example.com", "first password").await.uid;
    let path = &format!("/admin/api/accounts/{uid}/claims");
    let claims = json!({"role": "teacher", "grade": [1, 2]});
    let (status, body) = send(app.admin(Method::PUT, path).body(claims.to_string())).await;
    assert_eq!((status, &body["claims"]), (200, &claims));
    let (status, body) = send(app.admin(Method::PUT, path).body(r#"{"sub":"x"}"#)).await;
    assert_eq!(status, 400, "reserved claim: {body}");

    let (_, body) = app.sign_in("lee@example.com", "first password").await;
    let payload = crate::common::token_payload(body["token"].as_str().unwrap());
    assert_eq!(
        payload["claims"], claims,
        "the refused claims changed nothing"
    );
}

#[tokio::test]
async fn claims_that_firebase_gives_meaning_to_are_refused_in_any_case() {
    let app = TestApp::builder().admin().start().await;
    let account = app.create("lee@example.com", "first password").await;
    let path = &format!("/admin/api/accounts/{}/claims", account.uid);
    for name in [
        "email",
        "Email_Verified",
        "user_id",
        "Sub",
        "FIREBASE",
        "phone_number",
    ] {
        let claims = json!({ "role": "teacher", name: "forged" });
        let (status, body) = send(app.admin(Method::PUT, path).body(claims.to_string())).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("reserved_claim")),
            "{name}: {body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(name) && message.contains("reserved: "),
            "{message}"
        );
    }
    assert_eq!(
        app.stored("lee@example.com").await.account.claims,
        Default::default(),
        "nothing was stored"
    );
    let (status, _) = send(
        app.admin(Method::PUT, path)
            .body(r#"{"email_domain":"school"}"#),
    )
    .await;
    assert_eq!(
        status, 200,
        "a name that only contains a reserved one is fine"
    );
}

const SHA1: &str = "sha1$yUEGBoGX8pNSqVXx$5d5c2b2a3d2df95b47bf44001577511fe620b2d7";
const MD5: &str = "md5$rQ6GbxQ9SxdbxCio$ff732f37f242f6402de739c63f88ad72";
/// Their scheme names in the statistics (Werkzeug ≤ 2.2 salted digests are an
/// HMAC keyed by the salt), written out rather than computed by the code under test.
const SHA1_SCHEME: &str = "werkzeug-hmac-sha1";
const MD5_SCHEME: &str = "werkzeug-hmac-md5";

#[tokio::test]
async fn accounts_are_listed_with_filters_and_pages() {
    let app = TestApp::builder().admin().start().await;
    let a = app
        .insert_with_hash("a@example.com", SHA1, Dialect::Werkzeug)
        .await;
    let b = app
        .insert_with_hash("b@example.com", SHA1, Dialect::Werkzeug)
        .await;
    let c = app.create("c@example.com", "password-c").await;
    send(app.admin(
        Method::POST,
        &format!("/admin/api/accounts/{}/disable", b.uid),
    ))
    .await;
    let uids = |body: &Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|a| a["uid"].as_str().unwrap().to_string())
            .collect()
    };
    let mut all: Vec<String> = [&a, &b, &c].iter().map(|x| x.uid.to_string()).collect();
    all.sort();

    let (status, first) = send(app.admin(Method::GET, "/admin/api/accounts?limit=2")).await;
    assert_eq!(status, 200);
    assert_eq!(uids(&first), all[..2]);
    assert!(!first.to_string().contains("$argon2") && !first.to_string().contains(SHA1));
    let (_, rest) = send(app.admin(
        Method::GET,
        &format!("/admin/api/accounts?limit=2&after={}", all[1]),
    ))
    .await;
    assert_eq!(uids(&rest), all[2..]);

    let sha1 = SHA1_SCHEME;
    let (_, legacy) =
        send(app.admin(Method::GET, &format!("/admin/api/accounts?scheme={sha1}"))).await;
    let mut expected = vec![a.uid.to_string(), b.uid.to_string()];
    expected.sort();
    assert_eq!(uids(&legacy), expected);
    let (_, disabled) = send(app.admin(Method::GET, "/admin/api/accounts?disabled=true")).await;
    assert_eq!(uids(&disabled), [b.uid.to_string()]);
    let (_, enabled) = send(app.admin(
        Method::GET,
        &format!("/admin/api/accounts?disabled=false&scheme={sha1}"),
    ))
    .await;
    assert_eq!(uids(&enabled), [a.uid.to_string()]);
    let (_, shown) = send(app.admin(Method::GET, &format!("/admin/api/accounts/{}", c.uid))).await;
    assert_eq!(shown["uid"], c.uid.as_str());
    // A login is found only by the explicit search.
    let (_, found) = send(app.admin(Method::GET, "/admin/api/accounts?login=c@example.com")).await;
    assert_eq!(uids(&found), [c.uid.to_string()]);
    let (status, _) = send(app.admin(Method::GET, "/admin/api/accounts/c@example.com")).await;
    assert_eq!(status, 404, "a login in the uid's place names no account");
}

#[tokio::test]
async fn oversized_list_parameters_are_refused_with_their_reason() {
    let app = TestApp::builder().admin().start().await;
    app.insert_with_hash("a@example.com", SHA1, Dialect::Werkzeug)
        .await;
    let long = "x".repeat(1500);
    let cases = [
        (
            format!("/admin/api/accounts?scheme={long}"),
            400,
            "invalid_scheme",
        ),
        (
            "/admin/api/accounts?scheme=argon2id%27%20or%201".to_string(),
            400,
            "invalid_scheme",
        ),
        (
            format!("/admin/api/accounts?after={long}"),
            400,
            "invalid_uid",
        ),
        (format!("/admin/api/accounts/{long}"), 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let (got, body) = send(app.admin(Method::GET, &path)).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{}: {body}",
            &path[..40]
        );
    }
    let (status, listed) = send(app.admin(
        Method::GET,
        &format!("/admin/api/accounts?scheme={SHA1_SCHEME}"),
    ))
    .await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(1)));
}

#[tokio::test]
async fn stats_count_accounts_per_scheme() {
    let app = TestApp::builder().admin().start().await;
    app.insert_with_hash("a@example.com", SHA1, Dialect::Werkzeug)
        .await;
    app.insert_with_hash("b@example.com", SHA1, Dialect::Werkzeug)
        .await;
    app.insert_with_hash("c@example.com", MD5, Dialect::Werkzeug)
        .await;
    app.create("d@example.com", "password-d").await;
    let (status, stats) = send(app.admin(Method::GET, "/admin/api/stats")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (stats["total"].as_u64(), stats["argon2id"].as_u64()),
        (Some(4), Some(1))
    );
    let (sha1, md5) = (SHA1_SCHEME, MD5_SCHEME);
    assert_ne!(sha1, md5);
    assert_eq!(
        stats["schemes"],
        json!([
            {"scheme": sha1, "accounts": 2, "graduated": 0},
            {"scheme": "argon2id", "accounts": 1, "graduated": 0},
            {"scheme": md5, "accounts": 1, "graduated": 0},
        ])
    );
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let app = TestApp::builder().admin().start().await;
    let uid = app.create("lee@example.com", "first password").await.uid;
    let kid = app.service.signer.key_ring().unwrap().active().kid.clone();
    let claims = &format!("/admin/api/accounts/{uid}/claims");
    let get = |path: &str| app.admin(Method::GET, path);
    let post = |path: &str| app.admin(Method::POST, path);
    let put = |path: &str| app.admin(Method::PUT, path);
    let patch = |path: &str| app.admin(Method::PATCH, path);
    let activate = &format!("/admin/api/keys/{kid}/activate");
    let cases = [
        (
            400,
            "invalid_query",
            get("/admin/api/accounts?disabled=maybe"),
        ),
        (400, "invalid_query", get("/admin/api/accounts?limit=many")),
        (400, "invalid_query", get("/admin/api/accounts?limit=0")),
        (
            400,
            "invalid_query",
            get("/admin/api/accounts?disable=true"),
        ),
        (
            400,
            "invalid_query",
            get("/admin/api/accounts?login=lee&limit=2"),
        ),
        (400, "invalid_path", get("/admin/api/accounts/%FF")),
        (
            400,
            "invalid_path",
            post("/admin/api/accounts/%C3%28/disable"),
        ),
        (400, "invalid_path", post("/admin/api/keys/%FF/activate")),
        (
            404,
            "unknown_key",
            post("/admin/api/keys/no-such-key/retire"),
        ),
        (
            400,
            "invalid_field",
            post(activate).body(r#"{"force":"yes"}"#),
        ),
        (
            413,
            "body_too_large",
            post(activate).body("x".repeat(20_000)),
        ),
        (400, "malformed_json", put(claims).body("{")),
        (400, "malformed_json", put(claims).body("[1]")),
        (
            413,
            "body_too_large",
            put(claims).body(format!(r#"{{"blob":"{}"}}"#, "x".repeat(20_000))),
        ),
        (405, "method_not_allowed", patch(claims).body("{}")),
    ];
    for (status, code, request) in cases {
        let request = request.build().unwrap();
        let shown = format!("{} {}", request.method(), request.url());
        let (got, body) = json_answer(app.http.execute(request).await.unwrap()).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{shown}: {body}"
        );
    }
    let stored = app.stored("lee@example.com").await.account;
    assert!(!stored.disabled && stored.claims == Default::default());
}

#[tokio::test]
async fn a_flood_of_admin_guesses_is_shed_without_hashing() {
    // A costly admin hash, so guesses overlap.
    let hash = argon2id_hash(ADMIN_PASSWORD, 65_536, 4).await;
    // Each wrong guess holds the one admin check for a second: within the two seconds a
    // request may wait for it, only a few of the twelve get their turn.
    let app = TestApp::builder()
        .failure_floor_ms(1000)
        .admin_password_hash(ADMIN_PASSWORD, &hash)
        .start()
        .await;
    // An admin's own parallel requests (a page and its API calls) wait their turn instead.
    let (first, second) = tokio::join!(
        send(app.admin(Method::GET, "/admin/api/keys")),
        send(app.admin(Method::GET, "/admin/api/stats"))
    );
    assert_eq!((first.0, second.0), (200, 200));
    let hashed_before = app.service.passwords.hashes_computed();
    let guesses = (0..12).map(|i| {
        app.admin_as(&format!("guess {i}"), Method::GET, "/admin/api/keys")
            .send()
    });
    let mut refused = 0u64;
    let mut shed = 0;
    for response in futures::future::join_all(guesses).await {
        let response = response.unwrap();
        match response.status().as_u16() {
            401 => refused += 1,
            503 => {
                assert_eq!(response.headers()["retry-after"], "1");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"], "overloaded");
                shed += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused >= 1 && shed >= 1, "{refused} refused, {shed} shed");
    assert_eq!(
        app.service.passwords.hashes_computed() - hashed_before,
        refused,
        "a shed guess costs no hashing"
    );
    let (status, _) = send(app.admin(Method::GET, "/admin/api/keys")).await;
    assert_eq!(status, 200, "the admin gets in once the flood is over");
}

#[tokio::test]
async fn admin_actions_are_logged_once_with_their_outcome_and_no_secret() {
    let hash = argon2id_hash(ADMIN_PASSWORD, 1024, 1).await;
    let server = ServerProcess::start(&["--admin-password-hash", &hash], &[]).await;
    let created = server.command(
        &["accounts", "create", "--login", "kim@example.com"],
        Some("first password\n"),
    );
    assert!(created.status.success());
    let uid = String::from_utf8(created.stdout)
        .unwrap()
        .trim()
        .to_string();
    let request = |method: Method, path: &str| server.admin(method, path);
    let new_password = "Brand-new secret 42";
    let (status, _) = send(
        request(Method::PUT, &format!("/admin/api/accounts/{uid}/password"))
            .body(json!({"password": new_password}).to_string()),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(request(
        Method::DELETE,
        "/admin/api/accounts/nobody@example.com",
    ))
    .await;
    assert_eq!(status, 404);
    let disable = format!("/admin/api/accounts/{uid}/disable");
    let (status, _) =
        send(request(Method::POST, &disable).header("sec-fetch-site", "cross-site")).await;
    assert_eq!(status, 403);

    let logs = server.wait_for_log(&disable).await;
    for secret in [new_password, "first password", ADMIN_PASSWORD, &hash] {
        assert!(!logs.contains(secret), "the logs hold `{secret}`:\n{logs}");
    }
    let entries: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // Only the access log's URL shows what was asked for; the audit lines name uids.
    assert!(
        entries
            .iter()
            .filter(|e| e["httpRequest"].is_null())
            .all(|e| !e.to_string().contains("nobody@example.com"))
    );
    let of = |action: &str| -> Vec<&Value> {
        entries.iter().filter(|e| e["action"] == action).collect()
    };
    let set = of("set-password");
    assert_eq!(set.len(), 1, "logged once: {set:?}");
    assert_eq!(
        (&set[0]["admin"], &set[0]["uid"], &set[0]["outcome"]),
        (&json!("admin"), &json!(uid), &json!("ok"))
    );
    let deleted = of("delete-account");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(
        (&deleted[0]["outcome"], &deleted[0]["reason"]),
        (&json!("refused"), &json!("not_found"))
    );
    let cross = of("admin-request");
    assert_eq!(cross.len(), 1, "{cross:?}");
    assert_eq!(cross[0]["reason"], "cross_site");
    assert!(of("disable-account").is_empty(), "refused before it ran");
}

#[tokio::test]
async fn the_signer_route_names_the_active_key() {
    let app = TestApp::builder().admin().start().await;
    let active = app.service.signer.key_ring().unwrap().active();
    let (_, body) = send(app.admin(Method::GET, "/admin/api/signer")).await;
    assert_eq!(
        body,
        json!({"signer": "key", "service_account": active.client_email, "key_id": active.kid})
    );
}

#[tokio::test]
async fn actions_are_kept_in_the_audit_trail_newest_first() {
    let app = TestApp::builder().admin().start().await;
    let uid = app
        .create("lee@example.com", "first password")
        .await
        .uid
        .to_string();
    let (status, trail) = send(app.admin(Method::GET, "/admin/api/audit")).await;
    assert_eq!((status, trail), (200, json!([])), "nothing done yet");

    // Two failures, then unlocked by uid: the uid finds the account as the login does.
    for _ in 0..2 {
        assert_eq!(
            app.sign_in("lee@example.com", "wrong password").await.0,
            400
        );
    }
    let (status, shown) = send(app.admin(Method::GET, &format!("/admin/api/accounts/{uid}"))).await;
    assert_eq!((status, &shown["lockout"]["failures"]), (200, &json!(2)));
    let unlock = format!("/admin/api/accounts/{uid}/unlock");
    let (status, unlocked) = send(app.admin(Method::POST, &unlock)).await;
    assert_eq!(
        (status, unlocked),
        (200, json!({"uid": uid, "cleared": true}))
    );
    let (_, again) = send(app.admin(Method::POST, &unlock)).await;
    assert_eq!(again, json!({"uid": uid, "cleared": false}));
    let (_, shown) = send(app.admin(Method::GET, &format!("/admin/api/accounts/{uid}"))).await;
    assert_eq!(shown["lockout"]["failures"], 0);
    let (status, _) = send(
        app.admin(Method::PUT, &format!("/admin/api/accounts/{uid}/password"))
            .body(json!({"password": "short"}).to_string()),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) =
        send(app.admin(Method::DELETE, "/admin/api/accounts/nobody@example.com")).await;
    assert_eq!(status, 404);
    let (status, _) = send(app.admin(
        Method::POST,
        "/admin/api/accounts/nobody@example.com/unlock",
    ))
    .await;
    assert_eq!(status, 404, "no account has that uid");

    let (status, trail) = send(app.admin(Method::GET, "/admin/api/audit")).await;
    assert_eq!(status, 200);
    let seen: Vec<(String, String, String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["admin"], "admin");
            assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
            let text = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            (text("action"), text("uid"), text("outcome"), text("reason"))
        })
        .collect();
    let row = |action: &str, uid: &str, outcome: &str, reason: &str| {
        (action.into(), uid.into(), outcome.into(), reason.into())
    };
    assert_eq!(
        seen,
        vec![
            row("unlock-account", "-", "refused", "not_found"),
            row("delete-account", "-", "refused", "not_found"),
            row("set-password", "-", "refused", "weak_password"),
            row("unlock-account", &uid, "ok", "-"),
            row("unlock-account", &uid, "ok", "-"),
        ]
    );
    let (_, two) = send(app.admin(Method::GET, "/admin/api/audit?limit=2")).await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    for bad in ["limit=0", "limit=501", "since=yesterday"] {
        let (status, body) = send(app.admin(Method::GET, &format!("/admin/api/audit?{bad}"))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_query")),
            "{bad}"
        );
    }
    // The trail holds no password.
    assert!(!trail.to_string().contains("short") && !trail.to_string().contains("first password"));
}

#[tokio::test]
async fn stats_say_when_they_were_counted() {
    let app = TestApp::builder().admin().start().await;
    app.create("lee@example.com", "first password").await;
    let before = jiff::Timestamp::now();
    let (_, first) = send(app.admin(Method::GET, "/admin/api/stats")).await;
    let counted: jiff::Timestamp = first["computed_at"].as_str().unwrap().parse().unwrap();
    assert!(
        counted >= before && counted <= jiff::Timestamp::now(),
        "{counted}"
    );
    // Within the minute the cached count comes back, with its time.
    app.create("kim@example.com", "second password").await;
    let (_, second) = send(app.admin(Method::GET, "/admin/api/stats")).await;
    assert_eq!(
        (&second["computed_at"], &second["total"]),
        (&first["computed_at"], &json!(1))
    );
    let page = app
        .admin(Method::GET, "/admin/")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = counted.round(jiff::Unit::Second).unwrap().to_string();
    assert!(
        page.contains(&format!("datetime=\"{shown}\"")),
        "the page shows {shown}"
    );
}

/// `serve` without an admin credential has no admin page: the password `dev` makes for its
/// run is `dev`'s alone.
#[tokio::test]
async fn serve_without_a_credential_has_no_admin_page() {
    let server = ServerProcess::start(&[], &[]).await;
    for path in ["/admin/", "/admin/api/stats"] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get("www-authenticate").is_none());
    }
}

/// Right after an upgrade the list shows the new scheme while the cached counts do not: the
/// panel says how old its figures are, why the list may be ahead, and when it can count
/// again.
#[tokio::test]
async fn the_migration_panel_says_how_old_its_figures_are() {
    let app = TestApp::builder().admin().start().await;
    app.create("lee@example.com", "first password").await;
    let (_, stats) = send(app.admin(Method::GET, "/admin/api/stats")).await;
    let age = stats["age_secs"].as_u64().expect("age_secs");
    assert!(age < 60, "{stats}");
    let page = app
        .admin(Method::GET, "/admin/")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let panel = &page[page.find("<h2>Migration to argon2id</h2>").unwrap()..];
    let panel = &panel[..panel.find("<h2>Signing keys</h2>").unwrap()];
    let when = panel
        .find("id=\"stats-when\"")
        .expect("the time leads the panel");
    assert!(
        when < panel.find("id=\"migration\"").unwrap(),
        "before the figures:\n{panel}"
    );
    for said in [
        "data-kept=\"60\"",
        " s ago</span>",
        "shows in the account list before it shows here",
        "id=\"stats-recount\"",
    ] {
        assert!(panel.contains(said), "{said}:\n{panel}");
    }
}

/// A username equal to another account's uid, registered before that account existed (the
/// one order a check at registration cannot refuse): the uid routes act on the account with
/// that uid, never on the username's holder, and only `?login=` finds the latter.
#[tokio::test]
async fn a_username_equal_to_a_uid_never_stands_for_that_account() {
    let app = TestApp::builder().admin().start().await;
    let (status, decoy) = app
        .register(json!({"email": "decoy@example.com", "username": "legacy-42", "password": "the decoy's password"}))
        .await;
    assert_eq!(status, 201, "{decoy}");
    let victim = app
        .create_with_uid("legacy-42", "victim@example.com", "the victim's password")
        .await;

    let (status, shown) = send(app.admin(Method::GET, "/admin/api/accounts/legacy-42")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&shown["uid"], &shown["email"]),
        (&json!("legacy-42"), &json!("victim@example.com"))
    );
    let (status, disabled) =
        send(app.admin(Method::POST, "/admin/api/accounts/legacy-42/disable")).await;
    assert_eq!(
        (status, &disabled["uid"], &disabled["disabled"]),
        (200, &json!(victim.uid.as_str()), &json!(true))
    );
    assert!(app.stored("victim@example.com").await.account.disabled);
    assert!(!app.stored("decoy@example.com").await.account.disabled);
    assert_eq!(
        app.sign_in("legacy-42", "the decoy's password").await.0,
        200,
        "the username still signs in its own account"
    );

    let (status, found) = send(app.admin(Method::GET, "/admin/api/accounts?login=legacy-42")).await;
    assert_eq!(status, 200);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["email"], "decoy@example.com");
    assert_ne!(found[0]["uid"], "legacy-42");
}

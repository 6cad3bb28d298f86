//! Hardening, round two: checks that outlive their request, the admin guess limit
//! under concurrency and hang-ups, bursts released when a lock expires, an attacker keeping
//! a known login locked, legacy-domain alias takeovers, and the per-client and Unicode rules.

use std::time::{Duration, Instant};

use firegate::accounts::{Account, Uid};
use firegate::lockout::LockoutKey;
use firegate::login::Login;
use firegate::passwords::{Dialect, Password, StoredHash};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{TestApp, argon2id_hash, run_firegate, spawn_app_full, spawn_app_with};

/// Status and body of `POST /login/`, from `client` (an address put in X-Forwarded-For, for
/// servers started with `--trusted-proxy-hops 1`).
async fn login_from(app: &TestApp, client: Option<&str>, login: &str, password: &str) -> u16 {
    let mut request = app
        .http
        .post(app.url("/login/"))
        .json(&json!({"email": login, "password": password}));
    if let Some(ip) = client {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn login(app: &TestApp, login: &str, password: &str) -> (u16, Value) {
    let response = app
        .post_json("/login/", json!({"email": login, "password": password}))
        .await;
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// Waits until `done` holds, for at most a minute (hashes finishing in the background).
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The unfamiliar clients' failure count of an account.
async fn failures(app: &TestApp, uid: &Uid) -> u32 {
    app.service
        .store
        .failure_record(&LockoutKey::Account(uid.clone()))
        .await
        .unwrap()
        .map_or(0, |r| r.failures)
}

/// A Werkzeug PBKDF2 hash that costs `rounds` rounds to check (it matches no password).
fn slow_hash(rounds: u32) -> String {
    format!("pbkdf2:sha256:{rounds}$saltsalt${}", "00".repeat(32))
}

#[tokio::test]
async fn a_check_cut_off_by_a_hang_up_or_the_deadline_still_counts_its_failure() {
    // The floor outlasts both cut-offs, however fast this machine hashes.
    let app = spawn_app_full(
        &[
            "--max-pbkdf2-rounds",
            "100000000",
            "--failure-floor-ms",
            "5000",
        ],
        &["--request-timeout-secs", "1"],
    )
    .await;
    let account = app
        .insert_with_hash("kim@example.com", &slow_hash(6_000_000), Dialect::Werkzeug)
        .await;
    let hashed = app.service.passwords.hashes_computed();
    // This client hangs up while its hash runs.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let hung_up = impatient
        .post(app.url("/login/"))
        .json(&json!({"email": "kim@example.com", "password": "guess one"}))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client gave up first");
    // This one waits, and the server's deadline cuts the request.
    let (status, body) = login(&app, "kim@example.com", "guess two").await;
    assert_eq!((status, body["error"].as_str()), (503, Some("timeout")));
    // Both checks run to the end although their requests were cut (the count rises when a
    // hash has finished).
    eventually("both cut-off checks finish their hash", || async {
        app.service.passwords.hashes_computed() - hashed == 2
    })
    .await;
    eventually("both cut-off checks are counted", || async {
        failures(&app, &account.uid).await == 2
    })
    .await;
}

/// An argon2id hash of `password` with cheap parameters.
async fn argon2_hash(password: &str) -> String {
    argon2id_hash(password, 1024, 1).await
}

const ADMIN_PASSWORD: &str = "admin secret";

fn admin_get(app: &TestApp, password: &str, client: Option<&str>) -> reqwest::RequestBuilder {
    let request = app
        .http
        .get(app.url("/admin/api/keys"))
        .basic_auth("admin", Some(password));
    match client {
        Some(ip) => request.header("x-forwarded-for", ip),
        None => request,
    }
}

#[tokio::test]
async fn a_wrong_admin_guess_keeps_the_check_for_the_floor_after_its_client_hangs_up() {
    let hash = argon2_hash(ADMIN_PASSWORD).await;
    let app = spawn_app_with(&[
        "--admin-password-hash",
        &hash,
        "--failure-floor-ms",
        "6000",
        "--lockout-threshold",
        "0",
    ])
    .await;
    let hashed = app.service.passwords.hashes_computed();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let guess = impatient
        .get(app.url("/admin/api/keys"))
        .basic_auth("admin", Some("guess"))
        .send()
        .await;
    assert!(guess.is_err(), "the guesser hung up during the floor");
    // The next request waits its two seconds for the check, which the hung-up guess still
    // holds: refused without hashing, however right its password.
    let (status, body) = {
        let response = admin_get(&app, ADMIN_PASSWORD, None).send().await.unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    assert_eq!((status, body["error"].as_str()), (503, Some("overloaded")));
    assert_eq!(app.service.passwords.hashes_computed() - hashed, 1);
}

#[tokio::test]
async fn repeated_admin_failures_lock_admin_sign_in_but_not_for_the_admins_own_network() {
    let hash = argon2_hash(ADMIN_PASSWORD).await;
    let app = spawn_app_full(
        &[
            "--admin-password-hash",
            &hash,
            "--lockout-threshold",
            "3",
            "--lockout-step-secs",
            "600",
        ],
        &["--trusted-proxy-hops", "1"],
    )
    .await;
    let (admin_home, attacker) = (Some("198.51.100.7"), Some("203.0.113.9"));
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            admin_get(&app, ADMIN_PASSWORD, admin_home)
                .send()
                .await
                .unwrap()
        ),
        200
    );
    for i in 0..3 {
        let guess = format!("guess {i}");
        assert_eq!(
            status(admin_get(&app, &guess, attacker).send().await.unwrap()),
            401
        );
    }
    let hashed = app.service.passwords.hashes_computed();
    let locked = admin_get(&app, ADMIN_PASSWORD, attacker)
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429, "locked, even with the right password");
    assert!(locked.headers().get("retry-after").is_some());
    assert!(locked.headers().get("www-authenticate").is_none());
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"], "admin_locked");
    assert_eq!(
        status(admin_get(&app, "guess 4", attacker).send().await.unwrap()),
        429,
        "and the answer does not depend on the password"
    );
    assert_eq!(
        app.service.passwords.hashes_computed(),
        hashed,
        "no hash while locked"
    );
    assert_eq!(
        status(
            admin_get(&app, ADMIN_PASSWORD, admin_home)
                .send()
                .await
                .unwrap()
        ),
        200,
        "the admin's own network has a count of its own"
    );
}

/// Opens `n` connections that each send a whole sign-in request but its last byte.
async fn held_back(
    app: &TestApp,
    n: usize,
    login: &str,
    password: &str,
) -> Vec<tokio::net::TcpStream> {
    let body = json!({"email": login, "password": password}).to_string();
    let head = format!(
        "POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut streams = Vec::new();
    for _ in 0..n {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
            .write_all(&body.as_bytes()[..body.len() - 1])
            .await
            .unwrap();
        streams.push(stream);
    }
    streams
}

/// Sends every held-back request's last byte at once and returns the statuses.
async fn release(streams: Vec<tokio::net::TcpStream>) -> Vec<u16> {
    let mut streams = streams;
    for stream in &mut streams {
        stream.write_all(b"}").await.unwrap();
    }
    let answers = streams.into_iter().map(|mut stream| async move {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let text = String::from_utf8_lossy(&answer);
        text.split(' ')
            .nth(1)
            .unwrap_or("0")
            .parse::<u16>()
            .unwrap_or(0)
    });
    futures::future::join_all(answers).await
}

#[tokio::test]
async fn a_flood_of_locked_out_guesses_does_not_starve_the_admins_own_network() {
    let hash = argon2_hash(ADMIN_PASSWORD).await;
    // A floor long enough that two held checks outlast the admin's two-second wait.
    let app = spawn_app_full(
        &[
            "--admin-password-hash",
            &hash,
            "--lockout-threshold",
            "2",
            "--lockout-step-secs",
            "600",
            "--failure-floor-ms",
            "1500",
        ],
        &["--trusted-proxy-hops", "1"],
    )
    .await;
    let (admin_home, attacker) = (Some("198.51.100.7"), Some("203.0.113.9"));
    let ok = admin_get(&app, ADMIN_PASSWORD, admin_home)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for i in 0..2 {
        let guess = format!("guess {i}");
        let refused = admin_get(&app, &guess, attacker).send().await.unwrap();
        assert_eq!(refused.status(), 401);
    }
    // Locked for the attacker: each of these is answered without hashing, so none may hold
    // the one admin check for the floor.
    let flood: Vec<_> = (0..6)
        .map(|i| admin_get(&app, &format!("flood {i}"), attacker).send())
        .collect();
    let flood = tokio::spawn(futures::future::join_all(flood));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let admin = admin_get(&app, ADMIN_PASSWORD, admin_home)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200, "the admin got in during the flood");
    for answer in flood.await.unwrap() {
        assert_eq!(answer.unwrap().status(), 429);
    }
}

#[tokio::test]
async fn a_burst_gets_no_more_checks_than_the_lockout_threshold_allows() {
    let app = spawn_app_with(&["--lockout-threshold", "3", "--lockout-step-secs", "2"]).await;
    let account = app.create("kim@example.com", "right password").await;
    // A fresh account: of 20 guesses sent together, 3 are checked.
    let hashed = app.service.passwords.hashes_computed();
    let streams = held_back(&app, 20, "kim@example.com", "wrong").await;
    let statuses = release(streams).await;
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    assert_eq!(app.service.passwords.hashes_computed() - hashed, 3);
    assert_eq!(failures(&app, &account.uid).await, 3);
    // Held back until the lock expires, then released together: one check, which locks again.
    let streams = held_back(&app, 20, "kim@example.com", "wrong").await;
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let hashed = app.service.passwords.hashes_computed();
    let statuses = release(streams).await;
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    assert_eq!(app.service.passwords.hashes_computed() - hashed, 1);
    assert_eq!(failures(&app, &account.uid).await, 4);
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_keep_the_owner_out_of_a_known_login() {
    let app = spawn_app_full(
        &["--lockout-threshold", "3", "--lockout-step-secs", "600"],
        &["--trusted-proxy-hops", "1"],
    )
    .await;
    app.create("kim@example.com", "right password").await;
    let (home, attacker, new_phone) = (
        Some("198.51.100.7"),
        Some("2001:db8:bad::1"),
        Some("192.0.2.55"),
    );
    let kim = |client, password| login_from(&app, client, "kim@example.com", password);
    assert_eq!(kim(home, "right password").await, 200);
    for _ in 0..8 {
        assert_eq!(kim(attacker, "guess").await, 400);
    }
    assert_eq!(
        kim(attacker, "right password").await,
        400,
        "locked for the attacker"
    );
    assert_eq!(
        kim(new_phone, "right password").await,
        400,
        "and for every client on an unfamiliar network"
    );
    for _ in 0..5 {
        assert_eq!(
            kim(home, "right password").await,
            200,
            "the owner at home is not"
        );
    }
    // The familiar network has a count of its own, which locks too.
    for _ in 0..3 {
        assert_eq!(kim(home, "typo").await, 400);
    }
    assert_eq!(kim(home, "right password").await, 400);
}

/// Stores an account directly (no alias check, logins kept as typed), as firegate did
/// before these rules.
async fn seed(
    app: &TestApp,
    email: Option<&str>,
    username: Option<&str>,
    password: &str,
    age_secs: i64,
) -> Account {
    let hash = app
        .service
        .passwords
        .hash(&Password::new(password.into()).unwrap())
        .await
        .unwrap();
    let created = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(age_secs);
    let account = Account {
        uid: Uid::generate(),
        email: email.map(|e| Login::as_typed(e).unwrap()),
        username: username.map(|u| Login::as_typed(u).unwrap()),
        password: StoredHash::of_typed(hash.hash, Dialect::Phc),
        created_at: created,
        updated_at: created,
        disabled: false,
        claims: Default::default(),
        firebase: Default::default(),
        factors: Default::default(),
        email_verified: None,
    };
    app.service.store.create_account(&account).await.unwrap();
    account
}

#[tokio::test]
async fn registration_cannot_take_over_a_legacy_domain_alias_in_either_order() {
    let app = spawn_app_with(&["--legacy-domain", "school.example"]).await;
    // An imported username first: its alias cannot be registered as an email.
    let kim = seed(&app, None, Some("kim"), "kim's password", 3600).await;
    let response = app
        .post_json(
            "/register/",
            json!({"email": "Kim@School.example", "password": "attacker's password"}),
        )
        .await;
    assert_eq!(response.status(), 409);
    let (status, body) = login(&app, "kim@school.example", "kim's password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(kim.uid.as_str()))
    );
    assert_eq!(
        login(&app, "kim@school.example", "attacker's password")
            .await
            .0,
        400
    );
    // A registered email first: an account with that username cannot be created after it.
    let response = app
        .post_json(
            "/register/",
            json!({"email": "lee@school.example", "password": "lee's password"}),
        )
        .await;
    assert_eq!(response.status(), 201);
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
    let response = app
        .post_json(
            "/register/",
            json!({"email": "park@school.example", "username": "park", "password": "park's password"}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn a_mixed_case_legacy_username_signs_in_under_the_legacy_domain() {
    let app = spawn_app_with(&["--legacy-domain", "school.example"]).await;
    let kim = seed(&app, None, Some("Kim"), "kim's password", 3600).await;
    for typed in ["Kim", "Kim@school.example", "Kim@SCHOOL.example"] {
        let (status, body) = login(&app, typed, "kim's password").await;
        assert_eq!(
            (status, body["uid"].as_str()),
            (200, Some(kim.uid.as_str())),
            "{typed}"
        );
    }
}

#[tokio::test]
async fn a_newer_account_never_shadows_an_older_ones_alias() {
    let app = spawn_app_with(&["--legacy-domain", "school.example"]).await;
    // Both pairs exist (written before the rule, or racing each other): the older wins.
    let old_name = seed(&app, None, Some("kim"), "username password", 7200).await;
    let new_email = seed(&app, Some("kim@school.example"), None, "email password", 60).await;
    let (status, body) = login(&app, "kim@school.example", "username password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(old_name.uid.as_str()))
    );
    assert_eq!(
        login(&app, "kim@school.example", "email password").await.0,
        400
    );

    let old_email = seed(
        &app,
        Some("lee@school.example"),
        None,
        "email password",
        7200,
    )
    .await;
    let new_name = seed(&app, None, Some("lee"), "username password", 60).await;
    let (status, body) = login(&app, "lee@school.example", "email password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(old_email.uid.as_str()))
    );
    assert_eq!(
        login(&app, "lee@school.example", "username password")
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

#[tokio::test]
async fn ipv6_clients_share_their_slash_64s_rate_limit() {
    let app = spawn_app_full(
        &[],
        &[
            "--trusted-proxy-hops",
            "1",
            "--rate-limit-per-minute",
            "1",
            "--rate-limit-burst",
            "2",
        ],
    )
    .await;
    let guess = |client: &'static str| login_from(&app, Some(client), "x@example.com", "pw");
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

#[tokio::test]
async fn every_method_on_every_admin_path_meets_the_gate_first() {
    let off = spawn_app_with(&[]).await;
    let hash = argon2_hash(ADMIN_PASSWORD).await;
    let on = spawn_app_with(&["--admin-password-hash", &hash]).await;
    let send = |app: &TestApp, method: reqwest::Method, path: &str, password: Option<&str>| {
        let mut request = app
            .http
            .request(method, app.url(path))
            .header("content-type", "application/json");
        if let Some(password) = password {
            request = request.basic_auth("admin", Some(password));
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    };
    use reqwest::Method;
    let cases = [
        (Method::POST, "/admin/api/keys"),
        (Method::DELETE, "/admin/api/stats"),
        (Method::PUT, "/admin"),
        (Method::PATCH, "/admin/"),
        (Method::GET, "/admin/api/nothing-here"),
        (Method::POST, "/admin/api/keys/k/activate/extra"),
    ];
    for (method, path) in &cases {
        let (status, code) = send(&off, method.clone(), path, None).await;
        assert_eq!(
            (status, code.as_str()),
            (404, "not_found"),
            "off: {method} {path}"
        );
        let (status, code) = send(&on, method.clone(), path, None).await;
        assert_eq!(
            (status, code.as_str()),
            (401, "unauthorized"),
            "on: {method} {path}"
        );
    }
    let (status, code) = send(&on, Method::POST, "/admin/api/keys", Some(ADMIN_PASSWORD)).await;
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
    let (status, code) = send(
        &on,
        Method::GET,
        "/admin/api/nothing-here",
        Some(ADMIN_PASSWORD),
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let (status, _) = send(&on, Method::GET, "/admin/api/keys", Some(ADMIN_PASSWORD)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn look_alike_logins_are_one_login_and_invisible_characters_are_refused() {
    let app = spawn_app_with(&[]).await;
    let app = &app;
    let register = |email: &str, username: Option<&str>| {
        let mut body = json!({"email": email, "password": "a long password"});
        if let Some(name) = username {
            body["username"] = json!(name);
        }
        async move {
            let response = app.post_json("/register/", body).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    };
    assert_eq!(
        register("jose\u{301}@example.com", Some("Jose\u{301}"))
            .await
            .0,
        201
    );
    for (look_alike, why) in [
        ("jos\u{e9}@example.com", "NFC of the stored NFD"),
        ("ｊｏｓé@ｅｘａｍｐｌｅ.com", "fullwidth forms"),
    ] {
        assert_eq!(
            register(look_alike, None).await,
            (409, "login_taken".to_string()),
            "{why}"
        );
    }
    for hidden in [
        "jo\u{200B}se@example.com",
        "jose\u{200D}@example.com",
        "\u{FEFF}jose@example.com",
    ] {
        assert_eq!(
            register(hidden, None).await,
            (400, "invalid_login".to_string()),
            "{hidden:?}"
        );
    }
    assert_eq!(
        register("lee@example.com", Some("le\u{2060}e")).await,
        (400, "invalid_login".to_string()),
        "usernames too"
    );
    // Every spelling signs in to the one account.
    for spelling in [
        "JOSÉ@example.com",
        "jose\u{301}@EXAMPLE.com",
        "ｊｏｓé@example.com",
    ] {
        assert_eq!(
            login(app, spelling, "a long password").await.0,
            200,
            "{spelling}"
        );
    }
    let by_name = app
        .post_json(
            "/login/",
            json!({"username": "Jos\u{e9}", "password": "a long password"}),
        )
        .await;
    assert_eq!(by_name.status(), 200);
    // A username stored unnormalised before these rules still signs in as it was typed.
    let old = "Ma\u{301}ria\u{200B}";
    seed(app, None, Some(old), "old password", 0).await;
    let typed = app
        .post_json(
            "/login/",
            json!({"username": old, "password": "old password"}),
        )
        .await;
    assert_eq!(typed.status(), 200);
}

#[tokio::test]
async fn uids_longer_than_every_firebase_sdk_takes_are_refused() {
    let app = spawn_app_with(&[]).await;
    let project = app.project();
    let emoji = "😀".repeat(128);
    let output = run_firegate(
        app.keys.path(),
        &project,
        &[
            "accounts",
            "create",
            "--login",
            "emoji@example.com",
            "--uid",
            &emoji,
        ],
        Some("a long password\n"),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("128 bytes"), "{stderr}");
    let fits = "😀".repeat(32);
    let output = run_firegate(
        app.keys.path(),
        &project,
        &[
            "accounts",
            "create",
            "--login",
            "emoji@example.com",
            "--uid",
            &fits,
        ],
        Some("a long password\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

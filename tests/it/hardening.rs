//! Under attack and faults: lockout, rate limit, load shedding, Firestore outages, graceful
//! shutdown, slow clients — and logs that never hold a secret.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{ServerProcess, TestApp, spawn_app_full, spawn_app_with};

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    app.sign_in(email, password).await
}

#[tokio::test]
async fn repeated_failures_lock_known_and_unknown_logins_alike() {
    let app = spawn_app_with(&["--lockout-threshold", "3", "--lockout-step-secs", "2"]).await;
    app.create("kim@example.com", "right password").await;
    for _ in 0..3 {
        assert_eq!(login(&app, "kim@example.com", "wrong").await.0, 400);
        assert_eq!(login(&app, "ghost@example.com", "wrong").await.0, 400);
    }
    let hashes = app.service.passwords.hashes_computed();
    let known = login(&app, "kim@example.com", "right password").await;
    let unknown = login(&app, "ghost@example.com", "right password").await;
    assert_eq!(known.0, 400, "the right password is refused while locked");
    assert_eq!(
        known, unknown,
        "a locked unknown login looks exactly like a locked known one"
    );
    assert_eq!(
        app.service.passwords.hashes_computed(),
        hashes,
        "a locked login costs no hash"
    );

    // The lock expires after its 2-second step: wait for that, not for a fixed time. Attempts
    // during the lock are not counted, so waiting this way does not extend it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while login(&app, "kim@example.com", "right password").await.0 != 200 {
        assert!(Instant::now() < deadline, "the lock expires");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The success forgot the failures: one more failure does not lock again.
    assert_eq!(login(&app, "kim@example.com", "wrong").await.0, 400);
    assert_eq!(
        login(&app, "kim@example.com", "right password").await.0,
        200
    );
}

#[tokio::test]
async fn parallel_guesses_all_count_and_an_accounts_logins_share_one_count() {
    use firegate::lockout::LockoutKey;
    use firegate::login::Login;

    let app = spawn_app_with(&["--lockout-threshold", "6", "--lockout-step-secs", "600"]).await;
    let account = app
        .service
        .create_account(
            firegate::service::NewAccount {
                uid: None,
                email: Some(Login::parse("kim@example.com").unwrap()),
                email_verified: None,
                username: Some(Login::parse("kim").unwrap()),
                password: firegate::passwords::Password::new("right password".into()).unwrap(),
                claims: Default::default(),
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let by_username = |password: &'static str| {
        app.post_json("/login/", json!({"username": "kim", "password": password}))
    };
    // Four guesses by email at once, two by username at once: six failures of one account.
    let emails = futures::future::join_all((0..4).map(|_| login(&app, "kim@example.com", "wrong")));
    let names = futures::future::join_all((0..2).map(|_| by_username("wrong")));
    let (emails, names) = tokio::join!(emails, names);
    assert!(
        emails.iter().all(|(status, _)| *status == 400),
        "{emails:?}"
    );
    assert!(names.iter().all(|r| r.status() == 400));

    let record = app
        .service
        .store
        .failure_record(&LockoutKey::Account(account.uid.clone()))
        .await
        .unwrap()
        .expect("the account has a failure record");
    assert_eq!(
        record.failures, 6,
        "every parallel failure is counted, under the account"
    );
    assert_eq!(
        login(&app, "kim@example.com", "right password").await.0,
        400,
        "locked by email"
    );
    assert_eq!(
        by_username("right password").await.status(),
        400,
        "and by username"
    );

    // An unknown login's record is keyed by its hash, not stored under the text typed.
    assert_eq!(login(&app, "Summer2024!", "x").await.0, 400);
    let ghost = Login::parse("Summer2024!").unwrap();
    let ghost_record = app
        .service
        .store
        .failure_record(&LockoutKey::Unknown(ghost))
        .await
        .unwrap();
    assert_eq!(ghost_record.map(|r| r.failures), Some(1));
}

#[tokio::test]
async fn admins_unlock_logins() {
    let server = ServerProcess::start(
        &["--lockout-threshold", "2", "--lockout-step-secs", "600"],
        &[],
    )
    .await;
    let created = server.command(
        &["accounts", "create", "--login", "lee@example.com"],
        Some("right password\n"),
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let client = reqwest::Client::new();
    let attempt = |password: &'static str| {
        client
            .post(server.url("/login/"))
            .json(&json!({"email": "lee@example.com", "password": password}))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(attempt("wrong").await.unwrap().status(), 400);
    }
    assert_eq!(
        attempt("right password").await.unwrap().status(),
        400,
        "locked for ten minutes"
    );
    let unlocked = server.command(&["accounts", "unlock", "--login", "lee@example.com"], None);
    assert!(
        unlocked.status.success(),
        "{}",
        String::from_utf8_lossy(&unlocked.stderr)
    );
    assert_eq!(attempt("right password").await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_rate_limit_answers_429_then_recovers() {
    // One request per 6 s after a burst of 3: the burst is spent long before the bucket
    // refills, however slow this machine is.
    let app = spawn_app_full(
        &[],
        &["--rate-limit-per-minute", "10", "--rate-limit-burst", "3"],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(login(&app, "x@example.com", "pw").await.0, 400);
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
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match login(&app, "x@example.com", "pw").await.0 {
            400 => break,
            429 if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            other => panic!("expected the limit to lift, got {other}"),
        }
    }
}

#[tokio::test]
async fn a_login_flood_is_shed_with_503_and_memory_stays_bounded() {
    // Its own emulator: a flood must not slow the tests that share the run's emulator.
    let emulator = tokio::task::spawn_blocking(|| firegate::emulator::Emulator::start(None))
        .await
        .unwrap()
        .unwrap();
    let server = ServerProcess::start(
        &[
            "--firestore-emulator-host",
            emulator.host(),
            "--argon2-memory-kib",
            "19456",
            "--argon2-iterations",
            "2",
            "--max-concurrent-hashes",
            "2",
            "--hash-queue",
            "8",
            "--lockout-threshold",
            "0",
        ],
        &["--rate-limit-per-minute", "0"],
    )
    .await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    // Warm the fresh emulator up, so the flood measures firegate rather than a cold JVM.
    let warm = client
        .post(server.url("/login/"))
        .json(&json!({"email": "w@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 400);
    let idle_kb = server.memory_kb("VmRSS");
    let flood = (0..500).map(|i| {
        let request = client
            .post(server.url("/login/"))
            .json(&json!({"email": format!("user{i}@example.com"), "password": "guess"}));
        async move {
            request.send().await.map(|r| {
                (
                    r.status().as_u16(),
                    r.headers().get("retry-after").is_some(),
                )
            })
        }
    });
    let results = futures::future::join_all(flood).await;
    let shed = results
        .iter()
        .filter(|r| matches!(r, Ok((503, true))))
        .count();
    let answered = results.iter().filter(|r| matches!(r, Ok((400, _)))).count();
    assert!(shed > 0, "the queue overflowed into 503s");
    assert!(
        answered >= 10,
        "the admitted requests were answered ({answered})"
    );
    assert_eq!(
        shed + answered,
        500,
        "every request got 400 or 503 with Retry-After"
    );
    let peak_kb = server.memory_kb("VmHWM");
    eprintln!("flood: {answered} answered, {shed} shed; RSS idle {idle_kb} kB, peak {peak_kb} kB");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = server.logs.lock().unwrap().clone();
    let outcomes = |outcome: &str| {
        logs.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["message"] == "sign-in" && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(
        outcomes("shed"),
        shed,
        "one `sign-in` line per shed attempt"
    );
    assert_eq!(
        outcomes("failure"),
        answered + 1,
        "and per refused one (plus the warm-up)"
    );
    assert!(peak_kb < 120 * 1024, "peak RSS {peak_kb} kB");
}

#[tokio::test]
async fn firestore_outages_give_quick_503s_and_recovery_needs_no_restart() {
    let emulator = tokio::task::spawn_blocking(|| firegate::emulator::Emulator::start(None))
        .await
        .unwrap()
        .unwrap();
    let host = emulator.host().to_string();
    let port: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
    // A fresh emulator can take seconds to answer its first call; warm it up with the
    // harness's long deadline before starting the server under test with a short one.
    drop(spawn_app_with(&["--firestore-emulator-host", &host]).await);
    let app = spawn_app_with(&[
        "--firestore-emulator-host",
        &host,
        "--firestore-timeout-ms",
        "2000",
    ])
    .await;
    app.create("kim@example.com", "right password").await;
    assert_eq!(
        login(&app, "kim@example.com", "right password").await.0,
        200
    );

    drop(emulator);
    let started = Instant::now();
    let (status, body) = login(&app, "kim@example.com", "right password").await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")));
    eprintln!(
        "a login with Firestore down failed in {:?}",
        started.elapsed()
    );
    // Bounded by the configured Firestore deadline (2 s here), never a hang.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );

    let emulator =
        tokio::task::spawn_blocking(move || firegate::emulator::Emulator::start_on(port, None))
            .await
            .unwrap()
            .unwrap();
    // The restarted emulator is empty; the same server, never restarted, serves it again
    // once its connection is re-established.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = app.service.create_account(
            firegate::service::NewAccount {
                uid: None,
                email: Some(firegate::login::Login::parse("kim@example.com").unwrap()),
                email_verified: None,
                username: None,
                password: firegate::passwords::Password::new("right password".into()).unwrap(),
                claims: Default::default(),
            },
            jiff::Timestamp::now(),
        );
        match attempt.await {
            // Taken: an earlier attempt was written but its answer came after the deadline.
            Ok(_) | Err(firegate::Error::LoginTaken(_)) => break,
            Err(e) => assert!(Instant::now() < deadline, "Firestore never came back: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "recovered {:?} after the emulator restarted",
        started.elapsed()
    );
    assert_eq!(
        login(&app, "kim@example.com", "right password").await.0,
        200
    );
    drop(emulator);
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    let mut server = ServerProcess::start(&["--failure-floor-ms", "1500"], &[]).await;
    let client = reqwest::Client::new();
    let in_flight: Vec<_> = (0..5)
        .map(|i| {
            let request = client
                .post(server.url("/login/"))
                .json(&json!({"email": format!("u{i}@example.com"), "password": "x"}));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.signal(nix::sys::signal::Signal::SIGTERM);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        std::net::TcpStream::connect(server.addr).is_err(),
        "no new connections after SIGTERM"
    );
    for request in in_flight {
        assert_eq!(
            request.await.unwrap().unwrap(),
            400,
            "an in-flight request was cut off"
        );
    }
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn slow_clients_are_disconnected() {
    let app = spawn_app_full(&[], &["--header-timeout-secs", "1"]).await;
    let addr = app.addr;
    let waited = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"POST /login/ HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let started = Instant::now();
        let mut buf = Vec::new();
        let closed = stream.read_to_end(&mut buf).is_ok();
        (closed, started.elapsed())
    })
    .await
    .unwrap();
    assert!(
        waited.0 && waited.1 < Duration::from_secs(4),
        "the server kept a stalled client: {waited:?}"
    );
}

#[tokio::test]
async fn logs_are_cloud_logging_json_and_hold_no_secret() {
    let hash_path = "admin secret for logs";
    let admin_hash = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_firegate"))
            .args(["admin", "hash-password"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{hash_path}\n").as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let server = ServerProcess::start(&["--admin-password-hash", &admin_hash], &[]).await;
    let client = reqwest::Client::new();
    let secrets = [
        "Sup3r-secret-password",
        "N3w-secret-password",
        "wrong-secret-guess",
    ];
    let created = server.command(
        &["accounts", "create", "--login", "kim@example.com"],
        Some(&format!("{}\n", secrets[0])),
    );
    assert!(created.status.success());
    let login = client
        .post(server.url("/login/"))
        .header(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/1;o=1",
        )
        .json(&json!({"email": "kim@example.com", "password": secrets[0]}))
        .send()
        .await
        .unwrap();
    let signed_in = login.json::<Value>().await.unwrap();
    let token = signed_in["token"].as_str().unwrap().to_string();
    let uid = signed_in["uid"].as_str().unwrap().to_string();
    let wrong = client
        .post(server.url("/login/"))
        .json(&json!({"email": "kim@example.com", "password": secrets[2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let register = client
        .post(server.url("/register/"))
        .json(&json!({"email": "new@example.com", "password": secrets[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let change = client
        .post(server.url("/password/"))
        .json(&json!({"email": "kim@example.com", "password": secrets[0], "new_password": secrets[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 204);
    let keys = client
        .get(server.url("/admin/api/keys"))
        .basic_auth("admin", Some(hash_path))
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let logs = server.logs.lock().unwrap().clone();
    let key_file: Value =
        serde_json::from_slice(&std::fs::read(server.keys.path().join("key.json")).unwrap())
            .unwrap();
    let key_body: String = key_file["private_key"]
        .as_str()
        .unwrap()
        .lines()
        .nth(5)
        .unwrap()
        .to_string();
    let stored = server.command(&["accounts", "show", "--login", "kim@example.com"], None);
    assert!(stored.status.success());
    for secret in secrets.iter().copied().chain([
        hash_path,
        token.as_str(),
        &token[token.len() - 40..],
        key_body.as_str(),
        "$argon2id$",
        admin_hash.as_str(),
    ]) {
        assert!(
            !logs.contains(secret),
            "the logs contain a secret ({} chars)",
            secret.len()
        );
    }

    let entries: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        entries.iter().all(|e| e["severity"].is_string()
            && e["message"].is_string()
            && e["time"].is_string())
    );
    let traced = entries
        .iter()
        .find(|e| e["httpRequest"]["requestUrl"] == "/login/" && e["httpRequest"]["status"] == 200)
        .expect("an access-log entry for the login");
    assert_eq!(traced["httpRequest"]["requestMethod"], "POST");
    assert!(
        traced["httpRequest"]["latency"]
            .as_str()
            .unwrap()
            .ends_with('s')
    );
    assert_eq!(
        traced["logging.googleapis.com/trace"],
        format!(
            "projects/{}/traces/105445aa7843bc8bf206b12000100000",
            server.project
        )
    );
    // One line per sign-in attempt (the password change checks a password but signs no one
    // in), each naming the account and neither holding the login, which may be a password
    // typed into the wrong field.
    let attempts: Vec<&Value> = entries
        .iter()
        .filter(|e| e["message"] == "sign-in")
        .collect();
    let outcomes: Vec<(&str, Option<&str>)> = attempts
        .iter()
        .map(|e| (e["outcome"].as_str().unwrap(), e["reason"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [("success", None), ("failure", Some("wrong_password"))]
    );
    for attempt in attempts {
        assert_eq!(attempt["uid"], uid.as_str(), "{attempt}");
        assert!(!attempt.to_string().contains("kim@"), "{attempt}");
    }
    let admin = entries
        .iter()
        .find(|e| e["httpRequest"]["requestUrl"] == "/admin/api/keys")
        .expect("an access-log entry for the admin API");
    assert_eq!(admin["httpRequest"]["status"], 200);
}

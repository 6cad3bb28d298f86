//! Under load and faults: a sign-in flood is shed with 503 and bounded memory, a Firestore
//! outage gives quick 503s and needs no restart to recover, SIGTERM finishes the requests in
//! flight, and slow clients are disconnected.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{ServerProcess, TestApp, eventually};

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
    let outcomes = |outcome: &str| {
        let logs = server.logs.lock().unwrap().clone();
        logs.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["message"] == "sign-in" && e["outcome"] == outcome)
            .count()
    };
    // Each attempt's line is written before its answer; wait for them all rather than a while.
    eventually("every attempt's `sign-in` line is written", || async {
        // Every attempt, and the warm-up.
        outcomes("shed") + outcomes("failure") == 500 + 1
    })
    .await;
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
    drop(TestApp::builder().emulator(&host).start().await);
    let app = TestApp::builder()
        .emulator(&host)
        .flags(&["--firestore-timeout-ms", "2000"])
        .start()
        .await;
    app.create("kim@example.com", "right password").await;
    assert_eq!(
        app.sign_in("kim@example.com", "right password").await.0,
        200
    );

    drop(emulator);
    let started = Instant::now();
    let (status, body) = app.sign_in("kim@example.com", "right password").await;
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
    eventually("Firestore comes back", || async {
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
            Ok(_) | Err(firegate::Error::LoginTaken(_)) => true,
            Err(e) => {
                eprintln!("not yet: {e}");
                false
            }
        }
    })
    .await;
    eprintln!(
        "recovered {:?} after the emulator restarted",
        started.elapsed()
    );
    assert_eq!(
        app.sign_in("kim@example.com", "right password").await.0,
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
    // Each request's `sign-in` line is written when its check is done, before the floor it
    // then waits out: with all five written, all five are in flight.
    eventually("the five requests are in flight", || async {
        server.logs.lock().unwrap().matches("\"sign-in\"").count() == 5
    })
    .await;
    server.signal(nix::sys::signal::Signal::SIGTERM);
    // The listener closes at once, while the requests still wait out their floor.
    let pid = server.child.id();
    let running =
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    eventually("no new connections after SIGTERM", || async {
        assert!(running(), "the server exited before it stopped listening");
        std::net::TcpStream::connect(server.addr).is_err()
    })
    .await;
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
    let app = TestApp::builder().header_timeout_secs(1).start().await;
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

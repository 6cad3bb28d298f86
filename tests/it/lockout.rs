//! Brute-force lockout of sign-ins: failures lock known and unknown logins alike, parallel
//! guesses all count, a burst gets no more checks than the threshold allows, a check cut off by
//! a hang-up or the deadline still counts, the owner's familiar network keeps its own count,
//! and admins unlock.

use std::time::Duration;

use firegate::accounts::Uid;
use firegate::lockout::{LockoutKey, LockoutPolicy};
use firegate::passwords::Dialect;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{TestApp, eventually};

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
async fn repeated_failures_lock_known_and_unknown_logins_alike() {
    let app = TestApp::builder().lockout(3, 2).start().await;
    app.create("kim@example.com", "right password").await;
    for _ in 0..3 {
        assert_eq!(app.sign_in("kim@example.com", "wrong").await.0, 400);
        assert_eq!(app.sign_in("ghost@example.com", "wrong").await.0, 400);
    }
    let hashes = app.service.passwords.hashes_computed();
    let known = app.sign_in("kim@example.com", "right password").await;
    let unknown = app.sign_in("ghost@example.com", "right password").await;
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
    eventually("the lock expires", || async {
        app.sign_in("kim@example.com", "right password").await.0 == 200
    })
    .await;
    // The success forgot the failures: one more failure does not lock again.
    assert_eq!(app.sign_in("kim@example.com", "wrong").await.0, 400);
    assert_eq!(
        app.sign_in("kim@example.com", "right password").await.0,
        200
    );
}

#[tokio::test]
async fn parallel_guesses_all_count_and_an_accounts_logins_share_one_count() {
    use firegate::lockout::LockoutKey;
    use firegate::login::Login;

    let app = TestApp::builder().lockout(6, 600).start().await;
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
    let emails = futures::future::join_all((0..4).map(|_| app.sign_in("kim@example.com", "wrong")));
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
        app.sign_in("kim@example.com", "right password").await.0,
        400,
        "locked by email"
    );
    assert_eq!(
        by_username("right password").await.status(),
        400,
        "and by username"
    );

    // An unknown login's record is keyed by its hash, not stored under the text typed.
    assert_eq!(app.sign_in("Summer2024!", "x").await.0, 400);
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
    let app = TestApp::builder().lockout(2, 600).start().await;
    let create = ["accounts", "create", "--login", "lee@example.com"];
    let (created, uid, stderr) = app.cli(&create, Some("right password\n")).await;
    assert!(created, "{stderr}");
    let uid = Uid::parse(uid.trim()).unwrap();
    for _ in 0..2 {
        assert_eq!(app.sign_in("lee@example.com", "wrong").await.0, 400);
    }
    assert_eq!(failures(&app, &uid).await, 2);
    let (status, _) = app.sign_in("lee@example.com", "right password").await;
    assert_eq!(status, 400, "locked for ten minutes");
    let unlock = ["accounts", "unlock", "--login", "lee@example.com"];
    let (unlocked, _, stderr) = app.cli(&unlock, None).await;
    assert!(unlocked, "{stderr}");
    assert_eq!(
        failures(&app, &uid).await,
        0,
        "the unlock forgot the failures"
    );
    assert_eq!(
        app.sign_in("lee@example.com", "right password").await.0,
        200
    );
}

#[tokio::test]
async fn a_check_cut_off_by_a_hang_up_or_the_deadline_still_counts_its_failure() {
    // The floor outlasts both cut-offs, however fast this machine hashes.
    let app = TestApp::builder()
        .failure_floor_ms(5000)
        .flags(&["--max-pbkdf2-rounds", "100000000"])
        .flags(&["--request-timeout-secs", "1"])
        .start()
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
    let (status, body) = app.sign_in("kim@example.com", "guess two").await;
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
async fn a_burst_gets_no_more_checks_than_the_lockout_threshold_allows() {
    let app = TestApp::builder().lockout(3, 2).start().await;
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
    let policy = LockoutPolicy {
        threshold: 3,
        step: Duration::from_secs(2),
        ..LockoutPolicy::default()
    };
    eventually("the lock expires", || async {
        let record = app
            .service
            .store
            .failure_record(&LockoutKey::Account(account.uid.clone()))
            .await
            .unwrap();
        policy
            .locked_until(record.as_ref(), jiff::Timestamp::now())
            .is_none()
    })
    .await;
    assert_eq!(
        failures(&app, &account.uid).await,
        3,
        "the held-back guesses are not counted before they are sent"
    );
    let hashed = app.service.passwords.hashes_computed();
    let statuses = release(streams).await;
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    assert_eq!(app.service.passwords.hashes_computed() - hashed, 1);
    assert_eq!(failures(&app, &account.uid).await, 4);
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_keep_the_owner_out_of_a_known_login() {
    let app = TestApp::builder()
        .lockout(3, 600)
        .behind_proxy()
        .start()
        .await;
    app.create("kim@example.com", "right password").await;
    let (home, attacker, new_phone) = ("198.51.100.7", "2001:db8:bad::1", "192.0.2.55");
    let app = &app;
    let kim = |client, password| async move {
        app.sign_in_from(client, "kim@example.com", password)
            .await
            .0
    };
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

//! Upgrades racing other writes: a hash upgrade on sign-in never overwrites a change made
//! while that sign-in was checking the password, and a skipped or failed upgrade never fails
//! the sign-in; the next sign-in upgrades. With the Firebase Auth bridge, the sign-in's own
//! upgrade does not count as a change, and someone else's does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use firegate::passwords::{Dialect, Password};
use firegate::service::AccountRef;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::common::{TestApp, shared_public_pem};
use crate::legacy::FIXTURE;

#[tokio::test]
async fn a_conditional_hash_write_is_refused_once_the_account_has_changed() {
    let app = TestApp::start().await;
    let line: Value = serde_json::from_str(FIXTURE.lines().next().unwrap()).unwrap();
    app.insert_with_hash("kim", line["hash"].as_str().unwrap(), Dialect::Werkzeug)
        .await;
    let read_for_upgrade = app.stored("kim").await;

    // An admin changes the password after the sign-in read the account...
    let changed = firegate::passwords::Password::new("the admin's new password".into()).unwrap();
    app.service
        .set_password(
            &AccountRef::Login("kim".into()),
            &changed,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let after_change = app.stored("kim").await.account.password;

    // ...so the upgrade, conditioned on the version it read, must write nothing.
    let upgraded = app
        .service
        .passwords
        .hash(&firegate::passwords::Password::new("old".into()).unwrap())
        .await
        .unwrap();
    let written = app
        .service
        .store
        .replace_password(
            &read_for_upgrade.account.uid,
            &upgraded,
            Some(read_for_upgrade.version),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    assert!(written.is_none());
    assert_eq!(app.stored("kim").await.account.password, after_change);
    assert_eq!(app.sign_in("kim", "the admin's new password").await.0, 200);
    assert_eq!(
        app.sign_in("kim", line["password"].as_str().unwrap())
            .await
            .0,
        400
    );
}

/// A Werkzeug hash of [`SLOW_PASSWORD`] with 2,000,000 PBKDF2 rounds (made with Python's
/// `hashlib.pbkdf2_hmac`). Checking it takes around half a second: the window in which a
/// race test changes an account under a sign-in that has already read it.
const SLOW_HASH: &str = "pbkdf2:sha256:2000000$slowRaceSalt0001$\
                         fe0c348c1e6cf4415a890b859a3a9b121bf70994cff1b0653d45183cf4bbfc6c";
const SLOW_PASSWORD: &str = "the old password";

/// A sign-in over HTTP raced against a change made after it read the account.
struct Race<T> {
    status: u16,
    body: Value,
    /// The account signed in to, as created.
    account: firegate::accounts::Account,
    /// What the change returned.
    changed: T,
}

/// Signs in with [`SLOW_PASSWORD`] to a fresh account holding [`SLOW_HASH`] and runs `change`
/// once the sign-in has read the account and is checking the hash. An attempt counts only
/// if `change` finished before the sign-in began hashing an upgrade, hence before any
/// upgrade write; a busy machine can stall the change past the check, so up to three
/// attempts are made, each on its own account.
async fn race_sign_in<T>(
    app: &TestApp,
    change: impl AsyncFn(&firegate::accounts::Account) -> T,
) -> Race<T> {
    let passwords = &app.service.passwords;
    for attempt in 0..3 {
        let user = format!("racer{attempt}");
        let account = app
            .insert_with_hash(&user, SLOW_HASH, Dialect::Werkzeug)
            .await;
        let before = passwords.hashes_started();
        let sign_in = async {
            let response = app
                .post_json(
                    "/login/",
                    json!({"username": user, "password": SLOW_PASSWORD}),
                )
                .await;
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        };
        let changing = async {
            // A sign-in reads the account before it hashes anything.
            let deadline = Instant::now() + Duration::from_secs(30);
            while passwords.hashes_started() == before {
                assert!(
                    Instant::now() < deadline,
                    "the sign-in never checked the hash"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let changed = change(&account).await;
            (changed, passwords.hashes_started() == before + 1)
        };
        let ((status, body), (changed, in_time)) = tokio::join!(sign_in, changing);
        if in_time {
            return Race {
                status,
                body,
                account,
                changed,
            };
        }
    }
    panic!("three sign-ins checked a 2,000,000-round hash faster than one Firestore write");
}

/// The sign-in's token is signed by the service account and names the account.
fn assert_token_for(body: &Value, uid: &firegate::accounts::Uid) {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[firegate::custom_token::AUDIENCE]);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(shared_public_pem().as_bytes()).unwrap();
    let token = body["token"].as_str().expect("a token");
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(body["uid"], uid.as_str());
    assert_eq!(claims["uid"], uid.as_str());
}

/// JSON log lines written on this thread while it lives. A `#[tokio::test]` runtime is
/// single-threaded, so they include everything the in-process server logs.
struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn start() -> CapturedLogs {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        CapturedLogs {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// How many lines carry `message` about the account `uid`.
    fn count(&self, message: &str, uid: &firegate::accounts::Uid) -> usize {
        let text = String::from_utf8(self.lines.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["fields"]["message"] == message && e["fields"]["uid"] == uid.as_str())
            .count()
    }
}

#[tokio::test]
async fn a_password_changed_during_a_sign_in_is_not_overwritten_by_its_upgrade() {
    let app = TestApp::start().await;
    let logs = CapturedLogs::start();
    let new_password = Password::new("the admin's new password".into()).unwrap();
    let new_hash = app.service.passwords.hash(&new_password).await.unwrap();
    // An admin sets a new password while the sign-in checks the old one (the write
    // `Service::set_password` makes, with a hash computed beforehand so that the hashing
    // count the race watches is the sign-in's alone).
    let race = race_sign_in(&app, async |account| {
        app.service
            .store
            .replace_password(&account.uid, &new_hash, None, Timestamp::now())
            .await
            .unwrap()
    })
    .await;
    let uid = &race.account.uid;
    assert!(race.changed.is_some());
    assert_eq!(race.status, 200, "the old password was right when checked");
    assert_token_for(&race.body, uid);

    let user = race.account.username.as_ref().unwrap().as_str();
    assert_eq!(app.stored(user).await.account.password, new_hash);
    let skipped = "account changed during sign-in; hash upgrade skipped";
    assert_eq!(logs.count(skipped, uid), 1);
    assert_eq!(app.sign_in(user, SLOW_PASSWORD).await.0, 400);
    assert_eq!(app.sign_in(user, new_password.expose()).await.0, 200);
}

#[tokio::test]
async fn an_upgrade_skipped_for_a_concurrent_change_keeps_the_sign_in_and_is_retried() {
    let app = TestApp::start().await;
    let logs = CapturedLogs::start();
    let claims = firegate::claims::Claims::from_json(r#"{"role":"editor"}"#).unwrap();
    // Claims change under the sign-in: the version it read is stale, the password is not.
    let race = race_sign_in(&app, async |account| {
        app.service
            .store
            .set_claims(&account.uid, &claims, Timestamp::now())
            .await
            .unwrap()
    })
    .await;
    let uid = &race.account.uid;
    assert!(race.changed);
    assert_eq!(race.status, 200, "{}", race.body);
    assert_token_for(&race.body, uid);
    let skipped = "account changed during sign-in; hash upgrade skipped";
    assert_eq!(logs.count(skipped, uid), 1);
    let user = race.account.username.as_ref().unwrap().as_str();
    let after = app.stored(user).await.account;
    assert_eq!(after.password.hash, SLOW_HASH, "not upgraded");
    assert_eq!(after.claims, claims, "the concurrent change stands");

    assert_eq!(app.sign_in(user, SLOW_PASSWORD).await.0, 200);
    let after = app.stored(user).await.account;
    assert_eq!(
        after.password.scheme_name(),
        "argon2id",
        "upgraded on the next sign-in"
    );
    // The stored scheme above is the evidence of the upgrade: the thread-local log capture
    // misses this second sign-in's line when the whole suite runs (it is served by the
    // spawned check task while other tests' subscribers come and go).
    assert_eq!(after.claims, claims);
}

#[tokio::test]
async fn an_upgrade_that_fails_keeps_the_sign_in_and_is_retried() {
    // One hashing slot and one place in its queue.
    let app = TestApp::builder()
        .flags(&["--max-concurrent-hashes", "1", "--hash-queue", "1"])
        .start()
        .await;
    let logs = CapturedLogs::start();
    let passwords = &app.service.passwords;
    let anyone = Password::new("anyone".into()).unwrap();
    // Another request queues for the slot the sign-in's check holds; it gets the slot when
    // the check ends, so the upgrade's hashing finds the queue full and fails.
    #[expect(
        clippy::async_yields_async,
        reason = "the queued request is handed back so it keeps its place until awaited"
    )]
    let race = race_sign_in(&app, async |_| {
        let mut queued = Box::pin(passwords.verify(None, &anyone));
        assert!(futures::poll!(queued.as_mut()).is_pending());
        queued
    })
    .await;
    race.changed.await.unwrap();
    let uid = &race.account.uid;
    assert_eq!(race.status, 200, "{}", race.body);
    assert_token_for(&race.body, uid);
    let failed = "password hash upgrade failed; retried at next sign-in";
    assert_eq!(logs.count(failed, uid), 1);
    let user = race.account.username.as_ref().unwrap().as_str();
    assert_eq!(app.stored(user).await.account.password.hash, SLOW_HASH);

    assert_eq!(app.sign_in(user, SLOW_PASSWORD).await.0, 200);
    let after = app.stored(user).await.account;
    assert_eq!(
        after.password.scheme_name(),
        "argon2id",
        "upgraded on the next sign-in"
    );
    assert_eq!(logs.count("password hash upgraded", uid), 1);
}

/// An Identity Toolkit that nothing answers (the end-to-end suite runs the bridge against the
/// Auth emulator): a sign-in's write fails there and is left to the next sign-in, while a
/// sign-in that sees the account changed by someone else writes nothing and queues it. The
/// queue tells them apart.
pub(crate) const SILENT_TOOLKIT: &str = "http://127.0.0.1:9";

/// The uids waiting in the bridge's retry queue.
async fn queued(app: &TestApp) -> Vec<String> {
    let entries = app.service.store.queued_firebase_syncs(100).await.unwrap();
    entries.iter().map(|e| e.uid.to_string()).collect()
}

#[tokio::test]
async fn a_sign_ins_own_hash_upgrade_does_not_hold_back_its_firebase_write() {
    let app = TestApp::builder().bridge(SILENT_TOOLKIT).start().await;
    let line: Value = serde_json::from_str(FIXTURE.lines().next().unwrap()).unwrap();
    let account = app
        .insert_with_hash(
            "kim@example.com",
            line["hash"].as_str().unwrap(),
            Dialect::Werkzeug,
        )
        .await;
    let password = line["password"].as_str().unwrap();
    assert_eq!(app.sign_in("kim@example.com", password).await.0, 200);
    let stored = app.stored("kim@example.com").await.account;
    assert_eq!(stored.password.scheme_name(), "argon2id", "upgraded");
    assert!(
        !queued(&app).await.contains(&account.uid.to_string()),
        "the sign-in took its own upgrade for someone else's change and queued the account"
    );
}

#[tokio::test]
async fn an_account_disabled_during_a_sign_in_is_left_to_the_queue() {
    let app = TestApp::builder().bridge(SILENT_TOOLKIT).start().await;
    let race = race_sign_in(&app, async |account| {
        app.service
            .store
            .set_disabled(&account.uid, true, Timestamp::now())
            .await
            .unwrap()
    })
    .await;
    assert!(race.changed);
    assert_eq!(race.status, 200, "the account was enabled when checked");
    let uid = race.account.uid.to_string();
    assert!(
        queued(&app).await.contains(&uid),
        "no Firebase write, queued instead"
    );
    let user = race.account.username.as_ref().unwrap().as_str();
    assert!(
        app.stored(user).await.account.disabled,
        "the disable stands"
    );
}

//! Legacy hashes in Firestore: every fixture line signs in with its password (and not with its
//! wrong one), is upgraded to argon2id on that sign-in, and keeps working afterwards (races
//! with other writes: `upgrades.rs`).

use std::time::{Duration, Instant};

use firegate::passwords::Dialect;
use serde_json::{Value, json};

use crate::common::TestApp;

pub(crate) const FIXTURE: &str = include_str!("../fixtures/legacy-hashes.jsonl");

pub(crate) fn dialect_of(source: &str) -> Dialect {
    if source.starts_with("werkzeug") {
        Dialect::Werkzeug
    } else if source.starts_with("django") {
        Dialect::Django
    } else {
        Dialect::Phc
    }
}

#[tokio::test]
async fn every_fixture_hash_signs_in_and_is_upgraded_to_argon2id() {
    let app = TestApp::start().await;
    let lines: Vec<Value> = FIXTURE
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let checks = lines.iter().enumerate().map(|(i, line)| {
        let app = &app;
        async move {
            let user = format!("legacy{i}");
            let hash = line["hash"].as_str().unwrap();
            let what = format!("{} {}", line["source"], line["scheme"]);
            let account = app
                .insert_with_hash(&user, hash, dialect_of(line["source"].as_str().unwrap()))
                .await;
            assert_eq!(
                app.sign_in(&user, line["wrong"].as_str().unwrap()).await.0,
                400,
                "{what}: wrong password"
            );
            assert_eq!(
                app.stored(&user).await.account.password.hash,
                hash,
                "{what}: a failure changes nothing"
            );

            assert_eq!(
                app.sign_in(&user, line["password"].as_str().unwrap())
                    .await
                    .0,
                200,
                "{what}: right password"
            );
            let after = app.stored(&user).await.account;
            assert_eq!(after.uid, account.uid);
            assert_eq!(after.password.scheme_name(), "argon2id", "{what}: upgraded");
            // argon2id at least as strong as the configured parameters is kept as it is.
            let current = hash.starts_with("$argon2id$");
            assert_eq!(
                after.password.hash == hash,
                current,
                "{what}: legacy hash replaced"
            );

            assert_eq!(
                app.sign_in(&user, line["password"].as_str().unwrap())
                    .await
                    .0,
                200,
                "{what}: after upgrade"
            );
            assert_eq!(
                app.sign_in(&user, line["wrong"].as_str().unwrap()).await.0,
                400,
                "{what}: wrong after upgrade"
            );
        }
    });
    futures::future::join_all(checks).await;
}

#[tokio::test]
async fn malformed_truncated_and_absurd_hashes_fail_cleanly() {
    let app = TestApp::start().await;
    let cases = [
        (
            "trunc",
            "pbkdf2:sha256:260000$1Cv49oUzVdDNPIj1$cdfbcb17",
            Dialect::Werkzeug,
        ),
        ("nosalt", "pbkdf2:sha256:260000$", Dialect::Werkzeug),
        ("garbage", "not a hash at all", Dialect::Phc),
        ("unusable", "!xyzUnusablePasswordMarker", Dialect::Django),
        (
            "absurd",
            "pbkdf2:sha256:4000000000$abcdefgh$0000000000000000000000000000000000000000000000000000000000000000",
            Dialect::Werkzeug,
        ),
        (
            "bigbcrypt",
            "$2b$31$cWaQHAyS7LetDFp2nX6uQejPHrIMQJBpUA8QQ/r.Y39iG8wWyNjdK",
            Dialect::Phc,
        ),
    ];
    for (user, hash, dialect) in cases {
        app.insert_with_hash(user, hash, dialect).await;
        let started = Instant::now();
        assert_eq!(app.sign_in(user, "anything").await.0, 400, "{user}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{user} was computed"
        );
        assert_eq!(
            app.stored(user).await.account.password.hash,
            hash,
            "{user}: stored hash untouched"
        );
    }
}

#[tokio::test]
async fn a_hash_stored_under_the_wrong_dialect_never_verifies() {
    let app = TestApp::start().await;
    let fixture = |source: &str, scheme: &str| -> Value {
        FIXTURE
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|l| l["source"].as_str().unwrap().starts_with(source) && l["scheme"] == scheme)
            .unwrap()
    };
    // Same-looking strings, different algorithms: Django's `sha1$salt$hex` is
    // sha1(salt ‖ password), Werkzeug's is HMAC-SHA1 keyed by the salt.
    let cases = [
        (fixture("django", "sha1"), Dialect::Werkzeug),
        (fixture("werkzeug", "sha1"), Dialect::Django),
        (fixture("django", "md5"), Dialect::Werkzeug),
        (fixture("werkzeug", "md5"), Dialect::Django),
        (fixture("django", "pbkdf2_sha256"), Dialect::Werkzeug),
        (fixture("werkzeug", "pbkdf2:sha256"), Dialect::Django),
    ];
    for (i, (line, wrong)) in cases.iter().enumerate() {
        let (hash, password) = (
            line["hash"].as_str().unwrap(),
            line["password"].as_str().unwrap(),
        );
        let what = format!(
            "{} {} stored as {}",
            line["source"],
            line["scheme"],
            wrong.as_str()
        );
        let right = dialect_of(line["source"].as_str().unwrap());
        assert_ne!(right, *wrong, "{what}");

        app.insert_with_hash(&format!("mismatch{i}"), hash, *wrong)
            .await;
        assert_eq!(
            app.sign_in(&format!("mismatch{i}"), password).await.0,
            400,
            "{what}"
        );
        assert_eq!(
            app.stored(&format!("mismatch{i}"))
                .await
                .account
                .password
                .hash,
            hash,
            "{what}: stored hash untouched"
        );
        // The same string and password under the right dialect: only the dialect differs.
        app.insert_with_hash(&format!("control{i}"), hash, right)
            .await;
        assert_eq!(
            app.sign_in(&format!("control{i}"), password).await.0,
            200,
            "{what}: control"
        );
    }
}

#[tokio::test]
async fn failed_sign_ins_take_at_least_the_floor() {
    let app = TestApp::builder().failure_floor_ms(400).start().await;
    app.create("kim@example.com", "right password").await;
    for (who, password) in [("kim@example.com", "wrong"), ("ghost@example.com", "x")] {
        let started = Instant::now();
        let response = app
            .post_json("/login/", json!({"email": who, "password": password}))
            .await;
        assert_eq!(response.status(), 400);
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{who}: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn stats_count_accounts_per_scheme() {
    let app = TestApp::start().await;
    let lines: Vec<Value> = FIXTURE
        .lines()
        .take(3)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (i, line) in lines.iter().enumerate() {
        app.insert_with_hash(
            &format!("w{i}"),
            line["hash"].as_str().unwrap(),
            Dialect::Werkzeug,
        )
        .await;
    }
    app.create("new@example.com", "password-1").await;
    let stats = app.service.scheme_stats().await.unwrap();
    let get = |s: &str| stats.iter().find(|c| c.scheme == s).map(|c| c.accounts);
    assert_eq!(get("werkzeug-pbkdf2-sha256"), Some(2));
    assert_eq!(get("werkzeug-pbkdf2-sha1"), Some(1));
    assert_eq!(get("argon2id"), Some(1));

    assert_eq!(
        app.sign_in("w0", lines[0]["password"].as_str().unwrap())
            .await
            .0,
        200
    );
    let stats = app.service.scheme_stats().await.unwrap();
    let get = |s: &str| stats.iter().find(|c| c.scheme == s).map(|c| c.accounts);
    assert_eq!(
        (get("werkzeug-pbkdf2-sha256"), get("argon2id")),
        (Some(1), Some(2))
    );
}

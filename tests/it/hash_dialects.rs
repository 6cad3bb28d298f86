//! The `php`, `drupal`, `aspnet`, `spring` and `firebase` hash dialects end to end on the
//! emulator: an account of each of their schemes signs in over HTTP with its legacy password
//! and leaves argon2id behind; a Firebase Auth export imports with its project's hash
//! parameters (the signer key read from `--hash-config`, never stored), provider-only users
//! reported; Spring's `{noop}` clear text is hashed by the importer and never stored as it
//! came.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use firegate::passwords::Dialect;
use serde_json::Value;

use crate::common::TestApp;
use crate::import::{account, import};

const PHP: &str = include_str!("../fixtures/php-hashes.jsonl");
const LIBRARIES: &str = include_str!("../fixtures/library-hashes.jsonl");

/// Firebase's sample project (firebase/scrypt README and tests/01-known-value.sh).
const HASH_CONFIG: &str = "hash_config {
  algorithm: SCRYPT,
  base64_signer_key: jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==,
  base64_salt_separator: Bw==,
  rounds: 8,
  mem_cost: 14,
}
";
const SIGNER_KEY: &str =
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA";

/// `firebase auth:export users.json --format=JSON` for three users of that project: two with
/// the README's and the known-value test's passwords, one signing in with Google only.
const EXPORT: &str = r#"{"users": [
  {"localId": "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2", "email": "user1@test.com", "emailVerified": false,
   "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
   "salt": "42xEC+ixf3L2lw==", "displayName": "Test User 1", "createdAt": "1508893925000",
   "lastSignedInAt": "1508893925000", "providerUserInfo": []},
  {"localId": "hunter", "email": "hunter@test.com", "emailVerified": true,
   "passwordHash": "70k8Vg5B3/OrvJOiqusnasv0dLcBHoDAqJrJr7TRLBfMw4MitWx51YXJYFdGiyMbMeKtWtLf5HiBDcN0SUOm4A==",
   "salt": "42xEC+ixf3L2lw==", "createdAt": "1508893925123", "disabled": false},
  {"localId": "googleOnly", "email": "g@test.com", "emailVerified": true,
   "providerUserInfo": [{"providerId": "google.com", "rawId": "1234"}]}
]}"#;

fn hash_config(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("hash-config.txt");
    std::fs::write(&path, HASH_CONFIG).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[tokio::test]
async fn a_firebase_export_imports_signs_in_and_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let config = hash_config(&dir);
    let config = config.to_str().unwrap();
    let app = TestApp::builder()
        .flags(&["--hash-config", config])
        .start()
        .await;
    let export = dir.path().join("users.json");
    std::fs::write(&export, EXPORT).unwrap();
    let report = dir.path().join("refused.jsonl");
    let run = import(
        &app,
        &export,
        &[
            "--format",
            "firebase",
            "--hash-config",
            config,
            "--report",
            report.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        (run.code, run.count("imported"), run.count("no_password")),
        (3, 2, 1),
        "{}",
        run.stderr
    );
    let refused: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        (refused["reason"].as_str(), refused["uid"].as_str()),
        (Some("no_password"), Some("googleOnly"))
    );

    // localId is the uid; the key is in no account.
    let user1 = account(&app, "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2").await.unwrap();
    assert_eq!(user1.password.dialect, Dialect::Firebase);
    assert_eq!(user1.password.scheme_name(), "firebase-scrypt");
    assert!(!user1.password.hash.contains(SIGNER_KEY));
    assert_eq!(user1.created_at.to_string(), "2017-10-25T01:12:05Z");

    assert_eq!(app.sign_in("user1@test.com", "user1password!").await.0, 400);
    let (status, body) = app.sign_in("user1@test.com", "user1password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some("kYi4EvWQlQTKSfnJ3dRSP6IH3ed2")),
        "{body}"
    );
    let upgraded = app.stored("user1@test.com").await.account.password;
    assert_eq!(
        (upgraded.dialect, upgraded.scheme_name().as_str()),
        (Dialect::Phc, "argon2id")
    );
    assert_eq!(app.sign_in("user1@test.com", "user1password").await.0, 200);
    assert_eq!(app.sign_in("hunter@test.com", "hunter2").await.0, 200);
}

#[tokio::test]
async fn a_firebase_account_without_its_hash_config_cannot_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let project = firegate::passwords::FirebaseProject::parse(HASH_CONFIG).unwrap();
    let hash = project.stored_hash(
        "70k8Vg5B3/OrvJOiqusnasv0dLcBHoDAqJrJr7TRLBfMw4MitWx51YXJYFdGiyMbMeKtWtLf5HiBDcN0SUOm4A==",
        "42xEC+ixf3L2lw==",
    );
    let bare = TestApp::start().await;
    bare.insert_with_hash("hunter", &hash, Dialect::Firebase)
        .await;
    assert_eq!(bare.sign_in("hunter", "hunter2").await.0, 400);
    assert_eq!(
        bare.stored("hunter").await.account.password.hash,
        hash,
        "never rewritten"
    );

    // A world-readable parameters file is refused at start-up, naming the fix, not the key.
    let loose = dir.path().join("loose.txt");
    std::fs::write(&loose, HASH_CONFIG).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, _, stderr) = bare
        .cli(
            &[
                "import",
                "-",
                "--format",
                "firebase",
                "--hash-config",
                loose.to_str().unwrap(),
            ],
            Some(""),
        )
        .await;
    assert!(
        !ok && stderr.contains("chmod 600") && !stderr.contains(SIGNER_KEY),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_account_of_each_dialects_schemes_signs_in_and_is_upgraded() {
    let app = TestApp::start().await;
    let lines: Vec<Value> = PHP
        .lines()
        .chain(LIBRARIES.lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // One vector per scheme of these dialects, settings-free ones (Firebase has its own test).
    let mut seen = std::collections::BTreeSet::new();
    let picked: Vec<&Value> = lines
        .iter()
        .filter(|v| ["php", "drupal", "aspnet", "spring"].contains(&v["dialect"].as_str().unwrap()))
        .filter(|v| v.get("spring").is_none() && v.get("noop").is_none())
        .filter(|v| seen.insert(v["scheme"].as_str().unwrap().to_string()))
        .collect();
    assert!(picked.len() >= 20, "{}", picked.len());
    for (i, v) in picked.iter().enumerate() {
        let login = format!("user{i}");
        let dialect: Dialect = v["dialect"].as_str().unwrap().parse().unwrap();
        let (password, wrong) = (
            v["password"].as_str().unwrap(),
            v["wrong"].as_str().unwrap(),
        );
        app.insert_with_hash(&login, v["hash"].as_str().unwrap(), dialect)
            .await;
        let what = format!("{} {}", v["scheme"], v["source"]);
        assert_eq!(app.sign_in(&login, wrong).await.0, 400, "{what}");
        assert_eq!(app.sign_in(&login, password).await.0, 200, "{what}");
        let stored = app.stored(&login).await.account.password;
        assert_eq!(
            (stored.dialect, stored.scheme_name().as_str()),
            (Dialect::Phc, "argon2id"),
            "{what}"
        );
        assert_eq!(
            app.sign_in(&login, password).await.0,
            200,
            "{what} after the upgrade"
        );
    }
}

#[tokio::test]
async fn spring_noop_clear_text_is_hashed_by_the_importer_and_never_stored() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    std::fs::write(
        &file,
        "{\"id\": 1, \"username\": \"kim\", \"password\": \"{noop}pässwörd-in-clear\"}\n\
         {\"id\": 2, \"username\": \"lee\", \"password\": \"{noop}\"}\n\
         {\"id\": 3, \"username\": \"park\", \"password\": \"{bcrypt}$2a$10$dXJ3SW6G7P50lGmMkkmwe.20cQQubK3.HZWzG3YB1tlRy.fqvM/BG\"}\n",
    )
    .unwrap();
    let run = import(&app, &file, &["--dialect", "spring"]).await;
    assert_eq!(
        (run.code, run.count("imported"), run.count("invalid_hash")),
        (3, 2, 1),
        "{}",
        run.stderr
    );
    let kim = account(&app, "1").await.unwrap();
    assert_eq!(
        (kim.password.dialect, kim.password.scheme_name().as_str()),
        (Dialect::Phc, "argon2id")
    );
    assert!(!kim.password.hash.contains("in-clear") && !run.stdout.contains("in-clear"));
    assert_eq!(app.sign_in("kim", "pässwörd-in-clear").await.0, 200);
    let park = account(&app, "3").await.unwrap();
    assert_eq!(park.password.scheme_name(), "spring-bcrypt");
    assert_eq!(app.sign_in("park", "password").await.0, 200);
}

//! Each input format imports with its defaults, and the accounts sign in with their legacy
//! passwords.

use serde_json::Value;

use super::{account, expected, fixture, import, report};
use crate::common::TestApp;

#[tokio::test]
async fn a_postgres_csv_of_werkzeug_hashes_signs_in_and_is_upgraded() {
    let app = TestApp::start().await;
    let run = import(&app, &fixture("users.csv"), &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.count("read"), run.count("imported")), (4, 4));

    let kim = account(&app, "1").await.expect("uid 1 imported");
    assert_eq!(kim.username.unwrap().as_str(), "kim");
    assert_eq!(kim.email.unwrap().as_str(), "kim@school.example");
    assert_eq!(kim.created_at.to_string(), "2019-03-03T20:06:07.123456Z");
    assert_eq!(kim.password.scheme_name(), "werkzeug-pbkdf2-sha256");
    assert!(!kim.disabled);
    let park = account(&app, "3").await.unwrap();
    assert!(park.disabled, "is_active f");
    assert!(park.email.is_none());
    assert_eq!(
        account(&app, "4").await.unwrap().username.unwrap().as_str(),
        "choi, jr"
    );

    // A bare username, as legacy clients send it.
    let (status, body) = app.sign_in("kim", "  spaces around  ").await;
    assert_eq!((status, body["uid"].as_str()), (200, Some("1")), "{body}");
    assert_eq!(
        app.stored("kim").await.account.password.scheme_name(),
        "argon2id"
    );
    let (status, body) = app.sign_in("LEE@school.example", "x3050").await;
    assert_eq!((status, body["uid"].as_str()), (200, Some("2")), "{body}");
    assert_eq!(app.sign_in("kim", "wrong").await.0, 400);
    let (status, _) = app
        .sign_in("park", "correct horse battery staple6490")
        .await;
    assert_eq!(status, 400, "a disabled account cannot sign in");
}

#[tokio::test]
async fn json_lines_and_django_dumpdata_import_with_their_defaults() {
    let app = TestApp::start().await;
    let jsonl = fixture("users.jsonl");
    let run = import(
        &app,
        &jsonl,
        &["--dialect", "werkzeug", "--uid-prefix", "legacy-"],
    )
    .await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);
    let jung = account(&app, "legacy-101").await.unwrap();
    assert_eq!(jung.created_at.to_string(), "2021-03-04T05:06:07Z");
    assert!(!jung.disabled);
    assert!(account(&app, "legacy-102").await.unwrap().disabled);

    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let django = fixture("auth_user.json");
    let flags = [
        "--uid-template",
        "dj-{id}",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = import(&app, &django, &flags).await;
    assert_eq!(run.code, 3, "one unusable password: {}", run.stderr);
    assert_eq!(
        (run.count("imported"), run.count("unusable_password")),
        (2, 1)
    );
    assert_eq!(report(&report_path), expected(&[(38, "unusable_password")]));
    let entry: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(
        (entry["record"].as_u64(), entry["uid"].as_str()),
        (Some(3), Some("dj-3"))
    );
    assert!(
        entry["message"]
            .as_str()
            .unwrap()
            .contains("set_unusable_password")
    );

    let admin = account(&app, "dj-1").await.unwrap();
    assert_eq!(admin.password.scheme_name(), "django-pbkdf2-sha256");
    assert_eq!(admin.created_at.to_string(), "2023-01-02T03:04:05.678Z");
    assert!(
        account(&app, "dj-2").await.unwrap().email.is_none(),
        "empty email"
    );
    let (status, body) = app
        .sign_in("admin@example.com", "tab\tand\"quote'245")
        .await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some("dj-1")),
        "{body}"
    );
    let (status, _) = app.sign_in("jung", "pässwörd8825").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_natural_primary_dumpdata_imports_with_the_username_as_uid() {
    // `dumpdata auth.user --natural-primary` without --indent: one line, no `pk`.
    let app = TestApp::start().await;
    let file = fixture("auth_user_natural.json");
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let reporting = ["--report", report_path.to_str().unwrap()];
    let run = import(&app, &file, &reporting).await;
    assert_eq!((run.code, run.count("imported")), (3, 0), "{}", run.stderr);
    let entries: Vec<Value> = std::fs::read_to_string(&report_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(entries.len(), 3);
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry["reason"], "missing_field", "{entry}");
        let message = entry["message"].as_str().unwrap();
        assert!(message.contains("--id-column username"), "{message}");
        // One line holds every record: the record number tells them apart.
        assert_eq!(
            (entry["line"].as_u64(), entry["record"].as_u64()),
            (Some(1), Some(n as u64 + 1))
        );
    }

    let run = import(
        &app,
        &file,
        &[&["--id-column", "username"], &reporting[..]].concat(),
    )
    .await;
    assert_eq!(run.code, 3, "one unusable password: {}", run.stderr);
    assert_eq!(
        (run.count("imported"), run.count("unusable_password")),
        (2, 1)
    );
    let entry: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(
        (
            entry["line"].as_u64(),
            entry["record"].as_u64(),
            entry["uid"].as_str()
        ),
        (Some(1), Some(3), Some("social"))
    );
    let admin = account(&app, "admin")
        .await
        .expect("the username is the uid");
    assert_eq!(admin.username.unwrap().as_str(), "admin");
    assert!(account(&app, "minji").await.is_some());
    let (status, body) = app
        .sign_in("admin@example.com", "tab\tand\"quote'245")
        .await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some("admin")),
        "{body}"
    );
}

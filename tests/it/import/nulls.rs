//! NULL in a boolean column: refused with its line and column unless `--null-means` says what
//! the application makes of it; `--null-text` names another spelling of NULL.

use serde_json::Value;

use super::{account, expected, import, report};
use crate::common::TestApp;

/// A Werkzeug hash (of no password a test signs in with).
const HASH: &str = "pbkdf2:sha256:260000$1Cv49oUzVdDNPIj1$\
                    cdfbcb171f45e1e6ad5546f0bf66ff138b60ba1bd82c00a3cc5692fd01644001";

/// The report's entries as JSON.
fn entries(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn a_null_account_state_is_refused_until_the_user_says_what_it_means() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        format!(
            "id,username,password_hash,is_active\n1,ann,{HASH},t\n2,bo,{HASH},\n\
             3,cy,{HASH},NULL\n"
        ),
    )
    .unwrap();
    let jsonl = dir.path().join("users.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{{\"id\": 4, \"username\": \"di\", \"password\": \"{HASH}\", \"is_active\": null}}\n"
        ),
    )
    .unwrap();
    let report_path = dir.path().join("report.jsonl");
    let reporting = [
        "--dialect",
        "werkzeug",
        "--report",
        report_path.to_str().unwrap(),
    ];

    let run = import(&app, &csv, &reporting).await;
    assert_eq!((run.code, run.count("imported")), (3, 1), "{}", run.stderr);
    assert_eq!(
        report(&report_path),
        expected(&[(3, "null_boolean"), (4, "invalid_boolean")])
    );
    let found = entries(&report_path);
    let message = |line: u64| {
        let entry = found.iter().find(|e| e["line"] == line).unwrap();
        entry["message"].as_str().unwrap().to_string()
    };
    assert!(
        message(3).contains("`is_active`") && message(3).contains("--null-means is_active="),
        "{}",
        message(3)
    );
    assert!(message(4).contains("--null-text 'NULL'"), "{}", message(4));
    assert!(account(&app, "2").await.is_none(), "not guessed enabled");

    let run = import(&app, &jsonl, &reporting).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(report(&report_path), expected(&[(1, "null_boolean")]));
    assert!(account(&app, "4").await.is_none());

    let said = ["--null-text", "NULL", "--null-means", "is_active=false"];
    let run = import(
        &app,
        &csv,
        &[&["--dialect", "werkzeug"], &said[..]].concat(),
    )
    .await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);
    for uid in ["2", "3"] {
        assert!(account(&app, uid).await.unwrap().disabled, "uid {uid}");
    }
    assert!(!account(&app, "1").await.unwrap().disabled);
    let flags = ["--dialect", "werkzeug", "--null-means", "is_active=true"];
    let run = import(&app, &jsonl, &flags).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!account(&app, "4").await.unwrap().disabled);

    let flags = ["--dialect", "werkzeug", "--null-means", "is_activ=false"];
    let run = import(&app, &csv, &flags).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("not a boolean column this import reads"),
        "{}",
        run.stderr
    );
}

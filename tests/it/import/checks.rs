//! What is checked against Firestore before writing: `--dry-run`, conflicts with existing
//! accounts, and `--strict`.

use super::{account, count, expected, fixture, import, report};
use crate::common::spawn_app;

#[tokio::test]
async fn dry_run_checks_against_firestore_and_writes_nothing() {
    let app = spawn_app().await;
    let taken = app.create("lee", "some-password").await;
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--dry-run",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = import(&app, &fixture("users.csv"), &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        (run.count("would import"), run.count("login_taken")),
        (3, 1)
    );
    assert!(run.stdout.contains("dry run: nothing was written"));
    assert_eq!(report(&report_path), expected(&[(3, "login_taken")]));
    let text = std::fs::read_to_string(&report_path).unwrap();
    assert!(
        text.contains(taken.uid.as_str()),
        "names the holder: {text}"
    );
    assert_eq!(count(&app).await, 1, "only the account created before");
    assert!(account(&app, "1").await.is_none());
}

#[tokio::test]
async fn existing_accounts_that_conflict_are_refused_row_by_row() {
    let app = spawn_app().await;
    // uid 4 already belongs to someone else; `lee` is another account's login.
    let other = app
        .insert_with_hash("someone", "x", firegate::passwords::Dialect::Phc)
        .await;
    let lee = app.create("lee", "some-password").await;
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, csv.replace("\n4,", &format!("\n{},", other.uid))).unwrap();
    let report_path = dir.path().join("report.jsonl");
    let run = import(
        &app,
        &file,
        &[
            "--dialect",
            "werkzeug",
            "--report",
            report_path.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.count("imported"), 2);
    assert_eq!(
        report(&report_path),
        expected(&[(3, "login_taken"), (5, "uid_taken")])
    );
    assert_eq!(app.stored("lee").await.account.uid, lee.uid, "untouched");
    assert!(account(&app, "1").await.is_some() && account(&app, "3").await.is_some());
}

#[tokio::test]
async fn strict_writes_nothing_when_any_row_is_refused() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, format!("{good}5,bad,bad@x.org,not-a-hash,t,\n")).unwrap();
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--strict",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.contains("nothing was written"), "{}", run.stdout);
    assert_eq!(report(&report_path), expected(&[(6, "invalid_hash")]));
    assert_eq!(count(&app).await, 0);

    std::fs::write(&file, good).unwrap();
    let run = import(&app, &file, &flags).await;
    assert_eq!((run.code, run.count("imported")), (0, 4), "{}", run.stderr);
    assert_eq!(count(&app).await, 4);
}

//! Emails several users share (Django does not make them unique): `--duplicate-email`
//! decides who keeps one. By default the first row in file order, or an account already in
//! Firestore, keeps it; a later row is imported by its username without it and reported
//! (`duplicate_email`, kept without `email`), and refused when it has no other login.
//! `--duplicate-email refuse` refuses every later row, as imports did before.

use std::path::{Path, PathBuf};

use super::{HASH, PASSWORD, account, entries, entry, import};
use crate::common::TestApp;

/// Three users of one email, spelt differently: two with a username, one email-only.
fn shared_email_file(dir: &Path) -> PathBuf {
    let file = dir.join("users.csv");
    let csv = format!(
        "id,username,email,password_hash\n\
         1,kim,kim@school.example,{HASH}\n\
         2,kim2,Kim@School.example,{HASH}\n\
         3,,KIM@school.example,{HASH}\n"
    );
    std::fs::write(&file, csv).unwrap();
    file
}

#[tokio::test]
async fn a_shared_email_stays_with_the_first_row_and_later_ones_sign_in_by_username() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = shared_email_file(dir.path());
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let want = [
        entry(3, "duplicate_email", Some("email")),
        entry(4, "duplicate_email", None),
    ];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 3, "row 4 has no other login: {}", run.stderr);
    assert_eq!(entries(&report_path), want);
    assert_eq!(
        (
            run.count("imported"),
            run.count("rejected"),
            run.count("kept without a login")
        ),
        (2, 1, 1),
        "{}",
        run.stdout
    );
    let report = std::fs::read_to_string(&report_path).unwrap();
    assert!(
        report.contains("line 2"),
        "names the row that kept it: {report}"
    );

    let first = account(&app, "1").await.expect("imported");
    assert_eq!(first.email.unwrap().as_str(), "kim@school.example");
    let second = account(&app, "2")
        .await
        .expect("imported without the email");
    assert_eq!(second.email, None);
    assert_eq!(second.username.unwrap().as_str(), "kim2");
    assert!(account(&app, "3").await.is_none());
    assert_eq!(app.sign_in("kim2", PASSWORD).await.1["uid"], "2");
    assert_eq!(
        app.sign_in("KIM@school.example", PASSWORD).await.1["uid"],
        "1"
    );

    // A rerun finds both accounts as they are and reports the same rows.
    let rerun = import(&app, &file, &flags).await;
    assert_eq!(rerun.code, 3, "{}", rerun.stderr);
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 2),
        "{}",
        rerun.stdout
    );
    assert_eq!(entries(&report_path), want);
    assert_eq!(account(&app, "2").await.unwrap().email, None);
}

#[tokio::test]
async fn duplicate_email_refuse_refuses_every_later_row() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = shared_email_file(dir.path());
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--duplicate-email",
        "refuse",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        entries(&report_path),
        [
            entry(3, "duplicate_login", None),
            entry(4, "duplicate_login", None)
        ]
    );
    assert_eq!(run.count("imported"), 1, "{}", run.stdout);
    assert!(account(&app, "2").await.is_none());
    assert_eq!(app.sign_in("kim2", PASSWORD).await.0, 400);
}

#[tokio::test]
async fn an_email_an_account_in_firestore_holds_stays_with_it() {
    let app = TestApp::start().await;
    let holder = app.create("lee@school.example", "lee's password").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let csv = format!(
        "id,username,email,password_hash\n\
         7,lee7,Lee@School.example,{HASH}\n\
         8,,lee@school.example,{HASH}\n"
    );
    std::fs::write(&file, csv).unwrap();
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let want = [
        entry(2, "duplicate_email", Some("email")),
        entry(3, "duplicate_email", None),
    ];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(entries(&report_path), want);
    let report = std::fs::read_to_string(&report_path).unwrap();
    assert!(
        report.contains(holder.uid.as_str()),
        "names the holder: {report}"
    );
    let kept = account(&app, "7")
        .await
        .expect("imported without the email");
    assert_eq!(kept.email, None);
    assert_eq!(app.sign_in("lee7", PASSWORD).await.1["uid"], "7");
    let (status, body) = app.sign_in("lee@school.example", "lee's password").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some(holder.uid.as_str()))
    );

    let rerun = import(&app, &file, &flags).await;
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 1),
        "{}",
        rerun.stdout
    );
    assert_eq!(entries(&report_path), want);

    // Refusing, a row of that email is refused as taken, as before.
    let other = dir.path().join("other.csv");
    std::fs::write(
        &other,
        format!("id,username,email,password_hash\n9,lee9,lee@school.example,{HASH}\n"),
    )
    .unwrap();
    let flags = ["--dialect", "werkzeug", "--duplicate-email", "refuse"];
    let refused = import(&app, &other, &flags).await;
    assert_eq!(refused.count("login_taken"), 1, "{}", refused.stdout);
    assert!(account(&app, "9").await.is_none());
}

#[tokio::test]
async fn duplicate_email_none_leaves_a_shared_email_to_no_row() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let csv = format!(
        "id,username,email,password_hash\n\
         1,kim,kim@school.example,{HASH}\n\
         2,kim2,Kim@School.example,{HASH}\n\
         3,,KIM@school.example,{HASH}\n\
         4,park,park@school.example,{HASH}\n"
    );
    std::fs::write(&file, csv).unwrap();
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--duplicate-email",
        "none",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let want = [
        entry(2, "duplicate_email", Some("email")),
        entry(3, "duplicate_email", Some("email")),
        entry(4, "duplicate_email", None),
    ];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(entries(&report_path), want);
    assert_eq!(run.count("imported"), 3, "{}", run.stdout);
    for (uid, username) in [("1", "kim"), ("2", "kim2")] {
        assert_eq!(account(&app, uid).await.unwrap().email, None);
        assert_eq!(app.sign_in(username, PASSWORD).await.1["uid"], uid);
    }
    assert_eq!(app.sign_in("kim@school.example", PASSWORD).await.0, 400);
    assert_eq!(
        app.sign_in("park@school.example", PASSWORD).await.1["uid"],
        "4"
    );

    let rerun = import(&app, &file, &flags).await;
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 3),
        "{}",
        rerun.stdout
    );
    assert_eq!(entries(&report_path), want);

    // Standard input cannot be read twice.
    let stdin_flags = [&flags[..], &["--format", "csv"]].concat();
    let stdin = import(&app, Path::new("-"), &stdin_flags).await;
    assert_eq!(stdin.code, 1, "{}", stdin.stdout);
    assert!(stdin.stderr.contains("needs a file"), "{}", stdin.stderr);
}

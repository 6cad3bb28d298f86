//! Emails several users share (Django does not make them unique): `--duplicate-email`
//! decides who keeps one. By default the first row in file order, or an account already in
//! Firestore, keeps it; a later row is imported by its username without it and reported
//! (`duplicate_email`, kept without `email`), and refused when it has no other login.
//! `--duplicate-email refuse` refuses every later row, as imports did before.

use std::path::Path;

use super::{Export, HASH, PASSWORD, account, entry, import};
use crate::common::TestApp;

/// Three users of one email, spelt differently: two with a username, one email-only.
const SHARED_EMAIL: [&str; 3] = [
    "1,kim,kim@school.example",
    "2,kim2,Kim@School.example",
    "3,,KIM@school.example",
];

#[tokio::test]
async fn a_shared_email_stays_with_the_first_row_and_later_ones_sign_in_by_username() {
    let app = TestApp::start().await;
    let export = Export::users(&SHARED_EMAIL);
    let want = [
        entry(3, "duplicate_email", Some("email")),
        entry(4, "duplicate_email", None),
    ];
    let run = export.import(&app, &[]).await;
    assert_eq!(run.code, 3, "row 4 has no other login: {}", run.stderr);
    assert_eq!(export.entries(), want);
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
    let report = export.report_text();
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
    let rerun = export.import(&app, &[]).await;
    assert_eq!(rerun.code, 3, "{}", rerun.stderr);
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 2),
        "{}",
        rerun.stdout
    );
    assert_eq!(export.entries(), want);
    assert_eq!(account(&app, "2").await.unwrap().email, None);
}

#[tokio::test]
async fn duplicate_email_refuse_refuses_every_later_row() {
    let app = TestApp::start().await;
    let export = Export::users(&SHARED_EMAIL);
    let run = export.import(&app, &["--duplicate-email", "refuse"]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        export.entries(),
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
    let export = Export::users(&["7,lee7,Lee@School.example", "8,,lee@school.example"]);
    let want = [
        entry(2, "duplicate_email", Some("email")),
        entry(3, "duplicate_email", None),
    ];
    let run = export.import(&app, &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(export.entries(), want);
    let report = export.report_text();
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

    let rerun = export.import(&app, &[]).await;
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 1),
        "{}",
        rerun.stdout
    );
    assert_eq!(export.entries(), want);

    // Refusing, a row of that email is refused as taken, as before.
    let other = export.path("other.csv");
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
    let export = Export::users(&[&SHARED_EMAIL[..], &["4,park,park@school.example"]].concat());
    let flags = ["--duplicate-email", "none"];
    let want = [
        entry(2, "duplicate_email", Some("email")),
        entry(3, "duplicate_email", Some("email")),
        entry(4, "duplicate_email", None),
    ];
    let run = export.import(&app, &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(export.entries(), want);
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

    let rerun = export.import(&app, &flags).await;
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 3),
        "{}",
        rerun.stdout
    );
    assert_eq!(export.entries(), want);

    // Standard input cannot be read twice.
    let stdin_flags = [&flags[..], &["--format", "csv"]].concat();
    let stdin = export.import_from(&app, Path::new("-"), &stdin_flags).await;
    assert_eq!(stdin.code, 1, "{}", stdin.stdout);
    assert!(stdin.stderr.contains("needs a file"), "{}", stdin.stderr);
}

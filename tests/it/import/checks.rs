//! What is checked against Firestore before writing: `--dry-run`, conflicts with existing
//! accounts, and `--strict`.

use super::{Export, account, count, expected, fixture};
use crate::common::TestApp;

#[tokio::test]
async fn dry_run_checks_against_firestore_and_writes_nothing() {
    let app = TestApp::start().await;
    let taken = app.create("lee", "some-password").await;
    let export = Export::new("");
    let run = export
        .import_from(&app, &fixture("users.csv"), &["--dry-run"])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        (run.count("would import"), run.count("login_taken")),
        (3, 1)
    );
    assert!(run.stdout.contains("dry run: nothing was written"));
    assert_eq!(export.refused(), expected(&[(3, "login_taken")]));
    let text = export.report_text();
    assert!(
        text.contains(taken.uid.as_str()),
        "names the holder: {text}"
    );
    assert_eq!(count(&app).await, 1, "only the account created before");
    assert!(account(&app, "1").await.is_none());
}

#[tokio::test]
async fn existing_accounts_that_conflict_are_refused_row_by_row() {
    let app = TestApp::start().await;
    // uid 4 already belongs to someone else; `lee` is another account's login.
    let other = app
        .insert_with_hash("someone", "x", firegate::passwords::Dialect::Phc)
        .await;
    let lee = app.create("lee", "some-password").await;
    let csv = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let export = Export::new(&csv.replace("\n4,", &format!("\n{},", other.uid)));
    let run = export.import(&app, &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.count("imported"), 2);
    assert_eq!(
        export.refused(),
        expected(&[(3, "login_taken"), (5, "uid_taken")])
    );
    assert_eq!(app.stored("lee").await.account.uid, lee.uid, "untouched");
    assert!(account(&app, "1").await.is_some() && account(&app, "3").await.is_some());
}

#[tokio::test]
async fn strict_writes_nothing_when_any_row_is_refused() {
    let app = TestApp::start().await;
    let good = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let export = Export::new(&format!("{good}5,bad,bad@x.org,not-a-hash,t,\n"));
    let run = export.import(&app, &["--strict"]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.contains("nothing was written"), "{}", run.stdout);
    assert_eq!(export.refused(), expected(&[(6, "invalid_hash")]));
    assert_eq!(count(&app).await, 0);

    std::fs::write(&export.file, good).unwrap();
    let run = export.import(&app, &["--strict"]).await;
    assert_eq!((run.code, run.count("imported")), (0, 4), "{}", run.stderr);
    assert_eq!(count(&app).await, 4);
}

#[tokio::test]
async fn an_import_never_takes_a_legacy_domain_alias_of_another_account() {
    let app = TestApp::builder()
        .legacy_domain("school.example")
        .start()
        .await;
    // Registered before the import: the email `kim@school.example`.
    let (response, _) = app
        .register(
            serde_json::json!({"email": "kim@school.example", "password": "kim's own password"}),
        )
        .await;
    assert_eq!(response, 201);
    let export = Export::users(&[
        "1,kim,",
        "2,lee,",
        "3,,lee@school.example",
        "4,park,park@school.example",
    ]);
    let run = export
        .import(&app, &["--legacy-domain", "school.example"])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        export.refused(),
        expected(&[(2, "login_taken"), (4, "duplicate_login")]),
        "kim's alias is taken in Firestore, lee's by an earlier row; park holds both itself"
    );
    assert!(account(&app, "1").await.is_none());
    assert!(account(&app, "3").await.is_none());
    assert!(account(&app, "4").await.is_some());
    // Without the domain the same file imports kim (no alias is meant).
    let plain = export.import(&app, &[]).await;
    assert!(plain.count("imported") >= 1, "{}", plain.stdout);
}

#[tokio::test]
async fn a_username_that_is_another_accounts_uid_is_refused_and_reruns_agree() {
    let app = TestApp::start().await;
    app.create_with_uid("42", "lee@example.com", "lee's password")
        .await;
    // Refused: `42` (an account's uid in Firestore) and `3` (an earlier row's uid). Imported:
    // `6`, whose uid only a later row has (a uid is never refused for being a login), and
    // `7`, its own uid.
    let export = Export::users(&[
        "1,kim,", "2,42,", "3,ann,", "4,3,", "5,6,", "6,min,", "7,7,",
    ]);
    let refused = expected(&[(3, "login_is_uid"), (5, "login_is_uid")]);
    let run = export.import(&app, &[]).await;
    assert_eq!((run.code, run.count("imported")), (3, 5), "{}", run.stderr);
    assert_eq!(export.refused(), refused);
    assert!(account(&app, "2").await.is_none() && account(&app, "4").await.is_none());
    assert_eq!(
        app.stored("6").await.account.uid.as_str(),
        "5",
        "the username `6` is row 5's"
    );
    // Account 6 exists now, and the username `6` is still row 5's own: nothing changes.
    let rerun = export.import(&app, &[]).await;
    assert_eq!(rerun.code, 3, "{}", rerun.stderr);
    assert_eq!(export.refused(), refused);
    assert_eq!(count(&app).await, 6);
}

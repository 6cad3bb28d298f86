//! Logins a row cannot keep: an email that is not one bare address, a login that looks like
//! (has the Unicode TR39 skeleton of) another account's or an earlier row's. The account is
//! imported under its other logins and the report says which was left out and why; a row
//! left with no login is refused for that reason.

use super::{Export, PASSWORD, account, entry};
use crate::common::TestApp;

#[tokio::test]
async fn an_email_that_is_not_one_bare_address_is_left_out_and_reported() {
    let app = TestApp::start().await;
    let export = Export::users(&[
        r#"1,kim,"""ceo@school.example"" <attacker@evil.example>""#,
        "2,,n2<victim@school.example>",
        r#"3,lee,"victim3@school.example,attacker3@evil.example""#,
        "4,park,park@school.example",
    ]);
    let run = export.import(&app, &[]).await;
    assert_eq!(run.code, 3, "row 2 has no other login: {}", run.stderr);
    assert_eq!(
        export.entries(),
        [
            entry(2, "invalid_email", Some("email")),
            entry(3, "invalid_email", None),
            entry(4, "invalid_email", Some("email")),
        ]
    );
    assert_eq!(
        (
            run.count("imported"),
            run.count("rejected"),
            run.count("kept without a login")
        ),
        (3, 1, 2),
        "{}",
        run.stdout
    );
    let report = export.report_text();
    for value in ["attacker", "victim", "ceo"] {
        assert!(!report.contains(value), "never quoted: {report}");
    }
    assert!(report.contains("one bare address"), "{report}");

    for (uid, username) in [("1", "kim"), ("3", "lee")] {
        let kept = account(&app, uid).await.expect("the account is imported");
        assert_eq!(kept.email, None);
        assert_eq!(kept.username.unwrap().as_str(), username);
        let (status, body) = app.sign_in(username, PASSWORD).await;
        assert_eq!((status, body["uid"].as_str()), (200, Some(uid)));
    }
    assert!(account(&app, "2").await.is_none());
    assert_eq!(app.sign_in("park@school.example", PASSWORD).await.0, 200);
    assert_eq!(
        app.sign_in("victim3@school.example,attacker3@evil.example", PASSWORD)
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn a_login_that_looks_like_another_is_left_out_and_reruns_change_nothing() {
    let app = TestApp::start().await;
    app.create("boss", "some password").await;
    // `а` (U+0430) and `і` (U+0456) are Cyrillic, `о` (U+043E) too; U+00A0 is a no-break space.
    let export = Export::users(&[
        "1,admin,",
        "2,\u{430}dmin,a2@school.example",
        "3,\u{430}dm\u{456}n,",
        "4,b\u{43e}ss,b4@school.example",
        "5,kim lee,",
        "6,kim\u{a0}lee,k6@school.example",
    ]);
    let want = [
        entry(3, "look_alike_login", Some("username")),
        entry(4, "look_alike_login", None),
        entry(5, "look_alike_login", Some("username")),
        entry(7, "look_alike_login", Some("username")),
    ];
    let run = export.import(&app, &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(export.entries(), want);
    assert_eq!(run.count("imported"), 5, "{}", run.stdout);
    for (uid, email) in [
        ("2", "a2@school.example"),
        ("4", "b4@school.example"),
        ("6", "k6@school.example"),
    ] {
        let kept = account(&app, uid).await.expect("the account is imported");
        assert_eq!(kept.username, None, "uid {uid}");
        assert_eq!(kept.email.unwrap().as_str(), email);
        assert_eq!(app.sign_in(email, PASSWORD).await.0, 200);
    }
    assert_eq!(app.sign_in("admin", PASSWORD).await.1["uid"], "1");
    assert_eq!(app.sign_in("\u{430}dmin", PASSWORD).await.0, 400);
    assert_eq!(app.sign_in("kim\u{a0}lee", PASSWORD).await.0, 400);

    // A rerun finds the same accounts, left out the same logins, and writes nothing.
    let rerun = export.import(&app, &[]).await;
    assert_eq!(rerun.code, 3, "{}", rerun.stderr);
    assert_eq!(
        (rerun.count("imported"), rerun.count("already present")),
        (0, 5),
        "{}",
        rerun.stdout
    );
    assert_eq!(export.entries(), want);
}

#[tokio::test]
async fn strict_imports_a_row_kept_without_its_email_and_reports_it_once() {
    let app = TestApp::start().await;
    let export = Export::users(&[
        "1,kim,n1<victim@school.example>",
        "2,park,park@school.example",
    ]);
    let run = export.import(&app, &["--strict"]).await;
    assert_eq!(run.code, 0, "nothing is refused: {}", run.stderr);
    assert_eq!(run.count("imported"), 2, "{}", run.stdout);
    assert_eq!(
        export.entries(),
        [entry(2, "invalid_email", Some("email"))],
        "the check pass reported it; the writing pass does not again"
    );
    assert_eq!(app.sign_in("kim", PASSWORD).await.1["uid"], "1");
}

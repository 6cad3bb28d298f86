//! Bad input: every kind of broken row is refused with its line number while the rest
//! imports, never echoing a hash; problems found before any row stop the import.

use super::{account, count, expected, fixture, import, report};
use crate::common::TestApp;

#[tokio::test]
async fn every_kind_of_bad_input_is_reported_with_its_line_and_never_a_hash() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = import(&app, &fixture("bad.csv"), &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let want = expected(&[
        (3, "malformed_csv"),
        (5, "invalid_utf8"),
        (6, "empty_hash"),
        (7, "invalid_uid"),
        (8, "duplicate_login"),
        (9, "no_login"),
        (10, "invalid_hash"),
        (11, "malformed_csv"),
        (12, "malformed_csv"),
        (13, "duplicate_uid"),
        (14, "username_looks_like_email"),
        // good3's email: the row goes on by its username (`--duplicate-email keep-first`).
        (15, "duplicate_email"),
    ]);
    assert_eq!(report(&report_path), want);
    assert_eq!((run.count("read"), run.count("imported")), (15, 4));
    assert_eq!(account(&app, "15").await.unwrap().email, None);
    for uid in ["1", "3", "16"] {
        assert!(
            account(&app, uid).await.is_some(),
            "the good row {uid} imported"
        );
    }

    let report_path = dir.path().join("report-jsonl.jsonl");
    let flags = [
        "--dialect",
        "werkzeug",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let jsonl = import(&app, &fixture("bad.jsonl"), &flags).await;
    assert_eq!(jsonl.code, 3, "{}", jsonl.stderr);
    let want = expected(&[
        (1, "uid_taken"),
        (2, "missing_field"),
        (3, "invalid_timestamp"),
        (4, "malformed_json"),
        (5, "invalid_boolean"),
        (6, "missing_field"),
        (7, "hash_cost_too_high"),
    ]);
    assert_eq!(report(&report_path), want, "uid 1 came from bad.csv");
    assert!(account(&app, "8").await.is_some());

    // No hash, whole or in part, reaches the report or the terminal.
    let reports = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    for output in [reports, run.stdout, run.stderr, jsonl.stdout, jsonl.stderr] {
        for secret in ["abababab", "notahash", "pbkdf2:sha256:99999999$"] {
            assert!(!output.contains(secret), "{secret} leaked: {output}");
        }
    }
}

#[tokio::test]
async fn problems_found_before_any_row_stop_the_import() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "id,username,email\n1,kim,kim@x.org\n").unwrap();
    let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("no `password` or `password_hash` column")
            && run.stderr.contains("its columns are: id, username, email"),
        "{}",
        run.stderr
    );
    let run = import(&app, &fixture("users.csv"), &["--dialect", "flask"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("unknown hash dialect 'flask'"),
        "{}",
        run.stderr
    );
    let run = import(&app, &fixture("users.csv"), &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("--dialect is required"),
        "{}",
        run.stderr
    );
    let run = import(
        &app,
        &fixture("users.csv"),
        &["--dialect", "werkzeug", "--id-column", "user_id"],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no `user_id` column"), "{}", run.stderr);
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn a_utf16_file_is_named_as_such_and_a_utf8_byte_order_mark_is_fine() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let le: Vec<u8> = csv.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = csv.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let with_bom = [&b"\xff\xfe"[..], &le].concat();
    for (name, bytes) in [("le-bom", with_bom), ("le", le), ("be", be)] {
        let file = dir.path().join(format!("{name}.csv"));
        std::fs::write(&file, bytes).unwrap();
        let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
        assert_eq!(run.code, 1, "{name}");
        assert!(
            run.stderr.contains("looks like UTF-16") && run.stderr.contains("save it as UTF-8"),
            "{name}: {}",
            run.stderr
        );
    }
    assert_eq!(count(&app).await, 0);

    let file = dir.path().join("bom.csv");
    std::fs::write(&file, [&b"\xef\xbb\xbf"[..], csv.as_bytes()].concat()).unwrap();
    let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
    assert_eq!((run.code, run.count("imported")), (0, 4), "{}", run.stderr);
}

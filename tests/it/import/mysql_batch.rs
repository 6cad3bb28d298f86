//! `--format mysql-batch`: a file the real `mysql --batch` client wrote from a MariaDB table
//! (`users-mysql-batch.tsv`; tests/fixtures/README.md says how) imports with every escaped
//! value exactly as the table holds it, the `"` its display names hold is an ordinary
//! character, and `NULL` is a name, an absent email or time, or a boolean's NULL.

use super::{account, entries, entry, fixture, import};
use crate::common::TestApp;

/// Spring Security's published vectors, as the fixture's rows hold them.
const KIM_PASSWORD: &str = "password";
const LEE_PASSWORD: &str = "你好";
/// The `{noop}` clear text of the user named NULL: every byte mysql escapes, and a `\r`
/// it does not, which ends its line in the file.
const NULL_PASSWORD: &str = "tab\there, newline\nbackslash\\ quote\" cr\r";

#[tokio::test]
async fn a_mysql_batch_export_imports_its_values_exactly() {
    let app = TestApp::start().await;
    let file = fixture("users-mysql-batch.tsv");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let report_arg = report.to_str().unwrap();

    // Read as RFC 4180 TSV (its extension's format), the row with a `"` is refused.
    let flags = ["--dialect", "spring", "--dry-run", "--report", report_arg];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(entries(&report).contains(&entry(2, "malformed_csv", None)));

    let flags = ["--format", "mysql-batch", "--dialect", "spring"];
    let reporting = [&flags[..], &["--report", report_arg]].concat();
    let run = import(&app, &file, &reporting).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!((run.count("read"), run.count("imported")), (3, 2));
    // `--null-text` is `NULL` by default here: a NULL is_active is a NULL, not a bad boolean.
    assert_eq!(entries(&report), [entry(4, "null_boolean", None)]);

    let kim = account(&app, "1").await.unwrap();
    assert_eq!(kim.username.unwrap().as_str(), "kim");
    assert_eq!(kim.created_at.to_string(), "2019-03-04T05:06:07Z");
    assert_eq!(app.sign_in("kim@example.com", KIM_PASSWORD).await.0, 200);

    // A user named NULL keeps the name; a NULL email is no email, a NULL time the import's.
    let null = account(&app, "2").await.unwrap();
    assert_eq!(null.username.unwrap().as_str(), "NULL");
    assert!(null.email.is_none());
    let age = jiff::Timestamp::now().duration_since(null.created_at);
    assert!(age.as_secs() < 600, "{}", null.created_at);
    assert_eq!(app.sign_in("NULL", NULL_PASSWORD).await.0, 200);
    let without_cr = NULL_PASSWORD.trim_end_matches('\r');
    assert_eq!(app.sign_in("NULL", without_cr).await.0, 400);

    // Saying what a NULL is_active means imports the last row; `\\n` is a backslash and an n.
    let meaning = ["--null-means", "is_active=true"];
    let run = import(&app, &file, &[&flags[..], &meaning[..]].concat()).await;
    assert_eq!((run.code, run.count("imported")), (0, 1), "{}", run.stderr);
    let lee = account(&app, "3").await.unwrap();
    assert_eq!(lee.username.unwrap().as_str(), "ACME\\nlee");
    assert!(!lee.disabled);
    assert_eq!(app.sign_in("ACME\\nlee", LEE_PASSWORD).await.0, 200);
}

#[tokio::test]
async fn a_broken_line_costs_only_itself_and_the_format_takes_no_delimiter() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.tsv");
    let hash = "{MD5}7eca689f0d3389d9dea66ae112e5cfd7";
    std::fs::write(
        &file,
        format!(
            "id\tusername\tpassword\n1\tann\t{hash}\n2\tbo\n3\tcy\\r\t{hash}\n\
             4\tdi\t{hash}\textra\n5\ted\t{hash}\n"
        ),
    )
    .unwrap();
    let report = dir.path().join("report.jsonl");
    let flags = ["--format", "mysql-batch", "--dialect", "spring"];
    let reporting = ["--report", report.to_str().unwrap()];
    let run = import(&app, &file, &[&flags[..], &reporting[..]].concat()).await;
    assert_eq!((run.code, run.count("imported")), (3, 2), "{}", run.stderr);
    assert_eq!(
        entries(&report),
        [
            entry(3, "malformed_mysql_batch", None),
            entry(4, "malformed_mysql_batch", None),
            entry(5, "malformed_mysql_batch", None),
        ]
    );
    let found = std::fs::read_to_string(&report).unwrap();
    assert!(found.contains("2 fields where the header has 3"), "{found}");
    assert!(found.contains("never writes"), "{found}");
    assert!(account(&app, "5").await.is_some());

    let run = import(&app, &file, &[&flags[..], &["--delimiter", ","]].concat()).await;
    assert_eq!(run.code, 1);
    let stderr = &run.stderr;
    assert!(stderr.contains("leave --delimiter out"), "{stderr}");
}

//! `firegate import --from`: reading the legacy database itself. SQLite here (a file the test
//! writes with the same driver); PostgreSQL and MariaDB servers run in the rehearsal suite.
//! Typed NULLs stay NULLs, the text `NULL` is a name like any other, zero dates are absent,
//! the query cannot write, and a password never travels in argv.

use std::path::Path;

use sqlx::{Connection, SqliteConnection};

use super::{account, command_without_file, entries, entry, run as run_import};
use crate::common::{TestApp, spawn_app};

const DJANGO_HASH: &str = "pbkdf2_sha256$1000$sält$PqcS5RElBAETZutv1T9QAHP6b1jcsKSMpQNT0xis7mU=";
const DJANGO_PASSWORD: &str = "pässwörd";
const PHPASS_HASH: &str = "$P$BfoDv9tdo0mY0njzTT0kxJvjnVQLaq0";
const PHPASS_PASSWORD: &str = "correct horse battery staple";

/// A SQLite database holding `statements`, at `dir/legacy.db`.
async fn database(dir: &Path, statements: &str) -> String {
    let path = dir.join("legacy.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(statements).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    format!("sqlite://{}", path.display())
}

async fn import_from(app: &TestApp, url: &str, flags: &[&str]) -> super::Run {
    let mut command = command_without_file(app);
    command.args(["--from", url]).args(flags);
    run_import(command, url).await
}

/// Django's `auth_user` as its migration creates it, with the rows real exports garble.
const AUTH_USER: &str = r#"
CREATE TABLE auth_user (id integer PRIMARY KEY, password varchar(128) NOT NULL,
  last_login datetime NULL, is_superuser bool NOT NULL, username varchar(150) NOT NULL UNIQUE,
  first_name varchar(150) NOT NULL, last_name varchar(150) NOT NULL, email varchar(254) NULL,
  is_staff bool NOT NULL, is_active bool NULL, date_joined datetime NOT NULL);
INSERT INTO auth_user VALUES
  (1, '{h}', NULL, 0, 'kim', 'Kim', 'Tab	"Quote', 'kim@example.com', 0, 1, '2021-03-04 05:06:07'),
  (2, '{h}', NULL, 0, 'NULL', '', '', NULL, 0, 1, '2021-03-04 05:06:07'),
  (3, '{h}', NULL, 0, 'lee', '', '', 'lee@example.com', 0, NULL, '2021-03-04 05:06:07'),
  (4, '{h}', NULL, 0, 'ann', '', '', '', 0, 0, '2021-03-04 05:06:07');
"#;

#[tokio::test]
async fn a_django_database_imports_with_real_nulls() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path(), &AUTH_USER.replace("{h}", DJANGO_HASH)).await;
    let report = dir.path().join("report.jsonl");
    let report_arg = report.to_str().unwrap();

    let run = import_from(&app, &url, &["--preset", "django", "--report", report_arg]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        (
            run.count("read"),
            run.count("imported"),
            run.count("null_boolean")
        ),
        (4, 3, 1)
    );
    // The report names the row by its position in the query's result.
    assert_eq!(entries(&report), vec![entry(3, "null_boolean", None)]);

    // A user called NULL is a user called NULL; a NULL email is no email.
    let null = account(&app, "2").await.unwrap();
    assert_eq!(null.username.unwrap().as_str(), "NULL");
    assert!(null.email.is_none());
    assert_eq!(app.sign_in("NULL", DJANGO_PASSWORD).await.0, 200);
    let kim = account(&app, "1").await.unwrap();
    assert_eq!(kim.created_at.to_string(), "2021-03-04T05:06:07Z");
    assert_eq!(app.sign_in("kim@example.com", DJANGO_PASSWORD).await.0, 200);
    assert_ne!(app.sign_in("kim", "pässwörd!").await.0, 200);
    // is_active = 0 imports disabled; an empty email is no email.
    let ann = account(&app, "4").await.unwrap();
    assert!(ann.disabled && ann.email.is_none());

    // Saying what NULL means in is_active imports the last one.
    let run = import_from(
        &app,
        &url,
        &["--preset", "django", "--null-means", "is_active=false"],
    )
    .await;
    assert_eq!((run.code, run.count("imported")), (0, 1), "{}", run.stderr);
    assert!(account(&app, "3").await.unwrap().disabled);
}

#[tokio::test]
async fn wordpress_zero_dates_are_absent_and_the_preset_can_be_edited() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let statements = r#"
CREATE TABLE wp_users (ID integer PRIMARY KEY, user_login varchar(60) NOT NULL,
  user_pass varchar(255) NOT NULL, user_nicename varchar(50) NOT NULL,
  user_email varchar(100) NOT NULL, user_url varchar(100) NOT NULL,
  user_registered datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  user_activation_key varchar(255) NOT NULL, user_status int NOT NULL, display_name varchar(250) NOT NULL);
INSERT INTO wp_users VALUES
  (1, 'admin', '{h}', 'admin', 'admin@example.com', '', '0000-00-00 00:00:00', '', 0, 'Ad "min'),
  (2, 'editor', '{h}', 'editor', 'editor@example.com', '', '2019-05-06 07:08:09', '', 0, 'Ed');
"#
    .replace("{h}", PHPASS_HASH);
    let url = database(dir.path(), &statements).await;

    // The printed preset, edited (a table prefix other than wp_ is common), passed back.
    let mut print = command_without_file(&app);
    print.args(["--from", &url, "--preset", "wordpress", "--print-query"]);
    let printed = run_import(print, "--print-query").await;
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert!(
        printed.stdout.contains("FROM wp_users"),
        "{}",
        printed.stdout
    );
    let query = printed.stdout.replace("wp_users", "main.wp_users");

    let run = import_from(&app, &url, &["--dialect", "wordpress", "--query", &query]).await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);
    let admin = account(&app, "1").await.unwrap();
    // No date: created now, as a missing column would be.
    let age = jiff::Timestamp::now().duration_since(admin.created_at);
    assert!(age.as_secs() < 600, "{}", admin.created_at);
    let editor = account(&app, "2").await.unwrap();
    assert_eq!(editor.created_at.to_string(), "2019-05-06T07:08:09Z");
    assert_eq!(app.sign_in("admin", PHPASS_PASSWORD).await.0, 200);
}

#[tokio::test]
async fn the_query_cannot_write_and_its_errors_are_clear() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path(), &AUTH_USER.replace("{h}", DJANGO_HASH)).await;

    let delete = "DELETE FROM auth_user RETURNING id, username, password";
    let run = import_from(&app, &url, &["--dialect", "django", "--query", delete]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("readonly"), "{}", run.stderr);
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM auth_user")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 4);

    let run = import_from(&app, &url, &["--preset", "flask"]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the query failed") && run.stderr.contains("no such table: user"),
        "{}",
        run.stderr
    );

    let query = "SELECT id, username AS login, password FROM auth_user";
    let run = import_from(&app, &url, &["--dialect", "django", "--query", query]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("the query's result has neither a username nor an email")
            && run.stderr.contains("id, login, password"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_password_never_travels_in_argv_and_never_in_a_message() {
    let app = spawn_app().await;
    let with_password = "postgres://kim:hunter2@127.0.0.1:1/legacy";
    let run = import_from(&app, with_password, &["--preset", "django"]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("FIREGATE_IMPORT_DATABASE_PASSWORD") && !run.stderr.contains("hunter2"),
        "{}",
        run.stderr
    );

    // The same URL from the environment is accepted; the connection error hides it.
    let mut command = command_without_file(&app);
    command
        .env("FIREGATE_IMPORT_FROM", with_password)
        .args(["--preset", "django"]);
    let run = run_import(command, "FIREGATE_IMPORT_FROM").await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cannot connect to the PostgreSQL database at postgres://kim:***@"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

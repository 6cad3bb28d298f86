//! `firegate import --from`: reading the legacy database itself. SQLite here (a file the test
//! writes with the same driver); PostgreSQL and MariaDB servers run in the rehearsal suite.
//! Typed NULLs stay NULLs, the text `NULL` is a name like any other, zero dates are absent,
//! the query cannot write, and a password never travels in argv.

use std::path::Path;

use sqlx::{Connection, SqliteConnection};

use super::{account, command_without_file, entries, entry, run as run_import};
use crate::common::TestApp;

const DJANGO_HASH: &str = "pbkdf2_sha256$1000$sält$PqcS5RElBAETZutv1T9QAHP6b1jcsKSMpQNT0xis7mU=";
const DJANGO_PASSWORD: &str = "pässwörd";
const PHPASS_HASH: &str = "$P$BfoDv9tdo0mY0njzTT0kxJvjnVQLaq0";
const PHPASS_PASSWORD: &str = "correct horse battery staple";
// php -r 'echo password_hash("plugin bcrypt", PASSWORD_BCRYPT, ["cost"=>4]);'
const LARAVEL_HASH: &str = "$2y$04$jPV4L3Aa9F8W9gWBsQx.me3FEA3xjBeQ8r2gWHDm.mCion9HoKl/6";
const LARAVEL_PASSWORD: &str = "plugin bcrypt";
// Drupal 7 user_hash_password (tests/fixtures/php-hashes.jsonl).
const DRUPAL_HASH: &str = "$S$DIRyfIIDPb8rN46DGgo5IPRbde2TDCfm1FRBj3uCzgY2a7/Xv8EM";
const DRUPAL_PASSWORD: &str = "correct horse battery staple";
// ASP.NET Identity's PasswordHasherTest, version 2 (tests/fixtures/library-hashes.jsonl).
const ASPNET_HASH: &str = "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==";
const ASPNET_PASSWORD: &str = "my password";

/// A SQLite database holding `statements`, at `dir/legacy.db`.
async fn database(dir: &Path, statements: &str) -> String {
    let path = dir.join("legacy.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(statements).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    format!("sqlite://{}", path.display())
}

/// An app, and Django's `auth_user` (below) in a SQLite file kept as long as the directory.
async fn django_app() -> (TestApp, tempfile::TempDir, String) {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path(), &AUTH_USER.replace("{h}", DJANGO_HASH)).await;
    (app, dir, url)
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
    let (app, dir, url) = django_app().await;
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
    let app = TestApp::start().await;
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
    let (app, _dir, url) = django_app().await;

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
    let app = TestApp::start().await;
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

/// The Laravel, Drupal 7 and ASP.NET Identity presets, each run against its framework's own
/// table (the columns its migration creates): logins, hashes, states and times as read.
#[tokio::test]
async fn each_framework_preset_reads_its_schema() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let statements = r#"
CREATE TABLE users (id integer PRIMARY KEY, name varchar(255) NOT NULL,
  email varchar(255) NOT NULL UNIQUE, email_verified_at timestamp NULL,
  password varchar(255) NOT NULL, remember_token varchar(100) NULL,
  created_at timestamp NULL, updated_at timestamp NULL);
INSERT INTO users VALUES
  (11, 'Kim Lee', 'kim@laravel.example', '2024-01-02 03:04:05', '{bcrypt}', NULL,
   '2023-05-06 07:08:09', NULL),
  (12, 'Kim Lee', 'lee@laravel.example', NULL, '{bcrypt}', NULL, NULL, NULL);
CREATE TABLE drupal_users (uid integer PRIMARY KEY, name varchar(60) NOT NULL,
  pass varchar(128) NOT NULL, mail varchar(254), created integer NOT NULL,
  status tinyint NOT NULL);
INSERT INTO drupal_users VALUES
  (0, '', '', '', 0, 0),
  (21, 'drupal kim', '{drupal}', 'kim@drupal.example', 1614834367, 1),
  (22, 'blocked', '{drupal}', 'blocked@drupal.example', 1614834367, 0);
CREATE TABLE AspNetUsers (Id TEXT PRIMARY KEY, UserName TEXT, NormalizedUserName TEXT,
  Email TEXT, NormalizedEmail TEXT, EmailConfirmed INTEGER NOT NULL, PasswordHash TEXT,
  SecurityStamp TEXT, ConcurrencyStamp TEXT, PhoneNumber TEXT,
  PhoneNumberConfirmed INTEGER NOT NULL, TwoFactorEnabled INTEGER NOT NULL, LockoutEnd TEXT,
  LockoutEnabled INTEGER NOT NULL, AccessFailedCount INTEGER NOT NULL);
INSERT INTO AspNetUsers VALUES
  ('a1', 'ana', 'ANA', 'ana@aspnet.example', 'ANA@ASPNET.EXAMPLE', 1, '{aspnet}', 's', 'c',
   NULL, 0, 0, NULL, 1, 0),
  ('a2', 'banned', 'BANNED', 'banned@aspnet.example', 'BANNED@ASPNET.EXAMPLE', 0, '{aspnet}',
   's', 'c', NULL, 0, 0, '9999-12-31 23:59:59.9999999+00:00', 1, 0),
  ('a3', 'paused', 'PAUSED', 'paused@aspnet.example', 'PAUSED@ASPNET.EXAMPLE', 0, '{aspnet}',
   's', 'c', NULL, 0, 0, '2000-01-01 00:00:00+00:00', 1, 3);
"#
    .replace("{bcrypt}", LARAVEL_HASH)
    .replace("{drupal}", DRUPAL_HASH)
    .replace("{aspnet}", ASPNET_HASH);
    let url = database(dir.path(), &statements).await;

    let run = import_from(&app, &url, &["--preset", "laravel"]).await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);
    let kim = account(&app, "11").await.unwrap();
    assert_eq!(kim.email_verified, Some(true));
    assert_eq!(kim.created_at.to_string(), "2023-05-06T07:08:09Z");
    assert!(kim.username.is_none(), "Laravel's name is no login");
    assert_eq!(
        account(&app, "12").await.unwrap().email_verified,
        Some(false)
    );
    assert_eq!(
        app.sign_in("kim@laravel.example", LARAVEL_PASSWORD).await.0,
        200
    );

    // Drupal's table is `users` too: the printed preset, pointed at this one.
    let mut print = command_without_file(&app);
    print.args(["--from", &url, "--preset", "drupal7", "--print-query"]);
    let query = run_import(print, "--print-query")
        .await
        .stdout
        .replace("FROM users", "FROM drupal_users");
    let run = import_from(&app, &url, &["--dialect", "drupal", "--query", &query]).await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);
    assert!(account(&app, "0").await.is_none(), "the anonymous user");
    assert!(account(&app, "22").await.unwrap().disabled);
    let drupal = account(&app, "21").await.unwrap();
    assert_eq!(drupal.created_at.to_string(), "2021-03-04T05:06:07Z");
    assert_eq!(app.sign_in("drupal kim", DRUPAL_PASSWORD).await.0, 200);

    let run = import_from(&app, &url, &["--preset", "aspnet"]).await;
    assert_eq!((run.code, run.count("imported")), (0, 3), "{}", run.stderr);
    let ana = account(&app, "a1").await.unwrap();
    assert!(!ana.disabled && ana.email_verified == Some(true));
    // A ban (a lockout to year 9999) stays one; a lockout that ended does not.
    assert!(account(&app, "a2").await.unwrap().disabled);
    assert!(!account(&app, "a3").await.unwrap().disabled);
    assert_eq!(app.sign_in("ana", ASPNET_PASSWORD).await.0, 200);
    assert_ne!(app.sign_in("banned", ASPNET_PASSWORD).await.0, 200);
}

#[tokio::test]
async fn a_query_of_several_statements_stops_and_an_empty_one_is_an_error() {
    let (app, _dir, url) = django_app().await;
    let two = "SELECT id, username, email, password FROM auth_user WHERE id = 1; \
               SELECT id, email, username, password FROM auth_user WHERE id = 3";
    let run = import_from(&app, &url, &["--dialect", "django", "--query", two]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("give one SELECT"), "{}", run.stderr);
    assert!(account(&app, "3").await.is_none());

    let none = "SELECT id, username, password FROM auth_user WHERE id < 0";
    let run = import_from(&app, &url, &["--dialect", "django", "--query", none]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("returned no rows"), "{}", run.stderr);
}

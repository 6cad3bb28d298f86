//! `firegate import`: every input format, reruns and interrupted runs, `--dry-run`,
//! `--strict`, `--update`, each kind of bad input with its line number, and imported legacy
//! accounts signing in over HTTP and being upgraded to argon2id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use firegate::accounts::Uid;
use firegate::login::Login;
use serde_json::{Value, json};

use crate::common::{TestApp, base_args, spawn_app};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// `firegate <the app's flags> import FILE FLAGS…`, with a clean environment.
fn command(app: &TestApp, file: &Path, flags: &[&str]) -> tokio::process::Command {
    let project = app.service.store.options().project_id.clone();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_firegate"));
    for var in ["FIRESTORE_EMULATOR_HOST", "PORT", "RUST_LOG"] {
        command.env_remove(var);
    }
    command
        .env("FIREGATE_LOG_FORMAT", "text")
        .args(base_args(app.keys.path(), &project))
        .arg("import")
        .arg(file)
        .args(flags)
        .stdin(Stdio::null());
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The `name: N` lines of the summary.
    fn summary(&self) -> BTreeMap<String, u64> {
        self.stdout
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once(": ")?;
                let n = value.split_whitespace().next()?.parse().ok()?;
                Some((key.trim().to_string(), n))
            })
            .collect()
    }

    fn count(&self, key: &str) -> u64 {
        self.summary().get(key).copied().unwrap_or(0)
    }
}

async fn import(app: &TestApp, file: &Path, flags: &[&str]) -> Run {
    let output = command(app, file, flags).output().await.unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    eprintln!(
        "import {}: exit {}\n{}{}",
        file.display(),
        run.code,
        run.stdout,
        run.stderr
    );
    run
}

/// The report file as (line, reason) pairs.
fn report(path: &Path) -> BTreeSet<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            (
                entry["line"].as_u64().unwrap(),
                entry["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected(pairs: &[(u64, &str)]) -> BTreeSet<(u64, String)> {
    pairs.iter().map(|(l, r)| (*l, r.to_string())).collect()
}

async fn account(app: &TestApp, uid: &str) -> Option<firegate::accounts::Account> {
    let uid = Uid::parse(uid).unwrap();
    let found = app.service.store.find_by_uid(&uid).await.unwrap();
    found.map(|f| f.account)
}

async fn count(app: &TestApp) -> u64 {
    app.service.store.count_accounts().await.unwrap()
}

async fn login(app: &TestApp, login: &str, password: &str) -> (u16, Value) {
    let response = app
        .post_json("/login/", json!({"username": login, "password": password}))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_postgres_csv_of_werkzeug_hashes_signs_in_and_is_upgraded() {
    let app = spawn_app().await;
    let run = import(&app, &fixture("users.csv"), &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.count("read"), run.count("imported")), (4, 4));

    let kim = account(&app, "1").await.expect("uid 1 imported");
    assert_eq!(kim.username.unwrap().as_str(), "kim");
    assert_eq!(kim.email.unwrap().as_str(), "kim@school.example");
    assert_eq!(kim.created_at.to_string(), "2019-03-03T20:06:07.123456Z");
    assert_eq!(kim.password.scheme_name(), "werkzeug-pbkdf2-sha256");
    assert!(!kim.disabled);
    let park = account(&app, "3").await.unwrap();
    assert!(park.disabled, "is_active f");
    assert!(park.email.is_none());
    assert_eq!(
        account(&app, "4").await.unwrap().username.unwrap().as_str(),
        "choi, jr"
    );

    // A bare username, as legacy clients send it.
    let (status, body) = login(&app, "kim", "  spaces around  ").await;
    assert_eq!((status, body["uid"].as_str()), (200, Some("1")), "{body}");
    assert_eq!(
        app.stored("kim").await.account.password.scheme_name(),
        "argon2id"
    );
    let (status, body) = login(&app, "LEE@school.example", "x3050").await;
    assert_eq!((status, body["uid"].as_str()), (200, Some("2")), "{body}");
    assert_eq!(login(&app, "kim", "wrong").await.0, 400);
    let (status, _) = login(&app, "park", "correct horse battery staple6490").await;
    assert_eq!(status, 400, "a disabled account cannot sign in");
}

#[tokio::test]
async fn json_lines_and_django_dumpdata_import_with_their_defaults() {
    let app = spawn_app().await;
    let jsonl = fixture("users.jsonl");
    let run = import(
        &app,
        &jsonl,
        &["--dialect", "werkzeug", "--uid-prefix", "legacy-"],
    )
    .await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);
    let jung = account(&app, "legacy-101").await.unwrap();
    assert_eq!(jung.created_at.to_string(), "2021-03-04T05:06:07Z");
    assert!(!jung.disabled);
    assert!(account(&app, "legacy-102").await.unwrap().disabled);

    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let django = fixture("auth_user.json");
    let flags = [
        "--uid-template",
        "dj-{id}",
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = import(&app, &django, &flags).await;
    assert_eq!(run.code, 3, "one unusable password: {}", run.stderr);
    assert_eq!(
        (run.count("imported"), run.count("unusable_password")),
        (2, 1)
    );
    assert_eq!(report(&report_path), expected(&[(38, "unusable_password")]));
    let entry: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(
        (entry["record"].as_u64(), entry["uid"].as_str()),
        (Some(3), Some("dj-3"))
    );
    assert!(
        entry["message"]
            .as_str()
            .unwrap()
            .contains("set_unusable_password")
    );

    let admin = account(&app, "dj-1").await.unwrap();
    assert_eq!(admin.password.scheme_name(), "django-pbkdf2-sha256");
    assert_eq!(admin.created_at.to_string(), "2023-01-02T03:04:05.678Z");
    assert!(
        account(&app, "dj-2").await.unwrap().email.is_none(),
        "empty email"
    );
    let (status, body) = login(&app, "admin@example.com", "tab\tand\"quote'245").await;
    assert_eq!(
        (status, body["uid"].as_str()),
        (200, Some("dj-1")),
        "{body}"
    );
    let (status, _) = login(&app, "jung", "pässwörd8825").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rerunning_an_import_creates_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    let file = fixture("users.csv");
    assert_eq!(
        import(&app, &file, &["--dialect", "werkzeug"]).await.code,
        0
    );
    let before = account(&app, "2").await.unwrap();

    let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (run.count("imported"), run.count("already present")),
        (0, 4)
    );
    assert_eq!(count(&app).await, 4);
    let after = account(&app, "2").await.unwrap();
    assert_eq!(after.updated_at, before.updated_at, "nothing rewritten");
    assert_eq!(after.password, before.password);
}

#[tokio::test]
async fn an_import_killed_midway_finishes_on_rerun_without_duplicates() {
    const ROWS: u64 = 12_000;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut csv = String::from("id,username,email,password\n");
    for i in 1..=ROWS {
        let hash = format!("pbkdf2:sha256:260000$salt{i}${}", "0f".repeat(32));
        csv.push_str(&format!("{i},user{i},user{i}@example.org,{hash}\n"));
    }
    std::fs::write(&file, csv).unwrap();

    let mut child = command(
        &app,
        &file,
        &["--dialect", "werkzeug", "--concurrency", "1"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while account(&app, "1").await.is_none() {
        assert!(Instant::now() < deadline, "the import wrote nothing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().await.unwrap();
    let written = count(&app).await;
    assert!(
        written > 0 && written < ROWS,
        "killed midway: {written} of {ROWS}"
    );

    let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("imported") + run.count("already present"), ROWS);
    assert!(run.count("already present") >= written);
    assert_eq!(count(&app).await, ROWS, "every account exactly once");
    for i in (1..=ROWS).step_by(397).chain([ROWS]) {
        for name in [format!("user{i}"), format!("user{i}@example.org")] {
            let login = [Login::parse(&name).unwrap()];
            let found = app.service.store.find_by_login(&login).await.unwrap();
            let found = found.expect("login indexed");
            assert_eq!(found.account.uid.as_str(), i.to_string());
        }
    }
}

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

#[tokio::test]
async fn every_kind_of_bad_input_is_reported_with_its_line_and_never_a_hash() {
    let app = spawn_app().await;
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
        (15, "duplicate_login"),
    ]);
    assert_eq!(report(&report_path), want);
    assert_eq!((run.count("read"), run.count("imported")), (15, 3));
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
    let app = spawn_app().await;
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
async fn update_replaces_changed_hashes_but_not_one_changed_through_firegate() {
    let app = spawn_app().await;
    let file = fixture("users.csv");
    assert_eq!(
        import(&app, &file, &["--dialect", "werkzeug"]).await.code,
        0
    );
    // kim signs in, so firegate now holds a newer (argon2id) hash than any export.
    assert_eq!(login(&app, "kim", "  spaces around  ").await.0, 200);
    let kim = account(&app, "1").await.unwrap();
    let lee = account(&app, "2").await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("users.csv");
    let scrypt = "scrypt:16384:8:1$h9L1BPnmSl5W3rYo$2658515ccc9fcd3606b74966c21747f638b525efb2614a\
                  8388434db033e3d4976102059dde524f660bcccd408765c2bba93b319e7a0045035b3e763f3296e91b";
    let csv = std::fs::read_to_string(&file).unwrap();
    let csv = csv
        .replace(&lee.password.hash, scrypt)
        .replace(&format!("{},t", kim_hash()), &format!("{scrypt},t"));
    std::fs::write(&changed, csv).unwrap();

    let run = import(&app, &changed, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (
            run.count("already present"),
            run.count("differing from the file")
        ),
        (4, 2)
    );
    assert_eq!(
        account(&app, "2").await.unwrap().password,
        lee.password,
        "unchanged without --update"
    );

    let run = import(&app, &changed, &["--dialect", "werkzeug", "--update"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (run.count("updated"), run.count("differing from the file")),
        (1, 1)
    );
    let after = account(&app, "2").await.unwrap();
    assert_eq!(after.password.hash, scrypt);
    assert_eq!(after.password.scheme_name(), "werkzeug-scrypt");
    assert_eq!(
        (after.email, after.username, after.created_at),
        (lee.email, lee.username, lee.created_at)
    );
    assert_eq!(
        account(&app, "1").await.unwrap().password,
        kim.password,
        "kim's upgrade kept"
    );
    let (status, _) = login(&app, "lee", "  spaces around  9623").await;
    assert_eq!(status, 200, "the new hash is the one checked");
}

/// kim's hash in users.csv.
fn kim_hash() -> String {
    let csv = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let line = csv.lines().find(|l| l.starts_with("1,kim,")).unwrap();
    line.split(',').nth(3).unwrap().to_string()
}

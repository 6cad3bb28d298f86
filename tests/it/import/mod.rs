//! `firegate import`: every input format, reruns and interrupted runs, `--dry-run`,
//! `--strict`, `--update`, each kind of bad input with its line number, logins left out,
//! and imported legacy accounts signing in over HTTP and being upgraded to argon2id. This
//! file holds the helpers that run the `firegate` binary and read back what it wrote.

mod bad_input;
mod checks;
mod database;
mod emails;
mod formats;
mod logins;
mod mysql_batch;
mod nulls;
mod output;
mod reruns;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use firegate::accounts::Uid;
use serde_json::Value;

use crate::common::{TestApp, firegate_command};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// `firegate <the app's flags> import FILE FLAGS…`, with a clean environment.
pub fn command(app: &TestApp, file: &Path, flags: &[&str]) -> tokio::process::Command {
    let mut command = command_without_file(app);
    command.arg(file).args(flags);
    command
}

/// `firegate <the app's flags> import`, to be given a file or `--from`.
pub fn command_without_file(app: &TestApp) -> tokio::process::Command {
    let project = app.project();
    let mut command: tokio::process::Command = firegate_command(app.keys.path(), &project).into();
    command
        .env_remove("RUST_LOG")
        .env_remove("FIREGATE_IMPORT_FROM")
        .env_remove("FIREGATE_IMPORT_DATABASE_PASSWORD")
        .env("FIREGATE_LOG_FORMAT", "text")
        .arg("import")
        .stdin(Stdio::null());
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `name: N` lines of the summary.
    pub fn summary(&self) -> BTreeMap<String, u64> {
        self.stdout
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once(": ")?;
                let n = value.split_whitespace().next()?.parse().ok()?;
                Some((key.trim().to_string(), n))
            })
            .collect()
    }

    pub fn count(&self, key: &str) -> u64 {
        self.summary().get(key).copied().unwrap_or(0)
    }
}

/// A Werkzeug CSV export in a directory of its own, imported with `--dialect werkzeug
/// --report` into that directory.
pub struct Export {
    dir: tempfile::TempDir,
    pub file: PathBuf,
    pub report: PathBuf,
}

impl Export {
    /// `csv` as `users.csv`.
    pub fn new(csv: &str) -> Export {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.csv");
        std::fs::write(&file, csv).unwrap();
        let report = dir.path().join("report.jsonl");
        Export { dir, file, report }
    }

    /// Users given as `id,username,email`, each with [`HASH`] as its `password_hash`.
    pub fn users(rows: &[&str]) -> Export {
        let rows: String = rows.iter().map(|row| format!("{row},{HASH}\n")).collect();
        Export::new(&format!("id,username,email,password_hash\n{rows}"))
    }

    /// A path beside the export.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `firegate import users.csv --dialect werkzeug --report … FLAGS…`.
    pub async fn import(&self, app: &TestApp, flags: &[&str]) -> Run {
        self.import_from(app, &self.file, flags).await
    }

    /// The same for another file (`-`: standard input).
    pub async fn import_from(&self, app: &TestApp, file: &Path, flags: &[&str]) -> Run {
        let report = self.report.to_str().unwrap();
        let all = [&["--dialect", "werkzeug", "--report", report][..], flags].concat();
        import(app, file, &all).await
    }

    /// The report's lines as `(line, reason, kept_without)`.
    pub fn entries(&self) -> Vec<(u64, String, Option<String>)> {
        entries(&self.report)
    }

    /// The report's lines as `(line, reason)`.
    pub fn refused(&self) -> BTreeSet<(u64, String)> {
        report(&self.report)
    }

    /// The report as written.
    pub fn report_text(&self) -> String {
        std::fs::read_to_string(&self.report).unwrap()
    }
}

pub async fn import(app: &TestApp, file: &Path, flags: &[&str]) -> Run {
    run(command(app, file, flags), &file.display().to_string()).await
}

/// Runs an import command and shows what it printed.
pub async fn run(mut command: tokio::process::Command, what: &str) -> Run {
    let output = command.output().await.unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    eprintln!(
        "import {}: exit {}\n{}{}",
        what, run.code, run.stdout, run.stderr
    );
    run
}

/// The report file as (line, reason) pairs.
pub fn report(path: &Path) -> BTreeSet<(u64, String)> {
    entries(path)
        .into_iter()
        .map(|(line, reason, _)| (line, reason))
        .collect()
}

pub fn expected(pairs: &[(u64, &str)]) -> BTreeSet<(u64, String)> {
    pairs.iter().map(|(l, r)| (*l, r.to_string())).collect()
}

pub async fn account(app: &TestApp, uid: &str) -> Option<firegate::accounts::Account> {
    let uid = Uid::parse(uid).unwrap();
    let found = app.service.store.find_by_uid(&uid).await.unwrap();
    found.map(|f| f.account)
}

pub async fn count(app: &TestApp) -> u64 {
    app.service.store.count_accounts().await.unwrap()
}

/// Werkzeug's hash of [`PASSWORD`].
pub const HASH: &str = "pbkdf2:sha256:260000$1Cv49oUzVdDNPIj1$\
                    cdfbcb171f45e1e6ad5546f0bf66ff138b60ba1bd82c00a3cc5692fd01644001";
pub const PASSWORD: &str = "  spaces around  ";

/// The report's lines as `(line, reason, kept_without)`.
pub fn entries(path: &Path) -> Vec<(u64, String, Option<String>)> {
    let mut out: Vec<_> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            (
                entry["line"].as_u64().unwrap(),
                entry["reason"].as_str().unwrap().to_string(),
                entry["kept_without"].as_str().map(String::from),
            )
        })
        .collect();
    out.sort();
    out
}

pub fn entry(line: u64, reason: &str, kept_without: Option<&str>) -> (u64, String, Option<String>) {
    (line, reason.to_string(), kept_without.map(String::from))
}

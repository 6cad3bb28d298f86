//! One import path of one dataset: `firegate import` of an export (or, where the build has
//! it, of the database itself, by a preset or by its query edited) into a fresh project, then
//! every user signing in over HTTP with what the framework accepted, before and after the
//! upgrade to argon2id.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use firegate::accounts::Uid;
use futures::StreamExt;
use serde_json::Value;

use super::datasets::{Database, Export, Manifest, User};
use crate::common::TestApp;
use crate::import::{Run, command_without_file};

/// How the users reach firegate.
#[derive(Clone, Debug)]
pub enum ImportPath {
    /// An export file, with its flags.
    File(Export),
    /// `firegate import --from URL --preset P`, or `--query` with the preset's query edited.
    Database(Database),
}

impl ImportPath {
    pub fn name(&self) -> String {
        match self {
            ImportPath::File(export) => export.name.clone(),
            ImportPath::Database(db) => db.name.clone(),
        }
    }

    async fn args(&self, app: &TestApp, dir: &Path) -> Vec<String> {
        let (mut args, flags) = match self {
            ImportPath::File(export) => (
                vec![dir.join(&export.file).display().to_string()],
                &export.flags,
            ),
            ImportPath::Database(db) => {
                let mut args = vec!["--from".to_string(), db.url.clone()];
                match &db.edit {
                    None => args.extend(["--preset".to_string(), db.preset.clone()]),
                    Some(edit) => {
                        let query = print_query(app, db).await;
                        assert!(
                            query.contains(&edit.replace),
                            "the {} preset's query has no `{}`:\n{query}",
                            db.preset,
                            edit.replace
                        );
                        let query = query.replace(&edit.replace, &edit.with);
                        args.extend(["--query".to_string(), query.trim_end().to_string()]);
                    }
                }
                (args, &db.flags)
            }
        };
        args.extend(flags.iter().cloned());
        args
    }

    /// The user field the uid is.
    fn uid_from(&self) -> &str {
        match self {
            ImportPath::File(export) => &export.uid_from,
            ImportPath::Database(_) => "id",
        }
    }
}

/// One line of the results table, and what went wrong.
pub struct Outcome {
    pub framework: String,
    pub version: String,
    pub dataset: String,
    pub path: String,
    pub users: usize,
    pub imported: usize,
    /// Users named in the report (refused, or imported without a login).
    pub reported: usize,
    /// Users the framework lets sign in, and how many of them signed in with every input
    /// the framework accepted, before and after the upgrade.
    pub can_sign_in: usize,
    pub signed_in: usize,
    pub wrong_accepted: usize,
    /// `POST /login/` requests made.
    pub sign_ins: usize,
    /// The import's command line and summary.
    pub import: String,
    pub failures: Vec<String>,
}

/// A `--report` line.
struct Entry {
    line: u64,
    record: Option<u64>,
    uid: Option<String>,
    reason: String,
    message: String,
    kept_without: Option<String>,
}

/// Imports `manifest`'s users by `path` into a fresh project and signs each one in.
pub async fn rehearse(manifest: &Manifest, dir: &Path, path: &ImportPath) -> Outcome {
    let app = TestApp::start().await;
    let report = dir.join(format!(
        "report-{}.jsonl",
        path.name()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    ));
    let args = path.args(&app, dir).await;
    let run = import(&app, &args, &report).await;
    let command = format!(
        "firegate import {} --report {}",
        args.join(" "),
        report.display()
    );
    let mut outcome = Outcome {
        framework: manifest.framework.clone(),
        version: manifest.version.clone(),
        dataset: manifest.dataset.clone(),
        path: path.name(),
        users: manifest.users.len(),
        imported: 0,
        reported: 0,
        can_sign_in: manifest.users.iter().filter(|u| u.can_sign_in).count(),
        signed_in: 0,
        wrong_accepted: 0,
        sign_ins: 0,
        import: format!("{command}\n{}", run.stdout.trim_end()),
        failures: vec![],
    };
    // 0: every row imported; 3: some refused (each in the report).
    if run.code != 0 && run.code != 3 {
        outcome
            .failures
            .push(format!("exited {}: {}", run.code, run.stderr.trim_end()));
    }
    let entries = read_report(&report);
    let checks = manifest.users.iter().enumerate().map(|(index, user)| {
        let entry = entries.iter().find(|e| locates(e, path, index, user));
        check_user(&app, path, index, user, entry)
    });
    let results: Vec<UserResult> = futures::stream::iter(checks)
        .buffer_unordered(4)
        .collect()
        .await;
    for result in results {
        outcome.imported += usize::from(result.imported);
        outcome.reported += usize::from(result.reported);
        outcome.signed_in += usize::from(result.signed_in);
        outcome.wrong_accepted += result.wrong_accepted;
        outcome.sign_ins += result.sign_ins;
        outcome.failures.extend(result.failures);
    }
    if run.count("imported") != outcome.imported as u64 {
        outcome.failures.push(format!(
            "the summary says {} imported, Firestore holds {} of the users",
            run.count("imported"),
            outcome.imported
        ));
    }
    outcome
}

/// `firegate import ARGS --report FILE` on the app's project.
async fn import(app: &TestApp, args: &[String], report: &Path) -> Run {
    let output = command_without_file(app)
        .args(args)
        .arg("--report")
        .arg(report)
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `firegate import --from URL --preset P --print-query`: the query to edit.
async fn print_query(app: &TestApp, db: &Database) -> String {
    let output = command_without_file(app)
        .args(["--from", &db.url, "--preset", &db.preset, "--print-query"])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "--print-query: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn read_report(path: &PathBuf) -> Vec<Entry> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            let text = |key: &str| entry[key].as_str().map(String::from);
            Entry {
                line: entry["line"].as_u64().unwrap_or(0),
                record: entry["record"].as_u64(),
                uid: text("uid"),
                reason: text("reason").unwrap_or_default(),
                message: text("message").unwrap_or_default(),
                kept_without: text("kept_without"),
            }
        })
        .collect()
}

/// Whether a report entry is about the `index`th user: by uid, else by the row's place.
fn locates(entry: &Entry, path: &ImportPath, index: usize, user: &User) -> bool {
    if let Some(uid) = &entry.uid {
        return user.uid(path.uid_from()) == Some(uid.as_str());
    }
    let index = index as u64;
    match path {
        ImportPath::File(export) => match export.rows.as_str() {
            "records" => entry.record == Some(index + 1),
            "lines" => entry.line == index + 1,
            "header+lines" => entry.line == index + 2,
            other => panic!("unknown row kind {other}"),
        },
        // A query's rows come in the database's order, not the manifest's.
        ImportPath::Database(_) => false,
    }
}

#[derive(Default)]
struct UserResult {
    imported: bool,
    reported: bool,
    signed_in: bool,
    wrong_accepted: usize,
    sign_ins: usize,
    failures: Vec<String>,
}

async fn check_user(
    app: &TestApp,
    path: &ImportPath,
    index: usize,
    user: &User,
    entry: Option<&Entry>,
) -> UserResult {
    let who = format!(
        "user {} ({}; {})",
        user.id,
        user.logins.join(", "),
        user.note
    );
    let mut result = UserResult {
        reported: entry.is_some(),
        ..Default::default()
    };
    let uid = user
        .uid(path.uid_from())
        .and_then(|uid| Uid::parse(uid).ok());
    let stored = match &uid {
        Some(uid) => app.service.store.find_by_uid(uid).await.unwrap(),
        None => None,
    };
    result.imported = stored.is_some();
    let Some(uid) = uid.filter(|_| result.imported) else {
        match entry {
            None => result
                .failures
                .push(format!("{who}: lost, not in the report")),
            Some(e) if user.can_sign_in => result.failures.push(format!(
                "{who}: signs in to the framework, refused as {}: {}",
                e.reason, e.message
            )),
            Some(_) => {}
        }
        return result;
    };
    // Logins the report says the account was imported without do not sign in.
    let dropped = entry.and_then(|e| {
        let field = e.kept_without.as_deref()?;
        match field {
            "email" => user.email.clone(),
            "username" => user.username.clone(),
            _ => None,
        }
    });
    let logins: Vec<&String> = user
        .logins
        .iter()
        .filter(|l| dropped.as_ref().is_none_or(|d| !d.eq_ignore_ascii_case(l)))
        .collect();
    if logins.is_empty() {
        result
            .failures
            .push(format!("{who}: imported without any login it had"));
        return result;
    }
    let sign_ins = AtomicUsize::new(0);
    let mut fail = |what: String| result.failures.push(format!("{who}: {what}"));
    if !user.can_sign_in {
        for login in &logins {
            for typed in [&user.password, &user.wrong] {
                if signs_in(app, &sign_ins, login, typed).await {
                    fail(format!(
                        "{login} signed in with {typed:?}; the framework refuses this user"
                    ));
                }
            }
        }
        result.sign_ins = sign_ins.into_inner();
        return result;
    }
    let first_login = logins[0];
    let mut wrong_accepted = 0;
    if signs_in(app, &sign_ins, first_login, &user.wrong).await {
        wrong_accepted += 1;
        fail(format!(
            "{first_login} signed in with the wrong {:?}",
            user.wrong
        ));
    }
    // Half of the users with variants are upgraded by a sign-in with one, half by the
    // password itself: either way both must keep working.
    let first = match user.variants.first() {
        Some(variant) if index % 2 == 1 => variant,
        _ => &user.password,
    };
    let mut all_ok = true;
    if !signs_in(app, &sign_ins, first_login, first).await {
        all_ok = false;
        fail(format!("{first_login} refused {first:?} (legacy hash)"));
    } else {
        let account = app.service.store.find_by_uid(&uid).await.unwrap().unwrap();
        let scheme = account.account.password.scheme_name();
        if scheme != "argon2id" {
            fail(format!("not upgraded after signing in: still {scheme}"));
        }
    }
    for login in &logins {
        for typed in std::iter::once(&user.password).chain(&user.variants) {
            if !signs_in(app, &sign_ins, login, typed).await {
                all_ok = false;
                fail(format!(
                    "{login} refused {typed:?} after signing in with {first:?}"
                ));
            }
        }
    }
    if signs_in(app, &sign_ins, first_login, &user.wrong).await {
        wrong_accepted += 1;
        fail(format!(
            "{first_login} signed in with the wrong {:?} after the upgrade",
            user.wrong
        ));
    }
    result.signed_in = all_ok;
    result.wrong_accepted = wrong_accepted;
    result.sign_ins = sign_ins.into_inner();
    result
}

/// Whether `POST /login/` succeeds; a server error fails the test at once.
async fn signs_in(app: &TestApp, count: &AtomicUsize, login: &str, password: &str) -> bool {
    count.fetch_add(1, Ordering::Relaxed);
    let (status, body) = app.sign_in(login, password).await;
    assert!(status < 500, "{login}: {status} {body}");
    status == 200
}

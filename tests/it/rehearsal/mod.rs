//! Rehearsals of real migrations: Django, Flask/Werkzeug and WordPress write their user
//! tables into a real PostgreSQL or MariaDB with their own code, the tables are exported the
//! way the README says, imported by every path, and every user signs in over HTTP. No user
//! may be lost without a reported reason, no password the framework accepted may stop
//! working (before or after the upgrade to argon2id), and no wrong password may sign in.
//! The results table is written to `target/rehearsal/results.md`.

mod datasets;
mod paths;
mod servers;

use std::fmt::Write;
use std::time::Instant;

use futures::StreamExt;

use datasets::{DATASETS, Manifest, work_dir};
use paths::{ImportPath, Outcome, rehearse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_of_real_frameworks_signs_in_after_import() {
    let started = Instant::now();
    tokio::task::spawn_blocking(datasets::ensure_virtualenvs)
        .await
        .unwrap();
    // The generators, two at a time (each is mostly one CPU-bound process).
    let generated: Vec<(std::path::PathBuf, Manifest)> = futures::stream::iter(DATASETS)
        .map(|dataset| async move {
            tokio::task::spawn_blocking(move || dataset.generate())
                .await
                .unwrap()
        })
        .buffered(2)
        .collect()
        .await;
    let database_path = import_reads_databases();
    let mut cases = vec![];
    for (dir, manifest) in &generated {
        for export in &manifest.exports {
            cases.push((dir, manifest, ImportPath::File(export.clone())));
        }
        if database_path {
            cases.push((
                dir,
                manifest,
                ImportPath::Database(manifest.database.clone()),
            ));
        }
    }
    let outcomes: Vec<Outcome> = futures::stream::iter(&cases)
        .map(|(dir, manifest, path)| rehearse(manifest, dir, path))
        .buffered(3)
        .collect()
        .await;

    let table = results(&outcomes, database_path, started.elapsed().as_secs());
    println!("{table}");
    let file = work_dir().join("results.md");
    std::fs::write(&file, &table).unwrap();
    let failures: Vec<&String> = outcomes.iter().flat_map(|o| &o.failures).collect();
    assert!(
        failures.is_empty(),
        "{} failures (table in {}):\n{table}\n{}",
        failures.len(),
        file.display(),
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Whether this build's `firegate import` reads a database itself (`--from URL`).
fn import_reads_databases() -> bool {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_firegate"))
        .args(["import", "--help"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).contains("--from")
}

/// The results as Markdown: one row per dataset and path, then every failure.
fn results(outcomes: &[Outcome], database_path: bool, seconds: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| framework | version | path | users | imported | reported | signed in | wrong accepted | sign-ins | failures |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for o in outcomes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} | {} | {} |",
            o.framework,
            o.version,
            o.path,
            o.users,
            o.imported,
            o.reported,
            o.signed_in,
            o.can_sign_in,
            o.wrong_accepted,
            o.sign_ins,
            o.failures.len()
        );
    }
    let _ = writeln!(
        out,
        "\n*signed in*: users the framework lets sign in who signed in with their password and \
         every other input the framework accepts for it, before and after the upgrade to \
         argon2id, by every login the import kept. *reported*: users named in `--report`. \
         *sign-ins*: `POST /login/` requests made. *failures*: see below. \
         {} Run in {seconds} s.",
        if database_path {
            ""
        } else {
            "This build's `firegate import` does not read databases, so no database path ran."
        }
    );
    if outcomes.iter().any(|o| !o.failures.is_empty()) {
        let _ = writeln!(out, "\n## Failures");
        for o in outcomes.iter().filter(|o| !o.failures.is_empty()) {
            let _ = writeln!(
                out,
                "\n### {} / {}\n\n```\n{}\n```\n",
                o.dataset, o.path, o.import
            );
            for failure in &o.failures {
                let _ = writeln!(out, "- {failure}");
            }
        }
    }
    out
}

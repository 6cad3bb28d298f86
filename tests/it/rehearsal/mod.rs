//! Rehearsals of real migrations: Django, Flask/Werkzeug and WordPress write their user
//! tables into a real PostgreSQL or MariaDB (Django's also into SQLite) with their own code,
//! the tables are exported the way the book's importing page says and read directly
//! (`--from`, by preset and by an edited query), imported by every path, and every user
//! signs in over HTTP. No user may be lost without a reported reason, no password the
//! framework accepted may stop working (before or after the upgrade to argon2id), and no
//! wrong password may sign in. The results table is written to
//! `target/rehearsal/results.md`, and with `REHEARSAL_BOOK=1` into the book's rehearsal page
//! (`docs/src/rehearsal.md`).

pub mod datasets;
mod paths;
mod servers;

use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

use futures::StreamExt;

use datasets::{DATASETS, Export, Manifest, work_dir};
use paths::{ImportPath, Outcome, rehearse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_of_real_frameworks_signs_in_after_import() {
    let started = Instant::now();
    datasets::check_installed();
    let import = ImportHelp::read();
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
    let generators = started.elapsed().as_secs();
    let mut cases = vec![];
    for (dir, manifest) in &generated {
        for export in &manifest.exports {
            cases.push((dir, manifest, ImportPath::File(import.flags_for(export))));
        }
        if import.reads_databases {
            for database in &manifest.databases {
                cases.push((dir, manifest, ImportPath::Database(database.clone())));
            }
        }
    }
    let outcomes: Vec<Outcome> = futures::stream::iter(&cases)
        .map(|(dir, manifest, path)| rehearse(manifest, dir, path))
        .buffered(3)
        .collect()
        .await;

    let seconds = (generators, started.elapsed().as_secs());
    let summary = summary(&outcomes, &generated, &import, seconds);
    let table = format!("{summary}{}", failures_by_path(&outcomes));
    println!("{table}");
    let file = work_dir().join("results.md");
    std::fs::write(&file, &table).unwrap();
    if std::env::var_os("REHEARSAL_BOOK").is_some() {
        write_book(&summary);
    }
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

/// What this build's `firegate import` offers, read from its `--help`.
struct ImportHelp {
    /// `--from URL`: reading the database itself.
    reads_databases: bool,
    /// `--format mysql-batch`.
    mysql_batch: bool,
}

impl ImportHelp {
    fn read() -> ImportHelp {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_firegate"))
            .args(["import", "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        ImportHelp {
            reads_databases: help.contains("--from"),
            mysql_batch: help.contains("mysql-batch"),
        }
    }

    /// `export` with the flags this build reads it with: `mysql --batch` output as such where
    /// the build has the format, else as tab-separated CSV (its `.tsv` name says so).
    fn flags_for(&self, export: &Export) -> Export {
        let mut export = export.clone();
        if export.mysql_batch && self.mysql_batch {
            export
                .flags
                .splice(0..0, ["--format", "mysql-batch"].map(String::from));
        }
        export
    }
}

/// The results as Markdown: one row per dataset and path, what the columns mean, when and
/// against which databases it ran, and how long the generators and the whole run took.
fn summary(
    outcomes: &[Outcome],
    generated: &[(std::path::PathBuf, Manifest)],
    import: &ImportHelp,
    (generators, seconds): (u64, u64),
) -> String {
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
         *sign-ins*: `POST /login/` requests made. *failures*: see below."
    );
    let mut servers: Vec<&str> = vec![];
    for (_, manifest) in generated {
        for database in &manifest.databases {
            if !servers.contains(&database.server.as_str()) {
                servers.push(&database.server);
            }
        }
    }
    let databases = if import.reads_databases {
        format!("Databases: {}.", servers.join("; "))
    } else {
        "This build's `firegate import` does not read databases, so no database path ran."
            .to_string()
    };
    let batch = if import.mysql_batch {
        "`mysql --batch` files are read with `--format mysql-batch`."
    } else {
        "`mysql --batch` files are read as tab-separated CSV (this build has no \
         `--format mysql-batch`)."
    };
    let date = jiff::Timestamp::now().strftime("%Y-%m-%d");
    let _ = writeln!(
        out,
        "\n{databases} {batch} Run on {date} (UTC) in {seconds} s, {generators} s of them \
         generating the datasets."
    );
    out
}

/// Every failure, under the import command and summary of its path.
fn failures_by_path(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
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

/// Puts `summary` between the results markers of the book's rehearsal page.
fn write_book(summary: &str) {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/rehearsal.md");
    let text = std::fs::read_to_string(&page).unwrap();
    let (start, end) = (
        "<!-- rehearsal:results -->\n",
        "<!-- /rehearsal:results -->",
    );
    let (before, rest) = text
        .split_once(start)
        .unwrap_or_else(|| panic!("{}: no {start}", page.display()));
    let (_, after) = rest
        .split_once(end)
        .unwrap_or_else(|| panic!("{}: no {end}", page.display()));
    std::fs::write(&page, format!("{before}{start}{summary}{end}{after}")).unwrap();
}

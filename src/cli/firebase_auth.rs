//! `firegate firebase-auth …`: bringing existing accounts into Firebase Auth (the bridge's
//! bulk passes): `sync` writes every account's email, name and disabled flag to the Firebase
//! user of its uid; `export` imports the accounts whose hash Firebase Auth can check.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::Result;
use crate::accounts::Uid;
use crate::config::AccountsArgs;
use crate::service::{ExportReport, Service, SyncReport};

/// Bulk passes of the Firebase Auth bridge (needs --firebase-auth mirror or graduate).
#[derive(Subcommand, Debug)]
pub enum FirebaseAuthCommand {
    /// Bring every account's Firebase user into step (email, display name, disabled), after
    /// retrying the queued writes. Accounts already in step cost no call, so a run that
    /// stopped is resumed by running it again (or with --after).
    Sync {
        /// Say what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Start after this uid (the last uid a stopped run printed).
        #[arg(long)]
        after: Option<String>,
        /// Firebase Auth calls in flight at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
        concurrency: u32,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Import into Firebase Auth (accounts:batchCreate, up to 1,000 users per call, grouped
    /// by hash algorithm and parameters) every account not yet graduated whose current hash
    /// Firebase Auth can check; list the others, which graduate at their next sign-in. Needs
    /// --firebase-auth graduate: from then on Firebase Auth owns these passwords.
    Export {
        /// Print the plan (groups, counts, what cannot be imported and why); import nothing.
        #[arg(long)]
        dry_run: bool,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
}

impl FirebaseAuthCommand {
    fn settings(&self) -> &AccountsArgs {
        match self {
            FirebaseAuthCommand::Sync { at, .. } | FirebaseAuthCommand::Export { at, .. } => at,
        }
    }
}

/// Runs one `firebase-auth` subcommand.
pub async fn run(command: FirebaseAuthCommand) -> Result<()> {
    let service = Service::build(command.settings().service_options()).await?;
    match command {
        FirebaseAuthCommand::Sync {
            dry_run,
            after,
            concurrency,
            json,
            ..
        } => {
            let after = after.as_deref().map(Uid::from_stored).transpose()?;
            let bar = progress_bar(if dry_run { "checking" } else { "syncing" });
            let report = service
                .sync_firebase_auth(dry_run, after, concurrency as usize, |r| {
                    if let Some(bar) = &bar {
                        bar.set_message(sync_line(r, dry_run));
                    }
                })
                .await;
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            let report = report?;
            if json {
                out!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                out!("{}", sync_line(&report, dry_run));
                if let Some(e) = &report.first_error {
                    out!("first failure: {e}");
                }
            }
            if report.failed > 0 {
                return Err(crate::Error::Bridge(crate::error::BridgeError::Malformed {
                    what: "the sync",
                    why: format!(
                        "{} accounts could not be written; run `firegate firebase-auth sync` \
                         again (in-step accounts are skipped)",
                        report.failed
                    ),
                }));
            }
        }
        FirebaseAuthCommand::Export { dry_run, json, .. } => {
            let report = service.export_to_firebase_auth(dry_run).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_export(&report, dry_run);
            }
        }
    }
    Ok(())
}

fn sync_line(r: &SyncReport, dry_run: bool) -> String {
    let verb = if dry_run { "to write" } else { "written" };
    let mut line = format!(
        "{} accounts checked: {} in step, {} {verb}, {} failed",
        r.checked, r.in_step, r.written, r.failed
    );
    if r.queue_done + r.queue_failed > 0 {
        line.push_str(&format!(
            "; queued retries: {} done, {} failed",
            r.queue_done, r.queue_failed
        ));
    }
    if let Some(last) = &r.last_uid {
        line.push_str(&format!(" (last uid {last})"));
    }
    line
}

fn print_export(r: &ExportReport, dry_run: bool) {
    let verb = if dry_run { "would import" } else { "imported" };
    for group in &r.groups {
        out!(
            "{:<48} {:>8} accounts {verb} in {} calls",
            group.algorithm,
            group.accounts,
            group.calls
        );
        for (uid, why) in &group.refused {
            out!("  refused by Firebase Auth: {uid}: {why}");
        }
    }
    for reason in &r.not_importable {
        out!(
            "{:<48} {:>8} accounts stay (they graduate at their next sign-in)",
            reason.reason,
            reason.accounts
        );
    }
    out!(
        "{} accounts checked: {} {verb}, {} already graduated, {} not importable",
        r.checked,
        r.imported,
        r.already_graduated,
        r.not_importable_total
    );
}

/// A spinner on a terminal's stderr; nothing otherwise.
fn progress_bar(prefix: &'static str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{elapsed_precise}] {spinner} {msg}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(prefix);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

//! `firegate import`: legacy user tables (CSV, `mysql --batch` output, JSON Lines, Django
//! `dumpdata`, Firebase Auth exports) streamed into Firestore accounts that keep their legacy
//! ids as uids and their hashes as they are. A reader thread parses and vets rows in file
//! order; the async side commits them in batches, several at a time, and a rerun of the same
//! file finishes what an interrupted one began.

mod batch;
mod csv;
mod database;
mod firebase;
mod framing;
mod json;
mod lines;
mod nulls;
mod options;
mod report;
mod row;
mod seen;
mod source;
mod values;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jiff::Timestamp;

pub use database::{DatabaseQuery, Preset, has_password, redact};
pub use nulls::{NullMeaning, Nulls};
pub use options::{Columns, DuplicateEmail, Format, ImportOptions, UidMapping};
pub use report::{ImportSummary, Progress, Reason, Rejection};
pub use source::Source;

use report::ReportFile;
use row::{Candidate, Validator, shared_emails};
use seen::Seen;
use source::{Item, read_rows};
use writer::{Batch, Mode, Outcome, settle};

use crate::store::Store;
use crate::{Error, Result};

/// Vetted rows waiting for the writer; bounds memory whatever the file's size.
const QUEUE: usize = 4096;

/// Imports the accounts `source` describes. Refused rows are counted in the summary and,
/// with `options.report`, written there one JSON line each; `progress` is called as rows
/// are read and batches settle. An error means nothing could start (unreadable file,
/// header without a required column); a run that stops midway says why in
/// [`ImportSummary::aborted`].
pub async fn import_accounts(
    store: &Store,
    source: &Source,
    options: &ImportOptions,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<ImportSummary> {
    if options.strict && source.is_stdin() {
        return Err(Error::config(
            "--strict reads the input twice, so it needs a file, not standard input",
        ));
    }
    if options.duplicate_email == DuplicateEmail::None && source.is_stdin() {
        return Err(Error::config(
            "--duplicate-email none reads the input twice (first to find the shared emails), \
             so it needs a file, not standard input",
        ));
    }
    options.nulls.check(&options.columns, options.format)?;
    let shared = match options.duplicate_email {
        DuplicateEmail::None => {
            let input = source.open(Arc::new(AtomicU64::new(0)))?;
            let scan_options = options.clone();
            let scan = tokio::task::spawn_blocking(move || shared_emails(input, &scan_options));
            Some(Arc::new(scan.await.map_err(Error::Task)??))
        }
        _ => None,
    };
    let mut report = options
        .report
        .as_deref()
        .map(ReportFile::create)
        .transpose()?;
    let summary = if options.strict && !options.dry_run {
        let checked = run(
            store,
            source,
            options,
            &shared,
            true,
            report.as_mut(),
            progress,
        )
        .await?;
        if checked.rejected_total() > 0 || checked.aborted.is_some() {
            checked
        } else {
            // The check wrote the rows kept without a login to the report already.
            let report = report.as_mut().map(|r| r.refusals_only());
            run(store, source, options, &shared, false, report, progress).await?
        }
    } else {
        run(
            store,
            source,
            options,
            &shared,
            options.dry_run,
            report.as_mut(),
            progress,
        )
        .await?
    };
    if let Some(report) = report {
        report.finish()?;
    }
    Ok(summary)
}

/// One pass over the input: writing, or (`dry_run`) checking against Firestore.
async fn run(
    store: &Store,
    source: &Source,
    options: &ImportOptions,
    shared: &Option<Arc<Seen>>,
    dry_run: bool,
    mut report: Option<&mut ReportFile>,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<ImportSummary> {
    // Whole microseconds, as Firestore stores them: an account read back with exactly this
    // `updated_at` was written by this run (a commit whose answer was lost, then retried).
    let now = Timestamp::now();
    let now = Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now);
    let bytes = Arc::new(AtomicU64::new(0));
    let input = source.open(bytes.clone())?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Candidate, Rejection>>(QUEUE);
    let reader_options = options.clone();
    let shared = shared.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut validator = Validator::new(reader_options.clone(), now).with_shared(shared);
        read_rows(input, &reader_options, &mut |item| {
            let checked = match item {
                Item::Row(row) => validator.check(row),
                Item::Rejected(rejection) => Err(rejection),
            };
            tx.blocking_send(checked).is_ok()
        })
    });

    let mode = Mode {
        dry_run,
        update: options.update,
        legacy_domain: options.legacy_domain.as_deref(),
        duplicate_email: options.duplicate_email,
    };
    let mut summary = ImportSummary {
        dry_run,
        ..ImportSummary::default()
    };
    let mut state = Progress {
        dry_run,
        total_bytes: source.size(),
        ..Progress::default()
    };
    let mut record = |summary: &mut ImportSummary, outcome: Outcome| -> Result<()> {
        match outcome {
            Outcome::Imported => summary.imported += 1,
            Outcome::Present {
                differs,
                update_hash,
                update_state,
            } => {
                summary.already_present += 1;
                summary.differing += u64::from(differs);
                summary.updatable += u64::from(update_hash || update_state);
                summary.updatable_hashes += u64::from(update_hash);
            }
            Outcome::Updated => summary.updated += 1,
            Outcome::Rejected(rejection) => {
                summary.reject(rejection.reason);
                if let Some(report) = report.as_mut() {
                    report.write(&rejection)?;
                }
            }
            Outcome::KeptWithout(note) => {
                summary.keep_without(note.reason);
                if let Some(report) = report.as_mut() {
                    report.write(&note)?;
                }
            }
        }
        Ok(())
    };

    let mut in_flight = FuturesUnordered::new();
    let mut batch = Batch::default();
    let concurrency = options.concurrency.max(1);
    loop {
        tokio::select! {
            Some((outcomes, error)) = in_flight.next(), if !in_flight.is_empty() => {
                let error: Option<Error> = error;
                for outcome in outcomes {
                    record(&mut summary, outcome)?;
                }
                report_progress(&mut state, &summary, &bytes, progress);
                if let Some(e) = error {
                    summary.aborted = Some(e.to_string());
                    break;
                }
            }
            item = rx.recv(), if in_flight.len() < concurrency => match item {
                Some(Ok(candidate)) => {
                    summary.read += 1;
                    for dropped in &candidate.dropped {
                        record(&mut summary, Outcome::KeptWithout(candidate.kept_without(dropped)))?;
                    }
                    if let Some(candidate) = batch.try_push(candidate) {
                        let full = std::mem::take(&mut batch);
                        in_flight.push(settle(store, full, mode, now));
                        // An empty batch takes any single account.
                        let _ = batch.try_push(candidate);
                    }
                }
                Some(Err(rejection)) => {
                    summary.read += 1;
                    record(&mut summary, Outcome::Rejected(rejection))?;
                }
                None => break,
            },
        }
        if summary.read.is_multiple_of(1024) {
            report_progress(&mut state, &summary, &bytes, progress);
        }
    }
    // Closing the queue stops the reader at its next row.
    drop(rx);
    if summary.aborted.is_none() {
        if !batch.candidates.is_empty() {
            in_flight.push(settle(store, batch, mode, now));
        }
    } else {
        // Rows taken up but never sent: counted as read, so they must be reported too.
        let message = "not written: the import stopped at an earlier Firestore error; rerun \
                       the import to finish";
        for candidate in &batch.candidates {
            let rejection = candidate.reject(Reason::WriteFailed, message);
            record(&mut summary, Outcome::Rejected(rejection))?;
        }
    }
    while let Some((outcomes, error)) = in_flight.next().await {
        for outcome in outcomes {
            record(&mut summary, outcome)?;
        }
        if let (Some(e), None) = (error, &summary.aborted) {
            summary.aborted = Some(e.to_string());
        }
        report_progress(&mut state, &summary, &bytes, progress);
    }
    match reader.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if summary.read == 0 => return Err(e),
        Ok(Err(e)) => summary.aborted = summary.aborted.or(Some(e.to_string())),
        Err(e) => return Err(Error::Task(e)),
    }
    report_progress(&mut state, &summary, &bytes, progress);
    Ok(summary)
}

fn report_progress(
    state: &mut Progress,
    summary: &ImportSummary,
    bytes: &AtomicU64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) {
    state.bytes_read = bytes.load(Ordering::Relaxed);
    state.rows_read = summary.read;
    state.rejected = summary.rejected_total();
    state.rows_done = summary.imported + summary.already_present + summary.updated + state.rejected;
    progress(state);
}

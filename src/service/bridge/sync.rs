//! The bridge's background and bulk work: the retry queue, drained by `serve` every 30 s and
//! first by `firegate firebase-auth sync`, and the sync itself, which brings every account's
//! Firebase user into step.

use std::sync::Arc;

use jiff::Timestamp;
use tracing::{info, warn};

use super::Change;
use crate::Result;
use crate::accounts::Uid;
use crate::error::BridgeError;
use crate::service::Service;

/// Accounts read per page by `firebase-auth sync`.
const SYNC_PAGE: u32 = 300;

/// What `firegate firebase-auth sync` did (or, in a dry run, would do).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    /// Accounts read.
    pub checked: u64,
    /// Already in step: no call.
    pub in_step: u64,
    /// Written (a dry run: would be).
    pub written: u64,
    pub failed: u64,
    /// Queued retries done and failed before the walk.
    pub queue_done: u64,
    pub queue_failed: u64,
    /// The last uid walked: `--after` it resumes there.
    pub last_uid: Option<String>,
    pub first_error: Option<String>,
}

impl Service {
    /// Retries the queued Firebase Auth writes (up to `limit`): each account is brought into
    /// step as it is now, or its Firebase user deleted when it is gone. Returns (done,
    /// failed).
    pub async fn drain_firebase_queue(&self, limit: u32) -> Result<(u64, u64)> {
        let Some(bridge) = self.bridge.as_ref() else {
            return Ok((0, 0));
        };
        let (mut done, mut failed) = (0, 0);
        for entry in self.store.queued_firebase_syncs(limit).await? {
            let uid = &entry.uid;
            let result = match self.store.find_by_uid(uid).await? {
                None => bridge.client.delete(uid.as_str()).await.map(drop),
                Some(found) => {
                    let change = Change {
                        revoke: entry.revoke,
                        drop_password: entry.drop_password,
                        ..Change::default()
                    };
                    match bridge.write(&found.account, change, Timestamp::now()).await {
                        Ok(state) => {
                            self.store
                                .record_firebase(uid, &state, Some(found.version))
                                .await?;
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match result {
                Ok(()) => {
                    done += 1;
                    self.store.forget_firebase_sync(&entry).await?;
                }
                Err(e) => {
                    failed += 1;
                    warn!(%uid, error = %crate::error::chain(&e), "queued Firebase Auth write failed again");
                }
            }
        }
        Ok((done, failed))
    }

    /// Retries queued writes every `every`, forever (started by `serve` with the bridge on).
    /// The first pass comes up to 5 s after the start, clear of a cold start's first
    /// sign-ins, whose Firestore reads it would otherwise share the instance with.
    pub async fn keep_firebase_in_step(self: Arc<Self>, every: std::time::Duration) {
        if self.bridge.is_none() {
            return;
        }
        let first = tokio::time::Instant::now() + every.min(std::time::Duration::from_secs(5));
        let mut tick = tokio::time::interval_at(first, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.drain_firebase_queue(100).await {
                Ok((0, 0)) => {}
                Ok((done, failed)) => info!(done, failed, "retried queued Firebase Auth writes"),
                Err(e) => {
                    warn!(error = %crate::error::chain(&e), "cannot read the Firebase Auth retry queue")
                }
            }
        }
    }

    /// `firegate firebase-auth sync`: drains the retry queue, then walks every account in uid
    /// order (after `after`) and writes the Firebase user of each one out of step, at most
    /// `concurrency` at a time. An account in step costs no Firebase call, so a second run
    /// resumes where the first stopped. `progress` sees the report after every page. With
    /// `dry_run` nothing is written.
    pub async fn sync_firebase_auth(
        &self,
        dry_run: bool,
        after: Option<Uid>,
        concurrency: usize,
        progress: impl Fn(&SyncReport),
    ) -> Result<SyncReport> {
        use futures::StreamExt;
        let bridge = self.bridge_or_refuse()?;
        let mut report = SyncReport::default();
        if !dry_run {
            let (done, failed) = self.drain_firebase_queue(1000).await?;
            report.queue_done = done;
            report.queue_failed = failed;
        }
        let mut after = after;
        loop {
            let page = self
                .store
                .list_accounts(&Default::default(), SYNC_PAGE, after.as_ref())
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.account.uid.clone());
            let outcomes: Vec<Result<bool, BridgeError>> = futures::stream::iter(&page)
                .map(|found| async move {
                    let account = &found.account;
                    if account.firebase.mirrored.as_ref() == Some(&bridge.desired(account)) {
                        return Ok(false);
                    }
                    if dry_run {
                        return Ok(true);
                    }
                    let state = bridge
                        .write(account, Change::default(), Timestamp::now())
                        .await?;
                    let recorded = self
                        .store
                        .record_firebase(&account.uid, &state, Some(found.version))
                        .await;
                    if let Err(e) = recorded {
                        warn!(uid = %account.uid, error = %crate::error::chain(&e), "cannot record the Firebase Auth state");
                    }
                    Ok(true)
                })
                .buffered(concurrency.max(1))
                .collect()
                .await;
            for (found, outcome) in page.iter().zip(outcomes) {
                report.checked += 1;
                match outcome {
                    Ok(false) => report.in_step += 1,
                    Ok(true) => report.written += 1,
                    Err(e) => {
                        report.failed += 1;
                        warn!(uid = %found.account.uid, error = %crate::error::chain(&e), "cannot write the Firebase user");
                        if report.first_error.is_none() {
                            report.first_error = Some(e.to_string());
                        }
                    }
                }
            }
            report.last_uid = after.as_ref().map(ToString::to_string);
            progress(&report);
            if page.len() < SYNC_PAGE as usize {
                break;
            }
        }
        Ok(report)
    }
}

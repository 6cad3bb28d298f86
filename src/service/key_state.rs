//! Which key signs: settled once at start-up from the recorded key state (while the server
//! already serves, [`Service::start`]), then refreshed every `key_refresh` interval.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use tracing::{info, warn};

use super::Service;
use crate::keys::{LoadedDir, RecordedState};
use crate::store::Store;
use crate::{Error, Result};

/// Start-up's outcome as waiting requests see it: `None` until the key state is settled.
pub(super) type Settled = watch::Sender<Option<std::result::Result<(), Arc<Error>>>>;

impl Service {
    /// Starts [`Service::settle_key_state`] beside serving.
    pub(super) fn settle_in_background(self: &Arc<Self>, loaded: Option<LoadedDir>) -> Settling {
        Settling(tokio::spawn(self.clone().settle_key_state(loaded)))
    }

    /// Start-up's last step: the recorded key state, which decides the signing key. Read
    /// even with a single key file: that file may hold a key not activated yet (a new key
    /// mounted in place of the active one), which must not sign. With IAM Credentials the
    /// same read stops start-up on an unreachable Firestore with a clear message, rather
    /// than failing sign-ins.
    async fn settle_key_state(self: Arc<Self>, loaded: Option<LoadedDir>) -> Result<()> {
        let _abandoned = Abandoned(&self.settled);
        let outcome = async {
            let recorded = recorded_key_state(&self.store).await?;
            if let (Some(ring), Some(loaded)) = (self.signer.key_ring(), loaded) {
                ring.settle(loaded, recorded.as_ref())?;
            }
            self.recorded_at_start
                .store(recorded.is_some(), Ordering::Relaxed);
            Ok(())
        }
        .await;
        // Every waiting request gets the same cause, so start-up's error is shared.
        let outcome = outcome.map_err(Arc::new);
        self.settled.send_replace(Some(outcome.clone()));
        outcome.map_err(Error::StartUp)
    }

    /// Waits until start-up has settled which key signs; answers at once from then on. A
    /// start-up that failed is refused as an unavailable signer (the server is stopping).
    pub async fn ready(&self) -> Result<()> {
        // The sender lives in `self`, so the wait ends only with an outcome.
        let mut settled = self.settled.subscribe();
        let outcome = settled.wait_for(Option::is_some).await.map(|s| s.clone());
        match outcome {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(why))) => Err(Error::StartUp(why)),
            _ => Err(Error::internal("start-up was abandoned")),
        }
    }

    /// Rescans the keys directory and applies the recorded key state, every `key_refresh`
    /// interval, forever: how a running server picks up new keys and rotations. Returns at
    /// once with IAM Credentials, whose keys Google rotates.
    pub async fn keep_keys_fresh(self: Arc<Self>) {
        if self.signer.key_ring().is_none() {
            return;
        }
        if self.ready().await.is_err() {
            return;
        }
        let recorded = self.recorded_at_start.load(Ordering::Relaxed);
        let first = tokio::time::Instant::now()
            + if recorded {
                self.key_refresh
            } else {
                Duration::ZERO
            };
        let mut tick = tokio::time::interval_at(first, self.key_refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.refresh_keys().await;
        }
    }

    /// One refresh of the key ring; a Firestore failure keeps the current state. The first
    /// refresh of a deployment records its only key as active, so that instances started
    /// after a second key file arrives still agree on which one signs. Waits for start-up's
    /// own read first, and does nothing after a failed start-up: only a settled ring refreshes.
    pub async fn refresh_keys(&self) {
        let Some(ring) = self.signer.key_ring() else {
            return;
        };
        if self.ready().await.is_err() {
            return;
        }
        match self.store.recorded_key_state().await {
            Ok(None) => {
                ring.refresh(None);
                let active = ring.active();
                if !active.is_pending() {
                    let state = RecordedState {
                        active: Some(active.kid.clone()),
                        project: Some(active.project_id.clone()),
                        changed_by: "firegate:first-start".into(),
                        changed_at: Some(Timestamp::now()),
                        ..Default::default()
                    };
                    match self.store.record_key_state(&state, None).await {
                        Ok(true) => info!(kid = %active.kid, "recorded the signing key"),
                        Ok(false) => {}
                        Err(e) => {
                            warn!(error = %crate::error::chain(&e), "cannot record the signing key; retried later")
                        }
                    }
                }
            }
            Ok(Some((state, _))) => ring.refresh(Some(&state)),
            Err(e) => {
                warn!(error = %crate::error::chain(&e), "cannot read the recorded key state; keys unchanged");
                ring.refresh(None);
            }
        }
    }
}

/// Start-up's last step in flight ([`Service::start`]).
pub struct Settling(tokio::task::JoinHandle<Result<()>>);

impl Settling {
    /// Start-up's outcome: the service may sign, or why it never will.
    pub async fn finished(self) -> Result<()> {
        self.0.await?
    }
}

/// The recorded key state, read at start-up; an unreachable Firestore is named as such.
async fn recorded_key_state(store: &Store) -> Result<Option<RecordedState>> {
    let project_id = store.project_id();
    Ok(store
        .recorded_key_state()
        .await
        .map_err(|e| match e {
            e @ (Error::Unavailable { .. } | Error::Storage { .. }) => Error::unavailable(format!(
                "cannot reach Firestore to read the recorded key state (project `{project_id}`)"
            ))
            .caused_by(e),
            e => e,
        })?
        .map(|(state, _)| state))
}

/// Settles start-up as failed if settling ends without an outcome (its task panicked or was
/// cancelled), so no request waits in [`Service::ready`] for a read that will never finish.
struct Abandoned<'a>(&'a Settled);

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        self.0.send_if_modified(|settled| {
            let unsettled = settled.is_none();
            if unsettled {
                *settled = Some(Err(Arc::new(Error::internal(
                    "start-up stopped before the key state was read",
                ))));
            }
            unsettled
        });
    }
}

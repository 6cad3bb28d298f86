//! Password checks in flight per lockout key, on this instance. A failure record is read
//! before the hash and counted after it, so requests that read it together would all be
//! checked; the ledger admits only as many checks per channel as the policy allows
//! ([`super::LockoutPolicy::checks_allowed`]) and makes the others wait, then read the
//! record again once a failure was counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

/// The checks in flight per key. Entries live only while someone watches or checks a key.
#[derive(Default)]
pub struct Ledger {
    keys: Mutex<HashMap<String, Entry>>,
}

#[derive(Default)]
struct Entry {
    /// Requests between reading the key's record and being admitted or refused.
    watchers: usize,
    /// Checks running, per channel.
    running: HashMap<String, u32>,
    /// Bumped whenever a failure of this key is counted: a record read before is stale.
    epoch: u64,
    changed: Arc<Notify>,
}

/// What [`Watch::admit`] decided.
pub enum Admission {
    /// The check may run; it holds its place until the slot is dropped.
    Admitted(Slot),
    /// A failure was counted since the record was read: read it again.
    Stale,
    /// As many checks as allowed are running: wait for one to finish, then ask again.
    Busy(OwnedNotified),
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Arc<Ledger> {
        Arc::new(Ledger::default())
    }

    /// Starts watching `key`; call before reading its record, so that any failure counted
    /// after the read is noticed.
    pub fn watch(self: &Arc<Self>, key: String) -> Watch {
        let mut keys = self.lock();
        let entry = keys.entry(key.clone()).or_default();
        entry.watchers += 1;
        let epoch = entry.epoch;
        Watch {
            ledger: self.clone(),
            key,
            epoch,
        }
    }

    /// Keys with a watcher or a running check (for tests and metrics).
    pub fn active_keys(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // Every critical section only adjusts counters, so a panic cannot leave them torn.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self, key: &str, update: impl FnOnce(&mut Entry)) {
        let mut keys = self.lock();
        if let Some(entry) = keys.get_mut(key) {
            update(entry);
            entry.changed.notify_waiters();
            if entry.watchers == 0 && entry.running.is_empty() {
                keys.remove(key);
            }
        }
    }
}

/// A request's interest in one key, from before its record was read until it is done.
pub struct Watch {
    ledger: Arc<Ledger>,
    key: String,
    epoch: u64,
}

impl Watch {
    /// Admits a check of `channel` when fewer than `allowed` are running and no failure of
    /// the key was counted since the caller's record was read (else [`Admission::Stale`],
    /// once: the next call compares with the record read again).
    pub fn admit(&mut self, channel: &str, allowed: u32) -> Admission {
        let mut keys = self.ledger.lock();
        let entry = keys.entry(self.key.clone()).or_default();
        if entry.epoch != self.epoch {
            self.epoch = entry.epoch;
            return Admission::Stale;
        }
        let running = entry.running.entry(channel.to_string()).or_default();
        if *running < allowed {
            *running += 1;
            return Admission::Admitted(Slot {
                ledger: self.ledger.clone(),
                key: self.key.clone(),
                channel: channel.to_string(),
                failed: false,
            });
        }
        if *running == 0 {
            entry.running.remove(channel);
        }
        // Created under the lock, so no wake-up between here and the caller's await is lost.
        Admission::Busy(entry.changed.clone().notified_owned())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.ledger.release(&self.key, |entry| entry.watchers -= 1);
    }
}

/// A running check's place. Dropping it frees the place; after [`Slot::counted_failure`]
/// it also tells waiting requests that the record changed.
pub struct Slot {
    ledger: Arc<Ledger>,
    key: String,
    channel: String,
    failed: bool,
}

impl Slot {
    /// Marks that this check's failure was counted (or its counting attempted).
    pub fn counted_failure(&mut self) {
        self.failed = true;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (channel, failed) = (&self.channel, self.failed);
        self.ledger.release(&self.key, |entry| {
            if let Some(running) = entry.running.get_mut(channel) {
                *running -= 1;
                if *running == 0 {
                    entry.running.remove(channel);
                }
            }
            if failed {
                entry.epoch += 1;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> Slot {
        match a {
            Admission::Admitted(slot) => slot,
            _ => panic!("expected admission"),
        }
    }

    #[tokio::test]
    async fn at_most_the_allowed_checks_run_and_a_counted_failure_makes_records_stale() {
        let ledger = Ledger::new();
        let mut first = ledger.watch("k".into());
        let mut second = ledger.watch("k".into());
        let mut slot = admitted(first.admit("u", 1));
        let Admission::Busy(wake) = second.admit("u", 1) else {
            panic!("a second check must wait");
        };
        // Other channels of the same key are not held up.
        let other = admitted(second.admit("n1", 1));
        drop(other);
        slot.counted_failure();
        drop(slot);
        wake.await;
        assert!(matches!(second.admit("u", 1), Admission::Stale));
        let again = admitted(second.admit("u", 1));
        drop(again);
        drop((first, second));
        assert_eq!(ledger.active_keys(), 0, "idle keys are forgotten");
    }

    #[tokio::test]
    async fn a_success_frees_the_place_without_a_reread() {
        let ledger = Ledger::new();
        let mut a = ledger.watch("k".into());
        let mut b = ledger.watch("k".into());
        let slot = admitted(a.admit("u", 1));
        let Admission::Busy(wake) = b.admit("u", 1) else {
            panic!("must wait");
        };
        drop(slot);
        wake.await;
        drop(admitted(b.admit("u", 1)));
    }

    #[test]
    fn a_running_check_outlives_its_request() {
        let ledger = Ledger::new();
        let mut watch = ledger.watch("k".into());
        let slot = admitted(watch.admit("u", 1));
        drop(watch);
        let mut late = ledger.watch("k".into());
        assert!(matches!(late.admit("u", 1), Admission::Busy(_)));
        drop(slot);
        drop(admitted(late.admit("u", 1)));
    }
}

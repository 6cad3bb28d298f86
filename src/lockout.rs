//! Brute-force protection per account: after `threshold` consecutive failures the account is
//! locked, for a wait that grows with every further failure up to a cap, and forgotten after
//! a quiet period or a successful sign-in. The state lives in Firestore, shared by every
//! instance, and unknown logins are locked exactly like known accounts.

use std::time::Duration;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::accounts::Uid;
use crate::login::Login;

/// What a failed attempt counts against: the account when the login belongs to one (all of
/// its logins share one count), otherwise the login as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockoutKey {
    Account(Uid),
    Unknown(Login),
}

impl LockoutKey {
    /// The failure record's document id: a SHA-256 of the key, so that text typed into the
    /// login field (sometimes a password) is never stored as it was typed.
    pub fn doc_id(&self) -> String {
        let mut hasher = Sha256::new();
        match self {
            LockoutKey::Account(uid) => {
                hasher.update(b"account\0");
                hasher.update(uid.as_str().as_bytes());
            }
            LockoutKey::Unknown(login) => {
                hasher.update(b"login\0");
                hasher.update(login.as_str().as_bytes());
            }
        }
        hex::encode(hasher.finalize())
    }
}

/// Consecutive failures of one login, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    pub failures: u32,
    pub last_failure: Timestamp,
}

/// The lockout rules (defaults in the spirit of Keycloak's brute-force detection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that trigger the first lock (0 turns lockout off).
    pub threshold: u32,
    /// Wait after the threshold-th failure; each further failure adds as much again.
    pub step: Duration,
    /// Longest wait.
    pub max_wait: Duration,
    /// Failures older than this are forgotten.
    pub reset_after: Duration,
}

impl Default for LockoutPolicy {
    /// 5 failures lock for a minute, each further one adds a minute up to 15, and failures
    /// are forgotten after 12 quiet hours.
    fn default() -> Self {
        LockoutPolicy {
            threshold: 5,
            step: Duration::from_secs(60),
            max_wait: Duration::from_secs(900),
            reset_after: Duration::from_secs(12 * 3600),
        }
    }
}

impl LockoutPolicy {
    /// The wait after `failures` consecutive failures (zero below the threshold).
    pub fn wait(&self, failures: u32) -> Duration {
        if self.threshold == 0 || failures < self.threshold {
            return Duration::ZERO;
        }
        let steps = failures - self.threshold + 1;
        self.step.saturating_mul(steps).min(self.max_wait)
    }

    /// True when the record is too old to count any more.
    pub fn is_stale(&self, record: &FailureRecord, now: Timestamp) -> bool {
        elapsed(record.last_failure, now) >= self.reset_after
    }

    /// When the login unlocks, if it is locked at `now`.
    pub fn locked_until(
        &self,
        record: Option<&FailureRecord>,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let record = record?;
        if self.is_stale(record, now) {
            return None;
        }
        let wait = self.wait(record.failures);
        let until = record.last_failure.checked_add(wait).ok()?;
        (wait > Duration::ZERO && until > now).then_some(until)
    }
}

fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 5,
            step: Duration::from_secs(60),
            max_wait: Duration::from_secs(900),
            reset_after: Duration::from_secs(12 * 3600),
        }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn record_ids_are_hashes_that_keep_accounts_and_logins_apart() {
        let login = Login::parse("Summer2024!").unwrap();
        let uid = Uid::parse("Summer2024!").unwrap();
        let unknown = LockoutKey::Unknown(login).doc_id();
        let account = LockoutKey::Account(uid).doc_id();
        assert_eq!(unknown.len(), 64);
        assert!(unknown.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!unknown.contains("Summer"));
        assert_ne!(
            unknown, account,
            "a uid and a login with the same text are different keys"
        );
        let again = LockoutKey::Unknown(Login::parse("summer2024!").unwrap()).doc_id();
        assert_ne!(
            unknown, again,
            "usernames are case-sensitive, so their records are too"
        );
    }

    #[test]
    fn the_wait_grows_per_failure_and_is_capped() {
        let p = policy();
        assert_eq!(p.wait(4), Duration::ZERO);
        assert_eq!(p.wait(5), Duration::from_secs(60));
        assert_eq!(p.wait(6), Duration::from_secs(120));
        assert_eq!(p.wait(19), Duration::from_secs(900));
        assert_eq!(p.wait(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn a_lock_lasts_exactly_the_wait() {
        let p = policy();
        let record = FailureRecord {
            failures: 6,
            last_failure: at(0),
        };
        assert_eq!(p.locked_until(Some(&record), at(1)), Some(at(120)));
        assert_eq!(p.locked_until(Some(&record), at(119)), Some(at(120)));
        assert_eq!(p.locked_until(Some(&record), at(120)), None);
        assert_eq!(p.locked_until(None, at(0)), None);
        let below = FailureRecord {
            failures: 4,
            last_failure: at(0),
        };
        assert_eq!(p.locked_until(Some(&below), at(1)), None);
    }

    #[test]
    fn old_failures_are_forgotten_and_zero_threshold_disables() {
        let p = policy();
        let record = FailureRecord {
            failures: 50,
            last_failure: at(0),
        };
        assert!(!p.is_stale(&record, at(3600)));
        assert!(p.is_stale(&record, at(12 * 3600)));
        assert_eq!(p.locked_until(Some(&record), at(12 * 3600)), None);
        let off = LockoutPolicy { threshold: 0, ..p };
        assert_eq!(off.locked_until(Some(&record), at(1)), None);
    }
}

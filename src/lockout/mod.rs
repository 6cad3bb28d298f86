//! Brute-force protection per account: after `threshold` consecutive failures the account is
//! locked, for a wait that grows with every further failure up to a cap, and forgotten after
//! a quiet period or a successful sign-in. The state lives in Firestore, shared by every
//! instance, and unknown logins are locked exactly like known accounts.
//!
//! Failures are counted per *channel*: clients on a network the account signed in from
//! recently (a familiar network) have a count of their own, per network; every other client
//! shares the account's count. An attacker who keeps an account locked from elsewhere so
//! does not lock its owner out at home (Microsoft's "smart lockout" and OWASP's device-cookie
//! scheme make the same split). [`ledger`] bounds the checks in flight per channel, so a burst
//! released when a lock expires gets one check, not one per waiting request.

mod ledger;

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

pub use ledger::{Admission, Ledger, Slot, Watch};

use crate::accounts::Uid;
use crate::client_network::ClientNetwork;
use crate::login::Login;

/// Familiar networks kept per account; a new one beyond this replaces the least recent.
pub const MAX_FAMILIAR_NETWORKS: usize = 16;

/// What a failed attempt counts against: the account when the login belongs to one (all of
/// its logins share one count), otherwise the login as typed; or the admin credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockoutKey {
    Account(Uid),
    Unknown(Login),
    Admin,
    /// Passkey assertions naming no known credential, counted per client network (the
    /// network's text; `unknown` when the client's address is not known).
    Network(String),
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
            LockoutKey::Admin => hasher.update(b"admin\0"),
            LockoutKey::Network(network) => {
                hasher.update(b"passkey-network\0");
                hasher.update(network.as_bytes());
            }
        }
        hex::encode(hasher.finalize())
    }

    /// The id under which this key's record keeps a network: a hash of the network and the
    /// key, so records name no address and one network looks different in every account.
    pub fn network_id(&self, network: ClientNetwork) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"network\0");
        hasher.update(self.doc_id().as_bytes());
        hasher.update(b"\0");
        hasher.update(network.to_string().as_bytes());
        // A letter first: the id is a Firestore field name, which may not start with a digit.
        format!("n{}", &hex::encode(hasher.finalize())[..32])
    }
}

/// Consecutive failures of one channel, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    pub failures: u32,
    pub last_failure: Timestamp,
}

/// A network a key's owner signed in from, with the failures counted from it since.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkEntry {
    pub last_success: Option<Timestamp>,
    pub failures: Option<FailureRecord>,
}

/// Everything stored for one key: the count of unfamiliar clients and the familiar networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockoutState {
    pub unfamiliar: Option<FailureRecord>,
    /// Keyed by [`LockoutKey::network_id`].
    pub networks: BTreeMap<String, NetworkEntry>,
}

/// The count an attempt is checked and counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// Clients on networks without a recent success: one count per key.
    Unfamiliar,
    /// A familiar network (its id): a count of its own.
    Familiar(String),
}

impl Channel {
    /// A short name for the in-flight ledger.
    pub fn name(&self) -> &str {
        match self {
            Channel::Unfamiliar => "unfamiliar",
            Channel::Familiar(id) => id,
        }
    }
}

impl LockoutState {
    /// The failure record of one channel.
    pub fn record(&self, channel: &Channel) -> Option<&FailureRecord> {
        match channel {
            Channel::Unfamiliar => self.unfamiliar.as_ref(),
            Channel::Familiar(id) => self.networks.get(id).and_then(|n| n.failures.as_ref()),
        }
    }
}

/// What to write after a successful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterSuccess {
    /// Nothing changed that needs storing.
    Nothing,
    /// Delete the record (no familiar networks are kept).
    Forget,
    /// Update the record in place.
    Write(SuccessWrite),
}

/// The fields a success writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessWrite {
    /// The network now familiar (its id), its failures cleared.
    pub network: Option<String>,
    /// Whether the unfamiliar clients' count is cleared too.
    pub clear_unfamiliar: bool,
    /// A network entry dropped to keep the record small.
    pub forget: Option<String>,
    pub now: Timestamp,
    pub expire_at: Timestamp,
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
    /// How long a network stays familiar after a success from it (zero: every client shares
    /// the account's one count).
    pub familiar_for: Duration,
}

impl Default for LockoutPolicy {
    /// 5 failures lock for a minute, each further one adds a minute up to 15, failures are
    /// forgotten after 12 quiet hours, and a network stays familiar for 30 days.
    fn default() -> Self {
        LockoutPolicy {
            threshold: 5,
            step: Duration::from_secs(60),
            max_wait: Duration::from_secs(900),
            reset_after: Duration::from_secs(12 * 3600),
            familiar_for: Duration::from_secs(30 * 86_400),
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

    /// How many checks of a channel may be in flight at once: none while locked; below the
    /// threshold, as many as failures remain before it, so that all of them failing reaches
    /// the lock and not beyond; once a lock has expired, one (its failure locks again).
    pub fn checks_allowed(&self, record: Option<&FailureRecord>, now: Timestamp) -> u32 {
        if self.threshold == 0 {
            return u32::MAX;
        }
        if self.locked_until(record, now).is_some() {
            return 0;
        }
        let failures = record
            .filter(|r| !self.is_stale(r, now))
            .map_or(0, |r| r.failures);
        self.threshold.saturating_sub(failures).max(1)
    }

    /// Whether a failure now starts the record over (it is past its quiet period), and the
    /// count it then holds.
    pub fn after_failure(&self, record: Option<&FailureRecord>, now: Timestamp) -> (bool, u32) {
        match record {
            Some(r) if !self.is_stale(r, now) => (false, r.failures.saturating_add(1)),
            Some(_) => (true, 1),
            None => (false, 1),
        }
    }

    /// The channel an attempt from `client` counts against.
    pub fn channel(
        &self,
        key: &LockoutKey,
        state: &LockoutState,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Channel {
        let Some(network) = client.filter(|_| !self.familiar_for.is_zero()) else {
            return Channel::Unfamiliar;
        };
        let id = key.network_id(network);
        match state.networks.get(&id).and_then(|n| n.last_success) {
            Some(at) if elapsed(at, now) < self.familiar_for => Channel::Familiar(id),
            _ => Channel::Unfamiliar,
        }
    }

    /// What a successful check through `channel` from `client` writes: the client's network
    /// becomes (or stays) familiar with its count cleared, and a success of an unfamiliar
    /// client clears the unfamiliar count. A familiar client's success leaves that count
    /// alone, so an owner signing in at home does not hand an attacker fresh guesses.
    pub fn after_success(
        &self,
        key: &LockoutKey,
        state: &LockoutState,
        channel: &Channel,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> AfterSuccess {
        let failed = |r: Option<&FailureRecord>| r.is_some_and(|r| r.failures > 0);
        let network = client.filter(|_| !self.familiar_for.is_zero());
        let Some(network) = network else {
            if !failed(state.unfamiliar.as_ref()) {
                return AfterSuccess::Nothing;
            }
            if self.familiar_for.is_zero() {
                return AfterSuccess::Forget;
            }
            return AfterSuccess::Write(SuccessWrite {
                network: None,
                clear_unfamiliar: true,
                forget: None,
                now,
                expire_at: self.expiry(state, now, false),
            });
        };
        let id = key.network_id(network);
        let entry = state.networks.get(&id);
        let clear_unfamiliar = *channel == Channel::Unfamiliar && failed(state.unfamiliar.as_ref());
        // Refreshed a few times per familiar period at most: not a write per sign-in.
        let refresh = (self.familiar_for / 4).min(Duration::from_secs(86_400));
        let mark = match entry {
            None => true,
            Some(e) => {
                failed(e.failures.as_ref())
                    || e.last_success.is_none_or(|at| elapsed(at, now) >= refresh)
            }
        };
        if !mark && !clear_unfamiliar {
            return AfterSuccess::Nothing;
        }
        let forget = match entry {
            Some(_) => None,
            None if state.networks.len() < MAX_FAMILIAR_NETWORKS => None,
            None => state
                .networks
                .iter()
                .min_by_key(|(_, e)| e.last_success)
                .map(|(id, _)| id.clone()),
        };
        AfterSuccess::Write(SuccessWrite {
            network: Some(id),
            clear_unfamiliar,
            forget,
            now,
            expire_at: self.expiry(state, now, true),
        })
    }

    /// When a record may be deleted after a write at `now`: once every failure in it is
    /// forgotten and every network in it is no longer familiar.
    pub fn expiry(&self, state: &LockoutState, now: Timestamp, success: bool) -> Timestamp {
        let after = |at: Timestamp, d: Duration| at.checked_add(d).unwrap_or(at);
        let failures = state
            .unfamiliar
            .iter()
            .chain(state.networks.values().filter_map(|n| n.failures.as_ref()))
            .map(|r| after(r.last_failure, self.reset_after));
        let networks = state
            .networks
            .values()
            .filter_map(|n| n.last_success)
            .map(|at| after(at, self.familiar_for));
        let this = if success {
            after(now, self.familiar_for)
        } else {
            after(now, self.reset_after)
        };
        failures.chain(networks).fold(this, Timestamp::max)
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
            familiar_for: Duration::from_secs(30 * 86_400),
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

    #[test]
    fn checks_in_flight_never_exceed_the_failures_left_before_a_lock() {
        let p = policy();
        let record = |failures, s| FailureRecord {
            failures,
            last_failure: at(s),
        };
        assert_eq!(p.checks_allowed(None, at(0)), 5);
        assert_eq!(p.checks_allowed(Some(&record(3, 0)), at(1)), 2);
        assert_eq!(p.checks_allowed(Some(&record(5, 0)), at(1)), 0, "locked");
        assert_eq!(
            p.checks_allowed(Some(&record(5, 0)), at(60)),
            1,
            "an expired lock admits one check, whose failure locks again"
        );
        assert_eq!(
            p.checks_allowed(Some(&record(9, 0)), at(12 * 3600)),
            5,
            "stale"
        );
        let off = LockoutPolicy { threshold: 0, ..p };
        assert_eq!(off.checks_allowed(Some(&record(9, 0)), at(1)), u32::MAX);
        assert_eq!(p.after_failure(Some(&record(5, 0)), at(1)), (false, 6));
        assert_eq!(
            p.after_failure(Some(&record(5, 0)), at(12 * 3600)),
            (true, 1)
        );
        assert_eq!(p.after_failure(None, at(1)), (false, 1));
    }

    #[test]
    fn a_network_is_familiar_for_a_while_after_a_success_from_it() {
        let p = policy();
        let key = LockoutKey::Account(Uid::parse("kim").unwrap());
        let home = ClientNetwork::of("198.51.100.7".parse().unwrap());
        let cafe = ClientNetwork::of("203.0.113.9".parse().unwrap());
        let mut state = LockoutState::default();
        assert_eq!(
            p.channel(&key, &state, Some(home), at(0)),
            Channel::Unfamiliar
        );
        let AfterSuccess::Write(write) =
            p.after_success(&key, &state, &Channel::Unfamiliar, Some(home), at(0))
        else {
            panic!("a first success records its network");
        };
        let id = write.network.clone().unwrap();
        assert_eq!(id, key.network_id(home));
        assert_ne!(
            id,
            LockoutKey::Account(Uid::parse("lee").unwrap()).network_id(home),
            "one network looks different in every account"
        );
        assert!(!id.contains("198.51"), "no address is stored");
        state.networks.insert(
            id.clone(),
            NetworkEntry {
                last_success: Some(at(0)),
                failures: None,
            },
        );
        assert_eq!(
            p.channel(&key, &state, Some(home), at(29 * 86_400)),
            Channel::Familiar(id.clone())
        );
        assert_eq!(
            p.channel(&key, &state, Some(home), at(30 * 86_400)),
            Channel::Unfamiliar
        );
        assert_eq!(
            p.channel(&key, &state, Some(cafe), at(1)),
            Channel::Unfamiliar
        );
        assert_eq!(p.channel(&key, &state, None, at(1)), Channel::Unfamiliar);
        assert_eq!(
            p.after_success(
                &key,
                &state,
                &Channel::Familiar(id.clone()),
                Some(home),
                at(60)
            ),
            AfterSuccess::Nothing,
            "no write per sign-in"
        );
        // The owner's success at home leaves the count of the attacker elsewhere alone.
        state.unfamiliar = Some(FailureRecord {
            failures: 9,
            last_failure: at(50),
        });
        assert_eq!(
            p.after_success(&key, &state, &Channel::Familiar(id), Some(home), at(60)),
            AfterSuccess::Nothing
        );
        let off = LockoutPolicy {
            familiar_for: Duration::ZERO,
            ..p
        };
        assert_eq!(
            off.channel(&key, &state, Some(home), at(1)),
            Channel::Unfamiliar
        );
        assert_eq!(
            off.after_success(&key, &state, &Channel::Unfamiliar, Some(home), at(60)),
            AfterSuccess::Forget
        );
    }

    #[test]
    fn familiar_networks_are_capped_by_dropping_the_least_recent() {
        let p = policy();
        let key = LockoutKey::Admin;
        let mut state = LockoutState::default();
        for i in 0..MAX_FAMILIAR_NETWORKS {
            state.networks.insert(
                format!("n{i}"),
                NetworkEntry {
                    last_success: Some(at(100 - i as i64)),
                    failures: None,
                },
            );
        }
        let new = ClientNetwork::of("2001:db8::1".parse().unwrap());
        let AfterSuccess::Write(write) =
            p.after_success(&key, &state, &Channel::Unfamiliar, Some(new), at(200))
        else {
            panic!("a new network is recorded");
        };
        assert_eq!(
            write.forget.as_deref(),
            Some(format!("n{}", MAX_FAMILIAR_NETWORKS - 1).as_str())
        );
        assert_eq!(write.expire_at, at(200 + 30 * 86_400));
    }
}

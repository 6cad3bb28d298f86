//! The uids and logins an import has already taken from its file, kept as 128-bit keyed
//! fingerprints rather than strings: 16 bytes per entry whatever the login's length, and
//! with a per-run random key no crafted row can collide with another on purpose.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// What a fingerprint stands for; a uid and a username may be the same text.
#[derive(Clone, Copy, Hash)]
pub(crate) enum Kind {
    Uid,
    Login,
    /// A login's TR39 skeleton: logins that look alike share it.
    Skeleton,
}

/// A set of fingerprints of (kind, normalized text).
pub(crate) struct Seen {
    keys: [RandomState; 2],
    set: HashSet<u128, BuildHasherDefault<Prehashed>>,
    /// The line of the row that keeps each email taken so far.
    holders: HashMap<u128, u64, BuildHasherDefault<Prehashed>>,
}

impl Seen {
    pub(crate) fn new() -> Seen {
        Seen {
            keys: [RandomState::new(), RandomState::new()],
            set: HashSet::default(),
            holders: HashMap::default(),
        }
    }

    /// Two independently keyed SipHash values make one 128-bit fingerprint.
    fn fingerprint(&self, kind: Kind, text: &str) -> u128 {
        let [a, b] = &self.keys;
        (u128::from(a.hash_one((kind, text))) << 64) | u128::from(b.hash_one((kind, text)))
    }

    /// True when `text` of `kind` was inserted before.
    pub(crate) fn contains(&self, kind: Kind, text: &str) -> bool {
        self.set.contains(&self.fingerprint(kind, text))
    }

    /// Records that the row on `line` keeps the email `text`.
    pub(crate) fn hold(&mut self, text: &str, line: u64) {
        let fingerprint = self.fingerprint(Kind::Login, text);
        self.holders.entry(fingerprint).or_insert(line);
    }

    /// The line of the row that keeps the email `text`, if one does.
    pub(crate) fn holder(&self, text: &str) -> Option<u64> {
        self.holders
            .get(&self.fingerprint(Kind::Login, text))
            .copied()
    }

    pub(crate) fn insert(&mut self, kind: Kind, text: &str) {
        let fingerprint = self.fingerprint(kind, text);
        self.set.insert(fingerprint);
    }
}

/// The fingerprints are already keyed hashes: the table uses their low bits as they are.
#[derive(Default)]
pub(crate) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_kept_apart_and_repeats_are_found() {
        let mut seen = Seen::new();
        seen.insert(Kind::Uid, "alice");
        assert!(seen.contains(Kind::Uid, "alice"));
        assert!(!seen.contains(Kind::Login, "alice"));
        assert!(!seen.contains(Kind::Uid, "Alice"));
        for i in 0..10_000 {
            seen.insert(Kind::Login, &format!("user{i}"));
        }
        assert!(seen.contains(Kind::Login, "user9999"));
        assert!(!seen.contains(Kind::Login, "user10000"));
    }
}

//! Recovery codes: ten random codes of 80 bits each, shown once at enrolment and stored
//! only as keyed hashes ([`super::Sealer::recovery_hash`]: they are high-entropy, so a
//! keyed hash suffices where a password needs a memory-hard one), each good for one use.

use jiff::Timestamp;
use subtle::ConstantTimeEq;

use super::Sealer;

/// How many recovery codes an account gets.
pub const RECOVERY_CODES: usize = 10;

/// The letters of a code: lowercase base32 (no 0/1/8/9, nothing that reads like another).
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Characters per code: 16 × 5 bits = 80 bits.
const CODE_CHARS: usize = 16;

/// One stored recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCode {
    /// [`Sealer::recovery_hash`] of the code.
    pub hash: String,
    pub used_at: Option<Timestamp>,
}

/// An account's recovery codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryCodes(pub Vec<RecoveryCode>);

impl RecoveryCodes {
    /// Ten new codes for `uid`: the codes to show once (grouped `xxxx-xxxx-xxxx-xxxx`) and
    /// what is stored.
    pub fn generate(sealer: &Sealer, uid: &str) -> (Vec<String>, RecoveryCodes) {
        let mut shown = Vec::with_capacity(RECOVERY_CODES);
        let mut stored = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let raw: [u8; CODE_CHARS] = rand::random();
            let code: String = raw
                .iter()
                .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
                .collect();
            stored.push(RecoveryCode {
                hash: sealer.recovery_hash(uid, &code),
                used_at: None,
            });
            let groups: Vec<&str> = (0..CODE_CHARS / 4)
                .map(|i| &code[i * 4..i * 4 + 4])
                .collect();
            shown.push(groups.join("-"));
        }
        (shown, RecoveryCodes(stored))
    }

    /// Codes not used yet.
    pub fn unused(&self) -> usize {
        self.0.iter().filter(|c| c.used_at.is_none()).count()
    }

    /// The index of the unused code `code` (as [`super::Code`] reads it), comparing every
    /// stored hash in constant time.
    pub fn find(&self, sealer: &Sealer, uid: &str, code: &str) -> Option<usize> {
        let hashes = sealer.recovery_hashes(uid, code);
        let mut found = None;
        for (i, stored) in self.0.iter().enumerate() {
            let same = hashes.iter().fold(false, |same, hash| {
                same | bool::from(stored.hash.as_bytes().ct_eq(hash.as_bytes()))
            });
            if same && stored.used_at.is_none() && found.is_none() {
                found = Some(i);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factors::Code;

    #[test]
    fn codes_made_before_a_key_was_set_still_work_with_it() {
        let (shown, codes) = RecoveryCodes::generate(&Sealer::default(), "kim");
        let keyed = Sealer::from_base64(&base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [7u8; crate::factors::MFA_KEY_BYTES],
        ))
        .unwrap();
        let code = match Code::parse(&shown[0]).unwrap() {
            Code::Recovery(text) => text,
            Code::Totp(_) => unreachable!("a recovery code"),
        };
        assert_eq!(codes.find(&keyed, "kim", &code), Some(0));
        assert_eq!(codes.find(&keyed, "lee", &code), None);
    }

    #[test]
    fn ten_distinct_codes_each_found_once_until_used() {
        let sealer = Sealer::default();
        let (shown, mut codes) = RecoveryCodes::generate(&sealer, "kim");
        assert_eq!(shown.len(), RECOVERY_CODES);
        assert_eq!(codes.unused(), RECOVERY_CODES);
        let mut unique = shown.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert!(
            shown
                .iter()
                .all(|c| c.len() == 19 && c.matches('-').count() == 3)
        );
        let Some(Code::Recovery(typed)) = Code::parse(&shown[3].to_uppercase()) else {
            panic!("a recovery code reads as one");
        };
        let i = codes.find(&sealer, "kim", &typed).unwrap();
        assert_eq!(i, 3);
        assert_eq!(
            codes.find(&sealer, "lee", &typed),
            None,
            "another account's"
        );
        codes.0[i].used_at = Some(Timestamp::UNIX_EPOCH);
        assert_eq!(codes.find(&sealer, "kim", &typed), None, "single use");
        assert_eq!(codes.unused(), RECOVERY_CODES - 1);
    }
}

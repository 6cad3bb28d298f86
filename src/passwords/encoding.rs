//! The text encodings that legacy hash strings use for numbers, salts and digests,
//! each decoded exactly as strictly as the library that wrote it compared them.

use base64::Engine as _;
use base64::alphabet::{Alphabet, STANDARD};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// Standard base64 with `=` padding, canonical only: Django compares its encoded
/// strings, so a stored value with stray bits or missing padding never matched there.
pub(crate) fn b64_padded(s: &str) -> Option<Vec<u8>> {
    general_purpose::STANDARD.decode(s).ok()
}

/// Standard base64 without padding, canonical only (libargon2 rejects stray bits).
pub(crate) fn b64_unpadded(s: &str) -> Option<Vec<u8>> {
    general_purpose::STANDARD_NO_PAD.decode(s).ok()
}

/// Standard base64 as Python's `binascii.a2b_base64` reads it: padding optional and
/// unused trailing bits ignored (passlib's `b64s` fields and LDAP `{SSHA}` values).
pub(crate) fn b64_lenient(s: &str) -> Option<Vec<u8>> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(&STANDARD, LENIENT);
    ENGINE.decode(s).ok()
}

/// passlib's "adapted base64": `.` in place of `+`, no padding, read like `b64_lenient`.
pub(crate) fn ab64(s: &str) -> Option<Vec<u8>> {
    const AB64_ALPHABET: Alphabet =
        match Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./") {
            Ok(alphabet) => alphabet,
            Err(_) => panic!("the ab64 alphabet is valid"),
        };
    const ENGINE: GeneralPurpose = GeneralPurpose::new(&AB64_ALPHABET, LENIENT);
    ENGINE.decode(s).ok()
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);

/// Hex digits of exactly `len` bytes, either case.
pub(crate) fn hex_exact(s: &str, len: usize) -> Option<Vec<u8>> {
    if s.len() != len * 2 {
        return None;
    }
    hex::decode(s).ok()
}

/// Whether every byte belongs to the `./0-9A-Za-z` alphabet of crypt(3) and bcrypt.
pub(crate) fn is_hash64(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// An unsigned decimal field. Values beyond `u64` saturate so that a cost check,
/// rather than a parse error, reports them.
pub(crate) fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// A scheme identifier taken from a stored string, kept only if it looks like one,
/// so an error message can name it without ever echoing a secret.
pub(crate) fn printable_prefix(s: &str) -> Option<String> {
    let plausible = (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    plausible.then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictness_matches_the_writer() {
        assert_eq!(b64_padded("YQ==").as_deref(), Some(&b"a"[..]));
        assert!(b64_padded("YQ").is_none());
        assert!(b64_padded("YR==").is_none(), "stray bits");
        assert!(b64_unpadded("YR").is_none());
        assert_eq!(b64_lenient("YR").as_deref(), Some(&b"a"[..]));
        assert_eq!(b64_lenient("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(ab64("./8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert!(ab64("+/8").is_none());
    }

    #[test]
    fn numbers_and_hex() {
        assert_eq!(decimal("260000"), Some(260_000));
        assert_eq!(decimal("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(decimal(""), None);
        assert_eq!(decimal("+1"), None);
        assert_eq!(decimal("1 "), None);
        assert_eq!(hex_exact("0aFF", 2), Some(vec![0x0a, 0xff]));
        assert_eq!(hex_exact("0aF", 2), None);
        assert_eq!(hex_exact("zz", 1), None);
    }

    #[test]
    fn prefixes_are_echoed_only_when_they_look_like_names() {
        assert_eq!(
            printable_prefix("pbkdf2_sha256").as_deref(),
            Some("pbkdf2_sha256")
        );
        assert_eq!(printable_prefix("päss"), None);
        assert_eq!(printable_prefix(&"a".repeat(33)), None);
        assert_eq!(printable_prefix(""), None);
    }
}

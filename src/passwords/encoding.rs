//! The text encodings that legacy hash strings use for numbers, salts and digests,
//! each decoded exactly as strictly as the library that wrote it compared them.

use base64::Engine as _;
use base64::alphabet::{Alphabet, STANDARD};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

use super::scheme::Prefix;

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

/// Algorithm identifiers an error may name: every dialect's own, and the well-known ones
/// firegate does not verify (so a hash given the wrong `--dialect`, or of an unsupported
/// scheme, says what it is). Whatever else precedes a `$` might be a clear-text password.
#[rustfmt::skip]
const KNOWN_PREFIXES: &[&str] = &[
    // Django hashers, and the names of those that write no prefix of their own.
    "pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "md5",
    "sha1", "unsalted_md5", "unsalted_sha1", "crypt",
    // Werkzeug methods and the hashlib names it passes through.
    "pbkdf2", "plain", "sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256",
    "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s", "shake_128",
    "shake_256", "md4", "md5-sha1", "ripemd160", "sm3", "whirlpool",
    // PHC strings and modular crypt identifiers.
    "argon2id", "argon2i", "argon2d", "2", "2a", "2b", "2x", "2y", "1", "3", "5", "6", "7",
    "y", "gy", "yescrypt", "apr1", "pbkdf2-sha1", "pbkdf2-sha256", "pbkdf2-sha512",
    "bcrypt-sha256",
    // phpass, Drupal 7, WordPress 6.8 and firegate's Firebase form.
    "P", "H", "S", "wp", "firebase-scrypt",
    // LDAP scheme tags, matched without regard to case as directory servers do.
    "{SHA}", "{SSHA}", "{SHA256}", "{SSHA256}", "{SHA384}", "{SSHA384}", "{SHA512}",
    "{SSHA512}", "{MD5}", "{SMD5}", "{CRYPT}", "{CLEARTEXT}", "{PLAIN}", "{PBKDF2}",
    "{PBKDF2-SHA1}", "{PBKDF2-SHA256}", "{PBKDF2-SHA512}", "{PKCS5S2}", "{ARGON2}",
    "{BCRYPT}", "{SASL}",
    // Spring Security encoder ids firegate does not verify (or not under that spelling).
    "{MD4}", "{noop}", "{SHA-384}", "{SHA-512}",
];

/// How an error may refer to the algorithm field `s` of a stored string: by name only when
/// it is one of [`KNOWN_PREFIXES`] (and then as firegate's own copy of the name), never by
/// its own text.
pub(crate) fn known_prefix(s: &str) -> Prefix {
    if s.is_empty() {
        return Prefix::Absent;
    }
    let known = KNOWN_PREFIXES.iter().find(|name| {
        if name.starts_with('{') {
            name.eq_ignore_ascii_case(s)
        } else {
            **name == s
        }
    });
    known.map_or(Prefix::Unrecognised, |name| Prefix::Known(name))
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
    fn prefixes_are_named_only_from_the_known_list() {
        assert_eq!(
            known_prefix("pbkdf2_sha256"),
            Prefix::Known("pbkdf2_sha256")
        );
        assert_eq!(known_prefix("{ssha1024}"), Prefix::Unrecognised);
        assert_eq!(known_prefix("{ssha}"), Prefix::Known("{SSHA}"));
        for secret in ["Summer", "hunter2", "päss", "SHA256"] {
            assert_eq!(known_prefix(secret), Prefix::Unrecognised, "{secret}");
        }
        assert_eq!(known_prefix(""), Prefix::Absent);
    }
}

//! The `php` and `drupal` dialects. phpass portable hashes (`$P$` as WordPress ≤ 6.7 writes
//! them, `$H$` as phpBB3 does), Drupal 7's SHA-512 variant `$S$` and its `U`-prefixed forms
//! over Drupal 6's MD5, WordPress 6.8's `$wp$` bcrypt, PHP's `password_hash` output, and the
//! bare MD5 of WordPress before 2.5.

use super::digest::HashFn;
use super::encoding::{hex_exact, known_prefix};
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, malformed};
use super::verifier::{BcryptInput, Verifier};
use super::{crypt, phc};

type Parsed = Result<(&'static str, Verifier), HashError>;

/// phpass's alphabet; a count character is its position in it.
const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Drupal 7 cuts its hashes to this length (`DRUPAL_HASH_LENGTH`).
const DRUPAL_HASH_LENGTH: usize = 55;

/// PHP frameworks: WordPress, phpBB3, Laravel, Symfony and `password_hash` in general.
pub(crate) fn parse_php(stored: &str, limits: &CostLimits) -> Parsed {
    if stored.starts_with("$P$") || stored.starts_with("$H$") {
        return phpass(stored, HashFn::Md5, false, "phpass-md5", limits);
    }
    if let Some(bcrypt) = stored.strip_prefix("$wp") {
        // WordPress 6.8: bcrypt of base64(HMAC-SHA384(key "wp-sha384", password)).
        return crypt::bcrypt(bcrypt, "wordpress-bcrypt", BcryptInput::WordPress, limits);
    }
    if stored.starts_with("$2") {
        return crypt::bcrypt(stored, "bcrypt", BcryptInput::Password, limits);
    }
    if stored.starts_with("$argon2i$") || stored.starts_with("$argon2id$") {
        return phc::argon2(stored, phc::Naming::Phc, limits);
    }
    // WordPress before 2.5 stored md5(password), lowercase hex, which wp_check_password
    // still compares exactly.
    if stored.len() == 32
        && stored
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        let expected =
            hex_exact(stored, 16).ok_or_else(|| malformed("wordpress-md5", "not hex"))?;
        let verifier = Verifier::Salted {
            hash: HashFn::Md5,
            layout: super::verifier::Layout::Unsalted,
            salt: Vec::new(),
            expected,
        };
        return Ok(("wordpress-md5", verifier));
    }
    Err(unknown(Dialect::Php, stored))
}

/// Drupal 7's `users.pass`: `$S$`, phpass `$P$`/`$H$` kept from imports and Drupal 6, and
/// `U$S$`/`U$P$`/`U$H$` (Drupal 6 MD5 hashes rehashed by `user_update_7000`, checked over
/// the MD5 hex of the password).
pub(crate) fn parse_drupal(stored: &str, limits: &CostLimits) -> Parsed {
    let (inner, md5_first) = match stored.strip_prefix('U') {
        Some(rest) if rest.starts_with('$') => (rest, true),
        _ => (stored, false),
    };
    let scheme = |sha512: bool| match (sha512, md5_first) {
        (true, false) => "drupal-sha512",
        (true, true) => "drupal-sha512-md5",
        (false, false) => "phpass-md5",
        (false, true) => "phpass-md5-md5",
    };
    if inner.starts_with("$S$") {
        return phpass(inner, HashFn::Sha512, md5_first, scheme(true), limits);
    }
    if inner.starts_with("$P$") || inner.starts_with("$H$") {
        return phpass(inner, HashFn::Md5, md5_first, scheme(false), limits);
    }
    Err(unknown(Dialect::Drupal, inner))
}

/// `$P$` + count character + 8 salt characters + the encoded digest (22 characters for
/// MD5; Drupal's SHA-512 is cut to 43 so that the whole string is 55).
fn phpass(
    s: &str,
    hash: HashFn,
    md5_first: bool,
    scheme: &'static str,
    limits: &CostLimits,
) -> Parsed {
    let expected_len = match hash {
        HashFn::Md5 => 34,
        _ => DRUPAL_HASH_LENGTH,
    };
    if s.len() != expected_len || !s.is_ascii() {
        return Err(malformed(
            scheme,
            if hash == HashFn::Md5 {
                "expected 34 characters"
            } else {
                "expected 55 characters"
            },
        ));
    }
    let log2 = ITOA64
        .iter()
        .position(|&c| c == s.as_bytes()[3])
        .ok_or_else(|| malformed(scheme, "the count character is not in phpass's alphabet"))?;
    // phpass and Drupal both refuse counts outside 2^7..2^30.
    if !(7..=30).contains(&log2) {
        return Err(malformed(scheme, "iteration count outside 2^7 to 2^30"));
    }
    let count = 1u64 << log2;
    let budget = limits.digest_iterations(scheme, count, hash)?;
    let salt = &s[4..12];
    let encoded = &s[12..];
    if !salt
        .bytes()
        .chain(encoded.bytes())
        .all(|b| ITOA64.contains(&b))
    {
        return Err(malformed(scheme, "salt or digest is not phpass base64"));
    }
    let verifier = Verifier::Phpass {
        hash,
        count: count as u32,
        budget,
        md5_first,
        salt: salt.as_bytes().to_vec(),
        expected: encoded.to_owned(),
    };
    Ok((scheme, verifier))
}

/// phpass's `encode64`: little-endian groups of three bytes, low six bits first.
pub(crate) fn encode64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let value = chunk
            .iter()
            .enumerate()
            .fold(0u32, |v, (i, &b)| v | (u32::from(b) << (8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ITOA64[((value >> (6 * i)) & 0x3f) as usize]));
        }
    }
    out
}

fn unknown(dialect: Dialect, stored: &str) -> HashError {
    let identifier = stored.strip_prefix('$').and_then(|s| s.split('$').next());
    HashError::UnknownScheme {
        dialect,
        prefix: known_prefix(identifier.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::encode64;
    use crate::passwords::Dialect;

    #[test]
    fn encode64_matches_phpass() {
        // phpass encode64("\x00\x01\x02", 3) and a two-byte tail.
        assert_eq!(encode64(&[0, 1, 2]), ".2U.");
        assert_eq!(encode64(&[0xff, 0xff]), "zzD");
    }

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let p = "$P$BGwsoU4GmiyHyvdG7nNfy1mVzTz2rK0";
        #[rustfmt::skip]
        let cases = [
            (p[..33].to_owned(), "expected 34 characters"),
            (format!("$P$4{}", &p[4..]), "outside 2^7 to 2^30"),
            (format!("$P${}{}", 'B', &p[4..33]) + "!", "not phpass base64"),
            (format!("$P$_{}", &p[4..]), "count character"),
            ("$wp$2y$10$short".into(), "wordpress-bcrypt hash: expected 60 characters"),
            ("$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA".into(), "php: unsupported algorithm prefix 'argon2d'"),
            ("9CC2AE8A1BA7A93DA39B46FC1019C481".into(), "php: not a recognised"),
            ("Summer$2020".into(), "php: not a recognised"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Php, cases);
        #[rustfmt::skip]
        let drupal = [
            ("$S$DLVdr25seg3x12IhstLvZeXuAcx.CTC8cOW7641LIHkUfCBAimh".to_owned(), "expected 55 characters"),
            ("U$X$DLVdr25seg3x12IhstLvZeXuAcx.CTC8cOW7641LIHkUfCBAimhL".into(), "drupal: unrecognised scheme prefix"),
            ("$2y$10$abc".into(), "drupal: unsupported algorithm prefix '2y'"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Drupal, drupal);
    }
}

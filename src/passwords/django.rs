//! Django's `<algorithm>$…` password strings, one per hasher of
//! `django.contrib.auth.hashers` from 1.x to 5.x, including the unusable `!` marker.
//! Salts are text used as their UTF-8 bytes.

use super::digest::HashFn;
use super::encoding::{b64_padded, decimal, hex_exact, known_prefix};
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, Prefix, malformed};
use super::verifier::{BcryptInput, Layout, Verifier};
use super::{crypt, phc};

/// `hashlib.scrypt`'s output length as Django calls it.
const SCRYPT_LEN: usize = 64;

pub(crate) fn parse(
    stored: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    // `make_password(None)` writes `!` and random text; `check_password` refuses it.
    if stored.starts_with('!') {
        return Err(HashError::Unusable);
    }
    // `identify_hasher` reads 32 characters without a `$` as unsalted MD5.
    if stored.len() == 32 && !stored.contains('$') {
        return salted(HashFn::Md5, "", stored, "django-unsalted-md5");
    }
    let Some((algorithm, rest)) = stored.split_once('$') else {
        return Err(HashError::UnknownScheme {
            dialect: Dialect::Django,
            prefix: Prefix::Absent,
        });
    };
    match algorithm {
        "pbkdf2_sha256" => pbkdf2(HashFn::Sha256, "django-pbkdf2-sha256", rest, limits),
        "pbkdf2_sha1" => pbkdf2(HashFn::Sha1, "django-pbkdf2-sha1", rest, limits),
        // Django stores argon2-cffi's PHC string minus its leading `$`.
        "argon2" => phc::argon2(&format!("${rest}"), phc::Naming::Django, limits),
        "bcrypt_sha256" => {
            crypt::bcrypt(rest, "django-bcrypt-sha256", BcryptInput::Sha256Hex, limits)
        }
        "bcrypt" => crypt::bcrypt(rest, "django-bcrypt", BcryptInput::Password, limits),
        "scrypt" => scrypt(rest, limits),
        "md5" | "sha1" => {
            let (salt, hex) = rest.split_once('$').unwrap_or((rest, ""));
            let (hash, scheme) = match (algorithm, salt.is_empty()) {
                ("md5", true) => (HashFn::Md5, "django-unsalted-md5"),
                ("md5", false) => (HashFn::Md5, "django-md5"),
                (_, true) => (HashFn::Sha1, "django-unsalted-sha1"),
                (_, false) => (HashFn::Sha1, "django-sha1"),
            };
            salted(hash, salt, hex, scheme)
        }
        "crypt" => {
            // The salt field is empty, or a leftover of Django ≤ 1.3; the crypt(3) output
            // after it carries its own salt and is all that is checked.
            let Some((_, data)) = rest.split_once('$') else {
                return Err(malformed(
                    "django-crypt",
                    "expected 'crypt$<salt>$<crypt output>'",
                ));
            };
            let parsed = crypt::parse(data, limits)
                .unwrap_or_else(|| Err(malformed("django-crypt", "value is not a crypt(3) hash")));
            let (_, verifier) = parsed?;
            Ok(("django-crypt", verifier))
        }
        _ => Err(HashError::UnknownScheme {
            dialect: Dialect::Django,
            prefix: known_prefix(algorithm),
        }),
    }
}

fn pbkdf2(
    hash: HashFn,
    scheme: &'static str,
    rest: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    let [rounds, salt, digest] = fields(rest, scheme, "expected '<iterations>$<salt>$<hash>'")?;
    let rounds = decimal(rounds).ok_or_else(|| malformed(scheme, "iterations are not a number"))?;
    let rounds = limits.pbkdf2_rounds(scheme, rounds, hash.pbkdf2_cost())?;
    if salt.is_empty() {
        return Err(malformed(scheme, "salt is empty"));
    }
    let expected = b64_padded(digest)
        .filter(|d| d.len() == hash.output_len())
        .ok_or_else(|| malformed(scheme, "hash is not base64 of the digest's length"))?;
    let salt = salt.as_bytes().to_vec();
    let verifier = Verifier::Pbkdf2 {
        hash,
        rounds,
        salt,
        expected,
    };
    Ok((scheme, verifier))
}

fn scrypt(rest: &str, limits: &CostLimits) -> Result<(&'static str, Verifier), HashError> {
    const SCHEME: &str = "django-scrypt";
    let [n, salt, r, p, digest] = fields(rest, SCHEME, "expected '<N>$<salt>$<r>$<p>$<hash>'")?;
    let number = |s: &str| decimal(s).ok_or_else(|| malformed(SCHEME, "N, r or p is not a number"));
    let (n, r, p) = (number(n)?, number(r)?, number(p)?);
    if !n.is_power_of_two() {
        return Err(malformed(SCHEME, "N is not a power of two"));
    }
    let params = limits.scrypt(SCHEME, n.trailing_zeros().into(), r, p)?;
    if salt.is_empty() {
        return Err(malformed(SCHEME, "salt is empty"));
    }
    let expected = b64_padded(digest)
        .filter(|d| d.len() == SCRYPT_LEN)
        .ok_or_else(|| malformed(SCHEME, "hash is not base64 of 64 bytes"))?;
    let salt = salt.as_bytes().to_vec();
    Ok((
        SCHEME,
        Verifier::Scrypt {
            params,
            salt,
            expected,
        },
    ))
}

/// Django's `md5`/`sha1` hashers: hex of digest(salt ‖ password).
fn salted(
    hash: HashFn,
    salt: &str,
    hex: &str,
    scheme: &'static str,
) -> Result<(&'static str, Verifier), HashError> {
    let expected = hex_exact(hex, hash.output_len())
        .ok_or_else(|| malformed(scheme, "digest is not hex of the digest's length"))?;
    let verifier = Verifier::Salted {
        hash,
        layout: Layout::SaltThenPassword,
        salt: salt.as_bytes().to_vec(),
        expected,
    };
    Ok((scheme, verifier))
}

/// Exactly `N` `$`-separated fields, as Django's tuple unpacking demands.
fn fields<'a, const N: usize>(
    rest: &'a str,
    scheme: &'static str,
    grammar: &'static str,
) -> Result<[&'a str; N], HashError> {
    let parts: Vec<&str> = rest.split('$').collect();
    parts.try_into().map_err(|_| malformed(scheme, grammar))
}

#[cfg(test)]
mod tests {
    use crate::passwords::{CostLimits, Dialect, HashError, parse};

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let b64_32 = format!("{}=", "A".repeat(43));
        let bcrypt = "$2b$04$AxfnVHGGaMILe5riTF9NVuqn8rMFyv8KxlpbnxE67LKMqIi5zzEh2";
        #[rustfmt::skip]
        let cases = [
            ("".to_owned(), "not a recognised hash format"),
            ("hunter2".into(), "not a recognised hash format"),
            ("3a3a331d88c5d687d6fe2102eedc718z".into(), "django-unsalted-md5 hash: digest is not hex"),
            ("pbkdf2_sha256$1000$salt".into(), "expected '<iterations>$<salt>$<hash>'"),
            (format!("pbkdf2_sha256$1000$salt${b64_32}$"), "expected '<iterations>$<salt>$<hash>'"),
            (format!("pbkdf2_sha256$x$salt${b64_32}"), "iterations are not a number"),
            (format!("pbkdf2_sha256$0$salt${b64_32}"), "round count is zero"),
            (format!("pbkdf2_sha256$1000$${b64_32}"), "salt is empty"),
            (format!("pbkdf2_sha256$1000$salt${}", &b64_32[..43]), "not base64"),
            (format!("pbkdf2_sha1$1000$salt${b64_32}"), "not base64 of the digest's length"),
            (format!("bcrypt$${bcrypt}"), "expected 60 characters"),
            (format!("bcrypt${}", &bcrypt[..59]), "expected 60 characters"),
            (format!("bcrypt_sha256$$2x{}", &bcrypt[3..]), "version must be"),
            (format!("bcrypt$$2b$03{}", &bcrypt[6..]), "cost below 4"),
            ("scrypt$16384$salt$8$1".into(), "expected '<N>$<salt>$<r>$<p>$<hash>'"),
            (format!("scrypt$16383$salt$8$1${b64_32}"), "N is not a power of two"),
            (format!("scrypt$16384$salt$8$1${b64_32}"), "not base64 of 64 bytes"),
            (format!("scrypt$16384$$8$1${b64_32}"), "salt is empty"),
            ("argon2$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$x$y".into(), "expected '$argon2"),
            ("argon2$argon2x$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA".into(), "type must be"),
            ("md5$salt$abc".into(), "django-md5 hash: digest is not hex"),
            ("sha1$$abc".into(), "django-unsalted-sha1 hash: digest is not hex"),
            ("crypt$$ab".into(), "django-crypt hash: value is not a crypt(3) hash"),
            ("crypt$$$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D" .into(), "not a crypt(3) hash"),
            ("unsalted_sha1$x".into(), "unsupported algorithm prefix 'unsalted_sha1'"),
            ("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$x".into(), "django: not a recognised"),
            ("Summer$2020".into(), "django: unrecognised scheme prefix"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Django, cases);
    }

    #[test]
    fn the_unusable_marker_wins_over_any_algorithm() {
        let hash = "!pbkdf2_sha256$1000$salt$".to_owned() + &"A".repeat(43) + "=";
        let error = parse(Dialect::Django, &hash, &CostLimits::default()).unwrap_err();
        assert!(matches!(error, HashError::Unusable));
    }
}

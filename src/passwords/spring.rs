//! The `spring` dialect: Spring Security's `DelegatingPasswordEncoder` strings, `{id}` then
//! what that encoder wrote. `{bcrypt}`, `{argon2}` and `{scrypt}` carry their parameters;
//! `{pbkdf2}` does not (see [`SpringSettings`](super::settings::SpringSettings)); `{MD5}`,
//! `{SHA-1}` and `{SHA-256}` are `MessageDigestPasswordEncoder`'s digest of the password
//! followed by an optional `{salt}`, not LDAP's values of the same names; `{noop}` is clear
//! text, which only the importer reads (it hashes it at once).

use super::digest::HashFn;
use super::encoding::{b64_padded, known_prefix};
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, Prefix, malformed};
use super::settings::{SpringPbkdf2, SpringSettings};
use super::verifier::{BcryptInput, Layout, Verifier};
use super::{crypt, ldap, phc};

type Parsed = Result<(&'static str, Verifier), HashError>;

/// `StandardPasswordEncoder`'s fixed salt length and SHA-256 iterations.
const STANDARD_SALT: usize = 8;
const STANDARD_ITERATIONS: u64 = 1024;

/// The clear text of a `{noop}` string, which must be hashed, never stored.
pub(crate) fn clear_text(stored: &str) -> Option<&str> {
    stored.strip_prefix("{noop}")
}

pub(crate) fn parse(stored: &str, settings: &SpringSettings, limits: &CostLimits) -> Parsed {
    let Some((id, rest)) = stored.strip_prefix('{').and_then(|s| s.split_once('}')) else {
        return Err(HashError::UnknownScheme {
            dialect: Dialect::Spring,
            prefix: Prefix::Absent,
        });
    };
    // Spring matches ids exactly, case included.
    match id {
        "bcrypt" => crypt::bcrypt(rest, "spring-bcrypt", BcryptInput::Password, limits),
        "argon2" | "argon2@SpringSecurity_v5_8" => {
            let (_, verifier) = phc::argon2(rest, phc::Naming::Phc, limits)?;
            let scheme = match verifier.argon2_params().map(|p| p.variant) {
                Some("argon2id") => "spring-argon2id",
                Some("argon2i") => "spring-argon2i",
                _ => "spring-argon2d",
            };
            Ok((scheme, verifier))
        }
        "scrypt" | "scrypt@SpringSecurity_v5_8" => scrypt(rest, limits),
        "pbkdf2" => pbkdf2(rest, settings.pbkdf2, settings, limits),
        "pbkdf2@SpringSecurity_v5_8" => pbkdf2(rest, SpringPbkdf2::V5_8, settings, limits),
        "sha256" => standard(rest, settings, limits),
        "MD5" => digest(rest, HashFn::Md5, "spring-md5"),
        "SHA-1" => digest(rest, HashFn::Sha1, "spring-sha1"),
        "SHA-256" => digest(rest, HashFn::Sha256, "spring-sha256"),
        // LdapShaPasswordEncoder writes LDAP's own `{SSHA}`/`{SHA}` values.
        "ldap" if rest.starts_with("{SSHA}") || rest.starts_with("{SHA}") => {
            let (scheme, verifier) = ldap::parse(rest, limits)?;
            let scheme = if scheme == "ldap-ssha" {
                "spring-ldap-ssha"
            } else {
                "spring-ldap-sha"
            };
            Ok((scheme, verifier))
        }
        "ldap" => Err(malformed("spring-ldap", "value is not {SSHA} or {SHA}")),
        "noop" => Err(malformed(
            "spring-noop",
            "clear-text passwords are not verified; firegate import hashes them",
        )),
        _ => Err(HashError::UnknownScheme {
            dialect: Dialect::Spring,
            prefix: known_prefix(&format!("{{{id}}}")),
        }),
    }
}

/// `$<hex params>$<base64 salt>$<base64 key>`, params = log2(N) << 16 | r << 8 | p.
fn scrypt(rest: &str, limits: &CostLimits) -> Parsed {
    const SCHEME: &str = "spring-scrypt";
    let fields: Vec<&str> = rest.split('$').collect();
    let ["", params, salt, derived] = fields.as_slice() else {
        return Err(malformed(SCHEME, "expected '$<params>$<salt>$<key>'"));
    };
    let params = u64::from_str_radix(params, 16)
        .ok()
        .filter(|_| !params.is_empty() && params.len() <= 16 && !params.starts_with('+'))
        .ok_or_else(|| malformed(SCHEME, "parameters are not hexadecimal"))?;
    let params = limits.scrypt(
        SCHEME,
        (params >> 16) & 0xffff,
        (params >> 8) & 0xff,
        params & 0xff,
    )?;
    let salt = b64_padded(salt).ok_or_else(|| malformed(SCHEME, "salt is not base64"))?;
    let expected = b64_padded(derived)
        .filter(|d| d.len() >= 16)
        .ok_or_else(|| malformed(SCHEME, "key is not base64 of at least 16 bytes"))?;
    Ok((
        SCHEME,
        Verifier::Scrypt {
            params,
            salt,
            expected,
        },
    ))
}

/// Hex (or, with `setEncodeHashAsBase64`, base64) of salt ‖ key; the salt is whatever
/// precedes the key, which covers the 8-byte salts of the v5_5 defaults and the 16-byte ones
/// of v5_8. The secret is appended to the salt, as Spring does.
fn pbkdf2(
    rest: &str,
    spec: SpringPbkdf2,
    settings: &SpringSettings,
    limits: &CostLimits,
) -> Parsed {
    let scheme = match spec.hash {
        HashFn::Sha1 => "spring-pbkdf2-sha1",
        HashFn::Sha256 => "spring-pbkdf2-sha256",
        _ => "spring-pbkdf2-sha512",
    };
    let rounds = limits.pbkdf2_rounds(scheme, spec.iterations.into(), spec.hash.pbkdf2_cost())?;
    let raw =
        hex_or_base64(rest).ok_or_else(|| malformed(scheme, "value is neither hex nor base64"))?;
    let Some(salt_len) = raw.len().checked_sub(spec.width).filter(|&n| n >= 1) else {
        return Err(malformed(
            scheme,
            "value is shorter than the configured hash width plus a salt",
        ));
    };
    let (salt, expected) = raw.split_at(salt_len);
    let mut salt = salt.to_vec();
    salt.extend_from_slice(settings.secret());
    Ok((
        scheme,
        Verifier::Pbkdf2 {
            hash: spec.hash,
            rounds,
            salt,
            expected: expected.to_vec(),
        },
    ))
}

/// `StandardPasswordEncoder`: hex of an 8-byte salt ‖ SHA-256 applied 1,024 times to
/// salt ‖ secret ‖ password.
fn standard(rest: &str, settings: &SpringSettings, limits: &CostLimits) -> Parsed {
    const SCHEME: &str = "spring-standard-sha256";
    let raw = hex::decode(rest)
        .ok()
        .filter(|raw| raw.len() == STANDARD_SALT + 32)
        .ok_or_else(|| {
            malformed(
                SCHEME,
                "value is not hex of an 8-byte salt and a SHA-256 digest",
            )
        })?;
    let budget = limits.digest_iterations(SCHEME, STANDARD_ITERATIONS, HashFn::Sha256)?;
    let mut prefix = raw[..STANDARD_SALT].to_vec();
    prefix.extend_from_slice(settings.secret());
    Ok((
        SCHEME,
        Verifier::Iterated {
            hash: HashFn::Sha256,
            count: STANDARD_ITERATIONS as u32,
            budget,
            prefix,
            expected: raw[STANDARD_SALT..].to_vec(),
        },
    ))
}

/// `MessageDigestPasswordEncoder`: `[{salt}]` then hex of digest(password ‖ "{salt}"), the
/// braces included, as Spring hashes them. Hex only: that is what the encoders behind these
/// ids write (base64 needs `setEncodeHashAsBase64`, and would make `{MD5}` read LDAP's values).
fn digest(rest: &str, hash: HashFn, scheme: &'static str) -> Parsed {
    let salt = match rest.strip_prefix('{') {
        Some(after) => match after.find('}') {
            Some(end) => &rest[..end + 2],
            None => "",
        },
        None => "",
    };
    let encoded = &rest[salt.len()..];
    let expected = super::encoding::hex_exact(encoded, hash.output_len())
        .ok_or_else(|| malformed(scheme, "digest is not hex of the digest's length"))?;
    Ok((
        scheme,
        Verifier::Salted {
            hash,
            layout: Layout::PasswordThenSalt,
            salt: salt.as_bytes().to_vec(),
            expected,
        },
    ))
}

/// Spring's encoders write lowercase hex unless told to write base64; a hex string is never
/// base64 of the same length, so the shape decides.
fn hex_or_base64(s: &str) -> Option<Vec<u8>> {
    if !s.is_empty() && s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(s).ok();
    }
    b64_padded(s)
}

#[cfg(test)]
mod tests {
    use crate::passwords::Dialect;

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        #[rustfmt::skip]
        let cases = [
            ("password".to_owned(), "spring: not a recognised hash format"),
            ("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=".into(), "spring: unsupported algorithm prefix '{SHA}'"),
            ("{MD4}{salt}152ce09d3261d2b53cac55b2ea4d1c7a".into(), "spring: unsupported algorithm prefix '{MD4}'"),
            ("{Summer}2020".into(), "spring: unrecognised scheme prefix"),
            ("{md5}5f4dcc3b5aa765d61d8327deb882cf99".into(), "spring: unsupported algorithm prefix '{MD5}'"),
            ("{MD5}5f4dcc3b5aa765d61d8327deb882cf".into(), "spring-md5 hash: digest is not hex"),
            ("{noop}password".into(), "firegate import hashes them"),
            ("{pbkdf2}5d923b44".into(), "shorter than the configured hash width"),
            ("{pbkdf2}zz".into(), "neither hex nor base64"),
            ("{sha256}97cde380".into(), "not hex of an 8-byte salt"),
            ("{scrypt}$e0801$salt".into(), "expected '$<params>$<salt>$<key>'"),
            ("{scrypt}$g0801$c2FsdA==$c2FsdHNhbHRzYWx0c2FsdA==".into(), "not hexadecimal"),
            ("{scrypt}$1e0801$c2FsdA==$c2FsdHNhbHRzYWx0c2FsdA==".into(), "exceeds the limit"),
            ("{ldap}{SMD5}x".into(), "value is not {SSHA} or {SHA}"),
            ("{bcrypt}$2a$10$short".into(), "spring-bcrypt hash: expected 60 characters"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Spring, cases);
    }
}

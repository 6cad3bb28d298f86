//! The `phc` dialect: PHC strings as argon2-cffi, passlib and firegate write them
//! (`$argon2id$`, `$argon2i$`, `$argon2d$`, passlib's `$pbkdf2-<digest>$` and `$scrypt$`),
//! plus the crypt(3) strings and LDAP values that the same libraries produce.

use super::digest::HashFn;
use super::encoding::{ab64, b64_lenient, b64_unpadded, decimal, known_prefix};
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, malformed};
use super::verifier::Verifier;
use super::{crypt, ldap, passlib};

type Parsed = Result<(&'static str, Verifier), HashError>;

/// Shortest digest accepted where the string chooses its own length: a stored 4-byte
/// argon2 tag would let one random password in 2^32 through.
const MIN_DIGEST_LEN: usize = 16;

/// passlib's scrypt checksum length.
const SCRYPT_LEN: usize = 32;

/// Which family of scheme names an argon2 string reports under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Naming {
    Phc,
    Django,
}

pub(crate) fn parse(stored: &str, limits: &CostLimits) -> Parsed {
    // crypt(3)'s `!` and `*` mark a locked account in shadow files and passlib.
    if stored.starts_with('!') || stored.starts_with('*') {
        return Err(HashError::Unusable);
    }
    if stored.starts_with('{') {
        return ldap::parse(stored, limits);
    }
    if stored.starts_with("$argon2") {
        return argon2(stored, Naming::Phc, limits);
    }
    if stored.starts_with("$pbkdf2$") || stored.starts_with("$pbkdf2-") {
        return pbkdf2(stored, limits);
    }
    if stored.starts_with("$scrypt$") {
        return scrypt(stored, limits);
    }
    if stored.starts_with("$bcrypt-sha256$") {
        return passlib::bcrypt_sha256(stored, limits);
    }
    if stored.starts_with("$apr1$") {
        return passlib::apr1(stored);
    }
    if stored.starts_with("$sha1$") {
        return passlib::sha1_crypt(stored, limits);
    }
    if let Some(parsed) = crypt::parse(stored, limits) {
        return parsed;
    }
    let identifier = stored.strip_prefix('$').and_then(|s| s.split('$').next());
    Err(unknown(identifier.unwrap_or_default()))
}

/// `$argon2<type>$[v=<version>$]m=<m>,t=<t>,p=<p>$<salt>$<hash>`, read as libargon2 does:
/// fixed parameter order, unpadded canonical base64, and version 0x10 when `v=` is absent.
pub(crate) fn argon2(s: &str, naming: Naming, limits: &CostLimits) -> Parsed {
    let family = match naming {
        Naming::Phc => "argon2",
        Naming::Django => "django-argon2",
    };
    let fields: Vec<&str> = s.split('$').collect();
    let (variant, version, params, salt, hash) = match fields.as_slice() {
        ["", variant, version, params, salt, hash] => {
            (*variant, Some(*version), *params, *salt, *hash)
        }
        ["", variant, params, salt, hash] => (*variant, None, *params, *salt, *hash),
        _ => {
            return Err(malformed(
                family,
                "expected '$argon2<type>$v=<n>$m=<m>,t=<t>,p=<p>$<salt>$<hash>'",
            ));
        }
    };
    let (algorithm, scheme) = match (variant, naming) {
        ("argon2id", Naming::Phc) => (argon2::Algorithm::Argon2id, "argon2id"),
        ("argon2i", Naming::Phc) => (argon2::Algorithm::Argon2i, "argon2i"),
        ("argon2d", Naming::Phc) => (argon2::Algorithm::Argon2d, "argon2d"),
        ("argon2id", Naming::Django) => (argon2::Algorithm::Argon2id, "django-argon2id"),
        ("argon2i", Naming::Django) => (argon2::Algorithm::Argon2i, "django-argon2i"),
        ("argon2d", Naming::Django) => (argon2::Algorithm::Argon2d, "django-argon2d"),
        _ => {
            return Err(malformed(
                family,
                "type must be argon2id, argon2i or argon2d",
            ));
        }
    };
    let version = match version {
        None | Some("v=16") => argon2::Version::V0x10,
        Some("v=19") => argon2::Version::V0x13,
        Some(_) => return Err(malformed(scheme, "version must be v=19 or v=16")),
    };
    let [m, t, p] = named_numbers(params, ["m=", "t=", "p="])
        .ok_or_else(|| malformed(scheme, "expected 'm=<m>,t=<t>,p=<p>'"))?;
    let salt = b64_unpadded(salt)
        .filter(|salt| salt.len() >= argon2::MIN_SALT_LEN)
        .ok_or_else(|| malformed(scheme, "salt is not unpadded base64 of at least 8 bytes"))?;
    let expected = b64_unpadded(hash)
        .filter(|hash| hash.len() >= MIN_DIGEST_LEN)
        .ok_or_else(|| malformed(scheme, "hash is not unpadded base64 of at least 16 bytes"))?;
    let params = limits.argon2(scheme, [m, t, p], expected.len())?;
    let verifier = Verifier::Argon2 {
        algorithm,
        version,
        params,
        salt,
        expected,
    };
    Ok((scheme, verifier))
}

/// passlib's `$pbkdf2-sha256$<rounds>$<salt>$<checksum>` (and `-sha512`, and `$pbkdf2$`
/// for SHA-1), salt and checksum in its adapted base64; the salt is used decoded.
fn pbkdf2(s: &str, limits: &CostLimits) -> Parsed {
    let fields: Vec<&str> = s.split('$').collect();
    let ["", ident, rounds, salt, checksum] = fields.as_slice() else {
        return Err(malformed(
            "pbkdf2",
            "expected '$pbkdf2-<digest>$<rounds>$<salt>$<checksum>'",
        ));
    };
    let (hash, scheme) = match *ident {
        "pbkdf2" => (HashFn::Sha1, "pbkdf2-sha1"),
        "pbkdf2-sha256" => (HashFn::Sha256, "pbkdf2-sha256"),
        "pbkdf2-sha512" => (HashFn::Sha512, "pbkdf2-sha512"),
        _ => return Err(unknown(ident)),
    };
    pbkdf2_fields(hash, scheme, [rounds, salt, checksum], limits)
}

/// `<rounds>$<salt>$<checksum>` of passlib's PBKDF2 forms (the `$pbkdf2-*$` strings and the
/// LDAP `{PBKDF2-*}` values), salt and checksum in adapted base64.
pub(crate) fn pbkdf2_fields(
    hash: HashFn,
    scheme: &'static str,
    [rounds, salt, checksum]: [&str; 3],
    limits: &CostLimits,
) -> Parsed {
    let rounds = decimal(rounds).ok_or_else(|| malformed(scheme, "rounds are not a number"))?;
    let rounds = limits.pbkdf2_rounds(scheme, rounds, hash.pbkdf2_cost())?;
    let salt = ab64(salt).ok_or_else(|| malformed(scheme, "salt is not adapted base64"))?;
    let expected = ab64(checksum)
        .filter(|c| c.len() == hash.output_len())
        .ok_or_else(|| {
            malformed(
                scheme,
                "checksum is not adapted base64 of the digest's length",
            )
        })?;
    let verifier = Verifier::Pbkdf2 {
        hash,
        rounds,
        salt,
        expected,
    };
    Ok((scheme, verifier))
}

/// passlib's `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<checksum>`, base64 without padding.
fn scrypt(s: &str, limits: &CostLimits) -> Parsed {
    const SCHEME: &str = "scrypt";
    let fields: Vec<&str> = s.split('$').collect();
    let ["", _, params, salt, checksum] = fields.as_slice() else {
        return Err(malformed(
            SCHEME,
            "expected '$scrypt$ln=<n>,r=<r>,p=<p>$<salt>$<checksum>'",
        ));
    };
    let [log_n, r, p] = named_numbers(params, ["ln=", "r=", "p="])
        .ok_or_else(|| malformed(SCHEME, "expected 'ln=<n>,r=<r>,p=<p>'"))?;
    let params = limits.scrypt(SCHEME, log_n, r, p)?;
    let salt = b64_lenient(salt).ok_or_else(|| malformed(SCHEME, "salt is not base64"))?;
    // passlib insists on 32 bytes, and rightly: a shorter scrypt output is a prefix of
    // the longer one, so a cut-off checksum would still match.
    let expected = b64_lenient(checksum)
        .filter(|c| c.len() == SCRYPT_LEN)
        .ok_or_else(|| malformed(SCHEME, "checksum is not base64 of 32 bytes"))?;
    let verifier = Verifier::Scrypt {
        params,
        salt,
        expected,
    };
    Ok((SCHEME, verifier))
}

/// `a=1,b=2,c=3` with exactly these names in this order.
fn named_numbers(s: &str, names: [&str; 3]) -> Option<[u64; 3]> {
    let parts: Vec<&str> = s.split(',').collect();
    let [a, b, c]: [&str; 3] = parts.try_into().ok()?;
    let number = |part: &str, name: &str| part.strip_prefix(name).and_then(decimal);
    Some([
        number(a, names[0])?,
        number(b, names[1])?,
        number(c, names[2])?,
    ])
}

fn unknown(identifier: &str) -> HashError {
    HashError::UnknownScheme {
        dialect: Dialect::Phc,
        prefix: known_prefix(identifier),
    }
}

#[cfg(test)]
mod tests {
    use crate::passwords::Dialect;

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let salt = "c2FsdHNhbHRzYWx0";
        let hash = "c2FsdHNhbHRzYWx0c2FsdA";
        let ab64_32 = "A".repeat(43);
        #[rustfmt::skip]
        let cases = [
            (String::new(), "not a recognised hash format"),
            ("$".into(), "not a recognised hash format"),
            ("$7$C6..../....salt$hash".into(), "unsupported algorithm prefix '7'"),
            ("Summer$2020".into(), "phc: not a recognised hash format"),
            ("$Summer$2020".into(), "phc: unrecognised scheme prefix"),
            (format!("$argon2id$v=19$m=64,t=1,p=1${salt}"), "expected 'm=<m>,t=<t>,p=<p>'"),
            (format!("$argon2id$v=19$m=64,t=1,p=1${salt}${hash}$"), "expected '$argon2"),
            (format!("$argon2id$v=20$m=64,t=1,p=1${salt}${hash}"), "version must be"),
            (format!("$argon2id$v=19$t=1,m=64,p=1${salt}${hash}"), "expected 'm=<m>,t=<t>,p=<p>'"),
            (format!("$argon2id$v=19$m=64,t=1,p=1,keyid=x${salt}${hash}"), "expected 'm=<m>,t=<t>,p=<p>'"),
            (format!("$argon2id$v=19$m=64,t=0,p=1${salt}${hash}"), "need t ≥ 1"),
            (format!("$argon2id$v=19$m=64,t=1,p=9${salt}${hash}"), "m ≥ 8·p"),
            (format!("$argon2id$v=19$m=64,t=1,p=1$c2FsdA${hash}"), "at least 8 bytes"),
            (format!("$argon2id$v=19$m=64,t=1,p=1${salt}=${hash}"), "salt is not unpadded"),
            (format!("$argon2id$v=19$m=64,t=1,p=1${salt}$c2FsdA"), "at least 16 bytes"),
            (format!("$argon2id$v=19$m=64,t=1,p=1${salt}${}B", &hash[..21]), "hash is not unpadded"),
            ("$pbkdf2-sha256$1000$salt".into(), "expected '$pbkdf2"),
            (format!("$pbkdf2-sha384$1000$salt${ab64_32}"), "phc: unrecognised scheme prefix"),
            (format!("$pbkdf2-sha256$1e3$salt${ab64_32}"), "rounds are not a number"),
            (format!("$pbkdf2-sha256$1000$sa+t${ab64_32}"), "salt is not adapted base64"),
            (format!("$pbkdf2-sha256$1000$salt${}", &ab64_32[..42]), "checksum is not adapted base64"),
            (format!("$pbkdf2$1000$salt${ab64_32}"), "of the digest's length"),
            (format!("$scrypt$ln=4,r=8$salt${ab64_32}"), "expected 'ln=<n>,r=<r>,p=<p>'"),
            ("$scrypt$ln=4,r=8,p=1$salt".into(), "expected '$scrypt$"),
            (format!("$scrypt$ln=0,r=8,p=1$salt${ab64_32}"), "N must be at least 2"),
            (format!("$scrypt$ln=4,r=8,p=1$sa.t${ab64_32}"), "salt is not base64"),
            (format!("$scrypt$ln=4,r=8,p=1$salt${}", &ab64_32[..22]), "not base64 of 32 bytes"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Phc, cases);
    }
}

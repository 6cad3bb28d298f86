//! Werkzeug's `generate_password_hash` strings, `<method>$<salt>$<hex>`, from 0.x to 3.x:
//! `pbkdf2:<digest>:<rounds>`, `scrypt:<n>:<r>:<p>`, and the HMAC and plain digests that
//! Werkzeug ≤ 2.2 also wrote. The salt is text and is used as its UTF-8 bytes.

use super::digest::HashFn;
use super::encoding::{decimal, hex_exact, known_prefix};
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, Prefix, malformed};
use super::verifier::{Layout, Verifier};

/// Rounds for a `pbkdf2:<digest>` method written without them. Werkzeug always wrote
/// the count, and read a missing one as its own current default: 50,000 before 0.15,
/// 150,000 in 0.15–1.0, 260,000 in 2.0–2.2, 600,000 in 2.3–3.0, 1,000,000 from 3.1.
/// Such a string can only come from a tool imitating Werkzeug; we read it as 2.0–2.2
/// did, the last series that also wrote the salted-digest forms this module accepts,
/// and so refuse a bare `pbkdf2` method, which 2.x could not read at all.
pub const DEFAULT_PBKDF2_ROUNDS: u32 = 260_000;

/// scrypt parameters of a bare `scrypt` method (every 3.x release and 2.3).
const DEFAULT_SCRYPT: (u64, u64, u64) = (32_768, 8, 1);

/// `hashlib.scrypt`'s output length, which Werkzeug never changes.
const SCRYPT_LEN: usize = 64;

const SCRYPT: &str = "werkzeug-scrypt";

pub(crate) fn parse(
    stored: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    // `check_password_hash` splits on the first two `$`; the hex part cannot hold one.
    let mut fields = stored.splitn(3, '$');
    let (Some(method), Some(salt), Some(hex)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(HashError::UnknownScheme {
            dialect: Dialect::Werkzeug,
            prefix: Prefix::Absent,
        });
    };
    let salt = salt.as_bytes().to_vec();
    let mut args = method.split(':');
    let name = args.next().unwrap_or_default();
    let args: Vec<&str> = args.collect();

    match name {
        "pbkdf2" => pbkdf2(&args, salt, hex, limits),
        "scrypt" => scrypt(&args, salt, hex, limits),
        "plain" => Err(malformed(
            "werkzeug-plain",
            "clear-text passwords are not verified; hash them on import instead",
        )),
        _ => {
            let hash = HashFn::from_hashlib_name(name).ok_or_else(|| unknown(name))?;
            let (scheme, layout) = if salt.is_empty() {
                (hash.werkzeug_plain_scheme(), Layout::Unsalted)
            } else {
                (hash.werkzeug_hmac_scheme(), Layout::HmacKeyedBySalt)
            };
            if !args.is_empty() {
                return Err(malformed(scheme, "a digest method takes no ':' arguments"));
            }
            let expected = hex_exact(hex, hash.output_len())
                .ok_or_else(|| malformed(scheme, "digest is not hex of the digest's length"))?;
            let verifier = Verifier::Salted {
                hash,
                layout,
                salt,
                expected,
            };
            Ok((scheme, verifier))
        }
    }
}

fn pbkdf2(
    args: &[&str],
    salt: Vec<u8>,
    hex: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    let (name, rounds) = match args {
        // Only Werkzeug 3 reads this, as sha256 at its release's own default rounds.
        [] => {
            return Err(malformed(
                "werkzeug-pbkdf2",
                "no digest name, so no fixed round count",
            ));
        }
        [name] => (*name, None),
        [name, rounds] => (*name, Some(*rounds)),
        _ => {
            return Err(malformed(
                "werkzeug-pbkdf2",
                "more than two method arguments",
            ));
        }
    };
    let hash = HashFn::from_hashlib_name(name)
        .ok_or_else(|| malformed("werkzeug-pbkdf2", "the digest is not one firegate supports"))?;
    let scheme = hash.werkzeug_pbkdf2_scheme();
    let rounds = match rounds {
        None => DEFAULT_PBKDF2_ROUNDS.into(),
        Some(rounds) => {
            decimal(rounds).ok_or_else(|| malformed(scheme, "rounds are not a number"))?
        }
    };
    let rounds = limits.pbkdf2_rounds(scheme, rounds, hash.pbkdf2_cost())?;
    if salt.is_empty() {
        return Err(malformed(scheme, "salt is empty"));
    }
    let expected = hex_exact(hex, hash.output_len())
        .ok_or_else(|| malformed(scheme, "digest is not hex of the digest's length"))?;
    let verifier = Verifier::Pbkdf2 {
        hash,
        rounds,
        salt,
        expected,
    };
    Ok((scheme, verifier))
}

fn scrypt(
    args: &[&str],
    salt: Vec<u8>,
    hex: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    let (n, r, p) = match args {
        [] => DEFAULT_SCRYPT,
        [n, r, p] => {
            let number =
                |s: &str| decimal(s).ok_or_else(|| malformed(SCRYPT, "n, r or p is not a number"));
            (number(n)?, number(r)?, number(p)?)
        }
        _ => return Err(malformed(SCRYPT, "expected 'scrypt:<n>:<r>:<p>'")),
    };
    if !n.is_power_of_two() {
        return Err(malformed(SCRYPT, "n is not a power of two"));
    }
    let params = limits.scrypt(SCRYPT, n.trailing_zeros().into(), r, p)?;
    let expected = hex_exact(hex, SCRYPT_LEN)
        .ok_or_else(|| malformed(SCRYPT, "digest is not 128 hex digits"))?;
    Ok((
        SCRYPT,
        Verifier::Scrypt {
            params,
            salt,
            expected,
        },
    ))
}

fn unknown(name: &str) -> HashError {
    HashError::UnknownScheme {
        dialect: Dialect::Werkzeug,
        prefix: known_prefix(name),
    }
}

#[cfg(test)]
mod tests {
    use crate::passwords::{CostLimits, Dialect, parse};

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let hex64 = "ab".repeat(32);
        #[rustfmt::skip]
        let cases = [
            (String::new(), "not a recognised hash format"),
            ("pbkdf2:sha256:1000".into(), "not a recognised hash format"),
            ("pbkdf2:sha256:1000$salt".into(), "not a recognised hash format"),
            (format!("pbkdf2:sha256:1000$salt${}", &hex64[1..]), "not hex"),
            (format!("pbkdf2:sha256:1000$salt${hex64}$"), "not hex"),
            (format!("pbkdf2:sha256:1000$salt${}", &hex64[..40]), "not hex"),
            (format!("pbkdf2:sha256:1000$salt${}zz", &hex64[2..]), "not hex"),
            (format!("pbkdf2:sha256:0$salt${hex64}"), "round count is zero"),
            (format!("pbkdf2:sha256:$salt${hex64}"), "rounds are not a number"),
            (format!("pbkdf2:sha256:-5$salt${hex64}"), "rounds are not a number"),
            (format!("pbkdf2:sha256:1:2$salt${hex64}"), "more than two"),
            (format!("pbkdf2$salt${hex64}"), "no digest name"),
            (format!("pbkdf2:sha256:1000$${hex64}"), "salt is empty"),
            (format!("pbkdf2:whirlpool:1000$salt${hex64}"), "werkzeug-pbkdf2 hash: the digest is not one"),
            (format!("scrypt:1000:8:1$salt${hex64}{hex64}"), "not a power of two"),
            (format!("scrypt:1:8:1$salt${hex64}{hex64}"), "N must be at least 2"),
            (format!("scrypt:16384:0:1$salt${hex64}{hex64}"), "r and p at least 1"),
            (format!("scrypt:16384:8$salt${hex64}{hex64}"), "expected 'scrypt"),
            (format!("scrypt:16384:8:1$salt${hex64}"), "not 128 hex digits"),
            (format!("sha256:1$salt${hex64}"), "werkzeug-hmac-sha256 hash: a digest method takes no"),
            (format!("pbkdf2_sha256$1000$salt${hex64}"), "unsupported algorithm prefix 'pbkdf2_sha256'"),
            (format!("Summer:2020$salt${hex64}"), "werkzeug: unrecognised scheme prefix"),
            (format!("sha256$salt${}", &hex64[..62]), "not hex"),
            ("plain$$hunter2".into(), "clear-text"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Werkzeug, cases);
    }

    #[test]
    fn missing_rounds_mean_werkzeug_2_defaults() {
        let hash = "pbkdf2:sha1$salt$".to_owned() + &"00".repeat(20);
        let parsed = parse(Dialect::Werkzeug, &hash, &CostLimits::default()).unwrap();
        assert_eq!(parsed.scheme(), "werkzeug-pbkdf2-sha1");
        assert_eq!(super::DEFAULT_PBKDF2_ROUNDS, 260_000);
    }
}

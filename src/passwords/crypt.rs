//! What crypt(3) writes: modular crypt `$1$` (md5-crypt), `$5$`/`$6$` (sha-crypt) and
//! `$2a$`/`$2b$`/`$2y$` (bcrypt), and 13-character traditional DES. Django's `crypt$`
//! and `bcrypt$` hashers and LDAP's `{CRYPT}` wrap these same strings.

use base64::Engine as _;

use super::digest::HashFn;
use super::encoding::{decimal, is_hash64};
use super::limits::CostLimits;
use super::scheme::{HashError, malformed};
use super::verifier::{BcryptInput, Verifier};

type Parsed = Result<(&'static str, Verifier), HashError>;

/// Parses a crypt(3) string, or returns `None` when it has none of crypt's shapes.
pub(crate) fn parse(s: &str, limits: &CostLimits) -> Option<Parsed> {
    if s.starts_with("$1$") {
        return Some(md5_crypt(s));
    }
    if s.starts_with("$5$") {
        return Some(sha_crypt(s, sha_crypt::Algorithm::Sha256Crypt, limits));
    }
    if s.starts_with("$6$") {
        return Some(sha_crypt(s, sha_crypt::Algorithm::Sha512Crypt, limits));
    }
    if s.starts_with("$2") {
        return Some(bcrypt(s, "bcrypt", BcryptInput::Password, limits));
    }
    if s.len() == 13 && is_hash64(s) {
        return Some(des_crypt(s));
    }
    None
}

/// A 60-character bcrypt string, as pyca/bcrypt, OpenBSD and crypt_blowfish write it.
/// Passwords are cut at 72 bytes, as every writer did until pyca/bcrypt 5.0, which
/// refuses longer ones instead, so no hash it wrote can depend on the difference.
/// `$2x$` (crypt_blowfish's marker for its old sign-extension bug) is refused: none
/// of the libraries whose hashes we verify would check it the same way.
pub(crate) fn bcrypt(
    s: &str,
    scheme: &'static str,
    input: BcryptInput,
    limits: &CostLimits,
) -> Parsed {
    if s.len() != 60 || !s.is_ascii() {
        return Err(malformed(scheme, "expected 60 characters"));
    }
    if !["$2a$", "$2b$", "$2y$"].iter().any(|v| s.starts_with(v)) {
        return Err(malformed(scheme, "version must be $2a$, $2b$ or $2y$"));
    }
    if &s[6..7] != "$" {
        return Err(malformed(
            scheme,
            "expected '$<2-digit cost>$' after the version",
        ));
    }
    let cost = decimal(&s[4..6]).ok_or_else(|| malformed(scheme, "cost is not a number"))?;
    if cost > 31 {
        return Err(malformed(scheme, "cost above 31"));
    }
    let cost = limits.bcrypt_cost(scheme, cost)?;
    let salt = bcrypt::BASE_64
        .decode(&s[7..29])
        .ok()
        .and_then(|salt| <[u8; 16]>::try_from(salt).ok())
        .ok_or_else(|| malformed(scheme, "salt is not 22 characters of bcrypt base64"))?;
    if bcrypt::BASE_64.decode(&s[29..]).map(|h| h.len()) != Ok(23) {
        return Err(malformed(
            scheme,
            "checksum is not 31 characters of bcrypt base64",
        ));
    }
    let expected = s[29..].to_owned();
    let verifier = Verifier::Bcrypt {
        input,
        cost,
        salt,
        expected,
    };
    Ok((scheme, verifier))
}

fn md5_crypt(s: &str) -> Parsed {
    const SCHEME: &str = "md5-crypt";
    let Some((salt, checksum)) = s[3..].split_once('$') else {
        return Err(malformed(SCHEME, "expected '$1$<salt>$<checksum>'"));
    };
    // crypt(3) reads at most 8 salt characters and writes back only those.
    if salt.len() > 8 || !is_hash64(salt) {
        return Err(malformed(SCHEME, "salt is not up to 8 crypt characters"));
    }
    if !decodes_to::<base64ct::Base64ShaCrypt>(checksum, 22, 16) {
        return Err(malformed(SCHEME, "checksum is not 22 crypt characters"));
    }
    let stored = s.to_owned();
    Ok((SCHEME, Verifier::Md5Crypt { stored }))
}

fn sha_crypt(s: &str, algorithm: sha_crypt::Algorithm, limits: &CostLimits) -> Parsed {
    let (scheme, chars, bytes, hash) = if matches!(algorithm, sha_crypt::Algorithm::Sha256Crypt) {
        ("sha256-crypt", 43, 32, HashFn::Sha256)
    } else {
        ("sha512-crypt", 86, 64, HashFn::Sha512)
    };
    let fields: Vec<&str> = s[3..].split('$').collect();
    let (rounds, salt, checksum) = match fields.as_slice() {
        [rounds, salt, checksum] => (rounds.strip_prefix("rounds="), *salt, *checksum),
        // Without the field glibc uses 5000, and a salt that looks like it would be read as it.
        [salt, checksum] if !salt.starts_with("rounds=") => (Some("5000"), *salt, *checksum),
        _ => {
            return Err(malformed(
                scheme,
                "expected '$N$[rounds=<n>$]<salt>$<checksum>'",
            ));
        }
    };
    let rounds = rounds
        .and_then(decimal)
        .ok_or_else(|| malformed(scheme, "expected 'rounds=<n>' before the salt"))?;
    let budget = limits.sha_crypt_rounds(scheme, rounds, hash)?;
    // glibc would cap these and write the capped count back, so no stored one matched.
    if rounds > 999_999_999 {
        return Err(malformed(scheme, "round count above 999999999"));
    }
    // glibc writes back at most 16 salt characters; the verifier reads modular-crypt
    // fields, which allow no empty salt and only `[A-Za-z0-9./+=,-]`.
    if salt.len() > 16 || sha_crypt::PasswordHashRef::new(s).is_err() {
        return Err(malformed(
            scheme,
            "salt is not 1 to 16 modular-crypt characters",
        ));
    }
    if !decodes_to::<base64ct::Base64ShaCrypt>(checksum, chars, bytes) {
        return Err(malformed(
            scheme,
            "checksum has the wrong length or encoding",
        ));
    }
    let stored = s.to_owned();
    let verifier = Verifier::ShaCrypt {
        algorithm,
        hash,
        rounds,
        salt_len: salt.len(),
        budget,
        stored,
    };
    Ok((scheme, verifier))
}

fn des_crypt(s: &str) -> Parsed {
    const SCHEME: &str = "des-crypt";
    // DES output is the one crypt encoding in big-endian bit order.
    const DES64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::CRYPT,
        base64::engine::general_purpose::NO_PAD,
    );
    if DES64.decode(&s[2..]).map(|d| d.len()) != Ok(8) {
        return Err(malformed(SCHEME, "checksum is not 11 crypt characters"));
    }
    let stored = s.to_owned();
    Ok((SCHEME, Verifier::DesCrypt { stored }))
}

/// Whether `text` is `chars` long and decodes canonically to exactly `bytes` bytes:
/// crypt compares whole strings, so stray bits in the last character never matched.
fn decodes_to<E: base64ct::Encoding>(text: &str, chars: usize, bytes: usize) -> bool {
    let mut buf = [0u8; 64];
    text.len() == chars && E::decode(text, &mut buf).is_ok_and(|out| out.len() == bytes)
}

#[cfg(test)]
mod tests {
    use crate::passwords::Dialect;

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let bcrypt = "$2b$10$cWaQHAyS7LetDFp2nX6uQejPHrIMQJBpUA8QQ/r.Y39iG8wWyNjdK";
        let sha256 = "JX/XXmaqUP9Pg5.lIN6qqALHmapW3BVbS3BzY/os1U4";
        #[rustfmt::skip]
        let cases = [
            (bcrypt[..59].to_owned(), "expected 60 characters"),
            (format!("{bcrypt}x"), "expected 60 characters"),
            (format!("$2x{}", &bcrypt[3..]), "version must be"),
            (format!("$2{}", &bcrypt[3..]), "expected 60 characters"),
            (format!("$2b$1a{}", &bcrypt[6..]), "cost is not a number"),
            (format!("$2b$10x{}", &bcrypt[7..]), "expected '$<2-digit cost>$'"),
            (format!("$2b$32{}", &bcrypt[6..]), "cost above 31"),
            (format!("{}é{}", &bcrypt[..20], &bcrypt[22..]), "expected 60 characters"),
            (format!("{}*{}", &bcrypt[..20], &bcrypt[21..]), "salt is not 22 characters"),
            (format!("{}*", &bcrypt[..59]), "checksum is not 31 characters"),
            ("$1$saltsaltx$q1n4r8hVvf/4AjrJ0l33j.".into(), "salt is not up to 8"),
            ("$1$6rWV8mXn".into(), "expected '$1$<salt>$<checksum>'"),
            ("$1$6rWV8mXn$q1n4r8hVvf/4AjrJ0l33j".into(), "checksum is not 22"),
            ("$1$6rWV8mXn$q1n4r8hVvf/4AjrJ0l33jz".into(), "checksum is not 22"),
            (format!("$5$rounds=999$salt${sha256}"), "round count below 1000"),
            (format!("$5$rounds=1000999999$salt${sha256}"), "exceeds the limit"),
            (format!("$5$round=5000$salt${sha256}"), "expected 'rounds=<n>'"),
            (format!("$5$rounds=5000${sha256}"), "expected '$N$"),
            (format!("$5$${sha256}"), "salt is not 1 to 16"),
            (format!("$5$0123456789abcdefg${sha256}"), "salt is not 1 to 16"),
            (format!("$5$sa_t${sha256}"), "salt is not 1 to 16"),
            (format!("$5$salt${sha256}x"), "checksum has the wrong length"),
            (format!("$5$salt${}z", &sha256[..42]), "checksum has the wrong length"),
            (format!("$6$salt${sha256}"), "checksum has the wrong length"),
            ("1mnyI2ZzSHqX3".into(), "des-crypt hash: checksum"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Phc, cases);
    }
}

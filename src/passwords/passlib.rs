//! passlib formats of the `phc` dialect that are not plain PHC or crypt(3): `$bcrypt-sha256$`
//! (both versions), Apache's `$apr1$` md5-crypt, and NetBSD's `$sha1$` (`sha1_crypt`).

use md5::Digest as _;

use super::crypt;
use super::encoding::{decimal, is_hash64};
use super::limits::CostLimits;
use super::phpass::encode64;
use super::scheme::{HashError, malformed};
use super::verifier::{BcryptInput, Verifier};

type Parsed = Result<(&'static str, Verifier), HashError>;

/// Version 1 `$bcrypt-sha256$2b,12$<salt>$<digest>` and version 2
/// `$bcrypt-sha256$v=2,t=2b,r=12$<salt>$<digest>`: bcrypt of base64(SHA-256(password)), or of
/// base64(HMAC-SHA256 keyed by the 22-character salt) in version 2.
pub(crate) fn bcrypt_sha256(s: &str, limits: &CostLimits) -> Parsed {
    const SCHEME: &str = "passlib-bcrypt-sha256";
    let fields: Vec<&str> = s.split('$').collect();
    let ["", "bcrypt-sha256", params, salt, digest] = fields.as_slice() else {
        return Err(malformed(
            SCHEME,
            "expected '$bcrypt-sha256$<params>$<salt>$<digest>'",
        ));
    };
    let (version, cost, input) = match params.split(',').collect::<Vec<_>>().as_slice() {
        [version @ ("2a" | "2b"), cost] => (*version, *cost, BcryptInput::Sha256Base64),
        ["v=2", t, r] => match (t.strip_prefix("t="), r.strip_prefix("r=")) {
            (Some(version @ "2b"), Some(cost)) => (version, cost, BcryptInput::HmacSha256Base64),
            _ => return Err(malformed(SCHEME, "expected 'v=2,t=2b,r=<cost>'")),
        },
        _ => {
            return Err(malformed(
                SCHEME,
                "expected '2b,<cost>' (version 1) or 'v=2,t=2b,r=<cost>'",
            ));
        }
    };
    // passlib writes the cost without a leading zero (`r=5`).
    if cost.is_empty() || cost.len() > 2 || !cost.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(SCHEME, "cost is not one or two digits"));
    }
    // Version 2 keys its HMAC with the salt's text, which the verifier re-encodes from the
    // decoded salt: the bcrypt decoder takes canonical text only, so that gives it back.
    let (_, verifier) = crypt::bcrypt(
        &format!("${version}${cost:0>2}${salt}{digest}"),
        SCHEME,
        input,
        limits,
    )?;
    Ok((SCHEME, verifier))
}

/// Apache's `$apr1$<salt>$<checksum>`: md5-crypt with `$apr1$` as its magic string.
pub(crate) fn apr1(s: &str) -> Parsed {
    const SCHEME: &str = "apr1";
    let Some((salt, checksum)) = s["$apr1$".len()..].split_once('$') else {
        return Err(malformed(SCHEME, "expected '$apr1$<salt>$<checksum>'"));
    };
    if salt.is_empty() || salt.len() > 8 || !is_hash64(salt) {
        return Err(malformed(SCHEME, "salt is not 1 to 8 crypt characters"));
    }
    if checksum.len() != 22 || !is_hash64(checksum) {
        return Err(malformed(SCHEME, "checksum is not 22 crypt characters"));
    }
    let verifier = Verifier::Apr1 {
        salt: salt.to_owned(),
        expected: checksum.to_owned(),
    };
    Ok((SCHEME, verifier))
}

/// md5-crypt (Poul-Henning Kamp's, as Apache and passlib compute it) with `magic`, returning
/// the 22-character checksum.
pub(crate) fn md5_crypt(password: &[u8], salt: &[u8], magic: &[u8]) -> String {
    let md5 = |parts: &[&[u8]]| {
        let mut hasher = md5::Md5::new();
        for part in parts {
            hasher.update(part);
        }
        <[u8; 16]>::from(hasher.finalize())
    };
    let alternate = md5(&[password, salt, password]);
    let mut hasher = md5::Md5::new();
    hasher.update(password);
    hasher.update(magic);
    hasher.update(salt);
    for chunk in password.chunks(16) {
        hasher.update(&alternate[..chunk.len()]);
    }
    let mut length = password.len();
    while length > 0 {
        if length & 1 == 1 {
            hasher.update([0u8]);
        } else {
            hasher.update(&password[..1]);
        }
        length >>= 1;
    }
    let mut digest = <[u8; 16]>::from(hasher.finalize());
    for round in 0..1000 {
        let mut hasher = md5::Md5::new();
        hasher.update(if round & 1 == 1 {
            password
        } else {
            &digest[..]
        });
        if round % 3 != 0 {
            hasher.update(salt);
        }
        if round % 7 != 0 {
            hasher.update(password);
        }
        hasher.update(if round & 1 == 1 {
            &digest[..]
        } else {
            password
        });
        digest = hasher.finalize().into();
    }
    const ORDER: [usize; 16] = [12, 6, 0, 13, 7, 1, 14, 8, 2, 15, 9, 3, 5, 10, 4, 11];
    encode64(&ORDER.map(|i| digest[i]))
}

/// NetBSD's `$sha1$<rounds>$<salt>$<checksum>`: HMAC-SHA1 keyed by the password, first over
/// `<salt>$sha1$<rounds>`, then over its own output, `rounds` times in all.
pub(crate) fn sha1_crypt(s: &str, limits: &CostLimits) -> Parsed {
    const SCHEME: &str = "sha1-crypt";
    let fields: Vec<&str> = s.split('$').collect();
    let ["", "sha1", rounds, salt, checksum] = fields.as_slice() else {
        return Err(malformed(
            SCHEME,
            "expected '$sha1$<rounds>$<salt>$<checksum>'",
        ));
    };
    // passlib writes the count without leading zeros and reads it back the same way.
    if rounds.len() > 1 && rounds.starts_with('0') {
        return Err(malformed(SCHEME, "rounds have a leading zero"));
    }
    let rounds = decimal(rounds).ok_or_else(|| malformed(SCHEME, "rounds are not a number"))?;
    let rounds = limits.pbkdf2_rounds(SCHEME, rounds, 1)?;
    if salt.is_empty() || salt.len() > 64 || !is_hash64(salt) {
        return Err(malformed(SCHEME, "salt is not 1 to 64 crypt characters"));
    }
    if checksum.len() != 28 || !is_hash64(checksum) {
        return Err(malformed(SCHEME, "checksum is not 28 crypt characters"));
    }
    let verifier = Verifier::Sha1Crypt {
        rounds,
        salt: salt.to_string(),
        expected: checksum.to_string(),
    };
    Ok((SCHEME, verifier))
}

/// The `$sha1$` checksum for `password`.
pub(crate) fn sha1_crypt_checksum(password: &[u8], salt: &str, rounds: u32) -> Option<String> {
    use hmac::{KeyInit as _, Mac as _};
    let keyed = hmac::Hmac::<sha1::Sha1>::new_from_slice(password).ok()?;
    let mut mac = keyed.clone();
    mac.update(format!("{salt}$sha1${rounds}").as_bytes());
    let mut result = mac.finalize().into_bytes();
    for _ in 1..rounds {
        let mut mac = keyed.clone();
        mac.update(&result);
        result = mac.finalize().into_bytes();
    }
    const ORDER: [usize; 21] = [
        2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9, 14, 13, 12, 17, 16, 15, 0, 19, 18,
    ];
    Some(encode64(&ORDER.map(|i| result[i])))
}

#[cfg(test)]
mod tests {
    use crate::passwords::Dialect;

    #[test]
    fn md5_crypt_with_the_standard_magic_agrees_with_pwhash() {
        #[allow(deprecated)]
        let reference = pwhash::md5_crypt::hash_with("$1$saltstri$", "pässwörd").unwrap();
        let ours = super::md5_crypt("pässwörd".as_bytes(), b"saltstri", b"$1$");
        assert_eq!(reference, format!("$1$saltstri${ours}"));
    }

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let v1 = "$bcrypt-sha256$2b,12$W4z2zToSoGKfMC3SIIJzIe$jGtm5koTN9bjI/Wer4AptJjDd1CqGOO";
        #[rustfmt::skip]
        let cases = [
            (v1.replace("2b,12", "2y,12"), "expected '2b,<cost>'"),
            (v1.replace("2b,12", "2b,123"), "cost is not one or two digits"),
            (v1.replace("2b,12", "v=2,t=2a,r=12"), "expected 'v=2,t=2b,r=<cost>'"),
            (v1.replace("2b,12", "v=2,t=2b,r=12").replace("Ie$", "If$"), "salt is not 22 characters"),
            (v1[..70].to_owned(), "expected 60 characters"),
            ("$bcrypt-sha256$2b,12$salt".into(), "expected '$bcrypt-sha256$"),
            ("$apr1$oZnryeTr".into(), "expected '$apr1$<salt>$<checksum>'"),
            ("$apr1$oZnryeTr9$It9GU1lkZ9ngCqk1xGp6J/".into(), "salt is not 1 to 8"),
            ("$apr1$oZnryeTr$It9GU1lkZ9ngCqk1xGp6J".into(), "checksum is not 22"),
            ("$sha1$480000$aNtwldPR".into(), "expected '$sha1$"),
            ("$sha1$0480000$aNtwldPR$RSwVWjLn/uD5W2fDQbG29eDw50QO".into(), "leading zero"),
            ("$sha1$0$aNtwldPR$RSwVWjLn/uD5W2fDQbG29eDw50QO".into(), "round count is zero"),
            ("$sha1$99999999$aNtwldPR$RSwVWjLn/uD5W2fDQbG29eDw50QO".into(), "exceeds the limit"),
            ("$sha1$480000$a_b$RSwVWjLn/uD5W2fDQbG29eDw50QO".into(), "salt is not 1 to 64"),
            ("$sha1$480000$aNtwldPR$RSwVWjLn/uD5W2fDQbG29eDw50Q".into(), "checksum is not 28"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Phc, cases);
    }
}

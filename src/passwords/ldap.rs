//! LDAP `userPassword` values as passlib and OpenLDAP write them: `{SSHA}` and its
//! SHA-2 and MD5 siblings (base64 of digest ‖ salt), their unsalted forms, and
//! `{CRYPT}` around a crypt(3) string.

use super::digest::HashFn;
use super::encoding::{b64_lenient, known_prefix};
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, malformed};
use super::verifier::{Layout, Verifier};
use super::{crypt, phc};

/// Longest salt accepted after the digest; passlib writes 4 to 16 bytes, others 8.
const MAX_SALT_LEN: usize = 64;

pub(crate) fn parse(
    stored: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    let Some((tag, payload)) = stored
        .strip_prefix('{')
        .and_then(|rest| rest.split_once('}'))
    else {
        return Err(malformed("ldap", "expected '{SCHEME}<value>'"));
    };
    // Directory servers match scheme tags case-insensitively.
    let (hash, salted, scheme) = match tag.to_ascii_uppercase().as_str() {
        "SHA" => (HashFn::Sha1, false, "ldap-sha"),
        "SSHA" => (HashFn::Sha1, true, "ldap-ssha"),
        "SHA256" => (HashFn::Sha256, false, "ldap-sha256"),
        "SSHA256" => (HashFn::Sha256, true, "ldap-ssha256"),
        "SHA512" => (HashFn::Sha512, false, "ldap-sha512"),
        "SSHA512" => (HashFn::Sha512, true, "ldap-ssha512"),
        "MD5" => (HashFn::Md5, false, "ldap-md5"),
        "SMD5" => (HashFn::Md5, true, "ldap-smd5"),
        "PKCS5S2" => return pkcs5s2(payload, limits),
        "PBKDF2" | "PBKDF2-SHA1" | "PBKDF2-SHA256" | "PBKDF2-SHA512" => {
            let (hash, scheme) = match tag.to_ascii_uppercase().as_str() {
                "PBKDF2-SHA256" => (HashFn::Sha256, "ldap-pbkdf2-sha256"),
                "PBKDF2-SHA512" => (HashFn::Sha512, "ldap-pbkdf2-sha512"),
                _ => (HashFn::Sha1, "ldap-pbkdf2-sha1"),
            };
            let fields: Vec<&str> = payload.split('$').collect();
            let [rounds, salt, checksum]: [&str; 3] = fields
                .try_into()
                .map_err(|_| malformed(scheme, "expected '<rounds>$<salt>$<checksum>'"))?;
            return phc::pbkdf2_fields(hash, scheme, [rounds, salt, checksum], limits);
        }
        "CRYPT" => {
            return crypt::parse(payload, limits)
                .unwrap_or_else(|| Err(malformed("ldap-crypt", "value is not a crypt(3) hash")));
        }
        _ => {
            return Err(HashError::UnknownScheme {
                dialect: Dialect::Phc,
                prefix: known_prefix(&format!("{{{tag}}}")),
            });
        }
    };
    let decoded = b64_lenient(payload).ok_or_else(|| malformed(scheme, "value is not base64"))?;
    let digest_len = hash.output_len();
    let salt_range = if salted { 1..=MAX_SALT_LEN } else { 0..=0 };
    let salt_len = decoded.len().checked_sub(digest_len);
    if !salt_len.is_some_and(|len| salt_range.contains(&len)) {
        return Err(malformed(
            scheme,
            if salted {
                "value is not a digest followed by 1 to 64 salt bytes"
            } else {
                "value is not exactly one digest"
            },
        ));
    }
    let (expected, salt) = decoded.split_at(digest_len);
    let verifier = Verifier::Salted {
        hash,
        layout: Layout::PasswordThenSalt,
        salt: salt.to_vec(),
        expected: expected.to_vec(),
    };
    Ok((scheme, verifier))
}

/// Atlassian's `{PKCS5S2}`: base64 of a 16-byte salt and a 32-byte PBKDF2-HMAC-SHA1 key, at
/// 10,000 rounds (Jira, Confluence, Crowd; passlib's `atlassian_pbkdf2_sha1`).
fn pkcs5s2(payload: &str, limits: &CostLimits) -> Result<(&'static str, Verifier), HashError> {
    const SCHEME: &str = "atlassian-pbkdf2-sha1";
    let decoded = b64_lenient(payload)
        .filter(|d| d.len() == 48)
        .ok_or_else(|| malformed(SCHEME, "value is not base64 of 48 bytes"))?;
    let rounds = limits.pbkdf2_rounds(SCHEME, 10_000, HashFn::Sha1.pbkdf2_cost())?;
    let verifier = Verifier::Pbkdf2 {
        hash: HashFn::Sha1,
        rounds,
        salt: decoded[..16].to_vec(),
        expected: decoded[16..].to_vec(),
    };
    Ok((SCHEME, verifier))
}

#[cfg(test)]
mod tests {
    use crate::passwords::{CostLimits, Dialect, parse};

    #[test]
    fn malformed_values_fail_with_a_reason() {
        #[rustfmt::skip]
        let cases = [
            ("{SSHA", "expected '{SCHEME}<value>'"),
            ("{SSHA}", "not a digest followed by 1 to 64 salt bytes"),
            ("{SSHA}9V9SO5g95bkm8xGdciKV9Kn+ea8=", "not a digest followed by 1 to 64 salt bytes"),
            ("{SSHA}9V9SO5g95bkm8xGdciKV9Kn+ea8QIsSY!", "value is not base64"),
            ("{SHA}9Rfd8dMqES/xrVXGbRsSyzjn6PcA", "not exactly one digest"),
            ("{CRYPT}hunter2", "ldap-crypt hash: value is not a crypt(3) hash"),
            ("{PBKDF2}1000$salt", "expected '<rounds>$<salt>$<checksum>'"),
            ("{PBKDF2-SHA256}1000$sa+t$hash", "salt is not adapted base64"),
            ("{pkcs5s2}x", "value is not base64 of 48 bytes"),
            ("{SSHA384}x", "unsupported algorithm prefix '{SSHA384}'"),
            ("{Summer}2020", "phc: unrecognised scheme prefix"),
            ("{}x", "unrecognised scheme prefix"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Phc, cases);
    }

    #[test]
    fn scheme_tags_are_case_insensitive() {
        let parsed = parse(
            Dialect::Phc,
            "{ssha}9V9SO5g95bkm8xGdciKV9Kn+ea8QIsSY",
            &CostLimits::default(),
        );
        assert!(parsed.unwrap().verify("🔑emoji-key"));
    }
}

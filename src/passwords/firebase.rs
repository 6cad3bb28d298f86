//! The `firebase` dialect: Firebase Auth's modified scrypt. The stored string is firegate's
//! own, built by `firegate import --format firebase` from an exported account's
//! `passwordHash` and `salt`: `$firebase-scrypt$<project id>$r=<rounds>,m=<mem_cost>$<salt>$<hash>`.
//! The project's signer key never enters it; it comes from `--hash-config` when verifying.
//!
//! The check (github.com/firebase/scrypt, `scryptenc_buf_saltlen`): derive 64 bytes with
//! scrypt(password, salt ‖ salt separator, N = 2^mem_cost, r = rounds, p = 1), then encrypt the
//! signer key with AES-256-CTR under the first 32 of them and a zero counter block; the result
//! is the password hash.

use std::sync::Arc;

use super::encoding::b64_padded;
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, Prefix, malformed};
use super::settings::{DialectSettings, FirebaseProject};
use super::verifier::Verifier;

const SCHEME: &str = "firebase-scrypt";

pub(crate) fn parse(
    stored: &str,
    settings: &DialectSettings,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    let fields: Vec<&str> = stored.split('$').collect();
    let ["", "firebase-scrypt", id, params, salt, hash] = fields.as_slice() else {
        return Err(if stored.starts_with("$firebase-scrypt$") {
            malformed(
                SCHEME,
                "expected '$firebase-scrypt$<id>$r=<rounds>,m=<mem_cost>$<salt>$<hash>'",
            )
        } else {
            HashError::UnknownScheme {
                dialect: Dialect::Firebase,
                prefix: Prefix::Absent,
            }
        });
    };
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(SCHEME, "project id is not 12 hex digits"));
    }
    let (rounds, mem_cost) = params
        .split_once(',')
        .and_then(|(r, m)| Some((r.strip_prefix("r=")?, m.strip_prefix("m=")?)))
        .and_then(|(r, m)| Some((r.parse::<u64>().ok()?, m.parse::<u64>().ok()?)))
        .ok_or_else(|| malformed(SCHEME, "expected 'r=<rounds>,m=<mem_cost>'"))?;
    let params = limits.scrypt(SCHEME, mem_cost, rounds, 1)?;
    let salt = b64_padded(salt).ok_or_else(|| malformed(SCHEME, "salt is not base64"))?;
    let expected = b64_padded(hash)
        .filter(|h| h.len() >= 16)
        .ok_or_else(|| malformed(SCHEME, "hash is not base64 of at least 16 bytes"))?;
    // Parameters that disagree with the string's costs are another project's, never this one.
    let project = settings
        .firebase_project(id)
        .filter(|p| u64::from(p.rounds) == rounds && u64::from(p.mem_cost) == mem_cost)
        .filter(|p| p.signer_key().len() == expected.len())
        .cloned();
    Ok((
        SCHEME,
        Verifier::FirebaseScrypt {
            params,
            salt,
            expected,
            project,
        },
    ))
}

/// The hash Firebase computes for `password` (see the module docs).
pub(crate) fn hash(
    project: &Arc<FirebaseProject>,
    params: &scrypt::Params,
    salt: &[u8],
    password: &[u8],
) -> Option<Vec<u8>> {
    use aes::cipher::{KeyIvInit as _, StreamCipher as _};
    let mut salted = salt.to_vec();
    salted.extend_from_slice(project.salt_separator());
    let mut derived = zeroize::Zeroizing::new([0u8; 64]);
    scrypt::scrypt(password, &salted, params, derived.as_mut()).ok()?;
    let mut out = project.signer_key().to_vec();
    let mut cipher =
        ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16]).ok()?;
    cipher.apply_keystream(&mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::passwords::Dialect;

    #[test]
    fn malformed_strings_fail_with_a_reason() {
        let salt = "42xEC+ixf3L2lw==";
        let hash = "70k8Vg5B3/OrvJOiqusnasv0dLcBHoDAqJrJr7TRLBfMw4MitWx51YXJYFdGiyMbMeKtWtLf5HiBDcN0SUOm4A==";
        #[rustfmt::skip]
        let cases = [
            (hash.to_owned(), "firebase: not a recognised hash format"),
            (format!("$firebase-scrypt$0123456789ab$r=8,m=14${salt}"), "expected '$firebase-scrypt$"),
            (format!("$firebase-scrypt$0123$r=8,m=14${salt}${hash}"), "12 hex digits"),
            (format!("$firebase-scrypt$0123456789ab$m=14,r=8${salt}${hash}"), "expected 'r=<rounds>,m=<mem_cost>'"),
            (format!("$firebase-scrypt$0123456789ab$r=8,m=24${salt}${hash}"), "exceeds the limit"),
            (format!("$firebase-scrypt$0123456789ab$r=8,m=14$!${hash}"), "salt is not base64"),
            (format!("$firebase-scrypt$0123456789ab$r=8,m=14${salt}$AAAA"), "at least 16 bytes"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Firebase, cases);
    }
}

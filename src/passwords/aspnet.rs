//! The `aspnet` dialect: ASP.NET Identity's `PasswordHasher` output as stored in
//! `AspNetUsers.PasswordHash`, base64 of a version byte and PBKDF2 parameters: v2 (`0x00`,
//! HMAC-SHA1, 1,000 iterations, 16-byte salt, 32-byte subkey) and v3 (`0x01`, then the PRF,
//! iteration count and salt length as big-endian 32-bit integers, the salt and the subkey).

use super::digest::HashFn;
use super::encoding::b64_padded;
use super::limits::CostLimits;
use super::scheme::{Dialect, HashError, Prefix, malformed};
use super::verifier::Verifier;

/// The shortest salt and subkey ASP.NET accepts (128 bits each).
const MIN_LEN: usize = 16;

pub(crate) fn parse(
    stored: &str,
    limits: &CostLimits,
) -> Result<(&'static str, Verifier), HashError> {
    let Some(raw) = b64_padded(stored) else {
        return Err(HashError::UnknownScheme {
            dialect: Dialect::Aspnet,
            prefix: Prefix::Absent,
        });
    };
    match raw.first() {
        Some(0x00) => v2(&raw, limits),
        Some(0x01) => v3(&raw, limits),
        _ => Err(malformed(
            "aspnet",
            "format marker is neither 0x00 (v2) nor 0x01 (v3)",
        )),
    }
}

fn v2(raw: &[u8], limits: &CostLimits) -> Result<(&'static str, Verifier), HashError> {
    const SCHEME: &str = "aspnet-v2";
    // Exactly 1 + 16 + 32 bytes: ASP.NET refuses anything shorter or longer.
    if raw.len() != 49 {
        return Err(malformed(
            SCHEME,
            "expected 49 bytes (marker, 16-byte salt, 32-byte subkey)",
        ));
    }
    let rounds = limits.pbkdf2_rounds(SCHEME, 1000, HashFn::Sha1.pbkdf2_cost())?;
    Ok((
        SCHEME,
        Verifier::Pbkdf2 {
            hash: HashFn::Sha1,
            rounds,
            salt: raw[1..17].to_vec(),
            expected: raw[17..].to_vec(),
        },
    ))
}

fn v3(raw: &[u8], limits: &CostLimits) -> Result<(&'static str, Verifier), HashError> {
    let header = |at: usize| {
        raw.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(prf), Some(rounds), Some(salt_len)) = (header(1), header(5), header(9)) else {
        return Err(malformed("aspnet-v3", "shorter than its 13-byte header"));
    };
    let (hash, scheme) = match prf {
        0 => (HashFn::Sha1, "aspnet-v3-sha1"),
        1 => (HashFn::Sha256, "aspnet-v3-sha256"),
        2 => (HashFn::Sha512, "aspnet-v3-sha512"),
        _ => {
            return Err(malformed(
                "aspnet-v3",
                "PRF is not 0 (SHA1), 1 (SHA256) or 2 (SHA512)",
            ));
        }
    };
    let rounds = limits.pbkdf2_rounds(scheme, rounds.into(), hash.pbkdf2_cost())?;
    let salt_len = salt_len as usize;
    const MAX_SUBKEY: usize = 64;
    if salt_len < MIN_LEN {
        return Err(malformed(scheme, "salt shorter than 16 bytes"));
    }
    let body = &raw[13..];
    if body.len() < salt_len + MIN_LEN {
        return Err(malformed(scheme, "subkey shorter than 16 bytes"));
    }
    // PBKDF2's work grows with the output: each 20-, 32- or 64-byte block is the full round
    // count again, which the ceiling (one block) does not count. ASP.NET writes 32 bytes.
    if body.len() - salt_len > MAX_SUBKEY {
        return Err(malformed(scheme, "subkey longer than 64 bytes"));
    }
    let (salt, subkey) = body.split_at(salt_len);
    Ok((
        scheme,
        Verifier::Pbkdf2 {
            hash,
            rounds,
            salt: salt.to_vec(),
            expected: subkey.to_vec(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::passwords::Dialect;

    #[test]
    fn aspnet_core_failure_payloads_are_refused() {
        // PasswordHasherTest.VerifyHashedPassword_FailureCases "too short" / "extra data";
        // ASP.NET reads the v3 "extra data" case as a longer subkey, and so do we (it then
        // fails to verify, see tests.rs).
        #[rustfmt::skip]
        let cases = [
            ("AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggE=", "expected 49 bytes"),
            ("AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJgAAAAAAAAAAAAA=", "expected 49 bytes"),
            ("AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4A=", "subkey shorter than 16 bytes"),
            ("AQAAAAMAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw", "PRF is not"),
            ("AgAAAAMAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw", "format marker"),
            ("AQAAAA==", "13-byte header"),
            ("AQAAAAEAA9CQAAAACESkQuj2Du8Y+kbc5lcN/W/3NiAZFEm11P27nrSN5/tId+bR1SwV8CO1Jd72r4C08OLvplNlCDc3oQZ8efcW+jQ=", "salt shorter than 16"),
            ("AQAAAAEP////AAAAEESkQuj2Du8Y+kbc5lcN/W/3NiAZFEm11P27nrSN5/tId+bR1SwV8CO1Jd72r4C08OLvplNlCDc3oQZ8efcW+jQ=", "exceeds the limit"),
            // A 65-byte subkey: every further PBKDF2 block would cost the rounds again.
            ("AQAAAAEAAAPoAAAAEAcHBwcHBwcHBwcHBwcHBwcJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQ==", "subkey longer than 64 bytes"),
            ("not base64!", "aspnet: not a recognised hash format"),
            ("$2y$10$x", "aspnet: not a recognised hash format"),
        ];
        crate::passwords::tests::assert_refused(Dialect::Aspnet, cases);
    }
}

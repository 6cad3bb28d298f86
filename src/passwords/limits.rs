//! The ceilings on the cost parameters a stored hash may ask for. A hash above them is
//! rejected when parsed, so a hostile or corrupt row can never make a login compute it.

use super::digest::HashFn;
use super::scheme::{HashError, malformed};

/// Upper bounds on stored cost parameters. The defaults admit every library default seen in
/// the wild and keep the costliest admitted hash of each family to about a second of one
/// core (measured with `cargo bench --bench hashes -- ceilings`; table in the book), and
/// the memory of one check to 128 MiB, so a 256 MiB instance holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostLimits {
    /// PBKDF2 rounds, any dialect, counted in SHA-256 rounds: a round of a costlier digest
    /// counts several (SHA-512 6, SHA3 14, …; see `HashFn::pbkdf2_cost`), since one round
    /// count cannot bound the time of digests 14× apart. Django 6 writes 1,200,000 SHA-256
    /// rounds, and Werkzeug 3.1 1,000,000 of PBKDF2-SHA512 (6,000,000 counted). Default
    /// 6,000,000.
    pub max_pbkdf2_rounds: u32,
    /// scrypt log2(N) (passlib writes 16, Werkzeug 15, Django 14). Default 20.
    pub max_scrypt_log_n: u8,
    /// scrypt 128·N·r·p bytes: the memory of an implementation that runs the p lanes at
    /// once, and proportional to the time ours takes running them in turn. Default 128 MiB.
    pub max_scrypt_memory_bytes: u64,
    /// bcrypt log2 cost (libraries write 10–12). Default 14.
    pub max_bcrypt_cost: u32,
    /// argon2 memory in KiB (`m=`; argon2-cffi writes 65,536, Django 102,400). Default 128 MiB.
    pub max_argon2_memory_kib: u32,
    /// argon2 passes (`t=`) at the memory ceiling: the time is memory × passes, so a hash
    /// using less memory may make proportionally more passes (OWASP's m=7 MiB, t=5 fits).
    /// Default 4.
    pub max_argon2_time: u32,
    /// argon2 lanes (`p=`; libraries write 1–8). Lanes share the memory bound, so they
    /// add no work of their own here. Default 64.
    pub max_argon2_lanes: u32,
    /// sha256-crypt / sha512-crypt rounds (passlib writes 535,000 / 656,000). Default 2,000,000.
    pub max_sha_crypt_rounds: u32,
}

impl Default for CostLimits {
    fn default() -> Self {
        CostLimits {
            max_pbkdf2_rounds: 6_000_000,
            max_scrypt_log_n: 20,
            max_scrypt_memory_bytes: 128 << 20,
            max_bcrypt_cost: 14,
            max_argon2_memory_kib: 128 << 10,
            max_argon2_time: 4,
            max_argon2_lanes: 64,
            max_sha_crypt_rounds: 2_000_000,
        }
    }
}

impl CostLimits {
    /// No ceilings at all: for naming or vetting stored hashes, never for verifying them.
    /// Parameters the algorithms themselves cannot take are still refused.
    pub fn unbounded() -> Self {
        CostLimits {
            max_pbkdf2_rounds: u32::MAX,
            max_scrypt_log_n: u8::MAX,
            max_scrypt_memory_bytes: u64::MAX,
            max_bcrypt_cost: u32::MAX,
            max_argon2_memory_kib: u32::MAX,
            max_argon2_time: u32::MAX,
            max_argon2_lanes: u32::MAX,
            max_sha_crypt_rounds: u32::MAX,
        }
    }

    /// Checks a PBKDF2 round count of a digest whose rounds each cost `cost` SHA-256 rounds.
    pub(crate) fn pbkdf2_rounds(
        &self,
        scheme: &'static str,
        rounds: u64,
        cost: u32,
    ) -> Result<u32, HashError> {
        if rounds == 0 {
            return Err(malformed(scheme, "round count is zero"));
        }
        within(
            scheme,
            "round count",
            rounds,
            u64::from(self.max_pbkdf2_rounds / cost.max(1)),
            "--max-pbkdf2-rounds",
        )?;
        Ok(rounds as u32)
    }

    /// Checks an iterated-digest count (phpass, Drupal 7, Spring's `{sha256}`): each
    /// iteration is one or more compressions of `hash` over the previous digest and the
    /// password, and a PBKDF2 round of it is two, so the PBKDF2 ceiling admits twice as many
    /// iterations. Returns the budget in compressions that a check may spend once the
    /// password is known: the admitted count's work for a [`GUARANTEED_PASSWORD_BYTES`]
    /// password, so every admitted hash is checked for passwords at least that long.
    pub(crate) fn digest_iterations(
        &self,
        scheme: &'static str,
        count: u64,
        hash: HashFn,
    ) -> Result<u64, HashError> {
        if count == 0 {
            return Err(malformed(scheme, "iteration count is zero"));
        }
        let most = u64::from(self.max_pbkdf2_rounds) * 2 / u64::from(hash.pbkdf2_cost().max(1));
        within(
            scheme,
            "iteration count",
            count,
            most,
            "--max-pbkdf2-rounds",
        )?;
        // phpass and Drupal store log2 of the count, so the costliest count admitted is the
        // highest power of two under the ceiling, and the budget is its work (a budget of the
        // ceiling itself would let a count just under it check passwords nearly twice as long
        // as the guarantee, and cost more). `count` ≥ 1 passed, so `most` ≥ 1. One iteration
        // more pays for the first digest, of the salt and the password.
        let admitted = 1u64 << most.ilog2();
        Ok(admitted
            .saturating_add(1)
            .saturating_mul(blocks(hash, hash.output_len() + GUARANTEED_PASSWORD_BYTES)))
    }

    /// Checks a sha-crypt round count and returns the budget, in compressions of the
    /// algorithm's digest, that a check may spend: the most rounds the ceiling admits, run
    /// over a [`GUARANTEED_PASSWORD_BYTES`] password and the longest salt. A hash with
    /// fewer rounds admits proportionally longer passwords.
    pub(crate) fn sha_crypt_rounds(
        &self,
        scheme: &'static str,
        rounds: u64,
        hash: HashFn,
    ) -> Result<u64, HashError> {
        // glibc would silently raise these to 1000 and write that back, so a stored
        // smaller count never matched anything.
        if rounds < 1000 {
            return Err(malformed(scheme, "round count below 1000"));
        }
        let limit = self.max_sha_crypt_rounds.into();
        within(
            scheme,
            "round count",
            rounds,
            limit,
            "--max-sha-crypt-rounds",
        )?;
        Ok(sha_crypt_compressions(
            hash,
            limit,
            GUARANTEED_PASSWORD_BYTES,
            SHA_CRYPT_MAX_SALT,
        ))
    }

    pub(crate) fn bcrypt_cost(&self, scheme: &'static str, cost: u64) -> Result<u32, HashError> {
        if cost < 4 {
            return Err(malformed(scheme, "cost below 4"));
        }
        within(
            scheme,
            "cost",
            cost,
            self.max_bcrypt_cost.into(),
            "--max-bcrypt-cost",
        )?;
        Ok(cost as u32)
    }

    /// Checks scrypt parameters given as log2(N), r and p, and builds them.
    pub(crate) fn scrypt(
        &self,
        scheme: &'static str,
        log_n: u64,
        r: u64,
        p: u64,
    ) -> Result<scrypt::Params, HashError> {
        if log_n == 0 || r == 0 || p == 0 {
            return Err(malformed(
                scheme,
                "N must be at least 2, r and p at least 1",
            ));
        }
        within(
            scheme,
            "log2(N)",
            log_n,
            self.max_scrypt_log_n.into(),
            "--max-scrypt-log-n",
        )?;
        if log_n >= 64 {
            return Err(malformed(scheme, "N must be below 2^64"));
        }
        // r and p arrive saturated at u64::MAX, so the product can leave even u128: such a
        // hash is simply over any memory limit.
        let memory = (128u128 << log_n)
            .checked_mul(u128::from(r))
            .and_then(|m| m.checked_mul(u128::from(p)))
            .and_then(|m| u64::try_from(m).ok())
            .unwrap_or(u64::MAX);
        if memory > self.max_scrypt_memory_bytes {
            // Reported in MiB, the unit of the setting that raises the limit.
            within(
                scheme,
                "memory (MiB)",
                memory
                    .div_ceil(1 << 20)
                    .max((self.max_scrypt_memory_bytes >> 20) + 1),
                self.max_scrypt_memory_bytes >> 20,
                "--max-scrypt-memory-mib",
            )?;
        }
        // RFC 7914 bound; checked here because the crate multiplies r·p in u32.
        if r.saturating_mul(p) >= 1 << 30 {
            return Err(malformed(scheme, "r·p must stay below 2^30"));
        }
        scrypt::Params::new(log_n as u8, r as u32, p as u32)
            .map_err(|_| malformed(scheme, "parameters out of range"))
    }

    /// Checks argon2 `m`, `t` and `p` and builds the parameters for `output_len` bytes.
    pub(crate) fn argon2(
        &self,
        scheme: &'static str,
        [m, t, p]: [u64; 3],
        output_len: usize,
    ) -> Result<argon2::Params, HashError> {
        let limit = self.max_argon2_memory_kib.into();
        within(scheme, "memory (KiB)", m, limit, "--max-argon2-memory-kib")?;
        // Memory × passes is the work; fewer KiB buy proportionally more passes.
        let work = u64::from(self.max_argon2_memory_kib) * u64::from(self.max_argon2_time);
        let passes = work / m.max(1);
        within(scheme, "time cost", t, passes, "--max-argon2-time")?;
        within(
            scheme,
            "lanes",
            p,
            self.max_argon2_lanes.into(),
            "--max-argon2-lanes",
        )?;
        let [m, t, p] = [m, t, p].map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        argon2::Params::new(m, t, p, Some(output_len)).map_err(|_| {
            malformed(
                scheme,
                "parameters out of range (need t ≥ 1, p ≥ 1, m ≥ 8·p)",
            )
        })
    }
}

fn within(
    scheme: &'static str,
    param: &'static str,
    value: u64,
    limit: u64,
    flag: &'static str,
) -> Result<(), HashError> {
    if value > limit {
        return Err(HashError::CostTooHigh {
            scheme,
            param,
            value,
            limit,
            flag,
        });
    }
    Ok(())
}

/// Every hash the ceilings admit is checked for passwords of at least this many bytes;
/// longer ones are checked while the hash's work stays within the budget of its family.
pub const GUARANTEED_PASSWORD_BYTES: usize = 128;

/// The longest salt sha-crypt reads.
const SHA_CRYPT_MAX_SALT: usize = 16;

/// Compressions of `hash` that hashing `bytes` bytes takes, Merkle–Damgård padding
/// included (at least 9 bytes; 17 for the 128-byte-block SHA-512).
pub(crate) fn blocks(hash: HashFn, bytes: usize) -> u64 {
    let (block, padding) = match hash.block_len() {
        128 => (128, 17),
        block => (block, 9),
    };
    (bytes + padding).div_ceil(block) as u64
}

/// The compressions one sha-crypt check makes (Drepper's specification): round `i` hashes
/// the previous digest and the password, the salt unless 3 divides `i`, and the password
/// again unless 7 divides `i`; before the rounds, one digest of the password repeated
/// once per byte of it, and one of the salt repeated up to 271 times.
pub(crate) fn sha_crypt_compressions(
    hash: HashFn,
    rounds: u64,
    password: usize,
    salt: usize,
) -> u64 {
    let digest = hash.output_len();
    let (every_3rd, every_7th, every_21st) =
        (rounds.div_ceil(3), rounds.div_ceil(7), rounds.div_ceil(21));
    let base = password + digest;
    let in_rounds = [
        (every_21st, base),
        (every_3rd - every_21st, base + password),
        (every_7th - every_21st, base + salt),
        (
            rounds - every_3rd - every_7th + every_21st,
            base + salt + password,
        ),
    ]
    .iter()
    .map(|&(n, bytes)| n.saturating_mul(blocks(hash, bytes)))
    .fold(0u64, u64::saturating_add);
    let setup = blocks(hash, password.saturating_mul(password))
        + blocks(hash, 271 * salt)
        + 2 * blocks(hash, 2 * password + salt)
        + blocks(
            hash,
            password.max(digest) * (usize::BITS - password.leading_zeros()) as usize,
        );
    in_rounds.saturating_add(setup)
}

#[cfg(test)]
mod tests {
    use super::{CostLimits, GUARANTEED_PASSWORD_BYTES};
    use crate::passwords::{Dialect, MAX_PASSWORD_BYTES, parse};

    /// A sha-crypt string written by pwhash, an implementation other than the verifier's.
    #[allow(deprecated)]
    fn sha_crypt(prefix: &str, rounds: u32, password: &str) -> String {
        let setting = format!("{prefix}rounds={rounds}$saltsaltsaltsalt$");
        let written = match prefix {
            "$5$" => pwhash::sha256_crypt::hash_with(setting.as_str(), password),
            _ => pwhash::sha512_crypt::hash_with(setting.as_str(), password),
        };
        written.unwrap()
    }

    #[test]
    fn sha_crypt_checks_a_long_password_only_within_the_ceiling_s_work() {
        let limits = CostLimits {
            max_sha_crypt_rounds: 10_000,
            ..CostLimits::default()
        };
        let guaranteed = "g".repeat(GUARANTEED_PASSWORD_BYTES);
        let longest = "l".repeat(MAX_PASSWORD_BYTES);
        let long = "m".repeat(1024);
        for prefix in ["$5$", "$6$"] {
            // At the ceiling, a password of the guaranteed length is checked.
            let at_ceiling = sha_crypt(prefix, 10_000, &guaranteed);
            assert!(
                parse(Dialect::Phc, &at_ceiling, &limits)
                    .unwrap()
                    .verify(&guaranteed)
            );
            // The longest password at the ceiling would be 20× its work: refused unhashed,
            // even when right, as a wrong password is.
            let hash = sha_crypt(prefix, 10_000, &longest);
            let parsed = parse(Dialect::Phc, &hash, &limits).unwrap();
            assert!(!parsed.admits(longest.len()), "{prefix}");
            assert!(!parsed.verify(&longest), "{prefix}");
            let unbounded = parse(Dialect::Phc, &hash, &CostLimits::unbounded()).unwrap();
            assert!(
                unbounded.verify(&longest),
                "{prefix}: the hash itself is right"
            );
            // Fewer rounds admit proportionally longer passwords.
            let hash = sha_crypt(prefix, 1_000, &long);
            let parsed = parse(Dialect::Phc, &hash, &limits).unwrap();
            assert!(parsed.verify(&long), "{prefix}");
            assert!(!parsed.verify(&long[1..]), "{prefix}");
        }
    }

    /// The boundary the defaults promise: the costliest hash of each length-dependent family
    /// that the default ceilings admit is checked for a password of the guaranteed length.
    #[test]
    fn every_admitted_hash_is_checked_for_the_guaranteed_length() {
        let limits = CostLimits::default();
        let rounds = limits.max_sha_crypt_rounds;
        let checksum = |n: usize| ".".repeat(n);
        // phpass counts are powers of two: the highest each ceiling admits.
        let most_phpass = |stored: &dyn Fn(char) -> String, dialect| {
            const ITOA64: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
            (7..=30)
                .rev()
                .map(|log2| stored(ITOA64.as_bytes()[log2] as char))
                .find(|hash| parse(dialect, hash, &limits).is_ok())
                .unwrap()
        };
        let cases = [
            (
                Dialect::Phc,
                format!("$5$rounds={rounds}$saltsaltsaltsalt${}", checksum(43)),
            ),
            (
                Dialect::Phc,
                format!("$6$rounds={rounds}$saltsaltsaltsalt${}", checksum(86)),
            ),
            (
                Dialect::Php,
                most_phpass(&|c| format!("$P${c}saltsalt{}", checksum(22)), Dialect::Php),
            ),
            (
                Dialect::Drupal,
                most_phpass(
                    &|c| format!("$S${c}saltsalt{}", checksum(43)),
                    Dialect::Drupal,
                ),
            ),
        ];
        for (dialect, hash) in cases {
            let parsed = parse(dialect, &hash, &limits).unwrap();
            assert!(parsed.admits(GUARANTEED_PASSWORD_BYTES), "{hash}");
            assert!(!parsed.admits(MAX_PASSWORD_BYTES), "{hash}");
        }
    }
}

//! The ceilings on the cost parameters a stored hash may ask for. A hash above them is
//! rejected when parsed, so a hostile or corrupt row can never make a login compute it.

use super::digest::HashFn;
use super::scheme::{HashError, malformed};

/// Upper bounds on stored cost parameters. The defaults admit every library default seen in
/// the wild and keep the costliest admitted hash of each family to about a second of one
/// core (measured with `cargo bench --bench hashes -- ceilings`; table in the README), and
/// the memory of one check to 128 MiB, so a 256 MiB instance holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostLimits {
    /// PBKDF2 rounds, any dialect, counted in SHA-256 rounds: a round of a costlier digest
    /// counts several (SHA-512 6, SHA3 14, …; see `HashFn::pbkdf2_cost`), since one round
    /// count cannot bound the time of digests 14× apart. Django 6 writes 1,200,000 SHA-256
    /// rounds. Default 5,000,000.
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
            max_pbkdf2_rounds: 5_000_000,
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
    /// iteration is one or more compressions of `hash`, and a PBKDF2 round of it is two, so
    /// the PBKDF2 ceiling admits twice as many iterations (of one block each). Returns the
    /// budget in compressions that [`within_budget`] checks once the password is known.
    pub(crate) fn digest_iterations(
        &self,
        scheme: &'static str,
        count: u64,
        hash: HashFn,
    ) -> Result<u64, HashError> {
        if count == 0 {
            return Err(malformed(scheme, "iteration count is zero"));
        }
        let budget = u64::from(self.max_pbkdf2_rounds) * 2 / u64::from(hash.pbkdf2_cost().max(1));
        within(
            scheme,
            "iteration count",
            count,
            budget,
            "--max-pbkdf2-rounds",
        )?;
        Ok(budget)
    }

    pub(crate) fn sha_crypt_rounds(
        &self,
        scheme: &'static str,
        rounds: u64,
    ) -> Result<u32, HashError> {
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
        Ok(rounds as u32)
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

/// Whether `count` iterations over `bytes` bytes each (the password plus what is hashed with
/// it) stay within `budget` compressions of `hash`: a digest iterated over the password
/// costs more the longer the password, so a long one must not multiply a stored count that
/// was admitted for short ones.
pub(crate) fn within_budget(hash: HashFn, count: u64, bytes: usize, budget: u64) -> bool {
    // Merkle–Damgård padding adds at least 9 bytes (17 for the 128-byte-block SHA-512).
    let (block, padding) = match hash.block_len() {
        128 => (128, 17),
        block => (block, 9),
    };
    let blocks = (bytes + padding).div_ceil(block) as u64;
    count.saturating_mul(blocks) <= budget
}

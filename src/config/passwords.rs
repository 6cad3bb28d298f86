//! The password settings groups: how new hashes are computed, how many checks run at once,
//! and the ceilings on what a stored legacy hash may cost.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use clap::builder::{TypedValueParser, ValueParser};
use clap::error::ErrorKind;
use secrecy::{ExposeSecret as _, SecretString};

use crate::passwords::{
    CostLimits, DialectSettings, FirebaseProject, PasswordOptions, SpringPbkdf2, SpringSettings,
};

/// argon2id parameters of new hashes (every command that hashes a password).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Password hashing")]
pub struct HashArgs {
    /// argon2id memory cost in KiB (OWASP: 19456).
    #[arg(long, env = "FIREGATE_ARGON2_MEMORY_KIB", default_value_t = 19456,
          value_parser = clap::value_parser!(u32).range(8..=4_194_304))]
    pub argon2_memory_kib: u32,

    /// argon2id iterations (OWASP: 2).
    #[arg(long, env = "FIREGATE_ARGON2_ITERATIONS", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub argon2_iterations: u32,

    /// argon2id lanes (OWASP: 1).
    #[arg(long, env = "FIREGATE_ARGON2_PARALLELISM", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub argon2_parallelism: u32,
}

/// How many password checks a server runs and queues (servers only).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Password hashing")]
pub struct HashPoolArgs {
    /// Password hashes computed at the same time [default: number of CPUs].
    #[arg(long, env = "FIREGATE_MAX_CONCURRENT_HASHES",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_concurrent_hashes: Option<u32>,

    /// Password checks allowed to wait for a free hashing slot; beyond it requests get 503.
    #[arg(long, env = "FIREGATE_HASH_QUEUE", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub hash_queue: u32,
}

/// Ceilings on the cost a stored hash may ask for; a hash above them is refused (the login
/// fails) instead of computed, so a corrupt or hostile row cannot tie up the server.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Stored-hash cost ceilings")]
pub struct CostLimitArgs {
    /// Most PBKDF2 iterations a stored hash may ask for (any dialect), in SHA-256 rounds:
    /// a round of a costlier digest counts more (MD5 3, SHA-512 6, BLAKE2 6-7, SHA3 14).
    #[arg(long, env = "FIREGATE_MAX_PBKDF2_ROUNDS", default_value_t = 6_000_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pbkdf2_rounds: u32,

    /// Largest scrypt log2(N) a stored hash may ask for.
    #[arg(long, env = "FIREGATE_MAX_SCRYPT_LOG_N", default_value_t = 20,
          value_parser = clap::value_parser!(u8).range(1..=40))]
    pub max_scrypt_log_n: u8,

    /// Most scrypt memory (128·N·r·p bytes) a stored hash may ask for, in MiB.
    #[arg(long, env = "FIREGATE_MAX_SCRYPT_MEMORY_MIB", default_value_t = 128,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_scrypt_memory_mib: u64,

    /// Largest bcrypt cost (log2 rounds) a stored hash may ask for.
    #[arg(long, env = "FIREGATE_MAX_BCRYPT_COST", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(4..=31))]
    pub max_bcrypt_cost: u32,

    /// Most argon2 memory a stored hash may ask for, in KiB (128 MiB = 131072).
    #[arg(long, env = "FIREGATE_MAX_ARGON2_MEMORY_KIB", default_value_t = 128 << 10,
          value_parser = clap::value_parser!(u32).range(8..))]
    pub max_argon2_memory_kib: u32,

    /// Most argon2 passes (t) a stored hash may ask for at the memory ceiling; a hash with
    /// less memory may make proportionally more (the work is memory × passes).
    #[arg(long, env = "FIREGATE_MAX_ARGON2_TIME", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_argon2_time: u32,

    /// Most argon2 lanes (p) a stored hash may ask for.
    #[arg(long, env = "FIREGATE_MAX_ARGON2_LANES", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=16_777_215))]
    pub max_argon2_lanes: u32,

    /// Most sha256-crypt/sha512-crypt rounds a stored hash may ask for.
    #[arg(long, env = "FIREGATE_MAX_SHA_CRYPT_ROUNDS", default_value_t = 2_000_000,
          value_parser = clap::value_parser!(u32).range(1000..=999_999_999))]
    pub max_sha_crypt_rounds: u32,
}

impl CostLimitArgs {
    /// The limits the password verifier enforces.
    pub fn limits(&self) -> CostLimits {
        CostLimits {
            max_pbkdf2_rounds: self.max_pbkdf2_rounds,
            max_scrypt_log_n: self.max_scrypt_log_n,
            max_scrypt_memory_bytes: self.max_scrypt_memory_mib << 20,
            max_bcrypt_cost: self.max_bcrypt_cost,
            max_argon2_memory_kib: self.max_argon2_memory_kib,
            max_argon2_time: self.max_argon2_time,
            max_argon2_lanes: self.max_argon2_lanes,
            max_sha_crypt_rounds: self.max_sha_crypt_rounds,
        }
    }
}

/// What the `firebase` and `spring` dialects need besides the stored string (servers and
/// `firegate import`).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Legacy hash dialects")]
pub struct DialectArgs {
    /// A Firebase project's password hash parameters (the console's "Password hash
    /// parameters" block, or JSON with the same keys); repeat for merged projects. The
    /// signer key stays in this file (mode 600), never in Firestore or the logs.
    #[arg(long = "hash-config", env = "FIREGATE_HASH_CONFIG", value_name = "FILE",
          value_delimiter = ',', value_parser = ValueParser::new(HashConfigParser))]
    pub hash_config: Vec<Arc<FirebaseProject>>,

    /// What Spring's `{pbkdf2}` means, as ALGORITHM:ITERATIONS[:HASH_BITS]
    /// [default: PBKDF2WithHmacSHA1:185000:256, Spring's defaultsForSpringSecurity_v5_5].
    #[arg(long, env = "FIREGATE_SPRING_PBKDF2", value_name = "SPEC",
          value_parser = |s: &str| SpringPbkdf2::parse(s))]
    pub spring_pbkdf2: Option<SpringPbkdf2>,

    /// The secret given to Spring's Pbkdf2PasswordEncoder / StandardPasswordEncoder, if any;
    /// set it through the environment, not the command line.
    #[arg(
        long,
        env = "FIREGATE_SPRING_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub spring_secret: Option<SecretString>,
}

impl DialectArgs {
    /// The settings the password verifier and the importer use.
    pub fn settings(&self) -> DialectSettings {
        DialectSettings {
            firebase: self.hash_config.clone(),
            spring: SpringSettings {
                pbkdf2: self.spring_pbkdf2.unwrap_or(SpringPbkdf2::V5_5),
                secret: self
                    .spring_secret
                    .as_ref()
                    .map(|s| s.expose_secret().as_bytes().to_vec())
                    .unwrap_or_default()
                    .into(),
            },
        }
    }
}

/// Reads a `--hash-config` file at start-up, so a missing or malformed file stops the command
/// before it serves or imports anything. Errors name the file and the problem, never a value.
#[derive(Clone)]
struct HashConfigParser;

impl TypedValueParser for HashConfigParser {
    type Value = Arc<FirebaseProject>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Arc<FirebaseProject>, clap::Error> {
        let path = PathBuf::from(value);
        let fail = |why: String| {
            clap::Error::raw(
                ErrorKind::ValueValidation,
                format!("--hash-config {}: {why}\n", path.display()),
            )
            .with_cmd(cmd)
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            // As for key files: Cloud Run mounts secrets 0444 in a container that runs
            // nothing else, hence the explicit way out (an environment variable, since this
            // check runs while the flags are still being read).
            let allowed = std::env::var("FIREGATE_ALLOW_INSECURE_HASH_CONFIG_PERMISSIONS")
                .is_ok_and(|v| v == "true" || v == "1");
            if mode & 0o077 != 0 && !allowed {
                return Err(fail(format!(
                    "it is readable by group or others (mode {:03o}), and it holds the \
                     project's signer key; run `chmod 600` on it, or set \
                     FIREGATE_ALLOW_INSECURE_HASH_CONFIG_PERMISSIONS=true where the mount \
                     cannot be 0600 (Cloud Run secret volumes)",
                    mode & 0o777
                )));
            }
        }
        FirebaseProject::parse(&text).map(Arc::new).map_err(|why| {
            fail(format!(
                "{why} (expected the console's \"Password hash parameters\")"
            ))
        })
    }
}

impl HashArgs {
    /// Password options for a command: the pool and ceilings when given (servers), else the
    /// defaults (a command hashes one password at a time and verifies none).
    pub fn options(
        &self,
        pool: Option<&HashPoolArgs>,
        limits: Option<&CostLimitArgs>,
    ) -> PasswordOptions {
        let defaults = PasswordOptions::default();
        PasswordOptions {
            argon2_memory_kib: self.argon2_memory_kib,
            argon2_iterations: self.argon2_iterations,
            argon2_parallelism: self.argon2_parallelism,
            concurrency: pool
                .and_then(|p| p.max_concurrent_hashes)
                .map_or(defaults.concurrency, |n| n as usize),
            queue: pool.map_or(defaults.queue, |p| p.hash_queue as usize),
            limits: limits.map_or(defaults.limits, CostLimitArgs::limits),
            dialects: defaults.dialects,
        }
    }
}

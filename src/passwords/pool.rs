//! The hashing service: argon2id hashes computed and stored hashes verified on a fixed pool
//! of threads with a bounded queue, so a login flood can neither starve the async runtime nor
//! exhaust memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::phc::{Output as PhcOutput, Salt as PhcSalt};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::memory;
use super::scheme::{self, CostLimits, Dialect, HashError, ParsedHash};
use super::settings::DialectSettings;
use super::{Password, StoredHash, Transform, Verdict};
use crate::error::Cause;
use crate::{Error, Result};

/// How new hashes are computed, how many checks run at once, and what a stored hash may cost.
#[derive(Debug, Clone)]
pub struct PasswordOptions {
    /// argon2id memory cost of new hashes, in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id iterations of new hashes.
    pub argon2_iterations: u32,
    /// argon2id lanes of new hashes.
    pub argon2_parallelism: u32,
    /// Hashes computed at the same time (hashing threads).
    pub concurrency: usize,
    /// Checks allowed to wait for a hashing thread.
    pub queue: usize,
    /// Ceilings on the cost of stored hashes.
    pub limits: CostLimits,
    /// Settings of the dialects whose strings do not carry every parameter.
    pub dialects: DialectSettings,
}

impl Default for PasswordOptions {
    /// OWASP's argon2id parameters, one thread per CPU, a queue of 64, default ceilings.
    fn default() -> Self {
        PasswordOptions {
            argon2_memory_kib: 19456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            concurrency: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue: 64,
            limits: CostLimits::default(),
            dialects: DialectSettings::default(),
        }
    }
}

/// Computes and verifies password hashes with bounded concurrency and a bounded queue.
pub struct Passwords {
    params: Params,
    limits: CostLimits,
    dialects: DialectSettings,
    slots: Arc<Semaphore>,
    pool: rayon::ThreadPool,
    queue_limit: usize,
    waiting: AtomicUsize,
    started: AtomicU64,
    computed: Arc<AtomicU64>,
    prepared: std::sync::atomic::AtomicBool,
}

impl Passwords {
    /// Builds the service; fails with a message naming the settings when the argon2
    /// parameters are inconsistent.
    pub fn new(options: &PasswordOptions) -> Result<Passwords> {
        let params = Params::new(
            options.argon2_memory_kib,
            options.argon2_iterations,
            options.argon2_parallelism,
            None,
        )
        .map_err(|e| {
            Error::config(format!(
                "--argon2-memory-kib {} / --argon2-iterations {} / --argon2-parallelism {} \
                 are not valid argon2 parameters ({e}); memory must be at least 8 KiB per lane",
                options.argon2_memory_kib, options.argon2_iterations, options.argon2_parallelism
            ))
        })?;
        // A hash firegate writes must verify under the ceilings it enforces on stored hashes.
        let work = u64::from(options.limits.max_argon2_memory_kib)
            * u64::from(options.limits.max_argon2_time);
        let own = u64::from(options.argon2_memory_kib) * u64::from(options.argon2_iterations);
        if options.argon2_memory_kib > options.limits.max_argon2_memory_kib
            || own > work
            || options.argon2_parallelism > options.limits.max_argon2_lanes
        {
            return Err(Error::config(format!(
                "--argon2-memory-kib {} / --argon2-iterations {} / --argon2-parallelism {} \
                 exceed the ceilings on stored hashes (--max-argon2-memory-kib {}, \
                 --max-argon2-time {}, --max-argon2-lanes {}), so new hashes could never be \
                 verified; raise those too",
                options.argon2_memory_kib,
                options.argon2_iterations,
                options.argon2_parallelism,
                options.limits.max_argon2_memory_kib,
                options.limits.max_argon2_time,
                options.limits.max_argon2_lanes
            )));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.concurrency)
            .thread_name(|i| format!("hash-{i}"))
            .build()
            .map_err(|e| Error::internal("cannot start the hashing threads").caused_by(e))?;
        Ok(Passwords {
            params,
            limits: options.limits.clone(),
            dialects: options.dialects.clone(),
            slots: Arc::new(Semaphore::new(options.concurrency)),
            pool,
            queue_limit: options.queue,
            waiting: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            computed: Arc::new(AtomicU64::new(0)),
            prepared: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Hashes a password with argon2id, the configured parameters and a random 16-byte salt.
    pub async fn hash(&self, password: &Password) -> Result<StoredHash> {
        self.hash_as(password, Transform::None).await
    }

    /// Hashes the `input` form of a password, as [`Passwords::hash`] does, recording the
    /// transform with the hash: what replaces a lossy legacy hash ([`Verdict::Match`]).
    pub async fn hash_as(&self, password: &Password, input: Transform) -> Result<StoredHash> {
        let hasher = self.hasher();
        let params = self.params.clone();
        let password = password.clone();
        let hash = self
            .run(move || argon2id_phc(&hasher, &params, &input.apply(password.expose().as_bytes())))
            .await?
            .map_err(|e| Error::internal("argon2id hashing failed").caused_by(e))?;
        Ok(StoredHash {
            hash,
            dialect: Dialect::Phc,
            input: input.name().map(String::from),
        })
    }

    /// Parses a stored hash with the configured dialect settings and cost ceilings, checking
    /// nothing: for callers that need its parameters (the Firebase Auth export).
    pub fn parse(&self, stored: &StoredHash) -> std::result::Result<ParsedHash, HashError> {
        scheme::parse_with(stored.dialect, &stored.hash, &self.limits, &self.dialects)
    }

    /// Checks a password against a stored hash, after the stored hash's input transform.
    /// With no stored hash (unknown login) or an unusable one, it does the same work as a
    /// wrong password would, then says so.
    pub async fn verify(
        &self,
        stored: Option<&StoredHash>,
        password: &Password,
    ) -> Result<Verdict> {
        let parsed = stored.map(|s| {
            let transform = s.transform()?;
            scheme::parse_with(s.dialect, &s.hash, &self.limits, &self.dialects)
                .and_then(|parsed| parsed.missing().map_or(Ok(parsed), Err))
                .map(|parsed| (parsed, transform))
        });
        let (parsed, transform) = match parsed {
            Some(Ok(found)) => found,
            Some(Err(problem)) => {
                self.burn(password).await?;
                return Ok(Verdict::Unusable(problem));
            }
            None => {
                self.burn(password).await?;
                return Ok(Verdict::Mismatch);
            }
        };
        let typed = transform.apply(password.expose().as_bytes());
        if !parsed.admits(typed.len()) {
            // A password whose check this hash's budget does not cover (its work grows with
            // the length) is a wrong one, at the cost of one.
            tracing::info!(
                scheme = parsed.scheme(),
                bytes = typed.len(),
                "password too long for its hash's work budget; refused unchecked"
            );
            self.burn(password).await?;
            return Ok(Verdict::Mismatch);
        }
        let mut rehash =
            stored.is_some_and(|s| s.dialect != Dialect::Phc) || self.is_outdated(&parsed);
        let matched = self.run(move || parsed.matches(&typed)).await?;
        Ok(match matched {
            None => Verdict::Mismatch,
            Some(Transform::None) => Verdict::Match {
                rehash,
                input: transform,
            },
            Some(input) if transform == Transform::None => Verdict::Match { rehash, input },
            Some(_) => {
                // Two transforms in a row have no stored name; firegate never writes a
                // lossy hash with one, so such a hash is kept as it is.
                rehash = false;
                Verdict::Match {
                    rehash,
                    input: transform,
                }
            }
        })
    }

    /// True when a hash should be replaced: any scheme but argon2id, or argon2id of version
    /// 0x10 or with less memory or fewer iterations than configured. (Hashes of other dialects, even argon2id
    /// ones like Django's `argon2$…`, are always replaced by firegate's own PHC form.)
    fn is_outdated(&self, parsed: &ParsedHash) -> bool {
        match parsed.argon2_params() {
            Some(p) => {
                p.variant != "argon2id"
                    || p.version != 0x13
                    || p.m_cost < self.params.m_cost()
                    || p.t_cost < self.params.t_cost()
            }
            None => true,
        }
    }

    /// One argon2id computation whose result is thrown away: the cost of a wrong password.
    async fn burn(&self, password: &Password) -> Result<()> {
        let hasher = self.hasher();
        let password = password.clone();
        self.run(move || {
            let mut out = [0u8; 32];
            // A fixed salt is fine: the output is discarded, only the work matters.
            let salt = b"firegate-dummy-salt";
            memory::hash_into(&hasher, password.expose().as_bytes(), salt, &mut out)
        })
        .await?
        .map_err(|e| Error::internal("the argon2id work of a refusal failed").caused_by(e))
    }

    /// Once per process, on the first request that will hash: every hashing thread faults in
    /// its argon2 memory in the background, while that request reads Firestore. Not done at
    /// start-up, so an idle server stays small.
    pub fn prepare(&self) {
        if self.prepared.swap(true, Ordering::Relaxed) {
            return;
        }
        let blocks = self.params.block_count();
        self.pool.spawn_broadcast(move |_| memory::reserve(blocks));
    }

    /// How many hashes (computed or verified) have taken a hashing thread, finished or not.
    pub fn hashes_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// How many hashes (computed or verified) this service has finished; for metrics and tests.
    pub fn hashes_computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    fn hasher(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Runs CPU-heavy work on the blocking pool once a hashing slot is free. At most
    /// `queue_limit` callers wait for a slot; the next one gets [`Error::Overloaded`] at once.
    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue_limit {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(Error::Overloaded);
                }
                let _queued = Queued(&self.waiting);
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Error::internal("hashing pool closed"))?
            }
        };
        self.started.fetch_add(1, Ordering::Relaxed);
        let computed = self.computed.clone();
        // A fixed set of threads, not tokio's elastic blocking pool: every thread that ever
        // hashes keeps its allocator arena (tens of MiB after argon2), so the thread count is
        // what bounds memory.
        let (done, result) = tokio::sync::oneshot::channel();
        let handed = std::time::Instant::now();
        self.pool.spawn(move || {
            let started = std::time::Instant::now();
            // A panic in a hash implementation fails this request, not the process (rayon
            // aborts on a panic that escapes a spawned job).
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            // Where a check's time goes, for the benchmark (`RUST_LOG=firegate::hashing=debug`):
            // the hop onto a hashing thread, then the work itself.
            tracing::debug!(
                target: "firegate::hashing",
                hop_us = started.duration_since(handed).as_micros() as u64,
                work_us = started.elapsed().as_micros() as u64,
                "hash done"
            );
            // Counted once the work is done, so the count shows work, not intentions.
            computed.fetch_add(1, Ordering::Relaxed);
            // Free the slot before answering, so the caller never sees its own slot taken.
            drop(permit);
            let _ = done.send(result);
        });
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_panicked)) => Err(Error::internal(
                "a password hash computation failed unexpectedly",
            )),
            Err(_) => Err(Error::internal("password hashing task failed")),
        }
    }
}

/// An argon2id PHC string of `password` with a random 16-byte salt.
fn argon2id_phc(
    hasher: &Argon2<'_>,
    params: &Params,
    password: &[u8],
) -> std::result::Result<String, Cause> {
    let salt: [u8; 16] = rand::random();
    let mut out = [0u8; 32];
    memory::hash_into(hasher, password, &salt, &mut out)?;
    let phc = argon2::PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: params.try_into()?,
        salt: Some(PhcSalt::new(&salt)?),
        hash: Some(PhcOutput::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Hashes `password` with argon2id on the calling thread, for callers that are already off
/// the async runtime (the importer's reader thread, turning Spring's `{noop}` clear text into
/// a hash before anything is written).
pub fn hash_now(
    password: &Password,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
) -> Result<StoredHash> {
    let params = Params::new(memory_kib, iterations, parallelism, None)
        .map_err(|e| Error::config("invalid argon2 parameters").caused_by(e))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon2id_phc(&hasher, &params, password.expose().as_bytes())
        .map_err(|e| Error::internal("argon2id hashing failed").caused_by(e))?;
    Ok(StoredHash::of_typed(hash, Dialect::Phc))
}

/// Leaves the wait queue when dropped, including when the waiting request is cancelled.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod service_tests {
    use super::*;
    use crate::passwords::MAX_PASSWORD_BYTES;

    fn fast() -> Passwords {
        let settings = PasswordOptions {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..PasswordOptions::default()
        };
        Passwords::new(&settings).unwrap()
    }

    fn pw(s: &str) -> Password {
        Password::new(s.to_string()).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_hash_fails_its_request_and_the_pool_keeps_working() {
        let p = fast();
        let failed = p
            .run(|| -> u32 { panic!("a hash implementation bug") })
            .await;
        assert!(matches!(failed, Err(Error::Internal { .. })), "{failed:?}");
        assert_eq!(p.run(|| 7).await.unwrap(), 7);
        let stored = p.hash(&pw("still works")).await.unwrap();
        assert!(matches!(
            p.verify(Some(&stored), &pw("still works")).await.unwrap(),
            Verdict::Match { .. }
        ));
    }

    #[tokio::test]
    async fn a_new_hash_verifies_and_needs_no_rehash() {
        let p = fast();
        let stored = p.hash(&pw("correct horse")).await.unwrap();
        assert!(stored.hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(matches!(
            p.verify(Some(&stored), &pw("correct horse")).await.unwrap(),
            Verdict::Match {
                rehash: false,
                input: Transform::None
            }
        ));
        assert!(matches!(
            p.verify(Some(&stored), &pw("correct horsE")).await.unwrap(),
            Verdict::Mismatch
        ));
    }

    #[tokio::test]
    async fn weaker_argon2_parameters_ask_for_a_rehash() {
        let weak = fast();
        let stored = weak.hash(&pw("pw")).await.unwrap();
        let strong = Passwords::new(&PasswordOptions {
            argon2_memory_kib: 128,
            argon2_iterations: 1,
            ..PasswordOptions::default()
        })
        .unwrap();
        assert!(matches!(
            strong.verify(Some(&stored), &pw("pw")).await.unwrap(),
            Verdict::Match { rehash: true, .. }
        ));
    }

    /// A DES crypt hash written by glibc's crypt(3) for `12345678`.
    const DES_12345678: &str = "zZYQyo/kK5WTQ";

    #[tokio::test]
    async fn a_lossy_hash_is_upgraded_with_the_form_every_accepted_input_shares() {
        let p = fast();
        let legacy = StoredHash::of_typed(DES_12345678.into(), Dialect::Phc);
        let typed = pw("12345678+x");
        let Verdict::Match {
            rehash: true,
            input,
        } = p.verify(Some(&legacy), &typed).await.unwrap()
        else {
            panic!("the DES hash accepts what DES reads")
        };
        assert_eq!(input, Transform::Des8);
        let upgraded = p.hash_as(&typed, input).await.unwrap();
        assert_eq!(upgraded.input.as_deref(), Some("des8"));
        for same in ["12345678", "12345678+x", "12345678 and more"] {
            assert!(
                matches!(
                    p.verify(Some(&upgraded), &pw(same)).await.unwrap(),
                    Verdict::Match {
                        rehash: false,
                        input: Transform::Des8
                    }
                ),
                "{same}"
            );
        }
        for other in ["1234567", "12345679", "x12345678"] {
            assert!(matches!(
                p.verify(Some(&upgraded), &pw(other)).await.unwrap(),
                Verdict::Mismatch
            ));
        }
    }

    #[tokio::test]
    async fn an_unknown_input_transform_makes_the_hash_unusable() {
        let p = fast();
        let mut stored = p.hash(&pw("correct horse")).await.unwrap();
        stored.input = Some("rot13".into());
        let before = p.hashes_computed();
        assert!(matches!(
            p.verify(Some(&stored), &pw("correct horse")).await.unwrap(),
            Verdict::Unusable(HashError::UnknownTransform)
        ));
        assert_eq!(p.hashes_computed(), before + 1, "the work of a refusal");
    }

    #[tokio::test]
    async fn no_stored_hash_is_a_mismatch() {
        assert!(matches!(
            fast().verify(None, &pw("x")).await.unwrap(),
            Verdict::Mismatch
        ));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let settings = PasswordOptions {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            concurrency: 1,
            queue: 0,
            ..PasswordOptions::default()
        };
        let p = Arc::new(Passwords::new(&settings).unwrap());
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = {
            let p = p.clone();
            tokio::spawn(async move { p.run(move || hold.recv().unwrap()).await })
        };
        while p.slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(p.hash(&pw("x")).await, Err(Error::Overloaded)));
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert!(p.hash(&pw("x")).await.is_ok());
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert!(Password::new(String::new()).is_err());
        assert!(Password::new("x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(Password::new("x".repeat(MAX_PASSWORD_BYTES)).is_ok());
        assert_eq!(format!("{:?}", pw("hunter2")), "Password(<redacted>)");
        let stored = StoredHash::of_typed("$argon2id$secret".into(), Dialect::Phc);
        assert!(!format!("{stored:?}").contains("secret"));
    }

    #[test]
    fn new_hashes_must_fit_the_ceilings_on_stored_ones() {
        let settings = PasswordOptions {
            argon2_memory_kib: 256 << 10,
            ..PasswordOptions::default()
        };
        let err = Passwords::new(&settings).err().unwrap().to_string();
        assert!(err.contains("--max-argon2-memory-kib"), "{err}");
        let many_passes = PasswordOptions {
            argon2_memory_kib: 64 << 10,
            argon2_iterations: 9,
            ..PasswordOptions::default()
        };
        assert!(Passwords::new(&many_passes).is_err());
        let fits = PasswordOptions {
            argon2_memory_kib: 64 << 10,
            argon2_iterations: 8,
            ..PasswordOptions::default()
        };
        assert!(Passwords::new(&fits).is_ok());
    }

    #[test]
    fn inconsistent_argon2_settings_name_the_settings() {
        let settings = PasswordOptions {
            argon2_memory_kib: 8,
            argon2_parallelism: 4,
            ..PasswordOptions::default()
        };
        let err = Passwords::new(&settings).err().unwrap().to_string();
        assert!(err.contains("--argon2-memory-kib"), "{err}");
    }
}

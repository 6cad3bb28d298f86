//! Verify time of one stored hash per scheme family, read from the fixture the tests use
//! (criterion: `cargo bench --bench hashes`, or `-- verify/argon2id` for one family). The bench
//! driver (`bench/run.py`) compares Werkzeug's with Python's `hashlib` on the same input.
//!
//! `cargo bench --bench hashes -- ceilings` instead times the costliest stored hash each
//! default cost ceiling admits (`CostLimits::default()`): the most work one sign-in against a
//! hostile or corrupt row can force. The book's cost-limit table (docs/src/passwords.md) comes
//! from its output.
//!
//! `cargo bench --bench hashes -- first` times one argon2id verify in this fresh process, its
//! working memory never touched before: what the first sign-in after exec pays, page faults
//! included. One figure per process, so it is a plain timing, not a criterion sample.

// A failed unwrap in a test or benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use firegate::passwords::{
    CostLimits, Dialect, GUARANTEED_PASSWORD_BYTES, MAX_PASSWORD_BYTES, parse,
};

const FIXTURE: &str = include_str!("../tests/fixtures/legacy-hashes.jsonl");

/// (criterion id, dialect, the fixture's `scheme` field, the fixture's `source` prefix):
/// Werkzeug PBKDF2-SHA256 260,000, Django PBKDF2 1,000,000 and bcrypt 12, Werkzeug scrypt
/// N=32768 r=8 p=1, sha512-crypt 656,000, argon2id m=19456 t=2 p=1, md5-crypt.
const CASES: &[(&str, Dialect, &str, &str)] = &[
    (
        "werkzeug-pbkdf2",
        Dialect::Werkzeug,
        "pbkdf2:sha256:260000",
        "werkzeug 2.2",
    ),
    (
        "django-pbkdf2",
        Dialect::Django,
        "pbkdf2_sha256",
        "django 5.2",
    ),
    ("django-bcrypt", Dialect::Django, "bcrypt", "django 5.2"),
    (
        "werkzeug-scrypt",
        Dialect::Werkzeug,
        "scrypt",
        "werkzeug 3.1",
    ),
    ("sha512-crypt", Dialect::Phc, "sha512_crypt", "passlib"),
    ("argon2id", Dialect::Phc, "argon2id", "argon2-cffi"),
    ("md5-crypt", Dialect::Phc, "md5_crypt", "passlib"),
];

fn main() {
    if std::env::args().any(|a| a == "ceilings") {
        return ceilings();
    }
    if std::env::args().any(|a| a == "first") {
        return first();
    }
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut group = criterion.benchmark_group("verify");
    let limits = CostLimits::default();
    for &(id, dialect, scheme, source) in CASES {
        let (hash, password) = fixture_line(scheme, source);
        let parsed = parse(dialect, &hash, &limits).expect("fixture hash parses");
        assert!(
            parsed.verify(&password),
            "{id}: fixture password must verify"
        );
        group.bench_function(id, |b| b.iter(|| parsed.verify(black_box(&password))));
    }
    group.finish();
    criterion.final_summary();
}

/// The first argon2id verify of a process, on a thread of its own as in the server's hashing
/// pool (a fresh thread's working memory is a fresh allocation).
fn first() {
    let (hash, password) = fixture_line("argon2id", "argon2-cffi");
    let parsed = parse(Dialect::Phc, &hash, &CostLimits::default()).expect("fixture hash parses");
    let elapsed = std::thread::spawn(move || {
        let t = Instant::now();
        assert!(parsed.verify(&password), "fixture password must verify");
        t.elapsed()
    })
    .join()
    .expect("the verify thread finished");
    println!(
        "argon2id first verify in a fresh process {:.3} ms",
        elapsed.as_secs_f64() * 1e3
    );
}

fn fixture_line(scheme: &str, source: &str) -> (String, String) {
    FIXTURE
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON line"))
        .find(|v| v["scheme"] == scheme && v["source"].as_str().unwrap_or("").starts_with(source))
        .map(|v| {
            (
                v["hash"].as_str().unwrap().to_owned(),
                v["password"].as_str().unwrap().to_owned(),
            )
        })
        .unwrap_or_else(|| panic!("no fixture line for {source} {scheme}"))
}

/// One verify of the costliest hash of each family that the default ceilings admit: wall
/// time and this thread's CPU time (median of three), and the memory it needs.
fn ceilings() {
    let limits = CostLimits::default();
    let zeros = |bytes: usize| "00".repeat(bytes);
    let rounds = limits.max_pbkdf2_rounds;
    // Each PBKDF2 digest, by name, with its output length in bytes.
    let digests = "md5 16 sha1 20 sha224 28 sha256 32 sha384 48 sha512 64 sha512_224 28 \
                   sha512_256 32 sha3_224 28 sha3_256 32 sha3_384 48 sha3_512 64 blake2b 64 blake2s 32";
    let words: Vec<&str> = digests.split_whitespace().collect();
    let mut cases: Vec<(String, Dialect, String, u64)> = words
        .chunks(2)
        .map(|pair| (pair[0], pair[1].parse::<usize>().unwrap()))
        .map(|(name, len)| {
            // The ceiling counts SHA-256 rounds: find the most this digest may have.
            let hash = |r: u32| format!("pbkdf2:{name}:{r}$saltsaltsaltsalt${}", zeros(len));
            let (mut fits, mut over) = (1u32, rounds + 1);
            while over - fits > 1 {
                let mid = fits + (over - fits) / 2;
                match parse(Dialect::Werkzeug, &hash(mid), &limits) {
                    Ok(_) => fits = mid,
                    Err(_) => over = mid,
                }
            }
            let label = format!("pbkdf2-{name} rounds={fits}");
            (label, Dialect::Werkzeug, hash(fits), 0)
        })
        .collect();
    let cost = limits.max_bcrypt_cost;
    let bcrypt = bcrypt::hash_with_salt("x", cost, [7u8; 16])
        .expect("bcrypt at the ceiling")
        .format_for_version(bcrypt::Version::TwoB);
    cases.push((
        format!("bcrypt cost={cost}"),
        Dialect::Phc,
        bcrypt.clone(),
        0,
    ));
    // scrypt's work is 128·N·r·p bytes of mixing; the ceiling bounds exactly that product.
    let work = limits.max_scrypt_memory_bytes;
    let max_log_n = u32::from(limits.max_scrypt_log_n);
    for (log_n, r) in [(max_log_n, 1u64), (14, 8), (17, 8)] {
        let n = 1u64 << log_n;
        let p = work / (128 * n * r);
        if p == 0 || log_n > max_log_n {
            continue;
        }
        cases.push((
            format!("scrypt N=2^{log_n} r={r} p={p}"),
            Dialect::Werkzeug,
            format!("scrypt:{n}:{r}:{p}$saltsaltsaltsalt${}", zeros(64)),
            128 * n * r,
        ));
    }
    let (m, t) = (limits.max_argon2_memory_kib, limits.max_argon2_time);
    let b64 = |bytes: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    };
    // The work is memory × passes: the ceiling admits fewer KiB with more passes as well.
    for (m, t) in [(m, t), (m / 16, t * 16)] {
        cases.push((
            format!("argon2id m={m} KiB t={t} p=1"),
            Dialect::Phc,
            format!(
                "$argon2id$v=19$m={m},t={t},p=1${}${}",
                b64(&[1u8; 16]),
                b64(&[0u8; 32])
            ),
            u64::from(m) << 10,
        ));
    }
    let sha_rounds = limits.max_sha_crypt_rounds;
    for (prefix, name, chars) in [("$5$", "sha256", 43), ("$6$", "sha512", 86)] {
        cases.push((
            format!("{name}-crypt rounds={sha_rounds}"),
            Dialect::Phc,
            format!(
                "{prefix}rounds={sha_rounds}$saltsaltsaltsalt${}",
                ".".repeat(chars)
            ),
            0,
        ));
    }
    // phpass counts are powers of two: the highest each ceiling admits.
    const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (label, dialect, prefix, chars) in [
        ("phpass $P$", Dialect::Php, "$P$", 22),
        ("drupal $S$", Dialect::Drupal, "$S$", 43),
    ] {
        let (log2, hash) = (7..=30usize)
            .rev()
            .map(|log2| {
                let count = ITOA64[log2] as char;
                (
                    log2,
                    format!("{prefix}{count}saltsalt{}", ".".repeat(chars)),
                )
            })
            .find(|(_, hash)| parse(dialect, hash, &limits).is_ok())
            .expect("some phpass count fits the ceiling");
        cases.push((format!("{label} count=2^{log2}"), dialect, hash, 0));
    }
    cases.push((
        format!("wordpress $wp$ bcrypt cost={cost}"),
        Dialect::Php,
        format!("$wp{bcrypt}"),
        0,
    ));
    let sha1_rounds = (1..=limits.max_pbkdf2_rounds)
        .rev()
        .step_by(1000)
        .find(|r| {
            let hash = format!("$sha1${r}$saltsalt${}", ".".repeat(28));
            parse(Dialect::Phc, &hash, &limits).is_ok()
        })
        .expect("some sha1_crypt round count fits the ceiling");
    cases.push((
        format!("sha1-crypt rounds={sha1_rounds}"),
        Dialect::Phc,
        format!("$sha1${sha1_rounds}$saltsalt${}", ".".repeat(28)),
        0,
    ));
    cases.push((
        "md5-crypt".into(),
        Dialect::Phc,
        format!("$1$saltsalt${}", ".".repeat(22)),
        0,
    ));
    cases.push((
        "apr1 md5-crypt".into(),
        Dialect::Phc,
        format!("$apr1$saltsalt${}", ".".repeat(22)),
        0,
    ));
    println!(
        "costliest stored hash each default ceiling admits, checked with the longest password it \
         admits (one verify, median of 3):"
    );
    let mut worst = (String::new(), 0.0f64);
    for (label, dialect, hash, memory) in cases {
        let parsed = parse(dialect, &hash, &limits)
            .unwrap_or_else(|e| panic!("{label}: at the ceiling it must parse: {e}"));
        // Work grows with the length, so the costliest check is of the longest admitted one.
        let (mut fits, mut over) = (0usize, MAX_PASSWORD_BYTES + 1);
        while over - fits > 1 {
            let mid = fits + (over - fits) / 2;
            if parsed.admits(mid) {
                fits = mid;
            } else {
                over = mid;
            }
        }
        assert!(
            fits >= GUARANTEED_PASSWORD_BYTES,
            "{label}: admits only {fits} bytes"
        );
        let password = "x".repeat(fits);
        let mut runs: Vec<(f64, f64)> = (0..3)
            .map(|_| {
                let (cpu, wall) = (thread_cpu_secs(), Instant::now());
                black_box(parsed.verify(black_box(&password)));
                (wall.elapsed().as_secs_f64(), thread_cpu_secs() - cpu)
            })
            .collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, cpu) = runs[1];
        let memory = match memory {
            0 => String::new(),
            bytes => format!("  memory {} MiB", bytes >> 20),
        };
        println!("{label:<40} password {fits:>4} B  wall {wall:>7.3} s  cpu {cpu:>7.3} s{memory}");
        if cpu > worst.1 {
            worst = (label, cpu);
        }
    }
    println!("costliest: {} ({:.3} s of CPU)", worst.0, worst.1);
}

/// CPU time this thread has used, in seconds.
fn thread_cpu_secs() -> f64 {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).unwrap();
    ts.tv_sec() as f64 + ts.tv_nsec() as f64 * 1e-9
}

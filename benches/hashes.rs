//! Median verify time of one stored hash per scheme family, read from the fixture the
//! tests use. Run with `cargo bench --bench hashes`; compare the first line with
//! `python3 scripts/bench_hashes_python.py`, which times hashlib on the same input.

// A failed unwrap in a test or benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use firegate::passwords::{CostLimits, Dialect, parse};

const FIXTURE: &str = include_str!("../tests/fixtures/legacy-hashes.jsonl");

/// (label, dialect, the fixture's `scheme` field, the fixture's `source` prefix).
const CASES: &[(&str, Dialect, &str, &str)] = &[
    (
        "werkzeug pbkdf2:sha256:260000",
        Dialect::Werkzeug,
        "pbkdf2:sha256:260000",
        "werkzeug 2.2",
    ),
    (
        "django pbkdf2_sha256 1000000",
        Dialect::Django,
        "pbkdf2_sha256",
        "django 5.2",
    ),
    (
        "bcrypt cost 12 (django bcrypt$)",
        Dialect::Django,
        "bcrypt",
        "django 5.2",
    ),
    (
        "scrypt N=32768 r=8 p=1 (werkzeug)",
        Dialect::Werkzeug,
        "scrypt",
        "werkzeug 3.1",
    ),
    (
        "sha512-crypt rounds=656000",
        Dialect::Phc,
        "sha512_crypt",
        "passlib",
    ),
    (
        "argon2id m=19456 t=2 p=1",
        Dialect::Phc,
        "argon2id",
        "argon2-cffi",
    ),
    ("md5-crypt", Dialect::Phc, "md5_crypt", "passlib"),
];

fn main() {
    let limits = CostLimits::default();
    for &(label, dialect, scheme, source) in CASES {
        let (hash, password) = fixture_line(scheme, source);
        let parsed = parse(dialect, &hash, &limits).expect("fixture hash parses");
        assert!(
            parsed.verify(&password),
            "{label}: fixture password must verify"
        );
        let samples = sample(|| black_box(parsed.verify(black_box(&password))));
        println!(
            "{label:<36} median {:>9.3} ms  ({} runs)",
            median(&samples).as_secs_f64() * 1e3,
            samples.len()
        );
    }
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

/// At least 5 runs and about a second per case, after one warm-up run.
fn sample(mut run: impl FnMut() -> bool) -> Vec<Duration> {
    run();
    let started = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 5 || (started.elapsed() < Duration::from_secs(1) && samples.len() < 1000)
    {
        let t = Instant::now();
        run();
        samples.push(t.elapsed());
    }
    samples
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

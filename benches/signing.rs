//! Custom-token minting speed on one thread, against a bare RSA-2048 PKCS#1 v1.5 signature
//! with the same aws-lc-rs key. Run with `cargo bench --bench signing`; compare with
//! `openssl speed -seconds 5 rsa2048` (`scripts/bench.sh` does both and reports the ratio).
//!
//! `FIREGATE_BENCH_SECONDS` sets the time spent on each measurement (default 3). The last
//! line is machine-readable: `signing: key=value ...`.

// A failed unwrap in a test or benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use firegate::accounts::Uid;
use firegate::claims::Claims;
use firegate::custom_token::{TokenRequest, TokenSigner};
use firegate::keys::keygen;
use jiff::Timestamp;

fn main() {
    let seconds: f64 = std::env::var("FIREGATE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(seconds);

    let key = keygen::generate_rsa(2048).expect("RSA key generation");
    let parse_started = Instant::now();
    let signer = TokenSigner::from_pkcs8_der(
        &keygen::random_kid(),
        "firegate-bench@demo-bench.iam.gserviceaccount.com",
        key.pkcs8_der(),
    )
    .expect("the generated key parses");
    let parse_time = parse_started.elapsed();

    let uid = Uid::parse("bench-user-0000000000000000001").expect("uid");
    let claims = Claims::default();
    let mint = || {
        signer
            .mint(TokenRequest {
                uid: &uid,
                claims: &claims,
                tenant_id: None,
                issued_at: Timestamp::now(),
                lifetime_secs: 3600,
            })
            .expect("mint")
    };
    // The first signature after parsing: part of a cold start's first login.
    let first_started = Instant::now();
    let token = mint();
    let first_mint = first_started.elapsed();
    let signing_input_len = token.rfind('.').expect("three parts");
    let mint_samples = sample(budget, || {
        black_box(mint());
    });

    // The same key, signing a message as long as a token's signing input, with nothing else.
    let raw_key = RsaKeyPair::from_pkcs8(key.pkcs8_der()).expect("aws-lc-rs parses the key");
    let rng = SystemRandom::new();
    let message = vec![b'a'; signing_input_len];
    let mut signature = vec![0u8; raw_key.public_modulus_len()];
    let raw_samples = sample(budget, || {
        raw_key
            .sign(&RSA_PKCS1_SHA256, &rng, black_box(&message), &mut signature)
            .expect("sign");
        black_box(&signature);
    });

    let mint_stats = Stats::of(&mint_samples);
    let raw_stats = Stats::of(&raw_samples);
    println!(
        "key parse (once per key)        {:>9.1} µs",
        parse_time.as_secs_f64() * 1e6
    );
    println!(
        "first mint after the parse         {:>9.1} µs",
        first_mint.as_secs_f64() * 1e6
    );
    println!("token length                     {:>9} bytes", token.len());
    mint_stats.print("mint custom token (TokenSigner)");
    raw_stats.print("aws-lc-rs RSA-2048 sign only");
    println!(
        "mint overhead over a bare sign   {:>9.1} µs",
        (mint_stats.mean - raw_stats.mean) * 1e6
    );
    println!(
        "signing: mint_per_s={:.1} mint_us_mean={:.1} mint_us_median={:.1} mint_us_p99={:.1} \
         raw_sign_per_s={:.1} raw_sign_us_mean={:.1} key_parse_us={:.1} first_mint_us={:.1} samples={}",
        1.0 / mint_stats.mean,
        mint_stats.mean * 1e6,
        mint_stats.median * 1e6,
        mint_stats.p99 * 1e6,
        1.0 / raw_stats.mean,
        raw_stats.mean * 1e6,
        parse_time.as_secs_f64() * 1e6,
        first_mint.as_secs_f64() * 1e6,
        mint_samples.len(),
    );
}

/// Runs `f` once to warm up, then repeatedly for `budget` (at least 100 times), timing each run.
fn sample(budget: Duration, mut f: impl FnMut()) -> Vec<Duration> {
    f();
    let started = Instant::now();
    let mut samples = Vec::with_capacity(16_384);
    while samples.len() < 100 || started.elapsed() < budget {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples
}

/// Seconds per operation.
struct Stats {
    mean: f64,
    median: f64,
    p99: f64,
    runs: usize,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut sorted: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Stats {
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            median: at(0.5),
            p99: at(0.99),
            runs: sorted.len(),
        }
    }

    fn print(&self, label: &str) {
        println!(
            "{label:<32} {:>9.1} µs mean, {:.1} median, {:.1} p99  = {:>7.0}/s  ({} runs)",
            self.mean * 1e6,
            self.median * 1e6,
            self.p99 * 1e6,
            1.0 / self.mean,
            self.runs
        );
    }
}

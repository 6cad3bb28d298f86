//! Custom-token minting on one thread against a bare RSA-2048 PKCS#1 v1.5 signature with the
//! same aws-lc-rs key (criterion: `cargo bench --bench signing`). The bench driver
//! (`bench/run.py`) compares the mint with `openssl speed rsa2048`.

// A failed unwrap in a test or benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use criterion::{Criterion, criterion_group, criterion_main};
use firegate::accounts::Uid;
use firegate::claims::Claims;
use firegate::custom_token::{TokenRequest, TokenSigner};
use firegate::keys::keygen;
use jiff::Timestamp;

fn signing(c: &mut Criterion) {
    let key = keygen::generate_rsa(2048).expect("RSA key generation");
    let email = "firegate-bench@demo-bench.iam.gserviceaccount.com";
    let kid = keygen::random_kid();
    let mut group = c.benchmark_group("signing");
    group.bench_function("key-parse", |b| {
        b.iter(|| TokenSigner::from_pkcs8_der(&kid, email, black_box(key.pkcs8_der())).unwrap())
    });
    let signer = TokenSigner::from_pkcs8_der(&kid, email, key.pkcs8_der()).unwrap();
    let uid = Uid::parse("bench-user-0000000000000000001").expect("uid");
    let claims = Claims::default();
    let request = || TokenRequest {
        uid: &uid,
        claims: &claims,
        tenant_id: None,
        issued_at: Timestamp::now(),
        lifetime_secs: 3600,
    };
    let token = signer.mint(request()).unwrap();
    group.bench_function("mint", |b| {
        b.iter(|| signer.mint(black_box(request())).unwrap())
    });

    // The same key signing a message as long as a token's signing input, with nothing else.
    let raw_key = RsaKeyPair::from_pkcs8(key.pkcs8_der()).expect("aws-lc-rs parses the key");
    let rng = SystemRandom::new();
    let message = vec![b'a'; token.rfind('.').expect("three parts")];
    let mut signature = vec![0u8; raw_key.public_modulus_len()];
    group.bench_function("rsa2048-sign", |b| {
        b.iter(|| {
            raw_key
                .sign(&RSA_PKCS1_SHA256, &rng, black_box(&message), &mut signature)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);

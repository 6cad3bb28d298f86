//! Feeds arbitrary bytes to `parse` under each dialect, and verifies a password against
//! whatever it accepts. Input: one byte choosing the dialect, then the stored string,
//! a newline, and the password. Firebase strings are verified with a fixed project's
//! parameters (its id is `c0e0…`-style hex, so mutated ids also reach the unbound path).
#![no_main]

use std::sync::{Arc, LazyLock};

use firegate::passwords::{CostLimits, Dialect, DialectSettings, FirebaseProject, parse, parse_with};

/// One Firebase project, so that `$firebase-scrypt$` strings naming it reach the AES step.
static SETTINGS: LazyLock<DialectSettings> = LazyLock::new(|| DialectSettings {
    firebase: vec![Arc::new(FirebaseProject::new(vec![7; 64], vec![7], 1, 2))],
    ..DialectSettings::default()
});
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (stored, password) = text.split_once('\n').unwrap_or((text, ""));
    let dialect = Dialect::ALL[usize::from(selector) % Dialect::ALL.len()];
    // Small ceilings keep each accepted hash to about a millisecond of work.
    let limits = CostLimits {
        max_pbkdf2_rounds: 2000,
        max_scrypt_log_n: 6,
        max_scrypt_memory_bytes: 1 << 20,
        max_bcrypt_cost: 5,
        max_argon2_memory_kib: 256,
        max_argon2_time: 2,
        max_argon2_lanes: 4,
        max_sha_crypt_rounds: 2000,
    };
    // What naming a stored hash does: parse with no ceilings, never verify.
    let _ = parse(dialect, stored, &CostLimits::unbounded()).map(|parsed| parsed.scheme());
    match parse_with(dialect, stored, &limits, &SETTINGS) {
        Ok(parsed) => {
            parsed.verify(password);
            let _ = (
                parsed.missing().map(|e| e.to_string()),
                parsed.scheme(),
                parsed.argon2_params(),
                format!("{parsed:?}"),
            );
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});

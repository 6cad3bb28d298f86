//! Property tests: whatever string arrives, `parse` answers without panicking, and any
//! hash it accepts can be verified against any password without panicking.

use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::{CostLimits, Dialect, parse};

/// Limits small enough that every accepted hash verifies in about a millisecond.
fn small_limits() -> CostLimits {
    CostLimits {
        max_pbkdf2_rounds: 2000,
        max_scrypt_log_n: 6,
        max_scrypt_memory_bytes: 1 << 20,
        max_bcrypt_cost: 5,
        max_argon2_memory_kib: 256,
        max_argon2_time: 2,
        max_argon2_lanes: 4,
        max_sha_crypt_rounds: 2000,
    }
}

const PREFIXES: &[(Dialect, &str)] = &[
    (Dialect::Werkzeug, "pbkdf2:sha256:1000$"),
    (Dialect::Werkzeug, "pbkdf2:sha256:"),
    (Dialect::Werkzeug, "pbkdf2:"),
    (Dialect::Werkzeug, "scrypt:16:1:1$"),
    (Dialect::Werkzeug, "scrypt:"),
    (Dialect::Werkzeug, "scrypt$"),
    (Dialect::Werkzeug, "sha1$"),
    (Dialect::Werkzeug, "md5$$"),
    (Dialect::Werkzeug, "sha3_256$salt$"),
    (Dialect::Werkzeug, "blake2b$$"),
    (Dialect::Django, "pbkdf2_sha256$1000$"),
    (Dialect::Django, "pbkdf2_sha1$"),
    (Dialect::Django, "argon2$argon2id$v=19$m=64,t=1,p=1$"),
    (Dialect::Django, "argon2$argon2i$m="),
    (Dialect::Django, "bcrypt$$2b$04$"),
    (Dialect::Django, "bcrypt_sha256$$2"),
    (Dialect::Django, "scrypt$16$"),
    (Dialect::Django, "md5$"),
    (Dialect::Django, "sha1$$"),
    (Dialect::Django, "crypt$$"),
    (Dialect::Django, "crypt$$$1$"),
    (Dialect::Django, "crypt$$$6$rounds=1000$"),
    (Dialect::Django, "!"),
    (Dialect::Phc, "$argon2id$v=19$m=64,t=1,p=1$"),
    (Dialect::Phc, "$argon2d$m=16,t=1,p=2$c2FsdHNhbHQ$"),
    (Dialect::Phc, "$argon2i$"),
    (Dialect::Phc, "$pbkdf2-sha256$1000$"),
    (Dialect::Phc, "$pbkdf2-sha512$"),
    (Dialect::Phc, "$pbkdf2$1000$"),
    (Dialect::Phc, "$scrypt$ln=4,r=2,p=1$"),
    (Dialect::Phc, "$scrypt$"),
    (Dialect::Phc, "$5$rounds=1000$"),
    (Dialect::Phc, "$6$"),
    (Dialect::Phc, "$1$"),
    (Dialect::Phc, "$2b$04$"),
    (Dialect::Phc, "$2y$"),
    (Dialect::Phc, "{SSHA}"),
    (Dialect::Phc, "{SSHA512}"),
    (Dialect::Phc, "{CRYPT}$1$"),
    (Dialect::Phc, "{CRYPT}"),
    (Dialect::Phc, "ab"),
    (Dialect::Phc, "$bcrypt-sha256$2b,5$"),
    (Dialect::Phc, "$bcrypt-sha256$v=2,t=2b,r=4$"),
    (Dialect::Phc, "$apr1$"),
    (Dialect::Phc, "$sha1$1000$"),
    (Dialect::Phc, "{PKCS5S2}"),
    (Dialect::Phc, "{PBKDF2-SHA256}1000$"),
    (Dialect::Php, "$P$7"),
    (Dialect::Php, "$H$8"),
    (Dialect::Php, "$wp$2y$04$"),
    (Dialect::Php, "$2y$04$"),
    (Dialect::Php, "$argon2id$v=19$m=64,t=1,p=1$"),
    (Dialect::Drupal, "$S$7"),
    (Dialect::Drupal, "U$S$7"),
    (Dialect::Drupal, "U$P$7"),
    (Dialect::Aspnet, "AQAAAA"),
    (Dialect::Aspnet, "AAAB"),
    (Dialect::Spring, "{bcrypt}$2a$04$"),
    (Dialect::Spring, "{pbkdf2}"),
    (Dialect::Spring, "{sha256}"),
    (Dialect::Spring, "{MD5}{"),
    (Dialect::Spring, "{scrypt}$"),
    (Dialect::Spring, "{argon2}$argon2id$v=19$m=64,t=1,p=1$"),
    (Dialect::Spring, "{ldap}{SSHA}"),
    (Dialect::Firebase, "$firebase-scrypt$0123456789ab$r=1,m=4$"),
];

/// Real hashes to mutate, so that mutants often still parse and reach `verify`.
fn seeds() -> Vec<(Dialect, String)> {
    let fixtures = [
        include_str!("../../tests/fixtures/more-hashes.jsonl"),
        include_str!("../../tests/fixtures/php-hashes.jsonl"),
        include_str!("../../tests/fixtures/library-hashes.jsonl"),
    ];
    super::tests::cases(&fixtures.concat())
        .into_iter()
        .map(|case| (case.dialect, case.hash))
        .collect()
}

fn exercise(dialect: Dialect, stored: &str, password: &str) {
    if let Ok(parsed) = parse(dialect, stored, &CostLimits::unbounded()) {
        assert!(!parsed.scheme().is_empty());
    }
    match parse(dialect, stored, &small_limits()) {
        Ok(parsed) => {
            parsed.verify(password);
            parsed.argon2_params();
            assert!(format!("{parsed:?}").contains(parsed.scheme()));
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

#[derive(Clone, Debug)]
enum Edit {
    Replace(Index, char),
    Insert(Index, char),
    Remove(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let glyph = prop_oneof![
        4 => select(b"$:,=./+{}!*0123456789aAzZ_-".to_vec()).prop_map(char::from),
        1 => any::<char>(),
    ];
    prop_oneof![
        (any::<Index>(), glyph.clone()).prop_map(|(at, c)| Edit::Replace(at, c)),
        (any::<Index>(), glyph).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

fn apply(stored: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = stored.chars().collect();
    for edit in edits {
        match *edit {
            Edit::Replace(at, c) if !chars.is_empty() => {
                let at = at.index(chars.len());
                chars[at] = c;
            }
            Edit::Insert(at, c) => chars.insert(at.index(chars.len() + 1), c),
            Edit::Remove(at) if !chars.is_empty() => {
                chars.remove(at.index(chars.len()));
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// A decimal cost field: usually small, often far beyond `u64`, which the parsers saturate.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (0u64..70).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => (0u32..64).prop_map(|e| (1u64 << e).to_string()),
        2 => "[0-9]{18,30}",
    ]
}

/// Every cost-bearing form with its numbers filled in from [`number`].
#[rustfmt::skip]
fn costly(numbers: [String; 3]) -> Vec<(Dialect, String)> {
    let [a, b, c] = numbers;
    let (hex, b64, salt) = ("0".repeat(128), "A".repeat(86) + "==", "c2FsdHNhbHRzYWx0");
    vec![
        (Dialect::Werkzeug, format!("scrypt:{a}:{b}:{c}$salt${hex}")),
        (Dialect::Werkzeug, format!("pbkdf2:sha256:{a}$salt${}", &hex[..64])),
        (Dialect::Django, format!("scrypt${a}$salt${b}${c}${b64}")),
        (Dialect::Django, format!("pbkdf2_sha256${a}$salt${}=", &b64[..43])),
        (Dialect::Django, format!("argon2$argon2id$v=19$m={a},t={b},p={c}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$scrypt$ln={a},r={b},p={c}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$argon2id$v=19$m={a},t={b},p={c}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$pbkdf2-sha256${a}$salt${}", &b64[..43])),
        (Dialect::Phc, format!("$6$rounds={a}$salt${}", &b64[..86])),
        (Dialect::Phc, format!("$2b${:0>2}${}", &a[..a.len().min(2)], &b64[..53])),
        (Dialect::Phc, format!("$sha1${a}$salt${}", &b64[..28])),
        (Dialect::Phc, format!("{{PBKDF2-SHA512}}{a}$salt${}", &b64[..86])),
        (Dialect::Firebase, format!("$firebase-scrypt$0123456789ab$r={a},m={b}${salt}${salt}{salt}")),
        (Dialect::Spring, format!("{{scrypt}}${a}${salt}${salt}{salt}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn cost_parameters_of_any_size(numbers in [number(), number(), number()], password in ".{0,20}") {
        for (dialect, stored) in costly(numbers) {
            exercise(dialect, &stored, &password);
        }
    }

    #[test]
    fn arbitrary_strings(dialect in select(Dialect::ALL.to_vec()), stored in any::<String>(), password in any::<String>()) {
        exercise(dialect, &stored, &password);
    }

    #[test]
    fn scheme_prefixes_with_random_tails(
        (dialect, prefix) in select(PREFIXES),
        tail in "[A-Za-z0-9./+=$,:{}!*_-]{0,100}",
        password in ".{0,100}",
    ) {
        exercise(dialect, &format!("{prefix}{tail}"), &password);
    }

    #[test]
    fn mutated_real_hashes(
        (dialect, stored) in select(seeds()),
        edits in prop::collection::vec(edit(), 1..4),
        password in ".{0,100}",
    ) {
        exercise(dialect, &apply(&stored, &edits), &password);
    }
}

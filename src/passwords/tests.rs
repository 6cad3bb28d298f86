//! Checks against hashes written by the real libraries, and the promises of the public
//! surface: dialect separation, limits enforced before any work, silent `Debug` and errors.

use std::sync::Arc;

use super::{
    Argon2Params, CostLimits, Dialect, DialectSettings, FirebaseProject, HashError, SpringPbkdf2,
    SpringSettings, parse, parse_with,
};

/// Written by Werkzeug 2.2/3.1, Django 4.2/5.2, passlib, pyca/bcrypt and argon2-cffi.
const LEGACY: &str = include_str!("../../tests/fixtures/legacy-hashes.jsonl");
/// The same libraries plus glibc crypt(3), covering the formats `LEGACY` lacks.
const MORE: &str = include_str!("../../tests/fixtures/more-hashes.jsonl");
/// PHP's `password_hash`, WordPress's and Drupal 7's own hashing code (issue 18).
const PHP: &str = include_str!("../../tests/fixtures/php-hashes.jsonl");
/// passlib, and the published vectors of ASP.NET Identity, Spring Security, firebase/scrypt.
const LIBRARIES: &str = include_str!("../../tests/fixtures/library-hashes.jsonl");

pub(crate) struct Case {
    pub source: String,
    pub dialect: Dialect,
    pub scheme: Option<String>,
    pub password: String,
    /// The stored string (for Firebase lines, firegate's form built from hash and salt).
    pub hash: String,
    pub wrong: String,
    /// What the dialect needs besides the string (Firebase project, Spring encoder).
    pub settings: DialectSettings,
}

/// The settings a fixture line names: `firebase` (the project's hash parameters) or
/// `spring` (the encoder's secret and `{pbkdf2}` meaning).
fn line_settings(v: &serde_json::Value) -> DialectSettings {
    let mut settings = DialectSettings::default();
    if let Some(project) = v.get("firebase") {
        settings.firebase.push(Arc::new(
            FirebaseProject::parse(&project.to_string()).expect("project"),
        ));
    }
    if let Some(spring) = v.get("spring") {
        settings.spring = SpringSettings {
            pbkdf2: spring["pbkdf2"]
                .as_str()
                .map_or(SpringPbkdf2::V5_5, |spec| {
                    SpringPbkdf2::parse(spec).expect("spec")
                }),
            secret: spring["secret"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec()
                .into(),
        };
    }
    settings
}

pub(crate) fn cases(jsonl: &str) -> Vec<Case> {
    jsonl
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains("\"noop\": true"))
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("fixture line is JSON");
            let text = |key: &str| v[key].as_str().expect(key).to_owned();
            let source = text("source");
            let dialect = match v["dialect"].as_str() {
                Some(dialect) => dialect.parse().expect("dialect name"),
                None if source.starts_with("werkzeug") => Dialect::Werkzeug,
                None if source.starts_with("django") => Dialect::Django,
                None => Dialect::Phc,
            };
            let scheme = v["dialect"].as_str().map(|_| text("scheme"));
            let (password, mut hash, wrong) = (text("password"), text("hash"), text("wrong"));
            let settings = line_settings(&v);
            if let Some(project) = settings.firebase.first() {
                hash = project.stored_hash(&hash, &text("salt"));
            }
            Case {
                source,
                dialect,
                scheme,
                password,
                hash,
                wrong,
                settings,
            }
        })
        .collect()
}

/// Verifies every case on all cores: the fixture holds million-round hashes.
fn check_all(cases: &[Case]) {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(cases.len().div_ceil(4).max(1))
            .map(|chunk| scope.spawn(move || chunk.iter().flat_map(check).collect::<Vec<_>>()))
            .collect();
        let joined = workers.into_iter().map(|worker| worker.join().unwrap());
        joined.flatten().collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with one case, if anything.
fn check(case: &Case) -> Vec<String> {
    let what = format!("{} {:?} {}", case.source, case.dialect, case.hash);
    let parsed = match parse_with(
        case.dialect,
        &case.hash,
        &CostLimits::default(),
        &case.settings,
    ) {
        Ok(parsed) => parsed,
        Err(error) => return vec![format!("{what}: {error}")],
    };
    let mut failures = Vec::new();
    if let Some(scheme) = &case.scheme
        && parsed.scheme() != scheme
    {
        failures.push(format!("{what}: scheme {}", parsed.scheme()));
    }
    if !parsed.verify(&case.password) {
        failures.push(format!("{what}: password rejected"));
    }
    if parsed.verify(&case.wrong) {
        failures.push(format!("{what}: wrong password accepted"));
    }
    failures
}

#[test]
fn every_legacy_fixture_line_verifies_and_rejects_its_wrong_password() {
    let cases = cases(LEGACY);
    assert_eq!(cases.len(), 39);
    check_all(&cases);
}

#[test]
fn every_extra_vector_verifies_with_its_scheme_name() {
    let cases = cases(MORE);
    assert!(cases.len() > 60);
    check_all(&cases);
}

#[test]
fn every_php_wordpress_and_drupal_vector_verifies() {
    let cases = cases(PHP);
    assert!(cases.len() >= 40, "{}", cases.len());
    for dialect in [Dialect::Php, Dialect::Drupal] {
        assert!(cases.iter().any(|c| c.dialect == dialect), "{dialect}");
    }
    check_all(&cases);
}

#[test]
fn every_library_vector_verifies() {
    let cases = cases(LIBRARIES);
    assert!(cases.len() >= 100, "{}", cases.len());
    for dialect in [
        Dialect::Phc,
        Dialect::Aspnet,
        Dialect::Spring,
        Dialect::Firebase,
    ] {
        assert!(cases.iter().any(|c| c.dialect == dialect), "{dialect}");
    }
    check_all(&cases);
}

#[test]
fn a_prefix_shared_by_two_dialects_never_crosses_over() {
    let limits = CostLimits::default();
    let salted_digests = cases(LEGACY).into_iter().chain(cases(MORE)).filter(|c| {
        // Unsalted `sha1$$hex` is the plain digest in both, rightly.
        let salted = !c.hash.contains("$$");
        salted
            && c.dialect != Dialect::Phc
            && ["sha1$", "md5$"].iter().any(|p| c.hash.starts_with(p))
    });
    let mut checked = 0;
    for case in salted_digests {
        let other = match case.dialect {
            Dialect::Werkzeug => Dialect::Django,
            _ => Dialect::Werkzeug,
        };
        let parsed = parse(other, &case.hash, &limits).expect("the other dialect reads it too");
        assert!(
            !parsed.verify(&case.password),
            "{} verified as {other}",
            case.hash
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} cross-dialect cases");
}

#[test]
fn absurd_costs_are_refused_without_computing() {
    let limits = CostLimits::default();
    let salt = "c2FsdHNhbHRzYWx0";
    let huge = "9".repeat(20);
    let pow63 = 1u64 << 63;
    #[rustfmt::skip]
    let hashes = [
        (Dialect::Werkzeug, format!("pbkdf2:sha256:4000000000$salt${}", "0".repeat(64))),
        (Dialect::Django, format!("pbkdf2_sha256$4000000000$salt${}=", "A".repeat(43))),
        (Dialect::Phc, format!("$pbkdf2-sha256$99999999999999999999999$salt${}", "A".repeat(43))),
        (Dialect::Werkzeug, format!("scrypt:1073741824:8:1$salt${}", "0".repeat(128))),
        (Dialect::Werkzeug, format!("scrypt:1048576:4096:1$salt${}", "0".repeat(128))),
        (Dialect::Werkzeug, format!("scrypt:16384:8:4000000000$salt${}", "0".repeat(128))),
        // Over-long numbers saturate at u64::MAX, where 128·N·r·p leaves even u128.
        (Dialect::Werkzeug, format!("scrypt:16384:{huge}:{huge}$salt${}", "0".repeat(128))),
        (Dialect::Werkzeug, format!("scrypt:{pow63}:{huge}:{huge}$salt${}", "0".repeat(128))),
        (Dialect::Django, format!("scrypt$16384$salt${huge}${huge}${}=", "A".repeat(86))),
        (Dialect::Django, format!("scrypt$16384$salt$1${huge}${}=", "A".repeat(86))),
        (Dialect::Phc, format!("$scrypt$ln=14,r={huge},p={huge}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$scrypt$ln=63,r={huge},p={huge}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$scrypt$ln=14,r=1,p={huge}${salt}${salt}{salt}")),
        (Dialect::Werkzeug, format!("pbkdf2:sha256:{huge}$salt${}", "0".repeat(64))),
        (Dialect::Django, format!("pbkdf2_sha256${huge}$salt${}=", "A".repeat(43))),
        (Dialect::Phc, format!("$argon2id$v=19$m={huge},t={huge},p={huge}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$argon2id$v=19$m=65536,t=1,p={huge}${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$5$rounds={huge}$salt${}", "a".repeat(43))),
        (Dialect::Phc, format!("$scrypt$ln=30,r=8,p=1${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$2b$31${}", "a".repeat(53))),
        (Dialect::Phc, format!("$argon2id$v=19$m=4194304,t=1,p=1${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$argon2id$v=19$m=65536,t=4000000000,p=1${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$argon2id$v=19$m=65536,t=1,p=16777215${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$6$rounds=999999999$salt${}", "a".repeat(86))),
    ];
    // Had any of these been computed, the test would run for hours instead of failing fast.
    for (dialect, hash) in &hashes {
        let error = parse(*dialect, hash, &limits).expect_err(hash);
        assert!(
            matches!(error, HashError::CostTooHigh { .. }),
            "{hash}: {error}"
        );
        // Naming a hash with no ceilings must not compute it either.
        let _ = parse(*dialect, hash, &CostLimits::unbounded());
    }
    let message = parse(hashes[0].0, &hashes[0].1, &limits)
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "werkzeug-pbkdf2-sha256: round count 4000000000 exceeds the limit 5000000 \
         (raise --max-pbkdf2-rounds to allow)"
    );
}

#[test]
fn unusable_markers_are_reported_as_such() {
    let limits = CostLimits::default();
    for (dialect, hash) in [
        (Dialect::Django, "!"),
        (Dialect::Django, "!Xk3dPq9vB2mN7tR5yW8zL1cF4hJ6gS0aE3uI9oY2"),
        (Dialect::Phc, "!$6$salt$hash"),
        (Dialect::Phc, "*"),
    ] {
        assert!(
            matches!(parse(dialect, hash, &limits), Err(HashError::Unusable)),
            "{hash}"
        );
    }
}

#[test]
fn debug_and_errors_never_show_secrets() {
    let limits = CostLimits::default();
    for case in cases(LEGACY) {
        let parsed = parse(case.dialect, &case.hash, &limits).unwrap();
        let debug = format!("{parsed:?}");
        assert_eq!(
            debug,
            format!("ParsedHash {{ scheme: {:?}, .. }}", parsed.scheme())
        );
        // Breaking the last character keeps the salt and most of the digest in the input.
        let mut broken = case.hash.clone();
        broken.pop();
        broken.push('\u{e9}');
        let error = parse(case.dialect, &broken, &limits)
            .expect_err(&broken)
            .to_string();
        // Salts and digests, not the algorithm names that errors rightly mention.
        let fields = broken
            .split(['$', ':', '}'])
            .filter(|f| f.len() >= 12 && !f.contains(['=', '_']) && !f.starts_with("pbkdf2"));
        for field in fields {
            assert!(!error.contains(field), "{error} shows {field}");
        }
        assert!(!error.contains(&case.password), "{error}");
    }
}

#[test]
fn unknown_prefixes_are_named_only_when_they_are_known_identifiers() {
    let limits = CostLimits::default();
    let message = |dialect, hash| parse(dialect, hash, &limits).unwrap_err().to_string();
    assert_eq!(
        message(Dialect::Django, "foo$bar"),
        "django: unrecognised scheme prefix"
    );
    assert_eq!(
        message(Dialect::Django, "hunter2"),
        "django: not a recognised hash format"
    );
    assert_eq!(
        message(Dialect::Django, "pässwörd$x"),
        "django: unrecognised scheme prefix"
    );
    assert_eq!(
        message(Dialect::Django, "pbkdf2:sha256:1000$salt$00"),
        "django: unrecognised scheme prefix"
    );
    assert_eq!(
        message(Dialect::Phc, "$yescrypt$x"),
        "phc: unsupported algorithm prefix 'yescrypt'"
    );
    assert_eq!(
        message(Dialect::Phc, "{SSHA1024}x"),
        "phc: unrecognised scheme prefix"
    );
    assert_eq!(
        message(Dialect::Werkzeug, "whirlpool$s$00"),
        "werkzeug: unsupported algorithm prefix 'whirlpool'"
    );
    assert_eq!(
        message(Dialect::Werkzeug, "pbkdf2_sha256$1000$salt$x"),
        "werkzeug: unsupported algorithm prefix 'pbkdf2_sha256'"
    );
}

#[test]
fn clear_text_passwords_never_reach_an_error() {
    // A legacy table that held clear text: whatever precedes a `$`, `:` or `}` is a secret.
    let limits = CostLimits::default();
    #[rustfmt::skip]
    let stored = [
        "Summer$2020", "Summer$2020$x", "Summer$$2020", "$Summer$2020", "$Summer",
        "Summer:2020$salt$00", "pbkdf2:Summer$salt$00", "pbkdf2:sha256:Summer$s$00",
        "scrypt:Summer$s$00", "sha256:Summer$s$00", "md5:Summer$s$00",
        "{Summer}2020", "{CRYPT}Summer$2020", "{SSHA}Summer2020", "!Summer$2020",
        "pbkdf2_sha256$Summer$2020$x", "crypt$Summer$2020", "argon2$Summer$2020",
        "$argon2id$Summer$2020", "$pbkdf2-sha256$Summer$2020$x", "$2b$Summer$2020",
        "$6$Summer$2020", "$6$rounds=Summer$2020$x", "Summer 2020 xyz",
    ];
    for hash in stored {
        for dialect in Dialect::ALL {
            let Err(error) = parse(dialect, hash, &limits) else {
                panic!("{dialect} accepted {hash}");
            };
            for shown in [error.to_string(), format!("{error:?}")] {
                let lower = shown.to_lowercase();
                assert!(
                    !lower.contains("summer") && !shown.contains("2020"),
                    "{dialect} {hash}: {shown}"
                );
            }
        }
    }
}

#[test]
fn argon2_parameters_are_exposed_for_rehash_decisions() {
    let limits = CostLimits::default();
    let cases = cases(LEGACY);
    let argon2id = cases
        .iter()
        .find(|c| c.hash.starts_with("$argon2id$v=19$m=19456"))
        .unwrap();
    let parsed = parse(Dialect::Phc, &argon2id.hash, &limits).unwrap();
    let expected = Argon2Params {
        variant: "argon2id",
        version: 0x13,
        m_cost: 19456,
        t_cost: 2,
        p_cost: 1,
        output_len: 32,
    };
    assert_eq!(parsed.argon2_params(), Some(expected));
    // Version 0x10 (written `v=16`, or no `v=` at all) is what a rehash decision needs to see.
    let v16 = argon2id.hash.replace("$v=19$", "$v=16$");
    let unversioned = argon2id.hash.replace("$v=19$", "$");
    for old in [v16, unversioned] {
        let params = parse(Dialect::Phc, &old, &limits).unwrap().argon2_params();
        assert_eq!(params.map(|p| p.version), Some(0x10), "{old}");
    }
    let bcrypt = cases.iter().find(|c| c.hash.starts_with("$2b$")).unwrap();
    assert!(
        parse(Dialect::Phc, &bcrypt.hash, &limits)
            .unwrap()
            .argon2_params()
            .is_none()
    );
}

#[test]
fn every_truncation_of_a_real_hash_fails_cleanly() {
    let limits = CostLimits::default();
    let more = cases(MORE);
    for case in cases(LEGACY).iter().chain(&more) {
        // Base64 padding is optional where the writer's decoder allowed that.
        let unpadded = case.hash.trim_end_matches('=').len();
        for end in (0..unpadded).filter(|&end| case.hash.is_char_boundary(end)) {
            let truncated = &case.hash[..end];
            if let Ok(parsed) = parse(case.dialect, truncated, &limits) {
                assert!(!parsed.verify(&case.password), "{truncated} still verifies");
            }
        }
    }
}

/// Asserts that each hash is refused under `dialect` with an error containing its reason.
pub(crate) fn assert_refused<H: AsRef<str>>(
    dialect: Dialect,
    cases: impl IntoIterator<Item = (H, &'static str)>,
) {
    let limits = CostLimits::default();
    for (hash, reason) in cases {
        let hash = hash.as_ref();
        let error = parse(dialect, hash, &limits).expect_err(hash).to_string();
        assert!(error.contains(reason), "{hash}: {error}");
    }
}

#[test]
fn default_ceilings_admit_library_defaults_and_refuse_what_costs_seconds() {
    let limits = CostLimits::default();
    let salt = "c2FsdHNhbHRzYWx0";
    let hex = |bytes: usize| "00".repeat(bytes);
    #[rustfmt::skip]
    let admitted = [
        // Django 6 PBKDF2-SHA256, Werkzeug 3.1 with SHA-512, Django's argon2, OWASP's
        // lowest-memory argon2id, passlib's sha512-crypt, bcrypt 12, passlib's scrypt.
        (Dialect::Django, format!("pbkdf2_sha256$1200000$salt${}=", "A".repeat(43))),
        (Dialect::Werkzeug, format!("pbkdf2:sha512:600000$salt${}", hex(64))),
        (Dialect::Phc, format!("$argon2id$v=19$m=102400,t=2,p=8${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$argon2id$v=19$m=7168,t=5,p=1${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$6$rounds=656000$salt${}", ".".repeat(86))),
        (Dialect::Phc, format!("$2b$12${}", ".".repeat(53))),
        (Dialect::Werkzeug, format!("scrypt:65536:8:1$salt${}", hex(64))),
    ];
    for (dialect, hash) in &admitted {
        assert!(parse(*dialect, hash, &limits).is_ok(), "{hash}");
    }
    // What the defaults used to admit: 26 s, 20 s, 9 s and 5 s of CPU per check here.
    #[rustfmt::skip]
    let refused = [
        (Dialect::Phc, format!("$argon2id$v=19$m=1048576,t=16,p=1${salt}${salt}{salt}")),
        (Dialect::Phc, format!("$argon2id$v=19$m=65536,t=9,p=1${salt}${salt}{salt}")),
        (Dialect::Werkzeug, format!("pbkdf2:sha3_512:10000000$salt${}", hex(64))),
        (Dialect::Werkzeug, format!("pbkdf2:sha512:10000000$salt${}", hex(64))),
        (Dialect::Werkzeug, format!("pbkdf2:sha3_256:400000$salt${}", hex(32))),
        (Dialect::Phc, format!("$2b$16${}", "a".repeat(53))),
        (Dialect::Werkzeug, format!("scrypt:1048576:8:1$salt${}", hex(64))),
        (Dialect::Phc, format!("$6$rounds=10000000$salt${}", "a".repeat(86))),
    ];
    for (dialect, hash) in &refused {
        let error = parse(*dialect, hash, &limits).expect_err(hash);
        assert!(
            matches!(error, HashError::CostTooHigh { .. }),
            "{hash}: {error}"
        );
    }
}

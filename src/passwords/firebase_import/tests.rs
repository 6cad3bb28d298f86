//! What the mapping sends for every fixture hash, checked against what Firebase computes.

use std::collections::{BTreeMap, BTreeSet};

use aes::cipher::{KeyIvInit as _, StreamCipher as _};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::{ImportableHash, NotImportable, importable};
use crate::passwords::tests::cases;
use crate::passwords::{CostLimits, Dialect, parse, parse_with};

const FIXTURES: [&str; 4] = [
    include_str!("../../../tests/fixtures/legacy-hashes.jsonl"),
    include_str!("../../../tests/fixtures/more-hashes.jsonl"),
    include_str!("../../../tests/fixtures/php-hashes.jsonl"),
    include_str!("../../../tests/fixtures/library-hashes.jsonl"),
];

fn map(dialect: Dialect, stored: &str) -> Result<ImportableHash, NotImportable> {
    importable(&parse(dialect, stored, &CostLimits::default()).unwrap())
}

fn mapped(dialect: Dialect, stored: &str) -> (Value, ImportableHash) {
    let hash = map(dialect, stored).unwrap();
    (serde_json::to_value(&hash.algorithm).unwrap(), hash)
}

fn refusal(dialect: Dialect, stored: &str) -> String {
    map(dialect, stored).unwrap_err().to_string()
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// passlib's adapted base64: `.` for `+`, no padding.
fn ab64(text: &str) -> Vec<u8> {
    let standard = text.replace('.', "+");
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(standard)
        .unwrap()
}

/// What Firebase would compute for `password` from the request JSON and the user's bytes,
/// modelled on the sources in the module docs with the crates directly, so that a wrong
/// salt, order, round count or encoding in the mapping shows as a mismatch.
fn firebase_accepts(user: &ImportableHash, password: &str) -> bool {
    let request = serde_json::to_value(&user.algorithm).unwrap();
    let number = |name: &str| request[name].as_u64().unwrap();
    let bytes = |name: &str| {
        let text = request[name].as_str().unwrap();
        base64::engine::general_purpose::URL_SAFE
            .decode(text)
            .unwrap()
    };
    let password = password.as_bytes();
    let salt = user.salt.clone().unwrap_or_default();
    let stored = &user.password_hash;
    // SALT_AND_PASSWORD, and the default when no order is sent (LIVE).
    let input = match request["passwordHashOrder"].as_str() {
        Some("PASSWORD_AND_SALT") => [password, &salt].concat(),
        _ => [&salt[..], password].concat(),
    };
    let mut out = vec![0u8; stored.len()];
    match request["hashAlgorithm"].as_str().unwrap() {
        "PBKDF_SHA1" => {
            let rounds = number("rounds") as u32;
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, &salt, rounds, &mut out);
        }
        "PBKDF2_SHA256" => {
            let rounds = number("rounds") as u32;
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, rounds, &mut out);
        }
        "MD5" => {
            assert_eq!(number("rounds"), 0);
            out = hex::encode(md5::Md5::digest(&input)).into_bytes();
        }
        "SHA1" => out = sha1::Sha1::digest(&input).to_vec(),
        "SHA256" => out = sha2::Sha256::digest(&input).to_vec(),
        "SHA512" => out = sha2::Sha512::digest(&input).to_vec(),
        "BCRYPT" => {
            let hash = std::str::from_utf8(stored).unwrap();
            return bcrypt::verify(password, hash).unwrap();
        }
        "STANDARD_SCRYPT" => {
            let n = number("cpuMemCost");
            assert!(n.is_power_of_two());
            let r = number("blockSize") as u32;
            let p = number("parallelization") as u32;
            assert_eq!(number("dkLen") as usize, out.len());
            let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p).unwrap();
            scrypt::scrypt(password, &salt, &params, &mut out).unwrap();
        }
        "SCRYPT" => {
            let salted = [salt, bytes("saltSeparator")].concat();
            let log_n = number("memoryCost") as u8;
            let params = scrypt::Params::new(log_n, number("rounds") as u32, 1).unwrap();
            let mut derived = [0u8; 64];
            scrypt::scrypt(password, &salted, &params, &mut derived).unwrap();
            out = bytes("signerKey");
            ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16])
                .unwrap()
                .apply_keystream(&mut out);
        }
        "ARGON2" => {
            let a = &request["argon2Parameters"];
            let field = |name: &str| a[name].as_u64().unwrap() as u32;
            let algorithm = match a["hashType"].as_str().unwrap() {
                "ARGON2_D" => argon2::Algorithm::Argon2d,
                "ARGON2_I" => argon2::Algorithm::Argon2i,
                _ => argon2::Algorithm::Argon2id,
            };
            let version = match a["version"].as_str().unwrap() {
                "VERSION_10" => argon2::Version::V0x10,
                _ => argon2::Version::V0x13,
            };
            let params = argon2::Params::new(
                field("memoryCostKib"),
                field("iterations"),
                field("parallelism"),
                Some(field("hashLengthBytes") as usize),
            )
            .unwrap();
            argon2::Argon2::new(algorithm, version, params)
                .hash_password_into(password, &salt, &mut out)
                .unwrap();
        }
        other => panic!("no model of {other}"),
    }
    out == *stored
}

#[test]
fn every_importable_fixture_is_accepted_as_firebase_computes_it() {
    let mut outcomes: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for case in FIXTURES.iter().flat_map(|fixture| cases(fixture)) {
        let limits = CostLimits::default();
        let parsed = parse_with(case.dialect, &case.hash, &limits, &case.settings).unwrap();
        let what = format!("{} {}", case.source, case.hash);
        let outcome = match importable(&parsed) {
            Ok(user) => {
                assert!(firebase_accepts(&user, &case.password), "{what}: rejected");
                assert!(
                    !firebase_accepts(&user, &case.wrong),
                    "{what}: wrong accepted"
                );
                user.algorithm.hash_algorithm().to_owned()
            }
            Err(refusal) => {
                let text = refusal.to_string();
                assert_eq!(refusal.scheme(), parsed.scheme());
                assert!(!text.contains(&case.password), "{what}: {text}");
                // No salt, digest or key: no field of the stored string of 8 or more
                // characters appears in the reason.
                for field in case.hash.split(['$', ':', '{', '}', ',']) {
                    let named = parsed.scheme().contains(field);
                    assert!(field.len() < 8 || named || !text.contains(field), "{what}");
                }
                "refused".to_owned()
            }
        };
        outcomes.entry(parsed.scheme()).or_default().insert(outcome);
    }
    let expected: BTreeMap<&str, BTreeSet<String>> = EXPECTED
        .iter()
        .map(|(scheme, outcomes)| {
            let set = outcomes.split(' ').map(str::to_owned).collect();
            (*scheme, set)
        })
        .collect();
    let actual: Vec<String> = outcomes
        .iter()
        .map(|(scheme, set)| {
            let list: Vec<&str> = set.iter().map(String::as_str).collect();
            format!("(\"{scheme}\", \"{}\"),", list.join(" "))
        })
        .collect();
    assert_eq!(outcomes, expected, "\n{}", actual.join("\n"));
}

/// Every scheme of the fixtures with what it became: a Firebase algorithm, or `refused`
/// (both where some of its hashes exceed Firebase's limits).
const EXPECTED: &[(&str, &str)] = &[
    ("apr1", "refused"),
    ("argon2d", "ARGON2"),
    ("argon2i", "ARGON2"),
    ("argon2id", "ARGON2 refused"),
    ("aspnet-v2", "PBKDF_SHA1"),
    ("aspnet-v3-sha1", "PBKDF_SHA1"),
    ("aspnet-v3-sha256", "PBKDF2_SHA256 refused"),
    ("aspnet-v3-sha512", "refused"),
    ("atlassian-pbkdf2-sha1", "PBKDF_SHA1"),
    ("bcrypt", "BCRYPT refused"),
    ("des-crypt", "refused"),
    ("django-argon2i", "ARGON2"),
    ("django-argon2id", "ARGON2 refused"),
    ("django-bcrypt", "BCRYPT"),
    ("django-bcrypt-sha256", "refused"),
    ("django-crypt", "refused"),
    ("django-md5", "MD5"),
    ("django-pbkdf2-sha1", "refused"),
    ("django-pbkdf2-sha256", "PBKDF2_SHA256 refused"),
    ("django-scrypt", "STANDARD_SCRYPT"),
    ("django-sha1", "SHA1"),
    ("django-unsalted-md5", "MD5"),
    ("django-unsalted-sha1", "SHA1"),
    ("drupal-sha512", "refused"),
    ("drupal-sha512-md5", "refused"),
    ("firebase-scrypt", "SCRYPT"),
    ("ldap-md5", "MD5"),
    ("ldap-pbkdf2-sha1", "refused"),
    ("ldap-pbkdf2-sha256", "PBKDF2_SHA256"),
    ("ldap-pbkdf2-sha512", "refused"),
    ("ldap-sha", "SHA1"),
    ("ldap-smd5", "MD5"),
    ("ldap-ssha", "SHA1"),
    ("ldap-ssha256", "SHA256"),
    ("ldap-ssha512", "SHA512"),
    ("md5-crypt", "refused"),
    ("passlib-bcrypt-sha256", "refused"),
    ("pbkdf2-sha1", "PBKDF_SHA1 refused"),
    ("pbkdf2-sha256", "PBKDF2_SHA256"),
    ("pbkdf2-sha512", "refused"),
    ("phpass-md5", "refused"),
    ("phpass-md5-md5", "refused"),
    ("scrypt", "STANDARD_SCRYPT"),
    ("sha1-crypt", "refused"),
    ("sha256-crypt", "refused"),
    ("sha512-crypt", "refused"),
    ("spring-argon2d", "ARGON2"),
    ("spring-argon2id", "ARGON2"),
    ("spring-bcrypt", "BCRYPT"),
    ("spring-ldap-ssha", "SHA1"),
    ("spring-md5", "MD5"),
    ("spring-pbkdf2-sha1", "refused"),
    ("spring-pbkdf2-sha256", "refused"),
    ("spring-scrypt", "STANDARD_SCRYPT"),
    ("spring-sha1", "SHA1"),
    ("spring-sha256", "SHA256"),
    ("spring-standard-sha256", "refused"),
    ("werkzeug-blake2b", "refused"),
    ("werkzeug-blake2s", "refused"),
    ("werkzeug-hmac-blake2b", "refused"),
    ("werkzeug-hmac-blake2s", "refused"),
    ("werkzeug-hmac-md5", "refused"),
    ("werkzeug-hmac-sha1", "refused"),
    ("werkzeug-hmac-sha224", "refused"),
    ("werkzeug-hmac-sha256", "refused"),
    ("werkzeug-hmac-sha384", "refused"),
    ("werkzeug-hmac-sha3_256", "refused"),
    ("werkzeug-hmac-sha3_512", "refused"),
    ("werkzeug-hmac-sha512", "refused"),
    ("werkzeug-hmac-sha512_256", "refused"),
    ("werkzeug-md5", "MD5"),
    ("werkzeug-pbkdf2-blake2b", "refused"),
    ("werkzeug-pbkdf2-blake2s", "refused"),
    ("werkzeug-pbkdf2-md5", "refused"),
    ("werkzeug-pbkdf2-sha1", "PBKDF_SHA1 refused"),
    ("werkzeug-pbkdf2-sha224", "refused"),
    ("werkzeug-pbkdf2-sha256", "refused"),
    ("werkzeug-pbkdf2-sha384", "refused"),
    ("werkzeug-pbkdf2-sha3_256", "refused"),
    ("werkzeug-pbkdf2-sha512", "refused"),
    ("werkzeug-scrypt", "STANDARD_SCRYPT"),
    ("werkzeug-sha1", "SHA1"),
    ("werkzeug-sha224", "refused"),
    ("werkzeug-sha256", "SHA256"),
    ("werkzeug-sha384", "refused"),
    ("werkzeug-sha3_256", "refused"),
    ("werkzeug-sha3_512", "refused"),
    ("werkzeug-sha512", "SHA512"),
    ("werkzeug-sha512_256", "refused"),
    ("wordpress-bcrypt", "refused"),
    ("wordpress-md5", "MD5"),
];

#[test]
fn each_family_maps_to_the_rest_fields_and_bytes_it_needs() {
    // Werkzeug: the salt is the text, the digest hex.
    let werkzeug = "pbkdf2:sha1:1000$WcvoeE4It76aGr6H$a064cc639a8fe7d1ef2a3f4296ea338006a2";
    let werkzeug = cases_hash(werkzeug);
    let (request, user) = mapped(Dialect::Werkzeug, &werkzeug);
    assert_eq!(
        request,
        json!({"hashAlgorithm": "PBKDF_SHA1", "rounds": 1000})
    );
    assert_eq!(user.salt.as_deref(), Some(&b"WcvoeE4It76aGr6H"[..]));
    let digest = werkzeug.rsplit('$').next().unwrap();
    assert_eq!(user.password_hash, hex::decode(digest).unwrap());

    // passlib: the salt is what its adapted base64 decodes to, not the text.
    let passlib = cases_hash("$pbkdf2-sha256$1000$qLX23pvT.g$");
    let (request, user) = mapped(Dialect::Phc, &passlib);
    assert_eq!(
        request,
        json!({"hashAlgorithm": "PBKDF2_SHA256", "rounds": 1000})
    );
    assert_eq!(user.salt, Some(ab64("qLX23pvT.g")));
    assert_eq!(
        user.password_hash,
        ab64(passlib.rsplit('$').next().unwrap())
    );

    // ASP.NET v2: PBKDF2-HMAC-SHA1, 1000 rounds, 16-byte salt, 32-byte subkey.
    let aspnet = "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==";
    let (request, user) = mapped(Dialect::Aspnet, aspnet);
    assert_eq!(
        request,
        json!({"hashAlgorithm": "PBKDF_SHA1", "rounds": 1000})
    );
    assert_eq!(user.salt, Some((0u8..16).collect::<Vec<u8>>()));
    assert_eq!(user.password_hash, b64(aspnet)[17..]);

    // Standard scrypt: N itself, the stored length as dkLen.
    let scrypt = cases_hash("scrypt$yqMi0B9Phuol7lu1$");
    let (request, user) = mapped(Dialect::Werkzeug, &scrypt);
    let expected = json!({"hashAlgorithm": "STANDARD_SCRYPT", "cpuMemCost": 32768,
        "blockSize": 8, "parallelization": 1, "dkLen": 64});
    assert_eq!(request, expected);
    assert_eq!(user.salt.as_deref(), Some(&b"yqMi0B9Phuol7lu1"[..]));

    // argon2: raw salt and tag, the parameters in argon2Parameters.
    let argon2 = cases_hash("$argon2id$v=19$m=19456,t=2,p=1$JAuGGCrELp58aVoHFKLuOg$");
    let (request, user) = mapped(Dialect::Phc, &argon2);
    let parameters = json!({"hashType": "ARGON2_ID", "version": "VERSION_13",
        "iterations": 2, "memoryCostKib": 19456, "parallelism": 1, "hashLengthBytes": 32});
    let expected = json!({"hashAlgorithm": "ARGON2", "argon2Parameters": parameters});
    assert_eq!(request, expected);
    assert_eq!(user.salt, Some(b64("JAuGGCrELp58aVoHFKLuOg==")));
    let django = "argon2$argon2i$v=16$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$VaP9Rq0FLlQqVwh5TXCiog";
    let (request, _) = mapped(Dialect::Django, django);
    assert_eq!(request["argon2Parameters"]["version"], "VERSION_10");
    assert_eq!(request["argon2Parameters"]["hashType"], "ARGON2_I");

    // bcrypt: the whole string, rebuilt as $2b$; no salt of its own.
    for (stored, sent) in [
        (
            "$2b$10$cWaQHAyS7LetDFp2nX6uQejPHrIMQJBpUA8QQ/r.Y39iG8wWyNjdK",
            None,
        ),
        (
            "$2y$10$RJT/Bu/s/AzwVQLzLvURe.Oe.3gMNIPslB.wZ79Tc7qpeNmXgqY2u",
            Some("$2b$"),
        ),
        (
            "$2a$10$l0Bz6e0nqKPSVy4Jd7W1a.WThV8AnyN5aWkL76bBd7LPdLUpA7.Ve",
            Some("$2b$"),
        ),
    ] {
        let (request, user) = mapped(Dialect::Phc, stored);
        assert_eq!(request, json!({"hashAlgorithm": "BCRYPT"}));
        let expected = sent.map_or(stored.to_owned(), |v| format!("{v}{}", &stored[4..]));
        assert_eq!(user.password_hash, expected.as_bytes());
        assert_eq!(user.salt, None);
    }

    // One-pass digests: MD5 as its hex text at rounds 0, SHA-x raw at rounds 1.
    let (request, user) = mapped(Dialect::Django, "md5$sält$5d1f26ee6050e166e5409891046b624b");
    let expected = json!({"hashAlgorithm": "MD5", "rounds": 0,
        "passwordHashOrder": "SALT_AND_PASSWORD"});
    assert_eq!(request, expected);
    assert_eq!(user.password_hash, b"5d1f26ee6050e166e5409891046b624b");
    assert_eq!(user.salt, Some("sält".as_bytes().to_vec()));
    let (request, user) = mapped(Dialect::Django, "3a3a331d88c5d687d6fe2102eedc718d");
    assert_eq!(request, json!({"hashAlgorithm": "MD5", "rounds": 0}));
    assert_eq!(user.salt, None);
    let ssha = "{SSHA}9V9SO5g95bkm8xGdciKV9Kn+ea8QIsSY";
    let (request, user) = mapped(Dialect::Phc, ssha);
    let expected = json!({"hashAlgorithm": "SHA1", "rounds": 1,
        "passwordHashOrder": "PASSWORD_AND_SALT"});
    assert_eq!(request, expected);
    let raw = b64("9V9SO5g95bkm8xGdciKV9Kn+ea8QIsSY");
    assert_eq!(
        (user.password_hash, user.salt),
        (raw[..20].to_vec(), Some(raw[20..].to_vec()))
    );
}

/// The full stored string of the fixture line whose hash starts with `prefix`.
fn cases_hash(prefix: &str) -> String {
    FIXTURES
        .iter()
        .flat_map(|fixture| cases(fixture))
        .map(|case| case.hash)
        .find(|hash| hash.starts_with(prefix))
        .unwrap()
}

#[test]
fn firebase_scrypt_needs_its_project_and_sends_its_key_web_safe() {
    let case = FIXTURES
        .iter()
        .flat_map(|fixture| cases(fixture))
        .find(|case| case.dialect == Dialect::Firebase)
        .unwrap();
    let limits = CostLimits::default();
    let parsed = parse_with(case.dialect, &case.hash, &limits, &case.settings).unwrap();
    let user = importable(&parsed).unwrap();
    let request = serde_json::to_value(&user.algorithm).unwrap();
    let key =
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
    let expected = json!({"hashAlgorithm": "SCRYPT", "signerKey": key,
        "saltSeparator": "Bw==", "rounds": 8, "memoryCost": 14});
    assert_eq!(request, expected);
    assert_eq!(user.salt, Some(b64("42xEC+ixf3L2lw==")));
    // URL-safe base64, as firebase-admin-node's toWebSafeBase64 writes bytes.
    let user = ImportableHash {
        password_hash: vec![0xfb, 0xff],
        salt: Some(vec![0xfe]),
        ..user
    };
    assert_eq!(user.password_hash_base64(), "-_8=");
    assert_eq!(user.salt_base64().as_deref(), Some("_g=="));
    // The key never reaches Debug or describe.
    for shown in [format!("{user:?}"), user.algorithm.describe()] {
        assert!(
            !shown.contains(&key[..20]) && !shown.contains("-_8"),
            "{shown}"
        );
        assert!(
            shown.contains("SCRYPT rounds=8 memoryCost=14 project="),
            "{shown}"
        );
    }
    let without = importable(&parse(case.dialect, &case.hash, &limits).unwrap());
    assert_eq!(
        without.unwrap_err().to_string(),
        "firebase-scrypt: the project's hash parameters are not loaded (give them with \
         --hash-config)"
    );
}

#[test]
fn refusals_say_why_in_a_line() {
    let werkzeug = cases_hash("pbkdf2:sha256:600000$");
    #[rustfmt::skip]
    let refusals = [
        (Dialect::Werkzeug, werkzeug.as_str(), "PBKDF2-SHA256 with 600000 rounds: Firebase imports at most 120000"),
        (Dialect::Phc, "$argon2id$v=19$m=65536,t=3,p=4$jjCmDKzKBhrotwk7pgUYqw$SGgAdfgGvm7r7jva", "argon2id with 65536 KiB of memory: Firebase imports at most 32768"),
        (Dialect::Aspnet, "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw", "aspnet-v3-sha512: Firebase's PBKDF2 uses HMAC-SHA1 or HMAC-SHA256 only"),
        (Dialect::Werkzeug, "sha256$8dUx8hpsHeyOefMW$2e648f45c65f4cfa4ae10282d48b38cc3d7e2e586a0d97", "werkzeug-hmac-sha256: an HMAC keyed by each user's salt"),
        (Dialect::Werkzeug, "sha384$$81e4760980814cf38b80699a1da619d706dab566ea3d7657f5bdb0438aa2c9", "werkzeug-sha384: Firebase's digests are MD5, SHA-1, SHA-256 and SHA-512 only"),
        (Dialect::Php, "$P$BfoDv9tdo0mY0njzTT0kxJvjnVQLaq0", "phpass-md5: phpass hashes the password again"),
        (Dialect::Php, "$wp$2y$10$xP6MPWTlTMLAQGtZpmBReeeHJLkxvBsZuSSpXiBaREiQ2wpqx2Iyq", "wordpress-bcrypt: bcrypt of a base64 HMAC-SHA384"),
        (Dialect::Wordpress, "$2y$04$jPV4L3Aa9F8W9gWBsQx.me3FEA3xjBeQ8r2gWHDm.mCion9HoKl/6", "bcrypt: WordPress and Drupal trim what is typed"),
        (Dialect::Phc, "$1$6rWV8mXn$q1n4r8hVvf/4AjrJ0l33j.", "md5-crypt: Firebase has no MD5-crypt"),
        (Dialect::Phc, "1mnyI2ZzSHqX2", "des-crypt: Firebase has no DES crypt(3)"),
        (Dialect::Spring, "{sha256}97cde38028ad898ebc02e690819fa220e88c62e0699403e94fff291cfffaf8", "spring-standard-sha256: SHA-256 applied 1024 times"),
    ];
    for (dialect, stored, reason) in refusals {
        // A fixture's whole string where the line above gives only its start.
        let stored = FIXTURES
            .iter()
            .flat_map(|fixture| cases(fixture))
            .map(|case| case.hash)
            .find(|hash| hash.starts_with(stored))
            .unwrap_or_else(|| stored.to_owned());
        let text = refusal(dialect, &stored);
        assert!(text.starts_with(reason), "{text}");
    }
    let bcrypt_sha256 = cases_hash("bcrypt_sha256$$2b$12$");
    assert!(refusal(Dialect::Django, &bcrypt_sha256).contains("hashes the password itself"));
}

#[test]
fn equal_parameters_make_one_group() {
    let a = map(Dialect::Werkzeug, &cases_hash("scrypt$yqMi0B9Phuol7lu1$")).unwrap();
    let b = map(
        Dialect::Werkzeug,
        &cases_hash("scrypt:32768:8:1$2TzB5XX5tQdlBxGC$"),
    )
    .unwrap();
    let c = map(Dialect::Werkzeug, &cases_hash("scrypt:16384:8:1$")).unwrap();
    assert_ne!(a.salt, b.salt);
    let groups: BTreeSet<_> = [&a, &b, &c].iter().map(|u| u.algorithm.clone()).collect();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        a.algorithm.describe(),
        "STANDARD_SCRYPT cpuMemCost=32768 blockSize=8 parallelization=1 dkLen=64"
    );
    let pbkdf2 = map(Dialect::Phc, &cases_hash("$pbkdf2-sha256$29000$")).unwrap();
    assert_eq!(pbkdf2.algorithm.describe(), "PBKDF2_SHA256 rounds=29000");
    assert!(!format!("{pbkdf2:?}").contains(&hex::encode(&pbkdf2.password_hash)[..8]));
}

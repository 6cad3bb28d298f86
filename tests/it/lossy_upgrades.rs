//! Upgrades of lossy legacy hashes: DES crypt reads 8 characters of 7 bits, bcrypt 72 bytes,
//! and WordPress and Drupal trim, so each accepts several inputs for one password. Whichever
//! of them signs in first, the argon2id hash that replaces the legacy one keeps accepting all of
//! them, and nothing else; setting a password ends that, and such an account does not move
//! to Firebase Auth, which would accept only one.

use firegate::passwords::{Dialect, Password, StoredHash};
use firegate::service::AccountRef;
use jiff::Timestamp;
use serde_json::Value;

use crate::common::TestApp;

const MORE: &str = include_str!("../fixtures/more-hashes.jsonl");
const LIBRARIES: &str = include_str!("../fixtures/library-hashes.jsonl");
const PHP: &str = include_str!("../fixtures/php-hashes.jsonl");

/// The fixture line (written by the real software) holding `hash`: its password and wrong one.
fn fixture(file: &str, hash: &str) -> (String, String) {
    let line: Value = file
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["hash"] == hash)
        .unwrap_or_else(|| panic!("no fixture line holds {hash}"));
    let text = |key: &str| line[key].as_str().unwrap().to_string();
    (text("password"), text("wrong"))
}

/// One lossy legacy hash and the inputs it accepts for its password.
struct Lossy {
    hash: String,
    dialect: Dialect,
    /// The password that was hashed.
    real: String,
    /// Another input the legacy hash accepts as the same password.
    variant: String,
    /// An input it refuses.
    wrong: String,
    /// The transform the upgrade must keep.
    input: &'static str,
}

impl Lossy {
    fn new(file: &str, hash: &str, dialect: Dialect, variant: &str, input: &'static str) -> Lossy {
        let (real, wrong) = fixture(file, hash);
        Lossy {
            hash: hash.to_string(),
            dialect,
            real,
            variant: variant.to_string(),
            wrong,
            input,
        }
    }
}

/// Both ways round: one account is upgraded by a sign-in with the variant, another by one
/// with the real password. Afterwards both accept both, as argon2id kept with `input`, and
/// still refuse the wrong password.
async fn assert_upgrade_keeps_both_forms(app: &TestApp, name: &str, case: &Lossy) {
    let what = format!("{name} ({})", case.hash);
    for (i, first) in [&case.variant, &case.real].into_iter().enumerate() {
        let user = format!("{name}{i}");
        app.insert_with_hash(&user, &case.hash, case.dialect).await;
        assert_eq!(app.sign_in(&user, first).await.0, 200, "{what}: {first:?}");
        let stored = app.stored(&user).await.account.password;
        assert_eq!(stored.scheme_name(), "argon2id", "{what}: upgraded");
        assert_eq!(stored.input.as_deref(), Some(case.input), "{what}");
        for again in [&case.real, &case.variant] {
            assert_eq!(
                app.sign_in(&user, again).await.0,
                200,
                "{what}: {again:?} after signing in with {first:?}"
            );
        }
        assert_eq!(
            app.sign_in(&user, &case.wrong).await.0,
            400,
            "{what}: wrong"
        );
    }
}

#[tokio::test]
async fn des_crypt_upgrades_keep_every_input_des_read_as_the_password() {
    let app = TestApp::start().await;
    let glibc = Lossy::new(MORE, "zZYQyo/kK5WTQ", Dialect::Phc, "12345678+x", "des8");
    // Django's CryptPasswordHasher stores `crypt$$` and crypt(3)'s output.
    let django = Lossy {
        hash: format!("crypt$${}", glibc.hash),
        dialect: Dialect::Django,
        ..Lossy::new(MORE, "zZYQyo/kK5WTQ", Dialect::Phc, "12345678+x", "des8")
    };
    let ldap = Lossy::new(
        LIBRARIES,
        "{CRYPT}8S1O37vNba6R.",
        Dialect::Phc,
        "correct horse",
        "des8",
    );
    // crypt(3) drops each byte's high bit: "ä" (C3 A4) is read as "C$".
    let high_bits = Lossy::new(MORE, "./vYBXr45rAoM", Dialect::Phc, "pC$sswC6", "des8");
    tokio::join!(
        assert_upgrade_keeps_both_forms(&app, "glibc", &glibc),
        assert_upgrade_keeps_both_forms(&app, "django", &django),
        assert_upgrade_keeps_both_forms(&app, "ldap", &ldap),
        assert_upgrade_keeps_both_forms(&app, "highbits", &high_bits),
    );
}

#[tokio::test]
async fn wordpress_upgrades_keep_the_trimmed_and_the_padded_password() {
    let app = TestApp::start().await;
    // wp_hash_password hashed "spaces"; WordPress users may type it padded.
    let phpass = Lossy::new(
        PHP,
        "$P$BAOlEW.Gzxn2PVnWSy4ET91Pb/Iqol1",
        Dialect::Php,
        "  spaces  ",
        "trim",
    );
    let wp68 = Lossy::new(
        PHP,
        "$wp$2y$10$xP6MPWTlTMLAQGtZpmBReeeHJLkxvBsZuSSpXiBaREiQ2wpqx2Iyq",
        Dialect::Php,
        "\tcorrect horse battery staple \n",
        "trim",
    );
    // A plugin's bare bcrypt in wp_users: WordPress's login trims what is typed before it
    // checks any hash, so `--dialect wordpress` does too (`php`, as Laravel, does not).
    let plugin = Lossy::new(
        PHP,
        "$2y$04$jPV4L3Aa9F8W9gWBsQx.me3FEA3xjBeQ8r2gWHDm.mCion9HoKl/6",
        Dialect::Wordpress,
        " plugin bcrypt\n",
        "trim",
    );
    tokio::join!(
        assert_upgrade_keeps_both_forms(&app, "phpass", &phpass),
        assert_upgrade_keeps_both_forms(&app, "wp", &wp68),
        assert_upgrade_keeps_both_forms(&app, "plugin", &plugin),
    );
    app.insert_with_hash("laravel", &plugin.hash, Dialect::Php)
        .await;
    assert_eq!(app.sign_in("laravel", &plugin.variant).await.0, 400);
    assert_eq!(app.sign_in("laravel", &plugin.real).await.0, 200);

    // Drupal 7's login form trims what is typed too (user_login_authenticate_validate), and
    // user_save hashes the trimmed password: a padded sign-in that worked there works here,
    // before and after the upgrade; a hash of padded text (never written by Drupal) matches
    // nothing, as in Drupal.
    let drupal = Lossy::new(
        PHP,
        "$S$DIRyfIIDPb8rN46DGgo5IPRbde2TDCfm1FRBj3uCzgY2a7/Xv8EM",
        Dialect::Drupal,
        " correct horse battery staple\t",
        "trim",
    );
    assert_upgrade_keeps_both_forms(&app, "drupal", &drupal).await;
    let padded = "$P$B.kVV648eKiownkJt/cS.5Kp8DJgPY/";
    let (typed, _) = fixture(PHP, padded);
    app.insert_with_hash("padded", padded, Dialect::Drupal)
        .await;
    assert_eq!(app.sign_in("padded", &typed).await.0, 400);
    assert_eq!(app.sign_in("padded", "spaces").await.0, 400);
}

#[tokio::test]
async fn bcrypt_upgrades_keep_every_password_sharing_the_first_72_bytes() {
    let app = TestApp::start().await;
    let real = format!("{}{}", "0123456789ab".repeat(6), "real-end");
    let variant = format!("{}{}", &real[..72], "typo-end");
    let hash = bcrypt::hash_with_salt(&real, 4, *b"firegate-bcrypt!")
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB);
    let long = Lossy {
        hash,
        dialect: Dialect::Phc,
        wrong: format!("x{}", &real[1..]),
        real,
        variant,
        input: "bcrypt72",
    };
    assert_eq!((long.real.len(), long.variant.len()), (80, 80));
    assert_upgrade_keeps_both_forms(&app, "bcrypt", &long).await;

    // A password bcrypt read whole has no other form: argon2id of it as typed.
    let short = bcrypt::hash_with_salt("short enough", 4, *b"firegate-bcrypt!")
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB);
    app.insert_with_hash("short", &short, Dialect::Phc).await;
    assert_eq!(app.sign_in("short", "short enough").await.0, 200);
    let stored = app.stored("short").await.account.password;
    assert_eq!(
        (stored.scheme_name().as_str(), stored.input),
        ("argon2id", None)
    );
}

/// An account upgraded from the glibc DES hash of `12345678` by a sign-in with `12345678+x`.
async fn upgraded_des_account(app: &TestApp, user: &str) {
    app.insert_with_hash(user, "zZYQyo/kK5WTQ", Dialect::Phc)
        .await;
    assert_eq!(app.sign_in(user, "12345678+x").await.0, 200);
    let stored = app.stored(user).await.account.password;
    assert_eq!(stored.input.as_deref(), Some("des8"));
}

#[tokio::test]
async fn a_new_password_is_checked_as_typed_again() {
    let app = TestApp::start().await;
    upgraded_des_account(&app, "kim@example.com").await;
    let (status, _) = app
        .change_password("kim@example.com", "12345678", "12345678 but longer")
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.stored("kim@example.com").await.account.password.input,
        None
    );
    assert_eq!(
        app.sign_in("kim@example.com", "12345678 but longer")
            .await
            .0,
        200
    );
    assert_eq!(app.sign_in("kim@example.com", "12345678 but").await.0, 400);
    assert_eq!(app.sign_in("kim@example.com", "12345678+x").await.0, 400);

    upgraded_des_account(&app, "lee").await;
    let set = Password::new("abcdefgh and more".into()).unwrap();
    app.service
        .set_password(&AccountRef::Login("lee".into()), &set, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(app.stored("lee").await.account.password.input, None);
    assert_eq!(app.sign_in("lee", "abcdefgh and more").await.0, 200);
    assert_eq!(app.sign_in("lee", "abcdefgh").await.0, 400);
}

#[tokio::test]
async fn an_input_transform_this_version_does_not_know_refuses_the_account() {
    let app = TestApp::start().await;
    let hash = app
        .service
        .passwords
        .hash(&Password::new("correct horse".into()).unwrap())
        .await
        .unwrap();
    let account = app.insert_with_hash("kim", &hash.hash, Dialect::Phc).await;
    assert_eq!(app.sign_in("kim", "correct horse").await.0, 200);
    let odd = StoredHash {
        input: Some("rot13".into()),
        ..hash
    };
    app.service
        .store
        .replace_password(&account.uid, &odd, None, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(app.sign_in("kim", "correct horse").await.0, 400);
    assert_eq!(app.sign_in("kim", "pbeerpg ubefr").await.0, 400);
    assert_eq!(
        app.stored("kim").await.account.password,
        odd,
        "left as it is"
    );
}

#[tokio::test]
async fn an_account_with_an_input_transform_is_not_exported_to_firebase_auth() {
    let app = TestApp::builder()
        .bridge("http://127.0.0.1:9")
        .start()
        .await;
    upgraded_des_account(&app, "kim@example.com").await;
    app.create("lee@example.com", "correct horse").await;
    let report = app.service.export_to_firebase_auth(true).await.unwrap();
    assert_eq!((report.checked, report.imported), (2, 1));
    let reasons: Vec<&str> = report
        .not_importable
        .iter()
        .map(|r| r.reason.as_str())
        .collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("input transform"), "{reasons:?}");
}

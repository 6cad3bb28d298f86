//! Reruns: nothing is created twice, an interrupted run finishes, `--update` replaces only
//! what the file changed and firegate did not.

use std::process::Stdio;

use firegate::login::Login;
use firegate::service::AccountRef;

use super::{account, command, count, fixture, import};
use crate::common::{TestApp, eventually};

#[tokio::test]
async fn rerunning_an_import_creates_nothing_and_changes_nothing() {
    let app = TestApp::start().await;
    let file = fixture("users.csv");
    assert_eq!(
        import(&app, &file, &["--dialect", "werkzeug"]).await.code,
        0
    );
    let before = account(&app, "2").await.unwrap();

    let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (run.count("imported"), run.count("already present")),
        (0, 4)
    );
    assert_eq!(count(&app).await, 4);
    let after = account(&app, "2").await.unwrap();
    assert_eq!(after.updated_at, before.updated_at, "nothing rewritten");
    assert_eq!(after.password, before.password);
}

#[tokio::test]
async fn a_rerun_suggests_update_only_for_accounts_it_would_change() {
    let app = TestApp::start().await;
    let file = fixture("users.csv");
    let flags = ["--dialect", "werkzeug"];
    assert_eq!(import(&app, &file, &flags).await.code, 0);
    // kim's sign-in upgrades the hash: firegate's is now newer than the file's.
    assert_eq!(app.sign_in("kim", "  spaces around  ").await.0, 200);

    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("differing from the file"), 1);
    assert!(
        !run.stdout.contains("with --update") && run.stdout.contains("--update keeps"),
        "--update would change nothing: {}",
        run.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("users.csv");
    let lee = account(&app, "2").await.unwrap();
    let other = kim_hash();
    let csv = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&changed, csv.replace(&lee.password.hash, &other)).unwrap();
    let run = import(&app, &changed, &flags).await;
    assert_eq!(run.count("differing from the file"), 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("1 would take the file's hash and disabled flag with --update"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn an_import_killed_midway_finishes_on_rerun_without_duplicates() {
    const ROWS: u64 = 12_000;
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut csv = String::from("id,username,email,password\n");
    for i in 1..=ROWS {
        let hash = format!("pbkdf2:sha256:260000$salt{i}${}", "0f".repeat(32));
        csv.push_str(&format!("{i},user{i},user{i}@example.org,{hash}\n"));
    }
    std::fs::write(&file, csv).unwrap();

    let mut child = command(
        &app,
        &file,
        &["--dialect", "werkzeug", "--concurrency", "1"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    eventually("the import writes its first account", || async {
        account(&app, "1").await.is_some()
    })
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import is still running when it is killed"
    );
    child.kill().await.unwrap();
    let written = count(&app).await;
    assert!(
        written > 0 && written < ROWS,
        "killed midway: {written} of {ROWS}"
    );

    let run = import(&app, &file, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("imported") + run.count("already present"), ROWS);
    assert!(run.count("already present") >= written);
    assert_eq!(count(&app).await, ROWS, "every account exactly once");
    for i in (1..=ROWS).step_by(397).chain([ROWS]) {
        for name in [format!("user{i}"), format!("user{i}@example.org")] {
            let login = [Login::parse(&name).unwrap()];
            let found = app.service.store.find_by_login(&login).await.unwrap();
            let found = found.expect("login indexed");
            assert_eq!(found.account.uid.as_str(), i.to_string());
        }
    }
}

#[tokio::test]
async fn update_replaces_changed_hashes_but_not_one_changed_through_firegate() {
    let app = TestApp::start().await;
    let file = fixture("users.csv");
    assert_eq!(
        import(&app, &file, &["--dialect", "werkzeug"]).await.code,
        0
    );
    // kim signs in, so firegate now holds a newer (argon2id) hash than any export.
    assert_eq!(app.sign_in("kim", "  spaces around  ").await.0, 200);
    let kim = account(&app, "1").await.unwrap();
    let lee = account(&app, "2").await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("users.csv");
    let scrypt = "scrypt:16384:8:1$h9L1BPnmSl5W3rYo$2658515ccc9fcd3606b74966c21747f638b525efb2614a\
                  8388434db033e3d4976102059dde524f660bcccd408765c2bba93b319e7a0045035b3e763f3296e91b";
    let csv = std::fs::read_to_string(&file).unwrap();
    // kim's export also changes state: that applies even though kim's hash is firegate's.
    let csv = csv
        .replace(&lee.password.hash, scrypt)
        .replace(&format!("{},t", kim_hash()), &format!("{scrypt},f"));
    std::fs::write(&changed, csv).unwrap();

    let run = import(&app, &changed, &["--dialect", "werkzeug"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (
            run.count("already present"),
            run.count("differing from the file")
        ),
        (4, 2)
    );
    assert_eq!(
        account(&app, "2").await.unwrap().password,
        lee.password,
        "unchanged without --update"
    );

    let run = import(&app, &changed, &["--dialect", "werkzeug", "--update"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (run.count("updated"), run.count("differing from the file")),
        (2, 0)
    );
    let after = account(&app, "2").await.unwrap();
    assert_eq!(after.password.hash, scrypt);
    assert_eq!(after.password.scheme_name(), "werkzeug-scrypt");
    assert_eq!(
        (after.email, after.username, after.created_at),
        (lee.email, lee.username, lee.created_at)
    );
    let kim_after = account(&app, "1").await.unwrap();
    assert_eq!(kim_after.password, kim.password, "kim's upgrade kept");
    assert!(kim_after.disabled, "kim's disabled flag follows the file");
    let (status, _) = app.sign_in("lee", "  spaces around  9623").await;
    assert_eq!(status, 200, "the new hash is the one checked");
}

#[tokio::test]
async fn update_tells_an_imported_argon2id_hash_from_one_firegate_wrote() {
    // argon2-cffi writes `$argon2id$` too, as firegate does: only provenance tells them apart.
    const ANN: &str = "$argon2id$v=19$m=19456,t=2,p=1$JAuGGCrELp58aVoHFKLuOg$\
                       hnS0SoiJUcLsMXB2P1xBboAfYkw54/C0PpjNGJQTgGs";
    const ANN_PASSWORD: &str = "P@ssw0rd!6287";
    const BO: &str = "$argon2id$v=19$m=65536,t=3,p=4$jjCmDKzKBhrotwk7pgUYqw$\
                      SGgAdfgGvm7r7jvaMluvcSSsewe5YWYjs/KpftOldKs";
    const BO_PASSWORD: &str = "🔑emoji-key";
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let write = |rows: &[(&str, &str, &str, &str)]| {
        let mut csv = String::from("id,username,password,is_active\n");
        for (id, name, hash, active) in rows {
            csv.push_str(&format!("{id},{name},\"{hash}\",{active}\n"));
        }
        std::fs::write(&file, csv).unwrap();
    };
    write(&[("1", "ann", ANN, "t"), ("2", "bo", BO, "t")]);
    let run = import(&app, &file, &["--dialect", "phc"]).await;
    assert_eq!((run.code, run.count("imported")), (0, 2), "{}", run.stderr);

    // bo's password is changed through firegate after the import.
    let new_password = firegate::passwords::Password::new("bo's new password".into()).unwrap();
    let now = jiff::Timestamp::now();
    app.service
        .set_password(&AccountRef::Login("bo".into()), &new_password, now)
        .await
        .unwrap();
    let bo = account(&app, "2").await.unwrap();

    // A later export: ann's hash changed in the legacy system, bo was deactivated there.
    write(&[("1", "ann", BO, "t"), ("2", "bo", ANN, "f")]);
    let flags = ["--dialect", "phc", "--update"];
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (run.count("updated"), run.count("differing from the file")),
        (2, 0)
    );
    assert_eq!(account(&app, "1").await.unwrap().password.hash, BO);
    assert_eq!(app.sign_in("ann", BO_PASSWORD).await.0, 200);
    assert_eq!(app.sign_in("ann", ANN_PASSWORD).await.0, 400);
    let bo_after = account(&app, "2").await.unwrap();
    assert_eq!(bo_after.password, bo.password, "firegate's hash kept");
    assert!(bo_after.disabled, "the disabled flag follows the file");

    // Nothing left to do, and bo's hash still counts as differing.
    let run = import(&app, &file, &flags).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (
            run.count("updated"),
            run.count("already present"),
            run.count("differing from the file")
        ),
        (0, 2, 1)
    );
}

/// kim's hash in users.csv.
fn kim_hash() -> String {
    let csv = std::fs::read_to_string(fixture("users.csv")).unwrap();
    let line = csv.lines().find(|l| l.starts_with("1,kim,")).unwrap();
    line.split(',').nth(3).unwrap().to_string()
}

//! The settings file: `serve` and the other commands run on `firegate.toml` alone, flags win
//! over variables and variables over the file, a bad file stops start-up naming its lines,
//! `config show` never prints a secret, `config init` writes a file that reads back, and the
//! reference page in the book is what the code generates.

use std::path::Path;
use std::process::Output;

use clap::CommandFactory as _;
use firegate::cli::Cli;
use firegate::config::{Catalogue, ConfigFile};

use crate::common::{
    ServerProcess, argon2id_hash, emulator_host, firegate_clean, free_addr, keys_dir, project_id,
    run_with_stdin,
};

const ADMIN_PASSWORD: &str = "a long admin password";

fn catalogue() -> Catalogue {
    Catalogue::of(&Cli::command())
}

/// Writes a settings file readable by its owner only (it may hold secrets).
fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

/// `firegate ARGS` in `dir`, with `stdin`, and no firegate variable but those in `env`.
fn firegate_in(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut command = firegate_clean();
    command
        .current_dir(dir)
        .envs(env.iter().copied())
        .args(args);
    run_with_stdin(command, stdin)
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The line `config show` prints for `key` in `[section]`.
fn shown<'a>(show: &'a str, section: &str, key: &str) -> &'a str {
    let start = show
        .find(&format!("\n[{section}]"))
        .unwrap_or_else(|| panic!("no [{section}] in:\n{show}"));
    show[start + 1..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .find(|line| {
            let line = line.trim_start_matches("# ");
            line.starts_with(&format!("{key} =")) || line.starts_with(&format!("{key} ("))
        })
        .unwrap_or_else(|| panic!("no [{section}] {key} in:\n{show}"))
}

#[tokio::test]
async fn serve_runs_on_a_file_that_sets_every_section() {
    let (keys, project, work) = (keys_dir(), project_id(), tempfile::tempdir().unwrap());
    let addr = free_addr();
    let hash = argon2id_hash(ADMIN_PASSWORD, 1024, 1).await;
    let text = format!(
        r#"log-format = "json"

[http]
listen = "{addr}"
rate-limit-per-minute = 0

[sign-in]
token-lifetime = 600
disable-registration = true
failure-floor-ms = 0

[accounts]
min-password-length = 12

[breached]
check = "off"
min-count = 3

[app-check]
app-check = ["off"]

[lockout]
threshold = 2

[firestore]
project-id = "{project}"
emulator-host = "{emulator}"
timeout-ms = 20000

[signer]
iam-deadline-secs = 9

[keys]
dir = "{keys}"

[rotation]
key-refresh-secs = 5

[hashing]
argon2-memory-kib = 1024
argon2-iterations = 1

[ceilings]
max-bcrypt-cost = 12

[dialects]
spring-pbkdf2 = "PBKDF2WithHmacSHA256:310000:256"

[admin]
user = "root"
password-hash = "{hash}"

[mail]
url = "log"
public-url = "http://{addr}"

[languages]
default-language = "ko"

[bridge]
firebase-auth-deadline-secs = 7

[legacy]
verify-deadline-ms = 2500

[mfa]
issuer = "Timetable"

[webauthn]
rp-name = "Timetable"
"#,
        emulator = emulator_host(),
        keys = keys.path().display(),
    );
    for (section, _) in catalogue().sections() {
        assert!(
            text.contains(&format!("[{section}]")),
            "give [{section}] a value here"
        );
    }
    write_private(&work.path().join("firegate.toml"), &text);

    // ./firegate.toml is read without being named, and nothing but it configures the server.
    let mut command = firegate_clean();
    command.current_dir(work.path()).arg("serve");
    let server = ServerProcess::spawn(command, addr, keys, project).await;
    let logs = server.wait_for_log("settings file read").await;
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("log-format = \"json\" not applied: {line}"));
    }
    let http = reqwest::Client::new();
    let register = http
        .post(server.url("/register/"))
        .json(&serde_json::json!({"email": "lee@example.com", "password": "long enough pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 403, "disable-registration = true");
    let page = http
        .get(server.url("/password-reset/"))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("<html lang=\"ko\">"),
        "default-language = \"ko\""
    );

    // An account command reads the same file.
    let create = |password: &str| {
        firegate_in(
            work.path(),
            &["accounts", "create", "--login", "kim@example.com"],
            &[],
            &format!("{password}\n"),
        )
    };
    let short = create("eleven char");
    assert!(!short.status.success(), "min-password-length = 12");
    stdout(&create("twelve chars"));

    let sign_in = |password: &'static str| {
        let http = http.clone();
        let url = server.url("/login/");
        async move {
            let response = http
                .post(url)
                .json(&serde_json::json!({"email": "kim@example.com", "password": password}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = sign_in("twelve chars").await;
    assert_eq!(status, 200, "{body}");
    let claims = crate::common::token_payload(body["token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600,
        "token-lifetime = 600"
    );
    for _ in 0..2 {
        assert_eq!(sign_in("wrong password").await.0, 400);
    }
    assert_eq!(
        sign_in("twelve chars").await.0,
        400,
        "threshold = 2 locks the login"
    );

    let admin = server.url("/admin/api/keys");
    assert_eq!(http.get(&admin).send().await.unwrap().status(), 401);
    let authorised = http
        .get(&admin)
        .basic_auth("root", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(authorised.status(), 200, "[admin] user and password-hash");

    // `config show` names the file and line of every value the file sets.
    let show = stdout(&firegate_in(work.path(), &["config", "show"], &[], ""));
    let file = ConfigFile::read(&work.path().join("firegate.toml"), &catalogue()).unwrap();
    let catalogue = catalogue();
    for value in &file.values {
        let setting = catalogue.by_id(&value.id).unwrap();
        let line = match setting.section {
            Some(section) => shown(&show, section, &setting.key),
            None => show
                .lines()
                .find(|l| l.starts_with(&format!("{} =", setting.key)))
                .unwrap(),
        };
        assert!(
            line.ends_with(&format!("# firegate.toml:{}", value.line)),
            "{}: {line}",
            setting.name()
        );
    }
}

#[test]
fn flags_win_over_variables_and_variables_over_the_file() {
    let work = tempfile::tempdir().unwrap();
    write_private(
        &work.path().join("firegate.toml"),
        "[lockout]\nthreshold = 3\nstep-secs = 30\nmax-secs = 100\n",
    );
    let env = [
        ("FIREGATE_LOCKOUT_STEP_SECS", "40"),
        ("FIREGATE_LOCKOUT_MAX_SECS", "200"),
    ];
    let output = firegate_in(
        work.path(),
        &["config", "show", "--lockout-max-secs", "300"],
        &env,
        "",
    );
    let show = stdout(&output);
    let line = |key| {
        shown(&show, "lockout", key)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("threshold"), "threshold = 3 # firegate.toml:2");
    assert_eq!(
        line("step-secs"),
        "step-secs = 40 # env FIREGATE_LOCKOUT_STEP_SECS"
    );
    assert_eq!(line("max-secs"), "max-secs = 300 # flag --lockout-max-secs");
    assert_eq!(line("reset-secs"), "reset-secs = 43200 # default");
}

#[test]
fn another_file_is_named_by_flag_or_variable() {
    let work = tempfile::tempdir().unwrap();
    write_private(
        &work.path().join("firegate.toml"),
        "[lockout]\nthreshold = 3\n",
    );
    write_private(
        &work.path().join("other.toml"),
        "[lockout]\n\nthreshold = 4\n",
    );
    let threshold = |args: &[&str], env: &[(&str, &str)]| {
        let show = stdout(&firegate_in(work.path(), args, env, ""));
        shown(&show, "lockout", "threshold").to_string()
    };
    assert!(threshold(&["config", "show"], &[]).contains("# firegate.toml:2"));
    let named = threshold(&["config", "show", "--config", "other.toml"], &[]);
    assert!(
        named.starts_with("threshold = 4") && named.ends_with("# other.toml:3"),
        "{named}"
    );
    let by_env = threshold(&["config", "show"], &[("FIREGATE_CONFIG", "other.toml")]);
    assert!(by_env.ends_with("# other.toml:3"), "{by_env}");
    let missing = firegate_in(
        work.path(),
        &["--config", "none.toml", "config", "show"],
        &[],
        "",
    );
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("none.toml: cannot read it"), "{err}");
}

#[test]
fn a_bad_file_stops_every_command_naming_each_line() {
    let work = tempfile::tempdir().unwrap();
    write_private(
        &work.path().join("firegate.toml"),
        "[lockout]\n\
         treshold = 3\n\
         step-secs = \"60\"\n\
         \n\
         [lokout]\n\
         max-secs = 100\n\
         \n\
         [sign-in]\n\
         token-lifetime = 7200\n",
    );
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["accounts", "stats"],
        &["config", "show"],
    ] {
        let output = firegate_in(work.path(), args, &[], "");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines,
            [
                "error: firegate.toml:2: [lockout] treshold is not a setting; did you mean \
                 threshold? [lockout] takes threshold, step-secs, max-secs, reset-secs, \
                 familiar-days",
                "firegate.toml:3: [lockout] step-secs takes an integer, not a string",
                "firegate.toml:5: [lokout] is not a section; did you mean [lockout]? the \
                 sections are [http], [sign-in], [accounts], [breached], [app-check], \
                 [lockout], [firestore], \
                 [signer], [keys], [rotation], [hashing], [ceilings], [dialects], [admin], \
                 [mail], [languages], [bridge], [legacy], [mfa], [webauthn]",
                "firegate.toml:9: [sign-in] token-lifetime = 7200: 7200 is not in 1..=3600",
            ],
            "{args:?}"
        );
    }
    // Help still shows, and config init can replace the file.
    assert!(
        firegate_in(work.path(), &["serve", "--help"], &[], "")
            .status
            .success()
    );
    stdout(&firegate_in(
        work.path(),
        &["config", "init", "--force"],
        &[],
        "",
    ));
    stdout(&firegate_in(work.path(), &["config", "show"], &[], ""));
}

#[test]
fn config_show_never_prints_a_secret() {
    let work = tempfile::tempdir().unwrap();
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$\
                oWqVsGQ8ILlQ0k0pDyvIY0vTl3F0UvMnQrbcZXUGVgk";
    let path = work.path().join("firegate.toml");
    write_private(
        &path,
        &format!("[admin]\npassword-hash = \"{hash}\"\n[mail]\nsmtp-password = \"mail-s3cret\"\n"),
    );
    let output = firegate_in(
        work.path(),
        &["config", "show", "--spring-secret", "spring-s3cret"],
        &[("FIREGATE_FIREBASE_API_KEY", "AIzaS3cretKey")],
        "",
    );
    let show = stdout(&output);
    for secret in [
        "oWqVsGQ8",
        "argon2id",
        "mail-s3cret",
        "spring-s3cret",
        "AIzaS3cretKey",
    ] {
        assert!(!show.contains(secret), "{secret} shown:\n{show}");
    }
    let line = |section, key| {
        shown(&show, section, key)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("admin", "password-hash"),
        "# password-hash = (secret, not shown) # firegate.toml:2"
    );
    assert_eq!(
        line("mail", "smtp-password"),
        "# smtp-password = (secret, not shown) # firegate.toml:4"
    );
    assert_eq!(
        line("dialects", "spring-secret"),
        "# spring-secret = (secret, not shown) # flag --spring-secret"
    );
    assert_eq!(
        line("bridge", "firebase-api-key"),
        "# firebase-api-key = (secret, not shown) # env FIREGATE_FIREBASE_API_KEY"
    );

    // Others may not read a file that holds a secret.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let output = firegate_in(work.path(), &["config", "show"], &[], "");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("firegate.toml:2: [admin] password-hash is a secret"),
        "{err}"
    );
    assert!(!err.contains("oWqVsGQ8"), "{err}");
    let allowed = [("FIREGATE_ALLOW_INSECURE_CONFIG_PERMISSIONS", "true")];
    stdout(&firegate_in(work.path(), &["config", "show"], &allowed, ""));
}

#[test]
fn the_smtp_password_is_refused_on_the_command_line() {
    let work = tempfile::tempdir().unwrap();
    let refused = firegate_in(
        work.path(),
        &["config", "show", "--smtp-password", "hunter2"],
        &[],
        "",
    );
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("FIREGATE_SMTP_PASSWORD or [mail] smtp-password") && !err.contains("hunter2"),
        "{err}"
    );
    let env = [("FIREGATE_SMTP_PASSWORD", "hunter2")];
    let show = stdout(&firegate_in(work.path(), &["config", "show"], &env, ""));
    assert!(shown(&show, "mail", "smtp-password").ends_with("# env FIREGATE_SMTP_PASSWORD"));
}

#[test]
fn config_init_writes_a_starter_that_reads_back_unchanged() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("firegate.toml");
    let wrote = stdout(&firegate_in(work.path(), &["config", "init"], &[], ""));
    assert!(wrote.contains("wrote firegate.toml"), "{wrote}");
    let text = std::fs::read_to_string(&path).unwrap();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let catalogue = catalogue();
    for setting in catalogue.settings() {
        let here = match setting.section {
            Some(section) => text.split(&format!("\n[{section}]\n")).nth(1).unwrap(),
            None => &text,
        };
        let written = here.lines().take_while(|l| !l.starts_with('[')).any(|l| {
            l.trim_start_matches('#')
                .starts_with(&format!("{} = ", setting.key))
        });
        assert!(written, "{} missing from the starter file", setting.name());
    }

    // Not over an existing file without --force.
    std::fs::write(&path, "# mine\n").unwrap();
    let again = firegate_in(work.path(), &["config", "init"], &[], "");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    stdout(&firegate_in(
        work.path(),
        &["config", "init", "--force"],
        &[],
        "",
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let printed = stdout(&firegate_in(
        work.path(),
        &["config", "init", "--stdout"],
        &[],
        "",
    ));
    assert_eq!(printed, text);

    // Read back, it changes no value: config show prints what it prints without a file.
    let values = |show: &str| -> Vec<String> {
        show.lines()
            .filter(|l| !l.starts_with("# ") || l.contains("(not set)"))
            .map(|l| {
                l.split_once(" # ")
                    .map_or(l, |(value, _)| value)
                    .trim()
                    .to_string()
            })
            .collect()
    };
    let with_file = stdout(&firegate_in(work.path(), &["config", "show"], &[], ""));
    let without = stdout(&firegate_in(
        work.path(),
        &["config", "show", "--config", "/dev/null"],
        &[],
        "",
    ));
    assert_eq!(values(&with_file), values(&without));
    assert!(with_file.contains("port = 8080") && with_file.contains("# firegate.toml:"));

    // With every setting that has a default uncommented, too.
    let uncommented: Vec<&str> = text
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if !rest.starts_with(' ') && !rest.is_empty() => {
                let key = rest.split(" = ").next().unwrap_or_default();
                let has_default = catalogue
                    .settings()
                    .iter()
                    .any(|s| s.key == key && !s.defaults.is_empty());
                if has_default { rest } else { line }
            }
            _ => line,
        })
        .collect();
    write_private(&path, &uncommented.join("\n"));
    let everything = stdout(&firegate_in(work.path(), &["config", "show"], &[], ""));
    assert_eq!(values(&everything), values(&without));
    let file = ConfigFile::read(&path, &catalogue).unwrap();
    let every = Cli::command_over(Some(&file));
    // Every command's parser is still valid with every default the file can set.
    every.debug_assert();
}

/// The book's configuration reference is generated from the flag definitions; the committed
/// page must be what the code generates.
#[test]
fn the_reference_page_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(firegate::config::REFERENCE_PAGE);
    let generated = firegate::config::reference(&catalogue());
    if std::env::var_os("FIREGATE_WRITE_REFERENCE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from what the flag definitions generate; regenerate it with\n\n    {}\n",
        firegate::config::REFERENCE_PAGE,
        firegate::config::REGENERATE
    );
    for setting in catalogue().settings() {
        assert!(
            committed.contains(&format!("`{}`", setting.env))
                && committed.contains(&format!("`--{}`", setting.flag)),
            "{} missing",
            setting.name()
        );
    }
}

//! The settings file: names, types and values are checked with their line, the file sits
//! under the flags, and what config init writes reads back.

use std::path::Path;

use clap::{CommandFactory as _, FromArgMatches as _, Parser};

use super::*;

#[derive(Parser, Debug)]
struct Harness {
    #[command(flatten)]
    serve: ServeArgs,
}

fn catalogue() -> Catalogue {
    Catalogue::of(&Harness::command())
}

fn read(text: &str) -> Result<ConfigFile, String> {
    ConfigFile::parse(Path::new("firegate.toml"), text, &catalogue()).map_err(|e| e.to_string())
}

/// Parses `args` over the file `text`, as the binary does.
fn layered(text: &str, args: &[&str]) -> (Harness, Effective) {
    let catalogue = catalogue();
    let file = ConfigFile::parse(Path::new("firegate.toml"), text, &catalogue).unwrap();
    let mut command = apply(Harness::command(), &file);
    let mut argv = vec!["firegate"];
    argv.extend_from_slice(args);
    let matches = command.try_get_matches_from_mut(argv).unwrap();
    let effective = Effective::of(&command, &matches, &catalogue, Some(&file));
    (Harness::from_arg_matches(&matches).unwrap(), effective)
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$\
                    oWqVsGQ8ILlQ0k0pDyvIY0vTl3F0UvMnQrbcZXUGVgk";

#[test]
fn one_name_in_three_forms() {
    let catalogue = catalogue();
    let threshold = catalogue.find(Some("lockout"), "threshold").unwrap();
    assert_eq!(threshold.flag, "lockout-threshold");
    assert_eq!(threshold.env, "FIREGATE_LOCKOUT_THRESHOLD");
    assert_eq!(threshold.kind, Kind::Integer);
    let emulator = catalogue.find(Some("firestore"), "emulator-host").unwrap();
    assert_eq!(emulator.env, "FIRESTORE_EMULATOR_HOST");
    assert_eq!(
        catalogue.find(Some("keys"), "dir").unwrap().flag,
        "keys-dir"
    );
    assert_eq!(
        catalogue.find(Some("http"), "cors-origins").unwrap().kind,
        Kind::List
    );
    assert_eq!(
        catalogue.find(Some("http"), "demo-page").unwrap().kind,
        Kind::Bool
    );
    assert!(
        catalogue
            .find(Some("admin"), "password-hash")
            .unwrap()
            .secret
    );
    assert!(
        catalogue
            .find(Some("mail"), "smtp-password")
            .unwrap()
            .secret
    );
    assert!(!catalogue.find(Some("admin"), "user").unwrap().secret);
}

#[test]
fn values_are_kept_with_their_lines() {
    let file = read(
        "# a comment\n\
         [lockout]\n\
         threshold = 7\n\
         \n\
         [http]\n\
         cors-origins = [\"https://a.example\", \"http://localhost:5173\"]\n\
         demo-page = true\n\
         port = 0x1F90\n",
    )
    .unwrap();
    let value = |id: &str| file.value(id).unwrap();
    assert_eq!(value("lockout_threshold").values, ["7"]);
    assert_eq!(value("lockout_threshold").line, 3);
    assert_eq!(
        value("cors_origins").values,
        ["https://a.example", "http://localhost:5173"]
    );
    assert_eq!(value("demo_page").values, ["true"]);
    assert_eq!(value("port").values, ["8080"]);
    assert_eq!(value("port").line, 8);
}

#[test]
fn a_misspelt_key_names_its_line_and_what_the_section_takes() {
    let err = read("[lockout]\nthreshold = 3\ntreshold = 3\n").unwrap_err();
    assert_eq!(
        err,
        "firegate.toml:3: [lockout] treshold is not a setting; did you mean threshold? \
         [lockout] takes threshold, step-secs, max-secs, reset-secs, familiar-days"
    );
}

#[test]
fn flags_variables_and_other_sections_are_pointed_to_their_key() {
    let err = read(
        "[lockout]\nlockout-threshold = 3\nFIREGATE_LOCKOUT_MAX_SECS = 9\n\
         [http]\ntoken-lifetime = 60\n",
    )
    .unwrap_err();
    assert!(
        err.contains(":2: [lockout] lockout-threshold is not a setting; did you mean threshold?"),
        "{err}"
    );
    assert!(
        err.contains(
            ":3: [lockout] FIREGATE_LOCKOUT_MAX_SECS is not a setting; did you mean max-secs?"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            ":5: [http] token-lifetime is not a setting; did you mean [sign-in] token-lifetime?"
        ),
        "{err}"
    );
    let err = read("prot = 1\n").unwrap_err();
    assert!(
        err.contains("firegate.toml:1: prot is not a setting; did you mean [http] port?"),
        "{err}"
    );
}

#[test]
fn an_unknown_section_is_refused_with_the_sections() {
    let err = read("\n[lokout]\nthreshold = 3\n").unwrap_err();
    assert!(
        err.starts_with(
            "firegate.toml:2: [lokout] is not a section; did you mean [lockout]? \
                         the sections are [http], [sign-in],"
        ),
        "{err}"
    );
}

#[test]
fn wrong_types_are_refused() {
    let err = read(
        "[lockout]\nthreshold = \"3\"\n[http]\ndemo-page = \"yes\"\ncors-origins = [1]\n\
         [sign-in]\nlegacy-domain = 42\n",
    )
    .unwrap_err();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "firegate.toml:2: [lockout] threshold takes an integer, not a string",
            "firegate.toml:4: [http] demo-page takes true or false, not a string",
            "firegate.toml:5: [http] cors-origins takes an array of strings, not an array \
             holding an integer",
            "firegate.toml:7: [sign-in] legacy-domain takes a string, not an integer",
        ]
    );
}

#[test]
fn values_meet_the_flags_own_checks() {
    let err = read("[sign-in]\ntoken-lifetime = 3601\n[signer]\nsigner = \"hsm\"\n").unwrap_err();
    assert!(
        err.contains("firegate.toml:2: [sign-in] token-lifetime = 3601: 3601 is not in 1..=3600"),
        "{err}"
    );
    assert!(
        err.contains("firegate.toml:4: [signer] signer = \"hsm\": expected one of key, iam"),
        "{err}"
    );
}

#[test]
fn a_refused_secret_is_never_echoed() {
    let err = read("[admin]\npassword-hash = \"hunter2-plaintext\"\n").unwrap_err();
    assert!(
        err.starts_with("firegate.toml:2: [admin] password-hash: "),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let err = read("[bridge]\nfirebase-api-key = \"AIza&leak\"\n").unwrap_err();
    assert!(!err.contains("leak"), "{err}");
    // A password put in a mail URL by mistake: refused, and not shown from the file, the
    // environment or the command line.
    let url = "smtps://bob:MAILPW999@mail.example.com:465";
    let err = read(&format!("[mail]\nurl = \"{url}\"\n")).unwrap_err();
    assert!(
        err.contains("SMTP password") && !err.contains("MAILPW999"),
        "{err}"
    );
    for url in [url, "smtpx://bob:MAILPW999@mail.example.com"] {
        let err = Harness::try_parse_from(["firegate", "--mail-url", url])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--mail-url") && !err.contains("MAILPW999"),
            "{err}"
        );
    }
}

#[test]
fn a_syntax_error_names_its_line() {
    let err = read("[http]\nport = 8080\nlisten = 127.0.0.1:80\n").unwrap_err();
    assert!(err.starts_with("firegate.toml:3: "), "{err}");
}

#[test]
fn the_file_is_under_the_flags_and_over_the_defaults() {
    let text = "[lockout]\nthreshold = 7\n[http]\nport = 9000\ndemo-page = true\n";
    let (h, effective) = layered(text, &["--port", "9100"]);
    assert_eq!(h.serve.server.lockout.lockout_threshold, 7);
    assert_eq!(h.serve.listen.port, 9100);
    assert!(h.serve.server.http.demo_page);
    let source = |id: &str| effective.get(id).unwrap().source.to_string();
    assert_eq!(source("lockout_threshold"), "firegate.toml:2");
    assert_eq!(source("port"), "flag --port");
    assert_eq!(source("demo_page"), "firegate.toml:5");
    assert_eq!(source("token_lifetime"), "default");
    assert_eq!(source("tenant_id"), "not set");
}

#[test]
fn a_value_from_the_file_satisfies_what_serve_checks() {
    // clap would not count a file's value for `requires`: the check is serve's own.
    let (h, _) = layered(
        "[mail]\npublic-url = \"https://auth.example.com\"\n",
        &["--mail-url", "log"],
    );
    assert!(h.serve.server.check().is_ok());
    let (h, _) = layered("[mail]\nurl = \"log\"\n", &[]);
    let refused = h.serve.server.check().unwrap_err();
    assert!(refused.contains("--public-url"), "{refused}");
}

#[test]
fn show_never_prints_a_secret() {
    let text = format!("[admin]\npassword-hash = \"{HASH}\"\n[mail]\nsmtp-password = \"s3cret\"\n");
    let (h, effective) = layered(&text, &[]);
    assert!(h.serve.server.admin.credential().is_some());
    let shown = show(&effective);
    assert!(
        !shown.contains("argon2id") && !shown.contains("s3cret"),
        "{shown}"
    );
    assert!(
        shown.contains("# password-hash = (secret, not shown)")
            && shown.contains("# firegate.toml:2"),
        "{shown}"
    );
    // Nor does `{:?}` of what holds them before clap makes them secrets.
    let file = ConfigFile::parse(Path::new("firegate.toml"), &text, &catalogue()).unwrap();
    let debug = format!("{file:?} {effective:?}");
    assert!(
        !debug.contains("oWqVsGQ8") && !debug.contains("s3cret"),
        "{file:?}"
    );
}

#[test]
fn the_starter_file_reads_back_and_changes_nothing() {
    let catalogue = catalogue();
    let text = starter(&catalogue);
    let file = ConfigFile::parse(Path::new("firegate.toml"), &text, &catalogue).unwrap();
    for value in &file.values {
        let setting = catalogue.by_id(&value.id).unwrap();
        assert!(
            setting.day_one,
            "{} is set but not a day-one setting",
            setting.name()
        );
        assert_eq!(value.values, setting.defaults, "{}", setting.name());
    }
    // Uncommenting every setting that has a default still changes nothing.
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.contains(" = ") && !rest.starts_with(' ') => {
                let key = rest.split(" = ").next().unwrap_or_default();
                let has_default = catalogue
                    .settings()
                    .iter()
                    .any(|s| s.key == key && !s.defaults.is_empty());
                if has_default { rest } else { line }
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = ConfigFile::parse(Path::new("firegate.toml"), &uncommented, &catalogue).unwrap();
    let with_default = catalogue
        .settings()
        .iter()
        .filter(|s| !s.defaults.is_empty())
        .count();
    assert_eq!(file.values.len(), with_default);
    for value in &file.values {
        assert_eq!(value.values, catalogue.by_id(&value.id).unwrap().defaults);
    }
}

#[test]
fn toml_strings_are_escaped() {
    assert_eq!(settings::toml_string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    assert_eq!(
        toml_value(Kind::List, &["x".into(), "y".into()]),
        r#"["x", "y"]"#
    );
    assert_eq!(toml_value(Kind::Integer, &["060".into()]), "60");
}

#[cfg(unix)]
#[test]
fn a_secret_in_a_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("firegate.toml");
    std::fs::write(&path, format!("[admin]\npassword-hash = \"{HASH}\"\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = ConfigFile::read(&path, &catalogue())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(":2: [admin] password-hash is a secret") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(ConfigFile::read(&path, &catalogue()).is_ok());
    // Without a secret, the mode does not matter.
    std::fs::write(&path, "[lockout]\nthreshold = 3\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(ConfigFile::read(&path, &catalogue()).is_ok());
}

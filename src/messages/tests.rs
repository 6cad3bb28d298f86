use super::negotiate::accepted;
use super::*;

fn built_in() -> Catalogs {
    Catalogs::load(&MessageOptions::default()).unwrap()
}

fn with_dir(files: &[(&str, &str)]) -> Result<Catalogs, String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    Catalogs::load(&MessageOptions {
        dir: Some(dir.path().to_path_buf()),
        ..MessageOptions::default()
    })
}

#[test]
fn every_english_key_is_translated_into_korean() {
    let catalogs = built_in();
    let ko = catalogs.find("ko").unwrap();
    assert_eq!(catalogs.untranslated(ko), &[] as &[String]);
    // And no Korean text is a copy of the English one.
    let source = include_str!("../../messages/en.ftl");
    let resource = FluentResource::try_new(source.to_string()).unwrap();
    let args: Vec<(&str, Arg)> = ["product", "min_chars", "status", "uid", "issued", "until"]
        .iter()
        .chain(&["to", "minutes", "expires"])
        .map(|n| (*n, Arg::Number(7)))
        .collect();
    for entry in resource.entries() {
        if let fluent_syntax::ast::Entry::Message(m) = entry {
            let key = m.id.name;
            let english = catalogs.mail(ENGLISH, key, &args);
            let korean = catalogs.mail(ko, key, &args);
            if key != "datetime" {
                assert_ne!(english, korean, "`{key}` is not translated");
            }
        }
    }
}

#[test]
fn accept_language_is_read_by_quality_then_order() {
    let tags = |h: &str| -> Vec<String> { accepted(h).iter().map(|l| l.to_string()).collect() };
    assert_eq!(tags("en;q=0.5, ko-KR, fr;q=0.8"), ["ko-KR", "fr", "en"]);
    assert_eq!(tags("de, en;q=1.0, ko;q=0"), ["de", "en"]);
    assert_eq!(tags("ko;q=2, en;q=0.1234, fr;q=abc, *;q=0.9, ja"), ["ja"]);
    assert!(tags("").is_empty());
}

#[test]
fn a_request_gets_the_language_it_asks_for_or_the_default() {
    let catalogs = built_in();
    let tag = |explicit: Option<&str>, header: Option<&str>| {
        catalogs
            .tag(catalogs.negotiate(explicit, header))
            .to_string()
    };
    assert_eq!(tag(None, Some("ko-KR,ko;q=0.9,en-US;q=0.8")), "ko");
    assert_eq!(tag(None, Some("fr-FR, en;q=0.1, ko;q=0.5")), "ko");
    assert_eq!(tag(None, Some("fr-FR")), "en");
    assert_eq!(tag(Some("ko"), Some("en-US")), "ko");
    assert_eq!(tag(Some("en"), Some("ko-KR")), "en");
    // An explicit tag we do not have, or garbage, falls through to the header.
    assert_eq!(tag(Some("<script>"), Some("ko")), "ko");
    assert_eq!(tag(Some("xx"), None), "en");

    let korean_default = Catalogs::load(&MessageOptions {
        dir: None,
        default_language: "ko-KR".into(),
    })
    .unwrap();
    let lang = korean_default.negotiate(None, Some("fr"));
    assert_eq!(korean_default.tag(lang), "ko");
    let err = Catalogs::load(&MessageOptions {
        dir: None,
        default_language: "fr".into(),
    })
    .unwrap_err();
    assert!(
        err.contains("--default-language `fr`") && err.contains("en, ko"),
        "{err}"
    );
}

#[test]
fn an_operators_file_adds_a_language_and_overrides_keys() {
    let catalogs = with_dir(&[
        ("ja.ftl", "reset-heading = パスワードの再設定\n"),
        ("ko.ftl", "reset-heading = 비밀번호 다시 정하기\n"),
        ("README.txt", "not a catalog"),
    ])
    .unwrap();
    let ja = catalogs.find("ja-JP").unwrap();
    assert_eq!(
        catalogs.page(ja, "reset-heading", &[]),
        "パスワードの再設定"
    );
    // A key the file lacks is English, and listed as untranslated.
    assert_eq!(catalogs.page(ja, "reset-saving", &[]), "Saving…");
    assert!(
        catalogs
            .untranslated(ja)
            .contains(&"reset-saving".to_string())
    );
    let ko = catalogs.find("ko").unwrap();
    assert_eq!(
        catalogs.page(ko, "reset-heading", &[]),
        "비밀번호 다시 정하기"
    );
    assert_eq!(catalogs.page(ko, "reset-saving", &[]), "저장하는 중…");
    assert!(catalogs.untranslated(ko).is_empty());
}

#[test]
fn a_malformed_file_is_named_with_its_line() {
    let err = with_dir(&[("ja.ftl", "reset-heading = ok\n\nreset-saving\n")]).unwrap_err();
    assert!(err.contains("ja.ftl:3:"), "{err}");
    let err = with_dir(&[("ja.ftl", "a = 1\nb = 2\na = 3\n")]).unwrap_err();
    assert!(
        err.contains("ja.ftl:3:") && err.contains("`a` is defined twice"),
        "{err}"
    );
    let err = with_dir(&[("ja.ftl", "x = 1\nreset-heading = { $produkt }\n")]).unwrap_err();
    assert!(
        err.contains("ja.ftl:2:") && err.contains("$product"),
        "{err}"
    );
    let err = with_dir(&[("japanese!.ftl", "x = 1\n")]).unwrap_err();
    assert!(err.contains("not a language tag"), "{err}");
}

#[test]
fn mails_carry_no_isolation_marks_and_pages_do() {
    let catalogs = built_in();
    let args = [("product", Arg::from("Timetable"))];
    let mail = catalogs.mail(ENGLISH, "reset-mail-subject", &args).unwrap();
    assert_eq!(mail, "Reset your Timetable password");
    let page = catalogs.page(ENGLISH, "reset-page-title", &args);
    assert_eq!(page, "Reset your password · \u{2068}Timetable\u{2069}");
}

#[test]
fn times_are_written_in_the_readers_language_and_zone() {
    let catalogs = built_in();
    let ko = catalogs.find("ko").unwrap();
    let at: jiff::Timestamp = "2026-12-08T06:05:00Z".parse().unwrap();
    let seoul = time_zone("Asia/Seoul").unwrap();
    assert_eq!(
        catalogs.datetime(ko, at, &seoul),
        "2026년 12월 8일 오후 3시 5분 KST"
    );
    // On the hour, no "0분".
    let on_the_hour: jiff::Timestamp = "2026-12-08T06:00:00Z".parse().unwrap();
    assert_eq!(
        catalogs.datetime(ko, on_the_hour, &seoul),
        "2026년 12월 8일 오후 3시 KST"
    );
    let utc = time_zone("UTC").unwrap();
    assert_eq!(
        catalogs.datetime(ENGLISH, at, &utc),
        "December 8, 2026, 6:05 AM UTC"
    );
    assert!(time_zone("Mars/Olympus").is_err());
    assert!(time_zone("../../etc/passwd").is_err());
}

#[test]
fn each_message_is_checked_for_the_variables_it_is_given() {
    // $min_chars exists, but only the weak-password message is given it (no page shows
    // another message's placeholder as text).
    let err = with_dir(&[(
        "ja.ftl",
        "reset-heading = ok\nreset-mail-subject = { $product } { $min_chars }\n",
    )])
    .unwrap_err();
    assert!(
        err.contains("ja.ftl:2:") && err.contains("`reset-mail-subject` uses $min_chars"),
        "{err}"
    );
    // $to is given to the intro, not to the subject.
    let err = with_dir(&[("ko.ftl", "reset-mail-subject = { $to }\n")]).unwrap_err();
    assert!(
        err.contains("ko.ftl:1:") && err.contains("$to") && err.contains("given: $product"),
        "{err}"
    );
    // A message must not drop what readers need: the address a mail is about.
    let err = with_dir(&[(
        "en.ftl",
        "\nreset-mail-intro = Someone asked to reset your { $product } password.\n",
    )])
    .unwrap_err();
    assert!(
        err.contains("en.ftl:2:") && err.contains("`reset-mail-intro` must show $to"),
        "{err}"
    );
    let err = with_dir(&[("ja.ftl", "datetime = { $year }-{ $month }-{ $day }\n")]).unwrap_err();
    assert!(err.contains("must show $zone"), "{err}");
    // $product everywhere, and every part of a time in `datetime`, are given.
    let catalogs = with_dir(&[(
        "de.ftl",
        "reset-heading = { $product }: Passwort zurücksetzen\n\
         datetime = { $day }.{ $month }.{ $year }, { $hour }:{ $minute2 } { $zone }\n",
    )])
    .unwrap();
    let de = catalogs.find("de").unwrap();
    let at: jiff::Timestamp = "2026-12-08T14:05:00Z".parse().unwrap();
    let utc = time_zone("UTC").unwrap();
    assert_eq!(catalogs.datetime(de, at, &utc), "8.12.2026, 14:05 UTC");
}

#[test]
fn keys_english_does_not_have_are_listed_with_their_file() {
    assert!(built_in().unknown_keys().is_empty());
    let catalogs = with_dir(&[(
        "ko.ftl",
        "reset-heading = 비밀번호 다시 정하기\nreset-headng = 오타\n",
    )])
    .unwrap();
    let unknown = catalogs.unknown_keys();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0].0.ends_with("ko.ftl"), "{unknown:?}");
    assert_eq!(unknown[0].1, "reset-headng");
}

//! Pages and mails in the user's language: every page in Korean and in English (a `lang` or
//! `hl` parameter first, then `Accept-Language` by quality, then `--default-language`), no
//! English left in a Korean page, reset and verification mails in the language of the request
//! that caused them with their times in its time zone, an operator's language file picked up
//! and a malformed one stopping start-up, and the reset flow in Korean through the SMTP sink
//! and headless Chromium, also from a browser in a time zone the server does not know.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{TestApp, base_args, keys_dir, parse_cli, project_id};
use crate::smtp_sink::SmtpSink;

/// Latin words a Korean page may show: proper names, API names and an example address.
const PROPER_NAMES: &[&str] = &[
    "firegate",
    "POST",
    "login",
    "signInWithCustomToken",
    "Firebase",
    "uid",
    "name",
    "example",
    "com",
    "status",
    "issued",
    "until",
    "KST",
    "UTC",
];

/// A page, as `accept_language` asks for it.
async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> String {
    let mut request = app.http.get(app.url(path));
    if let Some(header) = accept_language {
        request = request.header("accept-language", header);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// `<html lang="…">` of a page.
fn html_lang(html: &str) -> &str {
    let at = html.find("<html lang=\"").expect("an <html lang>") + "<html lang=\"".len();
    &html[at..at + html[at..].find('"').unwrap()]
}

/// What a reader sees or the script shows: the text between tags and the `data-*` texts,
/// without scripts and styles.
fn shown_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        rest = &rest[open..];
        for block in ["<script", "<style"] {
            if rest.starts_with(block) {
                let close = format!("</{}>", &block[1..]);
                rest = &rest[rest.find(&close).unwrap()..];
            }
        }
        let end = rest.find('>').unwrap();
        let tag = &rest[..end];
        for (at, _) in tag.match_indices(" data-") {
            let value = &tag[at..];
            let start = value.find('"').unwrap() + 1;
            let stop = start + value[start..].find('"').unwrap();
            text.push_str(&value[start..stop]);
            text.push(' ');
        }
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text
}

/// Latin words in `text` that are not proper names.
fn english_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1 && !PROPER_NAMES.contains(w))
        .map(str::to_string)
        .collect()
}

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

#[tokio::test]
async fn every_page_speaks_korean_and_english() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder()
        .mail_sink(&sink)
        .flags(&["--demo-page"])
        .start()
        .await;
    let pages = [
        ("/password-reset/", "비밀번호 재설정", "Reset your password"),
        (
            "/email-verification/",
            "이메일 주소 인증",
            "Confirm your email address",
        ),
        ("/login/", "로그인", "Sign in"),
    ];
    for (path, korean, english) in pages {
        let ko = page(&app, path, Some("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7")).await;
        assert_eq!(html_lang(&ko), "ko", "{path}");
        assert!(ko.contains(&format!("<h1>{korean}</h1>")), "{path}: {ko}");
        let shown = shown_text(&ko);
        assert!(has_hangul(&shown));
        assert_eq!(
            english_words(&shown),
            BTreeSet::new(),
            "English left on {path}"
        );

        let en = page(&app, path, Some("en-US,en;q=0.9")).await;
        assert_eq!(html_lang(&en), "en", "{path}");
        assert!(en.contains(&format!("<h1>{english}</h1>")), "{path}");
        assert!(!has_hangul(&shown_text(&en)), "Korean left on {path}");
    }
}

#[tokio::test]
async fn a_pages_language_is_its_parameter_then_accept_language_then_the_default() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder().mail_sink(&sink).start().await;
    let lang = async |path: &str, header: Option<&str>| {
        html_lang(&page(&app, path, header).await).to_string()
    };
    let reset = "/password-reset/";
    assert_eq!(lang(reset, None).await, "en", "the default");
    assert_eq!(lang(reset, Some("fr-FR, ko;q=0.5, en;q=0.4")).await, "ko");
    assert_eq!(lang(reset, Some("ko;q=0.4, en;q=0.5")).await, "en");
    assert_eq!(lang("/password-reset/?lang=ko", Some("en")).await, "ko");
    assert_eq!(lang("/password-reset/?hl=ko-KR", None).await, "ko");
    assert_eq!(lang("/password-reset/?lang=en", Some("ko")).await, "en");
    // Never echoed: a tag we do not have falls through to the header.
    let html = page(&app, "/password-reset/?lang=%22%3E%3Cscript%3E", Some("ko")).await;
    assert_eq!(html_lang(&html), "ko");
    assert!(!html.contains("\"><script>"));

    let korean_default = TestApp::builder()
        .mail_sink(&sink)
        .flags(&["--default-language", "ko"])
        .start()
        .await;
    assert_eq!(
        html_lang(&page(&korean_default, reset, Some("fr")).await),
        "ko"
    );
}

/// Asks for a reset of `email` as a browser speaking `accept_language` in `time_zone` would.
async fn request_reset(app: &TestApp, email: &str, accept_language: &str, time_zone: &str) {
    let response = app
        .http
        .post(app.url("/password-reset/"))
        .header("accept-language", accept_language)
        .json(&json!({ "email": email, "time_zone": time_zone }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

/// The link line of a mail's text part.
fn link_in(mail: &Value) -> String {
    let text = mail["text"].as_str().unwrap();
    let line = text.lines().find(|l| l.starts_with("https://")).unwrap();
    line.to_string()
}

#[tokio::test]
async fn a_reset_requested_in_korean_is_mailed_in_korean_and_its_link_opens_korean() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder().mail_sink(&sink).start().await;
    app.create("kim@example.com", "old password").await;
    app.create("lee@example.com", "old password").await;

    request_reset(
        &app,
        "kim@example.com",
        "ko-KR,ko;q=0.9,en;q=0.8",
        "Asia/Seoul",
    )
    .await;
    let mail = sink.mail("kim@example.com", 1).await;
    assert_eq!(mail["subject"], "[firegate] 비밀번호 재설정 안내");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("firegate 계정(kim@example.com)의 비밀번호를 재설정"),
        "{text}"
    );
    assert!(
        text.contains("60분 안에(") && text.contains(" KST까지)"),
        "{text}"
    );
    let words = text
        .replace(&link_in(&mail), "")
        .replace("kim@example.com", "");
    assert_eq!(english_words(&words), BTreeSet::new());
    assert!(!text.contains('\u{2068}'), "no isolation marks in a mail");
    let html = mail["html"].as_str().unwrap();
    assert_eq!(html_lang(html), "ko");
    assert!(html.contains(">새 비밀번호 정하기</a>"), "{html}");
    let link = link_in(&mail);
    assert!(
        link.starts_with("https://auth.example.com/password-reset/?lang=ko#token="),
        "{link}"
    );
    // The token records the mail's language.
    let token = &link[link.find("token=").unwrap() + 6..];
    let id = hex::encode(Sha256::digest(token.as_bytes()));
    let stored = app.service.store.find_token(&id).await.unwrap().unwrap();
    assert_eq!(stored.language.as_deref(), Some("ko"));
    // The page the link opens (its address before `#`) is Korean, whatever the browser says.
    let opened = link.replace("https://auth.example.com", "");
    let opened = &opened[..opened.find('#').unwrap()];
    assert_eq!(html_lang(&page(&app, opened, Some("en-US")).await), "ko");

    request_reset(&app, "lee@example.com", "en-US,en;q=0.9", "UTC").await;
    let mail = sink.mail("lee@example.com", 1).await;
    assert_eq!(mail["subject"], "Reset your firegate password");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("within 60 minutes (until ") && text.contains(" UTC):"),
        "{text}"
    );
    assert!(!has_hangul(text));
    assert!(link_in(&mail).contains("/password-reset/?lang=en#token="));
}

#[tokio::test]
async fn a_verification_mail_speaks_the_language_of_its_request() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder().mail_sink(&sink).start().await;
    app.create("park@example.com", "her password").await;
    let response = app
        .http
        .post(app.url("/email-verification/?lang=ko"))
        .json(&json!({ "email": "park@example.com", "password": "her password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let mail = sink.mail("park@example.com", 1).await;
    assert_eq!(mail["subject"], "[firegate] 이메일 주소 인증 안내");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains(" UTC까지"),
        "no time zone given: UTC, said so: {text}"
    );
    assert!(link_in(&mail).contains("/email-verification/?lang=ko#token="));
    assert_eq!(html_lang(mail["html"].as_str().unwrap()), "ko");

    let (status, body) = app
        .post(
            "/password-reset/",
            json!({ "email": "park@example.com", "time_zone": "Mars/Olympus_Mons" }),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_time_zone"))
    );
}

#[tokio::test]
async fn an_operators_language_file_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ja.ftl"),
        "reset-heading = パスワードの再設定\nreset-mail-subject = { $product } のパスワード再設定\n",
    )
    .unwrap();
    let sink = SmtpSink::start(false);
    let app = TestApp::builder()
        .mail_sink(&sink)
        .flags(&["--messages-dir", dir.path().to_str().unwrap()])
        .start()
        .await;
    let html = page(&app, "/password-reset/", Some("ja-JP,ja;q=0.9")).await;
    assert_eq!(html_lang(&html), "ja");
    assert!(html.contains("<h1>パスワードの再設定</h1>"), "{html}");
    assert!(
        html.contains("Send the link"),
        "a key the file lacks is English"
    );

    app.create("sato@example.com", "old password").await;
    request_reset(&app, "sato@example.com", "ja", "Asia/Tokyo").await;
    let mail = sink.mail("sato@example.com", 1).await;
    assert_eq!(mail["subject"], "firegate のパスワード再設定");
    assert!(link_in(&mail).contains("?lang=ja#token="));
}

/// The service `firegate serve` would build with `flags`.
async fn serve_with(flags: &[&str]) -> Result<(), String> {
    let keys = keys_dir();
    let mut args = vec!["serve".to_string()];
    args.extend(base_args(keys.path(), &project_id()));
    args.extend(flags.iter().map(|f| f.to_string()));
    let firegate::cli::Command::Serve(serve) = parse_cli(&args).command else {
        unreachable!("parsed a serve command line")
    };
    firegate::service::Service::build(serve.server.service_options())
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_malformed_language_file_stops_start_up_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ja.ftl");
    std::fs::write(
        &file,
        "reset-heading = パスワードの再設定\n\nreset-saving\n",
    )
    .unwrap();
    let flags = ["--messages-dir", dir.path().to_str().unwrap()];
    let err = serve_with(&flags).await.unwrap_err();
    assert!(err.contains(&format!("{}:3:", file.display())), "{err}");
    std::fs::write(&file, "reset-heading = { $user }\n").unwrap();
    let err = serve_with(&flags).await.unwrap_err();
    assert!(err.contains("ja.ftl:1:") && err.contains("user"), "{err}");
    let err = serve_with(&["--default-language", "fr"]).await.unwrap_err();
    assert!(err.contains("--default-language `fr`"), "{err}");
}

/// Runs `tests/e2e/page_flow.mjs` (headless Chromium through playwright-core) with `args`:
/// what it saw, as JSON. Awaited, so the test's runtime keeps serving the pages meanwhile.
async fn chromium(args: &[&str]) -> Value {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    crate::e2e::install_packages(&suite);
    let output = tokio::process::Command::new("node")
        .arg("page_flow.mjs")
        .args(args)
        .current_dir(&suite)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("node runs tests/e2e/page_flow.mjs; install Node 20+");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "page_flow.mjs {args:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap()
}

#[tokio::test]
async fn the_reset_flow_runs_in_korean_in_chromium() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder().mail_sink(&sink).start().await;
    app.create("choi@example.com", "old password").await;

    // A browser set to Korean asks for the link on the page.
    let asked = chromium(&[
        "request",
        &app.url("/password-reset/"),
        "choi@example.com",
        "ko-KR",
    ])
    .await;
    assert_eq!(asked["lang"], "ko");
    assert_eq!(asked["title"], "비밀번호 재설정 · \u{2068}firegate\u{2069}");
    assert_eq!(
        asked["result"],
        "이 주소로 가입한 계정이 있다면 비밀번호 재설정 링크를 보냈어요. 메일함을 확인해 주세요."
    );
    let mail = sink.mail("choi@example.com", 1).await;
    assert_eq!(mail["subject"], "[firegate] 비밀번호 재설정 안내");
    let link = link_in(&mail).replace("https://auth.example.com", &app.url(""));
    assert!(link.contains("?lang=ko#token="), "{link}");

    // The link, opened in a browser that prefers English, is Korean all the same.
    let done = chromium(&["confirm", &link, "새 비밀번호 2026", "en-US"]).await;
    assert_eq!(done["lang"], "ko");
    assert_eq!(done["heading"], "비밀번호 재설정");
    assert_eq!(done["mismatch"], "두 비밀번호가 서로 달라요.");
    assert_eq!(
        done["result"],
        "비밀번호를 바꿨어요. 새 비밀번호로 로그인해 주세요."
    );
    assert_eq!(
        app.sign_in("choi@example.com", "새 비밀번호 2026").await.0,
        200
    );
}

#[tokio::test]
async fn a_registrations_language_is_kept_for_the_mails_no_request_causes() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder()
        .mail_sink(&sink)
        .flags(&["--require-verified-email"])
        .start()
        .await;
    let response = app
        .http
        .post(app.url("/register/"))
        .header("accept-language", "ko-KR")
        .json(&json!({ "email": "han@example.com", "password": "her password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        app.stored("han@example.com")
            .await
            .account
            .language
            .as_deref(),
        Some("ko")
    );
    let first = sink.mail("han@example.com", 1).await;
    assert_eq!(first["subject"], "[firegate] 이메일 주소 인증 안내");
    // An unverified sign-in (no language of its own) mails a fresh link in the account's.
    assert_eq!(app.sign_in("han@example.com", "her password").await.0, 400);
    let second = sink.mail("han@example.com", 2).await;
    assert_eq!(second["subject"], "[firegate] 이메일 주소 인증 안내");
}

#[tokio::test]
async fn a_browser_time_zone_the_server_does_not_know_falls_back_to_utc() {
    let sink = SmtpSink::start(false);
    let app = TestApp::builder().mail_sink(&sink).start().await;
    app.create("jung@example.com", "old password").await;
    // The browser reports a zone no time-zone database has: the page asks again without it
    // rather than showing "invalid email".
    let asked = chromium(&[
        "request",
        &app.url("/password-reset/"),
        "jung@example.com",
        "ko-KR",
        "Mars/Olympus_Mons",
    ])
    .await;
    assert_eq!(
        asked["result"],
        "이 주소로 가입한 계정이 있다면 비밀번호 재설정 링크를 보냈어요. 메일함을 확인해 주세요."
    );
    let mail = sink.mail("jung@example.com", 1).await;
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(" UTC까지)"), "times in UTC, said so: {text}");
}

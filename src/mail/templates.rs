//! The mails' text and HTML templates: the ones in `templates/` built in, each replaceable by
//! a file of the same name in `--mail-templates-dir`. They are read and test-rendered at
//! start-up, so a broken template stops the server with its file and line rather than
//! failing a user's mail later. HTML templates escape what they insert; a variable a template
//! names that does not exist is an error, not an empty string. Their words come from the
//! message catalogs: `{{ t("reset-mail-intro") }}` is that message in the mail's language,
//! with the mail's variables.

use std::path::Path;
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::MailError;
use crate::messages::{Arg, Catalogs, Lang};

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A password-reset link.
    Reset,
    /// An email-verification link.
    Verify,
    /// A second factor added or removed, or a recovery code used (`event` says which).
    Factor,
}

impl MailKind {
    const ALL: [MailKind; 3] = [MailKind::Reset, MailKind::Verify, MailKind::Factor];

    /// The file names of its text and HTML templates.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            MailKind::Reset => ("reset_mail.txt", "reset_mail.html"),
            MailKind::Verify => ("verify_mail.txt", "verify_mail.html"),
            MailKind::Factor => ("factor_mail.txt", "factor_mail.html"),
        }
    }
}

/// What a template may use.
#[derive(Debug, Serialize)]
pub struct MailVars<'a> {
    /// The product name (`--product-name`).
    pub product: &'a str,
    /// The address the mail goes to.
    pub to: &'a str,
    /// The link, with its token.
    pub link: &'a str,
    /// How long the link works.
    pub minutes: u64,
    /// When the link stops working, in the reader's language and time zone.
    pub expires: &'a str,
    /// The mail's language tag (`<html lang>`).
    pub lang: &'a str,
    /// What happened (factor mails): the catalog key of its sentence, `factor-event-…`.
    pub event: &'a str,
}

/// Templates larger than this are refused (a mail template is a few hundred bytes).
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

const BUILT_IN: [(&str, &str); 6] = [
    (
        "factor_mail.txt",
        include_str!("../../templates/factor_mail.txt"),
    ),
    (
        "factor_mail.html",
        include_str!("../../templates/factor_mail.html"),
    ),
    (
        "reset_mail.txt",
        include_str!("../../templates/reset_mail.txt"),
    ),
    (
        "reset_mail.html",
        include_str!("../../templates/reset_mail.html"),
    ),
    (
        "verify_mail.txt",
        include_str!("../../templates/verify_mail.txt"),
    ),
    (
        "verify_mail.html",
        include_str!("../../templates/verify_mail.html"),
    ),
];

/// The loaded templates.
#[derive(Debug)]
pub struct MailTemplates {
    env: Environment<'static>,
}

impl MailTemplates {
    /// The built-in templates, with those `dir` holds in their place, each test-rendered in
    /// every language of `catalogs`.
    pub fn load(dir: Option<&Path>, catalogs: &Arc<Catalogs>) -> Result<MailTemplates, MailError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, built_in) in BUILT_IN {
            let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => read_template(&path)?,
                None => built_in.to_string(),
            };
            env.add_template_owned(name, text)
                .map_err(|source| MailError::Template {
                    name: dir.map_or(name.to_string(), |d| d.join(name).display().to_string()),
                    source,
                })?;
        }
        let templates = MailTemplates { env };
        for lang in catalogs.languages() {
            let sample = MailVars {
                product: "firegate",
                to: "someone@example.com",
                link: "https://example.com/?token=x",
                minutes: 60,
                expires: "2026-12-08 15:00 KST",
                lang: catalogs.tag(lang),
                event: "factor-event-totp-added",
            };
            for kind in MailKind::ALL {
                let (text, html) = templates.render(kind, &sample, catalogs, lang)?;
                if kind == MailKind::Factor {
                    continue;
                }
                // HTML templates escape the link's slashes.
                let escaped = sample.link.replace('/', "&#x2f;");
                let (text_name, html_name) = kind.names();
                for (name, shown) in [
                    (text_name, text.contains(sample.link)),
                    (
                        html_name,
                        html.contains(sample.link) || html.contains(&escaped),
                    ),
                ] {
                    if !shown {
                        let name = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                            Some(path) => path.display().to_string(),
                            None => format!("{name} (built in)"),
                        };
                        return Err(MailError::TemplateWithoutLink { name });
                    }
                }
            }
        }
        Ok(templates)
    }

    /// The text and HTML parts of a `kind` mail in `lang`.
    pub fn render(
        &self,
        kind: MailKind,
        vars: &MailVars<'_>,
        catalogs: &Arc<Catalogs>,
        lang: Lang,
    ) -> Result<(String, String), MailError> {
        let (text, html) = kind.names();
        let context = minijinja::context! {
            t => words(vars, catalogs, lang),
            ..Value::from_serialize(vars)
        };
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(&context))
                .map_err(|source| MailError::Template {
                    name: format!("{name} ({})", vars.lang),
                    source,
                })
        };
        Ok((render(text)?, render(html)?))
    }
}

/// The template function `t(key)`: the catalog's message `key` in `lang`, with the mail's
/// variables; a key no catalog has is an error (found when the templates are test-rendered
/// at start-up).
fn words(vars: &MailVars<'_>, catalogs: &Arc<Catalogs>, lang: Lang) -> Value {
    let args: Vec<(&'static str, Arg)> = vec![
        ("product", vars.product.into()),
        ("to", vars.to.into()),
        (
            "minutes",
            i64::try_from(vars.minutes).unwrap_or(i64::MAX).into(),
        ),
        ("expires", vars.expires.into()),
    ];
    let catalogs = catalogs.clone();
    Value::from_function(move |key: &str| {
        catalogs.mail(lang, key, &args).ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("no message `{key}` in the catalogs"),
            )
        })
    })
}

fn read_template(path: &Path) -> Result<String, MailError> {
    let unreadable = |source| MailError::TemplateFile {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_TEMPLATE_BYTES {
        return Err(MailError::TemplateTooBig {
            path: path.to_path_buf(),
            size,
            limit: MAX_TEMPLATE_BYTES,
        });
    }
    std::fs::read_to_string(path).map_err(unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(link: &'a str) -> MailVars<'a> {
        MailVars {
            product: "Timetable",
            to: "kim@example.com",
            link,
            minutes: 60,
            expires: "December 8, 2026, 3:05 PM UTC",
            lang: "en",
            event: "factor-event-totp-added",
        }
    }

    fn catalogs() -> Arc<Catalogs> {
        Arc::new(Catalogs::load(&crate::messages::MessageOptions::default()).unwrap())
    }

    fn render(t: &MailTemplates, kind: MailKind, vars: &MailVars<'_>) -> (String, String) {
        let catalogs = catalogs();
        let lang = catalogs.find(vars.lang).unwrap();
        t.render(kind, vars, &catalogs, lang).unwrap()
    }

    #[test]
    fn built_in_templates_insert_the_link_and_escape_html() {
        let templates = MailTemplates::load(None, &catalogs()).unwrap();
        let (text, html) = render(
            &templates,
            MailKind::Reset,
            &vars("https://a.example/?token=t&x=<1>"),
        );
        assert!(text.contains("https://a.example/?token=t&x=<1>"), "{text}");
        assert!(html.contains("token=t&amp;x=&lt;1&gt;"), "{html}");
        let (text, _) = render(&templates, MailKind::Verify, &vars("https://a.example/v"));
        assert!(text.contains("https://a.example/v") && text.contains("Timetable"));
    }

    #[test]
    fn a_file_replaces_its_template_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("reset_mail.txt"),
            "Hallo {{ to }}: {{ link }}",
        )
        .unwrap();
        let templates = MailTemplates::load(Some(dir.path()), &catalogs()).unwrap();
        let (text, html) = render(&templates, MailKind::Reset, &vars("https://a.example/r"));
        assert_eq!(text, "Hallo kim@example.com: https://a.example/r");
        assert!(
            html.contains("Choose a new password"),
            "the HTML stays built in"
        );

        std::fs::write(dir.path().join("verify_mail.html"), "{{ link ").unwrap();
        let err =
            crate::error::chain(&MailTemplates::load(Some(dir.path()), &catalogs()).unwrap_err());
        assert!(err.contains("verify_mail.html"), "{err}");
        std::fs::write(dir.path().join("verify_mail.html"), "{{ linc }}").unwrap();
        let err =
            crate::error::chain(&MailTemplates::load(Some(dir.path()), &catalogs()).unwrap_err());
        assert!(
            err.contains("verify_mail.html") && err.contains("undefined"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("verify_mail.html"),
            "{{ t(\"no-such-key\") }}",
        )
        .unwrap();
        let err =
            crate::error::chain(&MailTemplates::load(Some(dir.path()), &catalogs()).unwrap_err());
        assert!(err.contains("no message `no-such-key`"), "{err}");
        // A reset or verification mail without its link is useless: refused, naming the file.
        std::fs::remove_file(dir.path().join("verify_mail.html")).unwrap();
        std::fs::write(
            dir.path().join("verify_mail.txt"),
            "{{ t(\"verify-mail-intro\") }}",
        )
        .unwrap();
        let err =
            crate::error::chain(&MailTemplates::load(Some(dir.path()), &catalogs()).unwrap_err());
        assert!(
            err.contains("verify_mail.txt does not show {{ link }}"),
            "{err}"
        );
    }

    #[test]
    fn a_korean_mail_is_korean_and_its_link_intact() {
        let templates = MailTemplates::load(None, &catalogs()).unwrap();
        let link = "https://a.example/password-reset/?lang=ko#token=abc";
        let vars = MailVars {
            lang: "ko",
            expires: "2026년 12월 8일 오후 3시 5분 KST",
            ..vars(link)
        };
        let (text, html) = render(&templates, MailKind::Reset, &vars);
        assert!(
            text.contains("비밀번호를 재설정해 달라는 요청") && text.contains("60분 안에"),
            "{text}"
        );
        assert!(text.contains(&format!("\n{link}\n")), "{text}");
        assert!(!text.contains('\u{2068}'), "no isolation marks in a mail");
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"ko\">"),
            "{html}"
        );
        assert!(html.contains("새 비밀번호 정하기"), "{html}");
    }

    #[test]
    fn the_second_factor_mail_speaks_the_readers_language() {
        let templates = MailTemplates::load(None, &catalogs()).unwrap();
        let korean = MailVars {
            lang: "ko",
            event: "factor-event-code-used",
            ..vars("")
        };
        let (text, html) = render(&templates, MailKind::Factor, &korean);
        assert!(
            text.contains("복구 코드로 로그인했어요") && text.contains("Timetable 계정"),
            "{text}"
        );
        assert!(
            !text.contains("second factor") && !text.contains("password"),
            "{text}"
        );
        assert!(html.contains("<html lang=\"ko\">"), "{html}");
        let (text, html) = render(&templates, MailKind::Factor, &vars(""));
        assert!(text.contains("An authenticator app was added"), "{text}");
        assert!(html.contains("<html lang=\"en\">"), "{html}");
    }
}

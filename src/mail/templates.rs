//! The mails' text and HTML templates: the ones in `templates/` built in, each replaceable by
//! a file of the same name in `--mail-templates-dir`. They are read and test-rendered at
//! start-up, so a broken template stops the server with its file and line rather than
//! failing a user's mail later. HTML templates escape what they insert; a variable a template
//! names that does not exist is an error, not an empty string.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::MailError;

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
    /// What happened, as a sentence's start (factor mails): "An authenticator app was added".
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
    /// The built-in templates, with those `dir` holds in their place.
    pub fn load(dir: Option<&Path>) -> Result<MailTemplates, MailError> {
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
        let sample = MailVars {
            product: "firegate",
            to: "someone@example.com",
            link: "https://example.com/?token=x",
            minutes: 60,
            event: "An authenticator app was added",
        };
        for kind in MailKind::ALL {
            templates.render(kind, &sample)?;
        }
        Ok(templates)
    }

    /// The text and HTML parts of a `kind` mail.
    pub fn render(
        &self,
        kind: MailKind,
        vars: &MailVars<'_>,
    ) -> Result<(String, String), MailError> {
        let (text, html) = kind.names();
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(vars))
                .map_err(|source| MailError::Template {
                    name: name.to_string(),
                    source,
                })
        };
        Ok((render(text)?, render(html)?))
    }
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
            event: "An authenticator app was added",
        }
    }

    #[test]
    fn built_in_templates_insert_the_link_and_escape_html() {
        let templates = MailTemplates::load(None).unwrap();
        let (text, html) = templates
            .render(MailKind::Reset, &vars("https://a.example/?token=t&x=<1>"))
            .unwrap();
        assert!(text.contains("https://a.example/?token=t&x=<1>"), "{text}");
        assert!(html.contains("token=t&amp;x=&lt;1&gt;"), "{html}");
        let (text, _) = templates
            .render(MailKind::Verify, &vars("https://a.example/v"))
            .unwrap();
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
        let templates = MailTemplates::load(Some(dir.path())).unwrap();
        let (text, html) = templates
            .render(MailKind::Reset, &vars("https://a.example/r"))
            .unwrap();
        assert_eq!(text, "Hallo kim@example.com: https://a.example/r");
        assert!(
            html.contains("Choose a new password"),
            "the HTML stays built in"
        );

        std::fs::write(dir.path().join("verify_mail.html"), "{{ link ").unwrap();
        let err = crate::error::chain(&MailTemplates::load(Some(dir.path())).unwrap_err());
        assert!(err.contains("verify_mail.html"), "{err}");
        std::fs::write(dir.path().join("verify_mail.html"), "{{ linc }}").unwrap();
        let err = crate::error::chain(&MailTemplates::load(Some(dir.path())).unwrap_err());
        assert!(
            err.contains("verify_mail.html") && err.contains("undefined"),
            "{err}"
        );
    }
}

//! The password-reset and mail settings group.

use std::time::Duration;

use clap::Args;
use secrecy::{ExposeSecret as _, SecretString};

use crate::mail::{MailOptions, MailUrl};
use crate::service::ResetOptions;

/// Password reset by mail: where mail goes, who it is from, and the link it carries.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Password reset and mail")]
pub struct ResetArgs {
    /// Where mail goes (smtp://, smtps://, firestore:COLLECTION or log); reset is off without.
    ///
    /// smtp://host:port (STARTTLS), smtps://user@host:465 (TLS; the password from
    /// --smtp-password), firestore:COLLECTION (Firebase's Trigger Email extension), or log.
    /// Needs --public-url or --reset-link-template.
    #[arg(long, env = "FIREGATE_MAIL_URL", value_name = "URL", value_parser = mail_url_parser())]
    pub mail_url: Option<MailUrl>,

    /// The SMTP password of --mail-url's user: from the environment or the config file only,
    /// never the command line (it would show in `ps`).
    #[arg(
        long,
        env = "FIREGATE_SMTP_PASSWORD",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub smtp_password: Option<SecretString>,

    /// The From address of mails.
    #[arg(
        long,
        env = "FIREGATE_MAIL_FROM",
        default_value = "firegate <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// The product name mails speak of.
    #[arg(long, env = "FIREGATE_PRODUCT_NAME", default_value = "firegate")]
    pub product_name: String,

    /// This server's public base URL; reset links point at its /password-reset/ page.
    #[arg(long, env = "FIREGATE_PUBLIC_URL", value_name = "URL", value_parser = public_url)]
    pub public_url: Option<String>,

    /// A reset link of the app's own page instead, with `{token}` where the token goes
    /// (e.g. https://app.example.com/reset?token={token}); `{lang}`, if present, becomes the
    /// mail's language.
    #[arg(long, env = "FIREGATE_RESET_LINK_TEMPLATE", value_parser = link_template)]
    pub reset_link_template: Option<String>,

    /// A verification link of the app's own page instead of this server's
    /// /email-verification/ page, with `{token}` where the token goes (and `{lang}` the
    /// mail's language).
    #[arg(long, env = "FIREGATE_VERIFY_LINK_TEMPLATE", value_parser = link_template)]
    pub verify_link_template: Option<String>,

    /// Accounts registered with POST /register/ must open the verification link mailed to
    /// them before they can sign in (accounts whose state is unknown, such as imported ones,
    /// are not affected).
    #[arg(long, env = "FIREGATE_REQUIRE_VERIFIED_EMAIL")]
    pub require_verified_email: bool,

    /// A directory of mail templates replacing the built-in ones: reset_mail, verify_mail and
    /// factor_mail (second-factor changes), each .txt and .html.
    ///
    /// Variables: product, to, link, minutes, expires, lang, and in factor_mail event (the
    /// catalog key of what happened, so t(event) is its sentence); t("key") is a catalog
    /// message in the mail's language. Checked at start-up in every language: a reset or
    /// verification template that leaves out link stops the server.
    #[arg(long, env = "FIREGATE_MAIL_TEMPLATES_DIR")]
    pub mail_templates_dir: Option<std::path::PathBuf>,

    /// How long a reset link works, in seconds.
    #[arg(long, env = "FIREGATE_RESET_TOKEN_LIFETIME_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(60..=86400))]
    pub reset_token_lifetime_secs: u32,

    /// Most reset mails one account gets per hour; further requests are answered alike and
    /// send nothing.
    #[arg(long, env = "FIREGATE_RESET_MAILS_PER_HOUR", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub reset_mails_per_hour: u32,
}

impl ResetArgs {
    /// What `serve` refuses: a transport without a link to send. Checked here rather than by
    /// clap's `requires`, which does not count a value from the config file (clap sees it as
    /// a default).
    pub fn check_for_server(&self) -> Result<(), String> {
        if self.mail_url.is_some()
            && self.public_url.is_none()
            && self.reset_link_template.is_none()
        {
            return Err("--mail-url (FIREGATE_MAIL_URL) needs --public-url or \
                        --reset-link-template: the link a reset mail carries"
                .into());
        }
        Ok(())
    }

    /// Password reset, when a transport and a link are set.
    pub fn options(&self) -> Option<(ResetOptions, MailOptions)> {
        let url = self.mail_url.as_ref()?;
        let link_template = match (&self.reset_link_template, &self.public_url) {
            (Some(template), _) => template.clone(),
            (None, Some(base)) => format!("{base}/password-reset/?lang={{lang}}#token={{token}}"),
            (None, None) => return None,
        };
        let smtp_password = self
            .smtp_password
            .clone()
            .filter(|p| !p.expose_secret().is_empty());
        Some((
            ResetOptions {
                verify_link_template: match (&self.verify_link_template, &self.public_url) {
                    (Some(template), _) => Some(template.clone()),
                    (None, Some(base)) => Some(format!(
                        "{base}/email-verification/?lang={{lang}}#token={{token}}"
                    )),
                    (None, None) => None,
                },
                templates_dir: self.mail_templates_dir.clone(),
                link_template,
                lifetime: Duration::from_secs(self.reset_token_lifetime_secs.into()),
                mails_per_hour: self.reset_mails_per_hour,
                product: self.product_name.clone(),
            },
            MailOptions {
                url: url.clone(),
                from: self.mail_from.clone(),
                smtp_password,
            },
        ))
    }
}

fn public_url(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    if !(value.starts_with("https://") || value.starts_with("http://")) || value.contains('?') {
        return Err(format!(
            "`{value}` is not a base URL (e.g. https://auth.example.com)"
        ));
    }
    Ok(value.to_string())
}

fn link_template(value: &str) -> Result<String, String> {
    if !value.contains("{token}") || !value.starts_with("http") {
        return Err("the reset link template is a URL with `{token}` in it".into());
    }
    Ok(value.to_string())
}

/// [`MailUrl::parse`], whose refusal never quotes the value: a password put in the URL by
/// mistake must not reach the logs through clap's `invalid value '…'`.
fn mail_url_parser() -> clap::builder::ValueParser {
    clap::builder::ValueParser::new(MailUrlParser)
}

#[derive(Clone)]
struct MailUrlParser;

impl clap::builder::TypedValueParser for MailUrlParser {
    type Value = MailUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<MailUrl, clap::Error> {
        let refuse = |why: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("--mail-url (FIREGATE_MAIL_URL): {why}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse("not UTF-8 text".into()))?;
        MailUrl::parse(text).map_err(|why| refuse(crate::import::redact(&why)))
    }
}

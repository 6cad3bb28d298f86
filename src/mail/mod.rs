//! Outgoing mail (password-reset links) through one of three transports: SMTP with `lettre`
//! (STARTTLS or TLS over rustls; the password from `--smtp-password`, never the URL), a Firestore
//! collection in the format of Firebase's "Trigger Email from Firestore" extension, or the log
//! (`dev`'s default). A mail that cannot be sent is an error for the caller to log; it never
//! changes what the client is told.

use std::fmt;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use tracing::info;

use crate::store::Store;

mod error;
mod templates;

pub use error::MailError;
pub use templates::{MailKind, MailTemplates, MailVars};

/// Where mail goes, as `--mail-url` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailUrl {
    /// Printed to the log (development).
    Log,
    /// `smtp://[user@]host[:port]` (STARTTLS when offered; `?tls=required` to insist) or
    /// `smtps://[user@]host[:port]` (TLS from the start, port 465), and its user.
    Smtp { url: String, user: Option<String> },
    /// `firestore:COLLECTION`: one document per mail, sent by the Trigger Email extension.
    Firestore(String),
}

impl MailUrl {
    /// Parses `--mail-url`; a password in the URL is refused (it would show in `ps`).
    pub fn parse(value: &str) -> Result<MailUrl, String> {
        let value = value.trim();
        if value == "log" {
            return Ok(MailUrl::Log);
        }
        if let Some(collection) = value.strip_prefix("firestore:") {
            if collection.is_empty() || collection.contains('/') {
                return Err("firestore:COLLECTION needs a collection id without '/'".into());
            }
            return Ok(MailUrl::Firestore(collection.to_string()));
        }
        if value.starts_with("smtp://") || value.starts_with("smtps://") {
            let rest = value.split_once("://").map_or("", |(_, r)| r);
            let authority = rest.split(['/', '?']).next().unwrap_or("");
            let user = authority.rsplit_once('@').map(|(user, _)| user.to_string());
            if user.as_deref().is_some_and(|u| u.contains(':')) {
                return Err(
                    "the SMTP password must not be in --mail-url (it would show in the \
                     process list); set FIREGATE_SMTP_PASSWORD"
                        .into(),
                );
            }
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            if host.is_empty() {
                return Err("the SMTP URL needs a host, e.g. smtp://mail.example.com:587".into());
            }
            return Ok(MailUrl::Smtp {
                url: value.to_string(),
                user,
            });
        }
        // The value is not quoted: it may hold a password.
        Err(
            "not a mail URL: use smtp://host:port, smtps://user@host:465, \
             firestore:COLLECTION or log"
                .into(),
        )
    }
}

/// How mail is sent and who it is from.
#[derive(Debug, Clone)]
pub struct MailOptions {
    pub url: MailUrl,
    /// The `From:` address, e.g. `Timetable <no-reply@school.example>`.
    pub from: String,
    /// The SMTP password (`FIREGATE_SMTP_PASSWORD`), if the server needs one.
    pub smtp_password: Option<SecretString>,
}

/// One mail: a text and an HTML part, to one bare address (never a display name or a list:
/// the address is already checked, and nothing parses it again).
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Address,
    pub subject: String,
    pub text: String,
    pub html: String,
}

enum Transport {
    Log,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Firestore(String),
}

/// A ready mail transport.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.transport {
            Transport::Log => "log",
            Transport::Smtp(_) => "smtp",
            Transport::Firestore(_) => "firestore",
        };
        f.debug_struct("Mailer")
            .field("transport", &kind)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// Builds the transport (no connection is made until the first mail).
    pub fn new(options: &MailOptions) -> Result<Mailer, MailError> {
        let from: Mailbox = options.from.parse().map_err(|source| MailError::From {
            from: options.from.clone(),
            source,
        })?;
        let transport = match &options.url {
            MailUrl::Log => Transport::Log,
            MailUrl::Firestore(collection) => Transport::Firestore(collection.clone()),
            MailUrl::Smtp { url, user } => {
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|source| MailError::SmtpUrl { source })?;
                match (user.clone(), &options.smtp_password) {
                    (Some(user), Some(password)) => {
                        builder = builder.credentials(Credentials::new(
                            user,
                            password.expose_secret().to_string(),
                        ));
                    }
                    (Some(user), None) => return Err(MailError::NoPassword { user }),
                    _ => {}
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Mailer { transport, from })
    }

    /// Sends `mail`; the error names the transport's complaint (never the mail's body, which
    /// holds a secret link).
    pub async fn send(&self, store: &Store, mail: &Mail) -> Result<(), MailError> {
        match &self.transport {
            Transport::Log => {
                info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    "mail (--mail-url log; development only: the text holds the link)\n{}",
                    mail.text
                );
                Ok(())
            }
            Transport::Firestore(collection) => {
                let doc = serde_json::json!({
                    "to": mail.to.to_string(),
                    "from": self.from.to_string(),
                    "message": {"subject": mail.subject, "text": mail.text, "html": mail.html},
                });
                store
                    .queue_mail(collection, &doc)
                    .await
                    .map_err(|e| MailError::Queue {
                        collection: collection.clone(),
                        source: Box::new(e),
                    })
            }
            Transport::Smtp(smtp) => {
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(Mailbox::new(None, mail.to.clone()))
                    .subject(mail.subject.clone())
                    .multipart(MultiPart::alternative_plain_html(
                        mail.text.clone(),
                        mail.html.clone(),
                    ))
                    .map_err(|source| MailError::Build { source })?;
                smtp.send(message)
                    .await
                    .map(|_| ())
                    .map_err(|source| MailError::Refused { source })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_urls_are_parsed_and_passwords_in_them_refused() {
        assert_eq!(MailUrl::parse("log"), Ok(MailUrl::Log));
        assert_eq!(
            MailUrl::parse("firestore:mail"),
            Ok(MailUrl::Firestore("mail".into()))
        );
        assert!(matches!(
            MailUrl::parse("smtp://mail.example.com:587"),
            Ok(MailUrl::Smtp { .. })
        ));
        assert!(matches!(
            MailUrl::parse("smtps://me@mail.example.com:465"),
            Ok(MailUrl::Smtp { .. })
        ));
        let err = MailUrl::parse("smtps://me:hunter2@mail.example.com").unwrap_err();
        assert!(
            err.contains("FIREGATE_SMTP_PASSWORD") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(MailUrl::parse("firestore:").is_err());
        assert!(MailUrl::parse("http://example.com").is_err());
    }

    #[test]
    fn an_smtp_user_without_a_password_is_refused() {
        let options = MailOptions {
            url: MailUrl::parse("smtps://me@mail.example.com:465").unwrap(),
            from: "firegate <no-reply@example.com>".into(),
            smtp_password: None,
        };
        let err = Mailer::new(&options).unwrap_err().to_string();
        assert!(err.contains("FIREGATE_SMTP_PASSWORD"), "{err}");
    }
}

//! Why a mail could not be prepared or sent. Messages name the setting, the template file or
//! the transport; causes are the library's own errors. None holds the mail's text, which
//! carries a secret link, or the SMTP password.

use std::path::PathBuf;

/// A mail transport, template or message failure.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("--mail-from `{from}` is not a mail address")]
    From {
        from: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("--mail-url is not a usable SMTP URL")]
    SmtpUrl {
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("--mail-url names the SMTP user `{user}` but FIREGATE_SMTP_PASSWORD is not set")]
    NoPassword { user: String },
    #[error("cannot read the mail template {}", path.display())]
    TemplateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the mail template {} is {size} bytes; at most {limit} are read", path.display())]
    TemplateTooBig {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// A template that does not parse or render; `name` is its file (or built-in name).
    #[error("mail template {name}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    /// A reset or verification template that leaves out the link, the mail's whole point.
    #[error(
        "the mail template {name} does not show {{{{ link }}}}; a reader could not use the mail"
    )]
    TemplateWithoutLink { name: String },
    #[error("cannot build the mail")]
    Build {
        #[source]
        source: lettre::error::Error,
    },
    #[error("the SMTP server refused the mail")]
    Refused {
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("cannot write the mail document to `{collection}`")]
    Queue {
        collection: String,
        #[source]
        source: Box<crate::Error>,
    },
}

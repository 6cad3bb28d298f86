//! The one error type of firegate's core. Variants carry domain meanings; the HTTP edge maps
//! them to status codes and the CLI prints them. No variant ever carries a secret.

use crate::keys::KeyError;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a firegate use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown login, wrong password, disabled account or unusable stored hash. These are one
    /// outcome on purpose: a client must not learn which of them happened.
    #[error("invalid login or password")]
    InvalidCredentials,

    /// A request or command argument that cannot be accepted as given.
    #[error("{message}")]
    InvalidInput {
        /// Stable machine-readable code, e.g. `password_too_long`.
        code: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A login identifier that another account already holds.
    #[error("login `{0}` is already registered")]
    LoginTaken(String),

    /// A uid that another account already holds.
    #[error("uid `{0}` is already in use")]
    UidTaken(String),

    /// The account changed while the operation ran; nothing was written. Retry.
    #[error("the account changed concurrently; nothing was written, retry")]
    Conflict,

    /// A feature turned off by configuration (e.g. registration).
    #[error("{0}")]
    Disabled(&'static str),

    /// No loaded key has this id (or file name).
    #[error("no key `{0}` in the keys directory; see `firegate keys list`")]
    UnknownKey(String),

    /// No account holds the given login (admin commands only; sign-in never says this).
    #[error("no account has the login `{0}`")]
    AccountNotFound(String),

    /// More password checks are waiting than the configured queue allows.
    #[error("too many password checks in progress; retry shortly")]
    Overloaded,

    /// Firestore did not answer in time or refused the connection.
    #[error("Firestore is unavailable: {0}")]
    Unavailable(String),

    /// Firestore answered with something firegate cannot use.
    #[error("Firestore error: {0}")]
    Storage(String),

    /// A service-account key problem.
    #[error(transparent)]
    Key(#[from] KeyError),

    /// A setting that cannot be used; the message names the setting and the accepted values.
    #[error("{0}")]
    Config(String),

    /// A bug or an environment failure (e.g. a blocking task that panicked).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            code,
            message: message.into(),
        }
    }
}

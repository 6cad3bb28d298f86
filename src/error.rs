//! The one error type of firegate's core. Variants carry domain meanings; a variant that
//! wraps a failure keeps it as its `source()`, so logs and the CLI show the whole chain while
//! the HTTP edge shows clients only a code and a fixed message. No variant ever carries a
//! secret, and no cause is kept whose text could hold one.

use std::path::PathBuf;
use std::sync::Arc;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure kept as the cause of an [`Error`], whatever its type.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in a firegate use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown login, wrong password, disabled account or unusable stored hash. These are one
    /// outcome on purpose: a client must not learn which of them happened.
    #[error("invalid login or password")]
    InvalidCredentials,

    /// An `mfa_token` that is unknown, expired, spent or outdated: sign in again.
    #[error("the mfa_token is unknown, expired or used up; sign in again")]
    MfaTokenInvalid,

    /// A self-service request without a usable Firebase ID token; the text says what is
    /// wrong with it (never the token).
    #[error("{0}")]
    Unauthenticated(String),

    /// Changing factors needs a sign-in more recent than the ID token's.
    #[error("this change needs a recent sign-in; sign in again")]
    RecentSignInRequired,

    /// A request or command argument that cannot be accepted as given.
    #[error("{message}")]
    InvalidInput {
        /// Stable machine-readable code, e.g. `password_too_long`.
        code: &'static str,
        /// What is wrong and how to fix it; clients see it.
        message: String,
        /// The failure behind it, for the CLI and the logs; never sent to clients.
        #[source]
        source: Option<Cause>,
    },

    /// A login identifier that another account already holds.
    #[error("login `{0}` is already registered")]
    LoginTaken(String),

    /// A new login that looks like (has the Unicode TR39 skeleton of) a login another
    /// account holds: `аdmin` with a Cyrillic `а` beside `admin`.
    #[error("login `{login}` looks like `{holder}`, which another account holds")]
    LookAlikeTaken { login: String, holder: String },

    /// A new login that is another account's uid: refused, so that no login ever reads as
    /// a name for another account.
    #[error("`{0}` is the uid of another account; a login may not be another account's uid")]
    LoginIsUid(String),

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

    /// No account has the given uid, or holds the given login (admin commands only;
    /// sign-in never says this). The text says which was asked for: "uid `x`", "login `x`".
    #[error("no account has the {0}")]
    AccountNotFound(String),

    /// Too many failed attempts of one kind from one client network; retry later.
    #[error("{0}")]
    RateLimited(&'static str),

    /// More password checks are waiting than the configured queue allows.
    #[error("too many password checks in progress; retry shortly")]
    Overloaded,

    /// Firestore did not answer in time or refused the connection.
    #[error("Firestore is unavailable: {context}")]
    Unavailable {
        /// What firegate was doing, and how to fix it when that is known.
        context: String,
        #[source]
        source: Option<Cause>,
    },

    /// Firestore answered with something firegate cannot use.
    #[error("Firestore error: {context}")]
    Storage {
        context: String,
        #[source]
        source: Option<Cause>,
    },

    /// A service-account key problem.
    #[error(transparent)]
    Key(#[from] KeyError),

    /// The IAM Credentials signer (`--signer iam`) could not sign.
    #[error(transparent)]
    Signer(#[from] SignerError),

    /// Start-up could not settle which key signs (the server is stopping); the cause is
    /// start-up's own error, shared by every request that waited for it.
    #[error("start-up failed: {0}")]
    StartUp(#[source] Arc<Error>),

    /// Firebase Auth (the bridge, `--firebase-auth`) refused or did not answer.
    #[error(transparent)]
    Bridge(#[from] BridgeError),

    /// The legacy system's verify hook (`--legacy-verify-url`) did not give a usable answer.
    #[error(transparent)]
    Legacy(#[from] LegacyError),

    /// A setting that cannot be used; the message names the setting and the accepted values.
    #[error("{context}")]
    Config {
        context: String,
        #[source]
        source: Option<Cause>,
    },

    /// A file, socket or process could not be used; `what` names it.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// A blocking task (key generation, file writes) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),

    /// Output that could not be encoded as JSON.
    #[error("cannot encode the output as JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// A bug or an environment failure (e.g. a blocking task that panicked).
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Cause>,
    },
}

impl Error {
    /// An [`Error::Io`] naming what could not be used.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    /// [`Error::Unavailable`] with no cause yet; add one with [`Error::caused_by`].
    pub fn unavailable(context: impl Into<String>) -> Self {
        Error::Unavailable {
            context: context.into(),
            source: None,
        }
    }

    /// [`Error::Storage`] with no cause yet.
    pub fn storage(context: impl Into<String>) -> Self {
        Error::Storage {
            context: context.into(),
            source: None,
        }
    }

    /// [`Error::Config`] with no cause yet.
    pub fn config(context: impl Into<String>) -> Self {
        Error::Config {
            context: context.into(),
            source: None,
        }
    }

    /// [`Error::Internal`] with no cause yet.
    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// Keeps `cause` as this error's `source()`, for the variants that wrap a failure
    /// (`InvalidInput`, `Unavailable`, `Storage`, `Config`, `Internal`); the others are
    /// returned unchanged.
    /// The cause's text must hold no secret: it reaches logs and the CLI.
    pub fn caused_by(mut self, cause: impl Into<Cause>) -> Self {
        if let Error::Unavailable { source, .. }
        | Error::InvalidInput { source, .. }
        | Error::Storage { source, .. }
        | Error::Config { source, .. }
        | Error::Internal { source, .. } = &mut self
        {
            *source = Some(cause.into());
        }
        self
    }

    /// This error and every cause under it, one message per line:
    /// `error` then `  caused by: …` lines, as the CLI and the logs show it.
    pub fn chain(&self) -> String {
        chain(self)
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            code,
            message: message.into(),
            source: None,
        }
    }
}

/// A key-file problem. Messages name the file and field, never key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{file}: cannot read the key file: {source}")]
    Unreadable {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file}: not a JSON service-account key ({reason}); download one with \
             `gcloud iam service-accounts keys create` or run `firegate keys generate`"
    )]
    NotJson {
        file: PathBuf,
        reason: String,
        /// serde_json's error, which names only a position (the text is never quoted).
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("{file}: field `{field}` {problem}")]
    Field {
        file: PathBuf,
        field: &'static str,
        problem: String,
        /// The parser's error behind `problem`, when there is one (PEM).
        #[source]
        source: Option<Cause>,
    },
    #[error(
        "{file}: readable by group or others (mode {mode:03o}); run `chmod 600 {file}` \
             or pass --allow-insecure-key-permissions"
    )]
    Permissions { file: PathBuf, mode: u32 },
    #[error("{dir}: cannot list the keys directory: {source}")]
    Directory {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{dir}: no service-account key (*.json); put one there, or run `firegate dev` \
             to create a development key"
    )]
    NoKeys { dir: PathBuf },
    #[error(
        "{dir}: {count} signing keys present ({kids}) and none is recorded as active; \
             choose one with `firegate keys activate <kid>`"
    )]
    NoActiveKey {
        dir: PathBuf,
        count: usize,
        kids: String,
    },
    #[error("{dir}: no key can sign: {why}")]
    NoSigningKey { dir: PathBuf, why: String },
    #[error(
        "{dir}: Firestore records {kid} as the active signing key, but no key file here \
             holds it (here: {here}). Add that key's file to this directory as well, keeping \
             each key file until its key is retired; or, if a key here should sign instead, \
             activate it first with `firegate keys activate <kid>`"
    )]
    ActiveKeyMissing {
        dir: PathBuf,
        kid: String,
        here: String,
    },
    #[error(
        "{file}: holds {kid}, which Firestore records as the active signing key, but it \
             cannot be loaded ({problem}); restore that file, or activate another key with \
             `firegate keys activate <kid>`"
    )]
    ActiveKeyBroken {
        file: PathBuf,
        kid: String,
        problem: String,
        /// The file's load failure, when it was kept.
        #[source]
        source: Option<Arc<KeyError>>,
    },
    #[error("the keys belong to different projects ({projects}); set --project-id")]
    MixedProjects { projects: String },
    #[error("key id `{kid}` appears in both {first} and {second}; remove one of the files")]
    DuplicateKid {
        kid: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// A call to a Google API that got no usable answer: the transport's failure (reqwest's, kept
/// `without_url()`, since a URL may carry the web API key), no access token (the credentials
/// crate's own error), or what Google said when it refused. Kept as the `source()` of
/// [`SignerError`] and [`BridgeError`]; none holds an access token, an assertion or a key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GoogleCallError {
    #[error("cannot build the HTTP client")]
    Client(#[source] Arc<reqwest::Error>),
    #[error("{kind}")]
    Transport {
        /// `timed out`, `cannot connect` or `request failed`.
        kind: &'static str,
        #[source]
        source: Arc<reqwest::Error>,
    },
    /// Application Default Credentials could not be found or read.
    #[error(transparent)]
    Setup(Arc<google_cloud_auth::build_errors::Error>),
    /// The credentials gave no access token.
    #[error(transparent)]
    Credentials(#[from] google_cloud_auth::errors::CredentialsError),
    #[error("no answer in time")]
    NoAnswer,
    #[error("too many calls in flight")]
    Busy,
    #[error("an empty answer")]
    Empty,
    /// Google's answer, cut short: its status and message.
    #[error("{said}")]
    Answered { said: String },
}

impl GoogleCallError {
    /// A transport failure, without the URL reqwest would print (it may carry a key).
    pub fn transport(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        GoogleCallError::Transport {
            kind,
            source: Arc::new(e.without_url()),
        }
    }

    /// The HTTP client could not be built (no CA roots, …).
    pub fn client(e: reqwest::Error) -> Self {
        GoogleCallError::Client(Arc::new(e.without_url()))
    }
}

/// Why the IAM Credentials signer (`--signer iam`) could not sign. Each message names the
/// service account and the fix; none holds an access token or what was being signed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignerError {
    #[error(
        "the IAM Service Account Credentials API is not enabled in project {project}: enable \
             it with `gcloud services enable iamcredentials.googleapis.com --project {project}` \
             (signing as {email}; Google said: {said})"
    )]
    ServiceDisabled {
        project: String,
        email: String,
        said: String,
    },
    #[error(
        "the credentials firegate runs with may not sign as {email} (missing \
             iam.serviceAccounts.signBlob): grant roles/iam.serviceAccountTokenCreator on {email} \
             to that identity, e.g. `gcloud iam service-accounts add-iam-policy-binding {email} \
             --member serviceAccount:{email} --role roles/iam.serviceAccountTokenCreator` when it \
             signs as itself (Google said: {said})"
    )]
    PermissionDenied { email: String, said: String },
    #[error(
        "service account {email} does not exist or is not visible to these credentials; \
             check --service-account (or the runtime service account the metadata server \
             reports) (Google said: {said})"
    )]
    AccountNotFound { email: String, said: String },
    #[error(
        "IAM Credentials refused the access token for {email} twice (401); check the \
             Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth \
             application-default login`, or the metadata server) (Google said: {said})"
    )]
    Unauthenticated { email: String, said: String },
    #[error("IAM Credentials refused to sign as {email} ({status}): {said}")]
    Refused {
        email: String,
        status: u16,
        said: String,
    },
    #[error(
        "IAM Credentials did not sign as {email} within {deadline_ms} ms ({attempts} \
             attempts; last: {last})"
    )]
    Unavailable {
        email: String,
        deadline_ms: u128,
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: GoogleCallError,
    },
    #[error("IAM Credentials answered signing as {email} with something unusable: {what}")]
    Malformed { email: String, what: String },
    #[error(
        "no access token for the IAM Credentials API: {source}; on Google Cloud the metadata \
             server provides one, elsewhere set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud \
             auth application-default login`"
    )]
    Credentials {
        #[source]
        source: GoogleCallError,
    },
    #[error("cannot ask the metadata server at {host} for {what}: {source}; {fix}")]
    Metadata {
        host: String,
        what: &'static str,
        #[source]
        source: GoogleCallError,
        fix: &'static str,
    },
}

/// Why a call to Firebase Auth's admin API (Identity Toolkit) failed. Messages name the call
/// and Google's answer; none holds a password, a token or the API key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BridgeError {
    #[error(
        "no access token for Firebase Auth (Identity Toolkit): {source}; on Google Cloud the \
             metadata server provides one, elsewhere set GOOGLE_APPLICATION_CREDENTIALS or run \
             `gcloud auth application-default login` (or set FIREBASE_AUTH_EMULATOR_HOST)"
    )]
    Credentials {
        #[source]
        source: GoogleCallError,
    },
    #[error(
        "Firebase Auth did not answer {what} within {deadline_ms} ms ({attempts} attempts; \
             last: {last})"
    )]
    Unavailable {
        what: &'static str,
        deadline_ms: u128,
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: GoogleCallError,
    },
    #[error("Firebase Auth refused {what} ({status}): {said}{fix}")]
    Refused {
        what: &'static str,
        status: u16,
        /// Identity Toolkit's error code, e.g. `USER_NOT_FOUND`, `EMAIL_EXISTS`.
        code: String,
        said: String,
        fix: &'static str,
    },
    #[error("Firebase Auth answered {what} with something unusable: {why}")]
    Malformed { what: &'static str, why: String },
    #[error(
        "checking a password with Firebase Auth needs the project's web API key: set \
             --firebase-api-key (FIREGATE_FIREBASE_API_KEY)"
    )]
    NoApiKey,
}

impl BridgeError {
    /// Identity Toolkit's error code, when Firebase Auth answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            BridgeError::Refused { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }
}

/// Why the legacy system's verify hook gave no usable answer. Messages name the hook's host
/// and what went wrong; none holds a login, a password, the shared secret or the hook's
/// body (which may echo any of them).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LegacyError {
    #[error(
        "the legacy verify hook at {host} did not answer within {deadline_ms} ms \
         (--legacy-verify-deadline-ms)"
    )]
    Timeout { host: String, deadline_ms: u128 },
    #[error("cannot reach the legacy verify hook at {host}: {why}")]
    Unreachable { host: String, why: String },
    #[error("the legacy verify hook at {host} answered HTTP {status}{fix}")]
    Status {
        host: String,
        status: u16,
        fix: &'static str,
    },
    #[error(
        "the legacy verify hook at {host} answered with something unusable: {why} (the \
         book's \"Legacy verify hook\" page shows the answers it may give)"
    )]
    Malformed { host: String, why: String },
    #[error(
        "the legacy verify hook at {host} failed within the last 30 s: a refused sign-in \
         answers as unavailable until it answers again, so an outage reveals no login"
    )]
    Down { host: String },
}

/// `error` and its causes, one per line (`  caused by: …`), skipping a cause whose text its
/// parent already shows (wrappers that repeat their source, such as `{what}: {source}`).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut shown = out.clone();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !shown.contains(&text) {
            out.push_str("\n  caused by: ");
            out.push_str(&text);
        }
        shown = text;
        next = cause.source();
    }
    out
}

//! firegate checks username/password credentials kept in Firestore — including password hashes
//! inherited from legacy databases — and mints Firebase custom tokens signed with a
//! service-account key, so clients finish signing in with `signInWithCustomToken`.
//!
//! # Layout
//!
//! From the top down; a module uses only modules below it (`tests/it/layers.rs` checks):
//!
//! - [`cli`]: the command line, one function per subcommand (`dev`, the one-command local
//!   run, among them).
//! - [`config`]: every setting, as clap groups turned into each part's own options, and the
//!   settings file (`firegate.toml`) read against the same definitions.
//! - [`app`]: the one wiring of the server, used by `serve`, `dev` and the tests.
//! - [`http`]: the inbound HTTP edge (the only module that names axum).
//! - [`service`]: the use cases (`sign_in`, `create_account`, key rotation, …) over the parts
//!   below.
//! - [`import`]: legacy user tables (CSV, JSON Lines, Django dumpdata) streamed into accounts.
//! - [`mail`]: outgoing mail (password-reset links) by SMTP, a Firestore collection for
//!   the Trigger Email extension, or the log.
//! - [`store`]: Firestore persistence (the only module that names the `firestore` crate).
//! - [`keys`]: service-account key files and the ring of keys, one of which signs; RSA key
//!   generation and secret files (`keys::keygen`).
//! - [`google`]: Google APIs besides Firestore (Application Default Credentials, the
//!   metadata server, IAM Credentials `signBlob` for signing without a key file).
//! - [`legacy_hook`]: the old application's verify hook, asked once per account at its first
//!   sign-in (signed requests, a deadline, bounded calls).
//! - [`breached`]: passwords known from breaches (Pwned Passwords' range API, or an offline
//!   copy searched in place).
//! - [`custom_token`]: the Firebase custom-token format and its signing.
//! - [`lockout`]: per-account brute-force protection rules.
//! - [`client_network`]: the client network the lockout and the rate limit count by.
//! - [`accounts`], [`login`], [`claims`]: the account domain types.
//! - [`factors`]: second factors (TOTP and recovery codes) and their checks.
//! - [`passkeys`]: WebAuthn over webauthn-rs: the relying party, ceremony options, stored
//!   credentials.
//! - [`passwords`]: argon2id hashing on a bounded pool, and legacy hash verification.
//! - [`messages`]: the pages' and mails' words in each language (Fluent catalogs), and which
//!   language a request gets.
//! - [`emulator`]: the Firestore emulator as a child process (`dev`, tests, benchmarks).
//! - [`telemetry`]: logs in Cloud Logging's format.
//! - [`error`]: the one error type.

pub mod accounts;
pub mod app;
pub mod bounded_body;
pub mod breached;
pub mod claims;
pub mod cli;
pub mod client_network;
pub mod config;
pub mod custom_token;
pub mod emulator;
pub mod error;
pub mod factors;
pub mod google;
pub mod http;
pub mod import;
pub mod keys;
pub mod legacy_hook;
pub mod lockout;
pub mod login;
pub mod mail;
pub mod messages;
pub mod passkeys;
pub mod passwords;
pub mod service;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};

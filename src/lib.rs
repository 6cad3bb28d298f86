//! firegate checks username/password credentials kept in Firestore — including password hashes
//! inherited from legacy databases — and mints Firebase custom tokens signed with a
//! service-account key, so clients finish signing in with `signInWithCustomToken`.
//!
//! # Layout
//!
//! - [`config`]: every setting, parsed once from flags and environment variables.
//! - [`service`]: the use cases (`sign_in`, `create_account`, …) over the parts below.
//! - [`custom_token`]: the Firebase custom-token format and its signing.
//! - [`keys`]: service-account key files and the key that signs.
//! - [`passwords`]: argon2id hashing on a bounded blocking pool, and legacy hash verification.
//! - [`login`], [`accounts`], [`claims`]: the account domain types.
//! - [`lockout`]: per-login brute-force protection rules; [`client`]: the client network
//!   they and the rate limit count by.
//! - [`import`]: legacy user tables (CSV, JSON Lines, Django dumpdata) streamed into accounts.
//! - [`store`]: Firestore persistence (the only module that names the `firestore` crate).
//! - [`http`]: the inbound HTTP edge (the only module that names axum).
//! - [`cli`], [`dev`], [`emulator`]: the command line, the one-command local run, and the
//!   Firestore emulator it starts.

pub mod accounts;
pub mod claims;
pub mod cli;
pub mod client;
pub mod config;
pub mod custom_token;
pub mod dev;
pub mod emulator;
pub mod error;
pub mod http;
pub mod import;
pub mod keygen;
pub mod keys;
pub mod lockout;
pub mod login;
pub mod passwords;
pub mod service;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};

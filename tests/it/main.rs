//! firegate's integration tests: one binary, every test against the real Firestore emulator
//! (one emulator per run, one project id per test) and its own server on its own port.

// A failed unwrap in a test or benchmark is a failure with its message, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app_check_standin;
mod common;
mod google_standin;
mod hook_standin;
mod pwned_standin;

mod account_language;
mod accounts;
mod admin;
mod admin_gate;
mod app_check;
mod bench_smoke;
mod book;
mod breached;
mod cli;
mod config_file;
mod connections;
mod dev;
mod e2e;
mod hash_dialects;
mod iam;
mod import;
mod keys;
mod languages;
mod layers;
mod legacy;
mod legacy_domains;
mod lockout;
mod login;
mod logs;
mod look_alikes;
mod lossy_upgrades;
mod mfa;
mod operating;
mod passkeys;
mod rate_limit;
mod rehearsal;
mod requests;
mod reset;
mod resilience;
mod smtp_sink;
mod upgrades;
mod verify_hook;

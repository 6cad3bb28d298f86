//! firegate's integration tests: one binary, every test against the real Firestore emulator
//! (one emulator per run, one project id per test) and its own server on its own port.

mod common;

mod accounts;
mod admin;
mod cli;
mod e2e;
mod hardening;
mod hardening2;
mod import;
mod keys;
mod legacy;
mod login;
mod requests;
mod upgrades;

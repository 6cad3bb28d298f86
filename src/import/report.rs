//! What an import tells its user: why a row was refused or kept without a login, the running
//! progress, the final summary, and the `--report` file of those rows. None of them ever
//! holds a hash.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use crate::{Error, Result};

/// Why a row was not imported. The codes are stable: scripts may match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// CSV quoting or field count that cannot be read.
    MalformedCsv,
    /// A `mysql --batch` line with an escape the client never writes, or another number of
    /// fields than the header.
    MalformedMysqlBatch,
    /// A JSON line or Django record that is not an object of scalar fields.
    MalformedJson,
    /// Bytes that are not UTF-8 (the export used another encoding).
    InvalidUtf8,
    /// A physical line longer than the reader accepts.
    LineTooLong,
    /// A required field is absent: the hash, a value the uid template needs, or (JSON) a
    /// key a column flag named.
    MissingField,
    /// The uid is empty, over 128 characters, or not a valid Firestore document id.
    InvalidUid,
    /// Neither a username nor an email.
    NoLogin,
    /// A username (or, with no email column, an email) that firegate cannot use as a login.
    InvalidLogin,
    /// An email that is not one bare address (a display name, a list, quotes, spaces, …).
    InvalidEmail,
    /// A login that looks like (has the TR39 skeleton of) another account's or an earlier
    /// row's login.
    LookAlikeLogin,
    /// A username containing `@` that differs from the row's email.
    UsernameLooksLikeEmail,
    /// The hash column is empty.
    EmptyHash,
    /// A Firebase user without a password (signs in with Google, a phone number, …).
    NoPassword,
    /// The hash marks the account as having no usable password.
    UnusablePassword,
    /// The hash does not follow the dialect's grammar.
    InvalidHash,
    /// The hash asks for more work than the configured limits allow.
    HashCostTooHigh,
    /// An account-state value that is not a boolean.
    InvalidBoolean,
    /// A boolean column that is NULL (JSON `null`, empty, or `--null-text`) with no
    /// `--null-means` saying what that means.
    NullBoolean,
    /// A creation time that is not a recognised timestamp.
    InvalidTimestamp,
    /// An earlier row of the file has the same uid.
    DuplicateUid,
    /// An earlier row of the file has the same login.
    DuplicateLogin,
    /// An earlier row of the file, or an account in Firestore, keeps this email
    /// (`--duplicate-email keep-first`): the row goes on without it, or is refused when it
    /// has no other login.
    DuplicateEmail,
    /// Firestore holds an account with this uid but other logins.
    UidTaken,
    /// Firestore holds this login for another account.
    LoginTaken,
    /// A username or email that is the uid of another account (in Firestore, or of an
    /// earlier row of the file).
    LoginIsUid,
    /// Firestore kept failing; rerun the import to finish.
    WriteFailed,
}

impl Reason {
    /// The stable code, as written to the report and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MalformedCsv => "malformed_csv",
            Reason::MalformedMysqlBatch => "malformed_mysql_batch",
            Reason::MalformedJson => "malformed_json",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::LineTooLong => "line_too_long",
            Reason::MissingField => "missing_field",
            Reason::InvalidUid => "invalid_uid",
            Reason::NoLogin => "no_login",
            Reason::InvalidLogin => "invalid_login",
            Reason::InvalidEmail => "invalid_email",
            Reason::LookAlikeLogin => "look_alike_login",
            Reason::UsernameLooksLikeEmail => "username_looks_like_email",
            Reason::EmptyHash => "empty_hash",
            Reason::NoPassword => "no_password",
            Reason::UnusablePassword => "unusable_password",
            Reason::InvalidHash => "invalid_hash",
            Reason::HashCostTooHigh => "hash_cost_too_high",
            Reason::InvalidBoolean => "invalid_boolean",
            Reason::NullBoolean => "null_boolean",
            Reason::InvalidTimestamp => "invalid_timestamp",
            Reason::DuplicateUid => "duplicate_uid",
            Reason::DuplicateLogin => "duplicate_login",
            Reason::DuplicateEmail => "duplicate_email",
            Reason::UidTaken => "uid_taken",
            Reason::LoginTaken => "login_taken",
            Reason::LoginIsUid => "login_is_uid",
            Reason::WriteFailed => "write_failed",
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One refused row, or (`kept_without`) a row whose account goes on without one of its
/// logins. `message` says what is wrong without quoting the row's values.
#[derive(Clone, Debug, Serialize)]
pub struct Rejection {
    /// The line the row starts on (1-based).
    pub line: u64,
    /// For Django input, the record's position in the array (1-based): dumpdata may write
    /// the whole array on one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    pub reason: Reason,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The row's field (`email` or `username`) left out of an account that is imported
    /// with its other logins; `None` for a refused row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_without: Option<&'static str>,
}

impl Rejection {
    pub(crate) fn new(line: u64, reason: Reason, message: impl Into<String>) -> Rejection {
        Rejection {
            line,
            record: None,
            reason,
            message: message.into(),
            uid: None,
            kept_without: None,
        }
    }
}

/// Counts of an import (or, with `--dry-run`, of what it would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportSummary {
    /// Nothing was written: `--dry-run`, or `--strict` with refused rows.
    pub dry_run: bool,
    /// Rows read from the file, refused ones included.
    pub read: u64,
    /// Accounts created (with `--dry-run`: that would be created).
    pub imported: u64,
    /// Accounts found in Firestore as imported before, left unchanged.
    pub already_present: u64,
    /// Of those, how many differ from the file (`--update` replaces them, unless firegate
    /// itself changed their password since).
    pub differing: u64,
    /// Of those, how many `--update` would change: their disabled flag differs, or their
    /// hash does while it is still the one an import wrote (the others hold a hash firegate
    /// wrote since, which `--update` keeps).
    pub updatable: u64,
    /// Of those, how many `--update` would give the file's hash.
    pub updatable_hashes: u64,
    /// Accounts whose hash or disabled flag `--update` replaced.
    pub updated: u64,
    /// Refused rows per reason.
    pub rejected: BTreeMap<Reason, u64>,
    /// Rows that went on without a login that could not be used, per reason (imported with
    /// their other logins unless refused for something else).
    pub kept_without_login: BTreeMap<Reason, u64>,
    /// Why the run stopped early, if it did; rerunning the same command finishes it.
    pub aborted: Option<String>,
}

impl ImportSummary {
    /// All refused rows.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    pub(crate) fn reject(&mut self, reason: Reason) {
        *self.rejected.entry(reason).or_default() += 1;
    }

    pub(crate) fn keep_without(&mut self, reason: Reason) {
        *self.kept_without_login.entry(reason).or_default() += 1;
    }
}

/// Where an import stands, handed to the caller's progress callback.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// `true` while checking only: `--dry-run`, or `--strict`'s first pass.
    pub dry_run: bool,
    /// Bytes of the file consumed so far, and its size when known.
    pub bytes_read: u64,
    pub total_bytes: Option<u64>,
    pub rows_read: u64,
    /// Rows settled: imported, already present, updated or refused.
    pub rows_done: u64,
    pub rejected: u64,
}

/// The `--report` file: one JSON object per refused row or login left out.
pub(crate) struct ReportFile {
    out: BufWriter<File>,
    /// Rows kept without a login are left out (`--strict`'s writing pass: its check pass
    /// reported them).
    refusals_only: bool,
}

impl ReportFile {
    pub(crate) fn create(path: &Path) -> Result<ReportFile> {
        let file = File::create(path).map_err(Error::io(format!(
            "cannot create the report {}",
            path.display()
        )))?;
        Ok(ReportFile {
            out: BufWriter::new(file),
            refusals_only: false,
        })
    }

    /// This report, leaving out from now on the rows kept without a login.
    pub(crate) fn refusals_only(&mut self) -> &mut ReportFile {
        self.refusals_only = true;
        self
    }

    pub(crate) fn write(&mut self, rejection: &Rejection) -> Result<()> {
        if self.refusals_only && rejection.kept_without.is_some() {
            return Ok(());
        }
        let line = serde_json::to_string(rejection)?;
        writeln!(self.out, "{line}").map_err(Error::io("cannot write the report"))
    }

    pub(crate) fn finish(mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(Error::io("cannot write the report"))
    }
}

//! Vetting one row before anything is written: its uid, its logins, its hash under the
//! dialect's grammar and the cost limits, its state and creation time, and that no earlier
//! row of the file took the same uid or login.

use jiff::Timestamp;

use super::options::{ImportOptions, Role};
use super::report::{Reason, Rejection};
use super::seen::{Kind, Seen};
use super::source::RawRow;
use super::values::{parse_bool, parse_timestamp};
use crate::accounts::{Account, Uid};
use crate::login::Login;
use crate::passwords::{self, Dialect, HashError, StoredHash};

/// A row that passed every check: the account to write and where it came from.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub line: u64,
    pub record: Option<u64>,
    pub account: Account,
}

impl Candidate {
    /// A refusal of this row found later, against Firestore.
    pub(crate) fn reject(&self, reason: Reason, message: impl Into<String>) -> Rejection {
        Rejection {
            record: self.record,
            uid: Some(self.account.uid.to_string()),
            ..Rejection::new(self.line, reason, message)
        }
    }
}

/// Checks rows in file order, remembering the uids and logins taken so far.
pub(crate) struct Validator {
    options: ImportOptions,
    now: Timestamp,
    seen: Seen,
}

impl Validator {
    /// `now` stands in for a missing creation time and is every account's `updated_at`.
    pub(crate) fn new(options: ImportOptions, now: Timestamp) -> Validator {
        Validator {
            options,
            now,
            seen: Seen::new(),
        }
    }

    /// The account a row describes, or why it cannot be imported.
    pub(crate) fn check(&mut self, row: RawRow) -> Result<Candidate, Rejection> {
        let non_empty = |role| row.get(role).filter(|v| !v.trim().is_empty());
        let uid = self
            .options
            .uids
            .render(|role| non_empty(role).map(str::to_string))
            .map_err(|role| {
                let names = self.options.columns.candidates(role, self.options.format).0;
                let message = format!("the uid needs `{}`, which is empty", names.join("`/`"));
                row.reject(Reason::MissingField, message)
            })?;
        let uid = Uid::parse(&uid).map_err(|e| row.reject(Reason::InvalidUid, e.to_string()))?;
        let reject = |reason, message: String| Rejection {
            uid: Some(uid.to_string()),
            ..row.reject(reason, message)
        };

        let login = |role, what| {
            non_empty(role)
                .map(Login::parse)
                .transpose()
                .map_err(|e| reject(Reason::InvalidLogin, format!("the {what}: {e}")))
        };
        let mut email = login(Role::Email, "email")?;
        let mut username = login(Role::Username, "username")?;
        if email.as_ref().is_some_and(|e| !e.is_email()) {
            return Err(reject(
                Reason::InvalidLogin,
                "the email has no `@`".to_string(),
            ));
        }
        // A username with `@` would match as an email (case-insensitively); it is kept
        // only where it means the row's email anyway.
        if let Some(name) = username.take_if(|u| u.is_email()) {
            match &email {
                None => email = Some(name),
                Some(e) if *e == name => {}
                Some(_) => {
                    return Err(reject(
                        Reason::UsernameLooksLikeEmail,
                        "the username contains `@` and differs from the email; firegate \
                         treats every login with `@` as an email"
                            .to_string(),
                    ));
                }
            }
        }
        if email.is_none() && username.is_none() {
            return Err(reject(
                Reason::NoLogin,
                "the row has neither a username nor an email".to_string(),
            ));
        }

        let password = self
            .password(row.get(Role::Password))
            .map_err(|(reason, m)| reject(reason, m))?;
        let flag = |role, what| {
            non_empty(role)
                .map(|v| parse_bool(v).ok_or(()))
                .transpose()
                .map_err(|()| {
                    let message =
                        format!("the {what} flag is not a boolean (true/false, t/f, 1/0, yes/no)");
                    reject(Reason::InvalidBoolean, message)
                })
        };
        let disabled = match (
            flag(Role::Active, "active")?,
            flag(Role::Disabled, "disabled")?,
        ) {
            (Some(active), _) => !active,
            (None, disabled) => disabled.unwrap_or(false),
        };
        let created_at = match non_empty(Role::Created) {
            Some(text) => parse_timestamp(text).ok_or_else(|| {
                reject(
                    Reason::InvalidTimestamp,
                    "the creation time is not RFC 3339, `YYYY-MM-DD HH:MM:SS[.f][+TZ]` or Unix seconds"
                        .to_string(),
                )
            })?,
            None => self.now,
        };

        let logins = || email.iter().chain(username.iter());
        if self.seen.contains(Kind::Uid, uid.as_str()) {
            return Err(reject(
                Reason::DuplicateUid,
                "an earlier row of the file has the same uid".to_string(),
            ));
        }
        if let Some(dup) = logins().find(|l| self.seen.contains(Kind::Login, l.as_str())) {
            let what = if dup.is_email() { "email" } else { "username" };
            return Err(reject(
                Reason::DuplicateLogin,
                format!("an earlier row of the file has the same {what}"),
            ));
        }
        self.seen.insert(Kind::Uid, uid.as_str());
        for login in logins() {
            self.seen.insert(Kind::Login, login.as_str());
        }

        Ok(Candidate {
            line: row.line,
            record: row.record,
            account: Account {
                uid,
                email,
                username,
                password,
                created_at,
                updated_at: self.now,
                disabled,
                claims: Default::default(),
            },
        })
    }

    /// The hash, vetted with the limits sign-in enforces: one over them could never verify.
    fn password(&self, hash: Option<&str>) -> Result<StoredHash, (Reason, String)> {
        let dialect = self.options.dialect;
        let hash = match hash {
            None => {
                let names = self
                    .options
                    .columns
                    .candidates(Role::Password, self.options.format)
                    .0;
                let message = format!("the row has no `{}` field", names.join("` or `"));
                return Err((Reason::MissingField, message));
            }
            Some("") => return Err((Reason::EmptyHash, "the password hash is empty".into())),
            Some(hash) => hash,
        };
        match passwords::parse(dialect, hash, &self.options.limits) {
            Ok(_) => Ok(StoredHash {
                hash: hash.to_string(),
                dialect,
            }),
            Err(HashError::Unusable) if dialect == Dialect::Django => Err((
                Reason::UnusablePassword,
                "unusable password (Django set_unusable_password)".into(),
            )),
            Err(e @ HashError::Unusable) => Err((Reason::UnusablePassword, e.to_string())),
            Err(e @ HashError::CostTooHigh { .. }) => Err((Reason::HashCostTooHigh, e.to_string())),
            Err(e) => Err((Reason::InvalidHash, e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::options::{Format, UidMapping};

    const HASH: &str = "pbkdf2:sha256:260000$1Cv49oUzVdDNPIj1$\
                        cdfbcb171f45e1e6ad5546f0bf66ff138b60ba1bd82c00a3cc5692fd01644001";

    fn validator() -> Validator {
        let options = ImportOptions::new(Format::Csv, Dialect::Werkzeug);
        Validator::new(options, Timestamp::UNIX_EPOCH)
    }

    fn row(line: u64, fields: &[(Role, &str)]) -> RawRow {
        let mut row = RawRow::new(line, None);
        for (role, value) in fields {
            row.set(*role, value.to_string());
        }
        row
    }

    fn reason(v: &mut Validator, fields: &[(Role, &str)]) -> Reason {
        v.check(row(9, fields)).unwrap_err().reason
    }

    #[test]
    fn a_good_row_becomes_an_account() {
        let mut v = validator();
        let c = v
            .check(row(
                2,
                &[
                    (Role::Id, "42"),
                    (Role::Username, "Kim"),
                    (Role::Email, "Kim@Example.com"),
                    (Role::Password, HASH),
                    (Role::Active, "f"),
                    (Role::Created, "2020-01-02 03:04:05+00"),
                ],
            ))
            .unwrap();
        assert_eq!(c.account.uid.as_str(), "42");
        assert_eq!(c.account.username.unwrap().as_str(), "Kim");
        assert_eq!(c.account.email.unwrap().as_str(), "kim@example.com");
        assert!(c.account.disabled);
        assert_eq!(c.account.created_at.to_string(), "2020-01-02T03:04:05Z");
        assert_eq!(c.account.password.hash, HASH);
    }

    #[test]
    fn each_problem_has_its_reason() {
        let mut v = validator();
        let base = [
            (Role::Id, "1"),
            (Role::Username, "a"),
            (Role::Password, HASH),
        ];
        let with = |role, value| {
            let mut fields: Vec<_> = base.iter().copied().filter(|(r, _)| *r != role).collect();
            fields.push((role, value));
            fields
        };
        let long = "x".repeat(129);
        let cases = [
            (with(Role::Id, &long), Reason::InvalidUid),
            (with(Role::Id, ""), Reason::MissingField),
            (with(Role::Password, ""), Reason::EmptyHash),
            (with(Role::Password, "md5$x"), Reason::InvalidHash),
            (with(Role::Username, " a"), Reason::InvalidLogin),
            (with(Role::Username, ""), Reason::NoLogin),
            (with(Role::Active, "maybe"), Reason::InvalidBoolean),
            (with(Role::Created, "soon"), Reason::InvalidTimestamp),
        ];
        for (fields, want) in cases {
            assert_eq!(reason(&mut v, &fields), want, "{fields:?}");
        }
        let mut fields = with(Role::Username, "x@a.org");
        fields.push((Role::Email, "y@a.org"));
        assert_eq!(reason(&mut v, &fields), Reason::UsernameLooksLikeEmail);
        let cost = "pbkdf2:sha256:99999999$salt$00";
        assert_eq!(
            reason(&mut v, &with(Role::Password, cost)),
            Reason::HashCostTooHigh
        );
    }

    #[test]
    fn later_rows_reusing_a_uid_or_login_are_refused() {
        let mut v = validator();
        let ok = v.check(row(
            2,
            &[
                (Role::Id, "1"),
                (Role::Email, "A@x.org"),
                (Role::Password, HASH),
            ],
        ));
        assert!(ok.is_ok());
        let same_email = [
            (Role::Id, "2"),
            (Role::Email, "a@X.org"),
            (Role::Password, HASH),
        ];
        assert_eq!(reason(&mut v, &same_email), Reason::DuplicateLogin);
        let same_uid = [
            (Role::Id, "1"),
            (Role::Username, "b"),
            (Role::Password, HASH),
        ];
        assert_eq!(reason(&mut v, &same_uid), Reason::DuplicateUid);
        // A refused row reserves nothing.
        let fresh = [
            (Role::Id, "2"),
            (Role::Username, "b"),
            (Role::Password, HASH),
        ];
        assert!(v.check(row(5, &fresh)).is_ok());
    }

    #[test]
    fn an_email_shaped_username_merges_with_the_email() {
        let mut v = validator();
        let c = v
            .check(row(
                2,
                &[
                    (Role::Id, "1"),
                    (Role::Username, "Kim@X.org"),
                    (Role::Password, HASH),
                ],
            ))
            .unwrap();
        assert_eq!(c.account.email.unwrap().as_str(), "kim@x.org");
        assert!(c.account.username.is_none());
        let mut v = Validator {
            options: ImportOptions {
                uids: UidMapping::prefix("legacy-"),
                ..ImportOptions::new(Format::Csv, Dialect::Django)
            },
            ..validator()
        };
        let unusable = [
            (Role::Id, "3"),
            (Role::Username, "c"),
            (Role::Password, "!abc"),
        ];
        let r = v.check(row(4, &unusable)).unwrap_err();
        assert_eq!(r.reason, Reason::UnusablePassword);
        assert_eq!(r.uid.as_deref(), Some("legacy-3"));
        assert!(r.message.contains("set_unusable_password"), "{}", r.message);
    }
}

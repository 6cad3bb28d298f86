//! Vetting one row before anything is written: its uid, its logins, its hash under the
//! dialect's grammar and the cost limits, its state and creation time, and that no earlier
//! row of the file took the same uid or login (or a login that looks the same).

use std::sync::Arc;

use jiff::Timestamp;

use super::options::{DuplicateEmail, Format, ImportOptions, Role};
use super::report::{Reason, Rejection};
use super::seen::{Kind, Seen};
use super::source::{Item, RawRow, read_rows};
use super::values::{
    Dropped, Logins, logins, means_no_date, parse_bool, parse_timestamp, vet_hash,
};
use crate::accounts::{Account, Uid};
use crate::passwords::{self, Password, StoredHash};

/// A row that passed every check: the account to write and where it came from.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub line: u64,
    pub record: Option<u64>,
    pub account: Account,
    /// The row's logins left out of the account, for the report.
    pub dropped: Vec<Dropped>,
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

    /// The report's line for a login of this row left out of its account.
    pub(crate) fn kept_without(&self, dropped: &Dropped) -> Rejection {
        Rejection {
            kept_without: Some(dropped.field),
            ..self.reject(
                dropped.reason,
                format!(
                    "{}; the account is imported without its {}",
                    dropped.message, dropped.field
                ),
            )
        }
    }

    /// Leaves out the login of `field`; `false` (and nothing changed) when it is the
    /// account's last one.
    pub(crate) fn drop_login(&mut self, field: &'static str) -> bool {
        let account = &mut self.account;
        let other = match field {
            "email" => &account.username,
            _ => &account.email,
        };
        if other.is_none() {
            return false;
        }
        if field == "email" {
            account.email = None;
            account.email_verified = None;
        } else {
            account.username = None;
        }
        true
    }
}

/// The other spellings of an account's logins under the legacy domain that the account does
/// not hold itself.
pub(crate) fn legacy_aliases(account: &Account, domain: Option<&str>) -> Vec<crate::login::Login> {
    let Some(domain) = domain else {
        return Vec::new();
    };
    let own: Vec<_> = account.logins().collect();
    own.iter()
        .filter_map(|login| login.legacy_alias(domain))
        .filter(|alias| !own.contains(&alias))
        .collect()
}

/// Checks rows in file order, remembering the uids and logins taken so far.
pub(crate) struct Validator {
    options: ImportOptions,
    now: Timestamp,
    seen: Seen,
    /// With `--duplicate-email none`: the emails more than one row of the file has.
    shared: Option<Arc<Seen>>,
}

/// The emails (normalised as logins) that more than one row of the input has, read in a
/// pass of their own that vets nothing else: for `--duplicate-email none`.
pub(crate) fn shared_emails(
    input: super::source::Input,
    options: &ImportOptions,
) -> crate::Result<Seen> {
    let mut once = Seen::new();
    let mut twice = Seen::new();
    read_rows(input, options, &mut |item| {
        if let Item::Row(row) = item
            && let Ok(Logins {
                email: Some(email), ..
            }) = logins(
                non_empty(&row, Role::Email),
                non_empty(&row, Role::Username),
            )
        {
            if once.contains(Kind::Login, email.as_str()) {
                twice.insert(Kind::Login, email.as_str());
            } else {
                once.insert(Kind::Login, email.as_str());
            }
        }
        true
    })?;
    Ok(twice)
}

impl Validator {
    /// `now` stands in for a missing creation time and is every account's `updated_at`.
    pub(crate) fn new(options: ImportOptions, now: Timestamp) -> Validator {
        Validator {
            options,
            now,
            seen: Seen::new(),
            shared: None,
        }
    }

    /// The emails no row keeps (`--duplicate-email none`), found by [`shared_emails`].
    pub(crate) fn with_shared(mut self, shared: Option<Arc<Seen>>) -> Validator {
        self.shared = shared;
        self
    }

    /// The account a row describes, or why it cannot be imported.
    pub(crate) fn check(&mut self, row: RawRow) -> Result<Candidate, Rejection> {
        let uid = self
            .uid(&row)
            .map_err(|(reason, m)| row.reject(reason, m))?;
        let account = self.account(&row, uid.clone(), row.line);
        let (account, dropped) = account.map_err(|(reason, message)| Rejection {
            uid: Some(uid.to_string()),
            ..row.reject(reason, message)
        })?;
        Ok(Candidate {
            line: row.line,
            record: row.record,
            account,
            dropped,
        })
    }

    fn uid(&self, row: &RawRow) -> Result<Uid, Problem> {
        let uid = self
            .options
            .uids
            .render(|role| non_empty(row, role).map(str::to_string))
            .map_err(|role| {
                let names = self.options.columns.candidates(role, self.options.format).0;
                let natural_key = role == Role::Id
                    && self.options.format == Format::Django
                    && self.options.columns.id.is_none()
                    && row.get(Role::Id).is_none();
                let message = if natural_key {
                    "the record has no `pk`, as `dumpdata --natural-primary` writes it: pass \
                     --id-column username to make the username (auth.User's natural key) the \
                     uid, or name another field with --id-column or --uid-template"
                        .to_string()
                } else {
                    format!("the uid needs `{}`, which is empty", names.join("`/`"))
                };
                (Reason::MissingField, message)
            })?;
        Uid::parse(&uid).map_err(|e| (Reason::InvalidUid, e.to_string()))
    }

    fn account(
        &mut self,
        row: &RawRow,
        uid: Uid,
        line: u64,
    ) -> Result<(Account, Vec<Dropped>), Problem> {
        let Logins {
            email,
            username,
            mut dropped,
        } = logins(non_empty(row, Role::Email), non_empty(row, Role::Username))?;
        let password = self.password(row.get(Role::Password))?;
        // Only an account with an email has a use for the email's state.
        let email_verified = match &email {
            Some(_) => self.flag(row, Role::EmailVerified)?,
            None => None,
        };
        let disabled = match (
            self.flag(row, Role::Active)?,
            self.flag(row, Role::Disabled)?,
        ) {
            (Some(active), _) => !active,
            (None, disabled) => disabled.unwrap_or(false),
        };
        // A date that stands for none (MySQL's zero date, WordPress's column default, or
        // PostgreSQL's `infinity`) says the time is not known: the account is taken as
        // created now, like a missing time.
        let created = non_empty(row, Role::Created).filter(|text| !means_no_date(text));
        let created_at = match created {
            Some(text) => parse_timestamp(text).ok_or((
                Reason::InvalidTimestamp,
                "the creation time is not RFC 3339, `YYYY-MM-DD HH:MM:SS[.f][+TZ]` or Unix \
                 seconds"
                    .to_string(),
            ))?,
            None => self.now,
        };
        let mut account = Account {
            uid,
            email_verified: email.as_ref().and(email_verified),
            email,
            username,
            password,
            created_at,
            updated_at: self.now,
            disabled,
            claims: Default::default(),
            firebase: Default::default(),
            language: None,
            factors: Default::default(),
            breached_at: None,
        };
        dropped.extend(self.reserve(&mut account, line)?);
        Ok((account, dropped))
    }

    /// Takes the account's uid and logins, unless an earlier row took one of them; a
    /// refused row takes nothing. A login that only looks like an earlier row's (the same
    /// TR39 skeleton) is left out while the account keeps another.
    /// With `--duplicate-email keep-first`, an email an earlier row took is left out while
    /// the account keeps another login, and refuses the row (`duplicate_email`) otherwise.
    fn reserve(&mut self, account: &mut Account, line: u64) -> Result<Vec<Dropped>, Problem> {
        if self.seen.contains(Kind::Uid, account.uid.as_str()) {
            let message = "an earlier row of the file has the same uid".to_string();
            return Err((Reason::DuplicateUid, message));
        }
        let mut dropped = Vec::new();
        let keeper = match (&account.email, self.options.duplicate_email) {
            (Some(email), DuplicateEmail::KeepFirst) => self.seen.holder(email.as_str()),
            _ => None,
        };
        let shared = match (&account.email, &self.shared) {
            (Some(email), Some(shared)) => shared.contains(Kind::Login, email.as_str()),
            _ => false,
        };
        let message = match keeper {
            Some(keeper) => Some(format!(
                "the row on line {keeper} of the file keeps the same email"
            )),
            None if shared => Some(
                "other rows of the file have the same email, and with --duplicate-email none \
                 no row keeps it"
                    .to_string(),
            ),
            None => None,
        };
        if let Some(message) = message {
            if account.username.is_none() {
                let message = format!("{message}; the row has no other login");
                return Err((Reason::DuplicateEmail, message));
            }
            account.email = None;
            dropped.push(Dropped {
                field: "email",
                reason: Reason::DuplicateEmail,
                message,
            });
        }
        if let Some(dup) = account
            .logins()
            .find(|l| self.seen.contains(Kind::Login, l.as_str()))
        {
            let what = if dup.is_email() { "email" } else { "username" };
            let message = format!("an earlier row of the file has the same {what}");
            return Err((Reason::DuplicateLogin, message));
        }
        if let Some(alias) = legacy_aliases(account, self.options.legacy_domain.as_deref())
            .into_iter()
            .find(|alias| self.seen.contains(Kind::Login, alias.as_str()))
        {
            let message = format!(
                "an earlier row of the file has `{alias}`, this login's other spelling under \
                 the legacy domain; legacy clients send either, so both must be one account"
            );
            return Err((Reason::DuplicateLogin, message));
        }
        for field in ["email", "username"] {
            let slot = match field {
                "email" => &mut account.email,
                _ => &mut account.username,
            };
            if slot
                .as_ref()
                .is_some_and(|login| self.seen.contains(Kind::Skeleton, &login.skeleton()))
            {
                *slot = None;
                dropped.push(Dropped {
                    field,
                    reason: Reason::LookAlikeLogin,
                    message: format!(
                        "the {field} looks like a login of an earlier row of the file (the \
                         same Unicode TR39 skeleton)"
                    ),
                });
            }
        }
        if let Some(first) = dropped.iter().find(|d| d.reason == Reason::LookAlikeLogin)
            && account.email.is_none()
            && account.username.is_none()
        {
            let message = format!("{}; the row has no other login", first.message);
            return Err((Reason::LookAlikeLogin, message));
        }
        account.email_verified = account.email.as_ref().and(account.email_verified);
        if let Some(login) = account.logins().find(|l| {
            l.as_str() != account.uid.as_str() && self.seen.contains(Kind::Uid, l.as_str())
        }) {
            let what = if login.is_email() {
                "email"
            } else {
                "username"
            };
            let message = format!("the {what} is the uid of an earlier row of the file");
            return Err((Reason::LoginIsUid, message));
        }
        self.seen.insert(Kind::Uid, account.uid.as_str());
        for login in account.logins() {
            self.seen.insert(Kind::Login, login.as_str());
            self.seen.insert(Kind::Skeleton, &login.skeleton());
        }
        if let Some(email) = &account.email {
            self.seen.hold(email.as_str(), line);
        }
        Ok(dropped)
    }

    /// The hash, vetted with the limits sign-in enforces: one over them could never verify.
    fn password(&self, hash: Option<&str>) -> Result<StoredHash, Problem> {
        if self.options.dialect == passwords::Dialect::External {
            // The legacy system keeps the password; a hash column, if any, is not read.
            return Ok(StoredHash::external());
        }
        match hash {
            None => {
                let names = self
                    .options
                    .columns
                    .candidates(Role::Password, self.options.format);
                let message = format!("the row has no `{}` field", names.0.join("` or `"));
                Err((Reason::MissingField, message))
            }
            Some("") => Err((Reason::EmptyHash, "the password hash is empty".into())),
            Some(hash) => match passwords::clear_text(self.options.dialect, hash) {
                Some(clear) => self.hash_clear_text(clear),
                None => vet_hash(
                    self.options.dialect,
                    hash,
                    &self.options.limits,
                    &self.options.dialects,
                ),
            },
        }
    }

    /// A clear-text value (Spring's `{noop}`) becomes an argon2id hash here, before the row
    /// goes anywhere: the clear text is never written, and never kept past this call.
    fn hash_clear_text(&self, clear: &str) -> Result<StoredHash, Problem> {
        let refuse = |why: &str| {
            (
                Reason::InvalidHash,
                format!("the {{noop}} clear-text password {why}"),
            )
        };
        let password = Password::new(clear.to_string())
            .map_err(|_| refuse("is empty or longer than 4096 bytes, so it could never sign in"))?;
        let [m, t, p] = self.options.argon2;
        passwords::hash_now(&password, m, t, p).map_err(|_| refuse("could not be hashed"))
    }
}

use super::values::Problem;

fn non_empty(row: &RawRow, role: Role) -> Option<&str> {
    row.get(role).filter(|v| !v.trim().is_empty())
}

/// A boolean field's value, or `None` when the row has no such field (the column's default
/// applies) or the user said its NULL means unknown. A NULL no `--null-means` explains and a
/// value that is not a boolean are refused, naming the column.
impl Validator {
    fn flag(&self, row: &RawRow, role: Role) -> Result<Option<bool>, Problem> {
        let Some(text) = row.get(role) else {
            return Ok(None);
        };
        let defaults = self.options.columns.candidates(role, self.options.format).0;
        let column = row
            .column(role)
            .or(defaults.first().map(String::as_str))
            .unwrap_or("?");
        let nulls = &self.options.nulls;
        if nulls.is_null(text) {
            let Some(meaning) = nulls.meaning(column) else {
                let values = match role {
                    Role::EmailVerified => "true, false or unknown",
                    _ => "true or false",
                };
                let message = format!(
                    "`{column}` is NULL (empty or null), and firegate does not guess what the \
                     application makes of it: pass --null-means {column}=VALUE ({values})"
                );
                return Err((Reason::NullBoolean, message));
            };
            return Ok(meaning.flag());
        }
        parse_bool(text).map(Some).ok_or_else(|| {
            let mut message = format!("`{column}` is not a boolean (true/false, t/f, 1/0, yes/no)");
            let spelt = text.trim();
            if ["null", "\\n", "none", "nil"].contains(&spelt.to_ascii_lowercase().as_str()) {
                message.push_str(&format!(
                    "; if `{spelt}` stands for NULL there, pass --null-text '{spelt}' and \
                     --null-means {column}=VALUE"
                ));
            }
            (Reason::InvalidBoolean, message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::nulls::{NullMeaning, Nulls};
    use crate::import::options::UidMapping;
    use crate::passwords::Dialect;

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
    fn the_email_verified_column_is_kept_and_null_means_what_the_user_says() {
        let mut v = validator();
        // One account per row: distinct uids and emails.
        let fields = |id: &'static str, email: &'static str, verified: &'static str| {
            [
                (Role::Id, id),
                (Role::Email, email),
                (Role::Password, HASH),
                (Role::EmailVerified, verified),
            ]
        };
        let states: Vec<Option<bool>> = [
            fields("1", "a@example.com", "t"),
            fields("2", "b@example.com", "0"),
        ]
        .iter()
        .map(|f| v.check(row(2, f)).unwrap().account.email_verified)
        .collect();
        assert_eq!(states, [Some(true), Some(false)]);
        let maybe = fields("4", "d@example.com", "maybe");
        assert_eq!(reason(&mut v, &maybe), Reason::InvalidBoolean);
        let null = fields("3", "c@example.com", "");
        let refused = v.check(row(7, &null)).unwrap_err();
        assert_eq!(refused.reason, Reason::NullBoolean);
        assert!(
            refused
                .message
                .contains("--null-means email_verified=VALUE"),
            "{}",
            refused.message
        );
        // Without an email there is no state to keep.
        let no_email = [
            (Role::Id, "5"),
            (Role::Username, "e"),
            (Role::Password, HASH),
        ];
        let mut no_email = row(2, &no_email);
        no_email.set(Role::EmailVerified, String::new());
        assert!(v.check(no_email).is_ok());

        v.options.nulls.means = vec![("email_verified".into(), NullMeaning::Unknown)];
        assert_eq!(v.check(row(2, &null)).unwrap().account.email_verified, None);
    }

    #[test]
    fn a_null_account_state_is_refused_unless_its_meaning_is_given() {
        let mut v = validator();
        let user = |id: &'static str, active: &'static str| {
            let mut r = row(
                4,
                &[(Role::Id, id), (Role::Username, id), (Role::Password, HASH)],
            );
            r.set_from(Role::Active, &"active".into(), active.to_string());
            r
        };
        for null in ["", "  "] {
            let refused = v.check(user("1", null)).unwrap_err();
            assert_eq!(refused.reason, Reason::NullBoolean);
            assert!(refused.message.contains("`active`"), "{}", refused.message);
            assert!(
                refused.message.contains("--null-means active=VALUE"),
                "{}",
                refused.message
            );
        }
        let refused = v.check(user("1", "NULL")).unwrap_err();
        assert_eq!(refused.reason, Reason::InvalidBoolean);
        assert!(
            refused.message.contains("--null-text 'NULL'"),
            "{}",
            refused.message
        );

        v.options.nulls = Nulls {
            text: Some("NULL".into()),
            means: vec![("active".into(), NullMeaning::False)],
        };
        for (id, null) in [("1", ""), ("2", "NULL")] {
            assert!(
                v.check(user(id, null)).unwrap().account.disabled,
                "{null:?}"
            );
        }
        v.options.nulls.means = vec![("active".into(), NullMeaning::True)];
        assert!(!v.check(user("3", "NULL")).unwrap().account.disabled);
        // A row without the column at all keeps the documented default.
        let absent = [
            (Role::Id, "4"),
            (Role::Username, "4"),
            (Role::Password, HASH),
        ];
        assert!(!v.check(row(5, &absent)).unwrap().account.disabled);
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
        let cost = "pbkdf2:sha256:99999999$salt$00";
        assert_eq!(
            reason(&mut v, &with(Role::Password, cost)),
            Reason::HashCostTooHigh
        );
    }

    fn user(id: &'static str, role: Role, login: &'static str) -> [(Role, &'static str); 3] {
        [(Role::Id, id), (role, login), (Role::Password, HASH)]
    }

    #[test]
    fn later_rows_reusing_a_uid_or_login_are_refused() {
        let mut v = validator();
        assert!(v.check(row(2, &user("1", Role::Email, "A@x.org"))).is_ok());
        let same_email = user("2", Role::Email, "a@X.org");
        assert_eq!(reason(&mut v, &same_email), Reason::DuplicateEmail);
        v.options.duplicate_email = DuplicateEmail::Refuse;
        assert_eq!(reason(&mut v, &same_email), Reason::DuplicateLogin);
        let same_uid = user("1", Role::Username, "b");
        assert_eq!(reason(&mut v, &same_uid), Reason::DuplicateUid);
        // A refused row reserves nothing.
        assert!(v.check(row(5, &user("2", Role::Username, "b"))).is_ok());
    }

    #[test]
    fn a_shared_email_stays_with_the_first_row_and_later_ones_go_on_by_username() {
        let with = |id, name: Option<&'static str>| {
            let mut fields = vec![
                (Role::Id, id),
                (Role::Email, "Kim@School.example"),
                (Role::Password, HASH),
            ];
            fields.extend(name.map(|n| (Role::Username, n)));
            fields
        };
        let mut v = validator();
        let first = v.check(row(2, &with("1", Some("kim")))).unwrap();
        assert_eq!(first.account.email.unwrap().as_str(), "kim@school.example");
        let second = v.check(row(3, &with("2", Some("kim2")))).unwrap();
        assert_eq!(second.account.email, None);
        assert_eq!(second.account.username.as_ref().unwrap().as_str(), "kim2");
        let note = second.kept_without(&second.dropped[0]);
        assert_eq!(
            (note.reason, note.kept_without),
            (Reason::DuplicateEmail, Some("email"))
        );
        assert!(note.message.contains("line 2"), "{}", note.message);
        let third = v.check(row(4, &with("3", None))).unwrap_err();
        assert_eq!(third.reason, Reason::DuplicateEmail);
        assert!(third.message.contains("line 2"), "{}", third.message);

        let mut v = validator();
        v.options.duplicate_email = DuplicateEmail::Refuse;
        assert!(v.check(row(2, &with("1", Some("kim")))).is_ok());
        let refused = v.check(row(3, &with("2", Some("kim2")))).unwrap_err();
        assert_eq!(refused.reason, Reason::DuplicateLogin);
    }

    #[test]
    fn a_login_like_an_earlier_rows_is_left_out_while_another_remains() {
        let mut v = validator();
        assert!(v.check(row(2, &user("1", Role::Username, "admin"))).is_ok());
        let fields = [
            (Role::Id, "2"),
            (Role::Username, "\u{430}dmin"),
            (Role::Email, "kim@x.org"),
            (Role::Password, HASH),
        ];
        let c = v.check(row(3, &fields)).unwrap();
        assert_eq!(c.account.username, None);
        assert_eq!(c.account.email.as_ref().unwrap().as_str(), "kim@x.org");
        assert_eq!(c.dropped[0].reason, Reason::LookAlikeLogin);
        let report = c.kept_without(&c.dropped[0]);
        assert_eq!(report.kept_without, Some("username"));
        assert!(report.message.contains("imported without its username"));
        let only = user("3", Role::Username, "\u{430}dm\u{456}n");
        assert_eq!(reason(&mut v, &only), Reason::LookAlikeLogin);
        // A no-break space looks like a space.
        assert!(
            v.check(row(5, &user("4", Role::Username, "kim lee")))
                .is_ok()
        );
        let nbsp = user("5", Role::Username, "kim\u{a0}lee");
        assert_eq!(reason(&mut v, &nbsp), Reason::LookAlikeLogin);
    }

    #[test]
    fn a_username_that_is_an_earlier_rows_uid_is_refused_but_not_its_own() {
        let mut v = validator();
        assert!(v.check(row(2, &user("42", Role::Username, "kim"))).is_ok());
        let decoy = user("7", Role::Username, "42");
        assert_eq!(reason(&mut v, &decoy), Reason::LoginIsUid);
        assert!(v.check(row(4, &user("lee", Role::Username, "lee"))).is_ok());
        // A uid equal to an earlier row's login is the other direction: imported.
        assert!(v.check(row(5, &user("kim", Role::Username, "min"))).is_ok());
    }

    #[test]
    fn unusable_django_passwords_are_refused_naming_the_mapped_uid() {
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

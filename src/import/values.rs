//! Reading the values of a legacy row: its logins, the password hash, booleans as databases
//! print them, and creation times in the shapes PostgreSQL, MySQL, Django and Unix write.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::report::Reason;
use crate::login::Login;
use crate::passwords::{self, CostLimits, Dialect, DialectSettings, HashError, StoredHash};

/// Why a value is refused, before it is tied to its row.
pub(crate) type Problem = (Reason, String);

/// The logins of a row, and the logins it had that cannot be used.
#[derive(Debug, Default)]
pub(crate) struct Logins {
    pub email: Option<Login>,
    pub username: Option<Login>,
    /// A login dropped with the reason: the account is imported with the others.
    pub dropped: Vec<Dropped>,
}

/// A login of a row left out of its account, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// `email` or `username`: the row's field that was left out.
    pub field: &'static str,
    pub reason: Reason,
    pub message: String,
}

/// The row's email and username logins. A username with `@` would match as an email
/// (case-insensitively), so it is kept only where it means the row's email anyway. A login
/// that cannot be used (an email that is not one bare address, a username with an
/// invisible character, …) is dropped while another remains, and refuses the row only when
/// none would.
pub(crate) fn logins(email: Option<&str>, username: Option<&str>) -> Result<Logins, Problem> {
    let mut dropped = Vec::new();
    let mut email = match email.map(Login::parse) {
        Some(Ok(login)) if login.is_email() => Some(login),
        Some(Ok(_)) => {
            dropped.push(Dropped {
                field: "email",
                reason: Reason::InvalidEmail,
                message: "the email has no `@`".into(),
            });
            None
        }
        Some(Err(e)) => {
            dropped.push(Dropped {
                field: "email",
                reason: Reason::InvalidEmail,
                message: format!("the email: {e}"),
            });
            None
        }
        None => None,
    };
    let mut username = match username.map(Login::parse) {
        Some(Ok(login)) => Some(login),
        Some(Err(e)) => {
            dropped.push(Dropped {
                field: "username",
                reason: Reason::InvalidLogin,
                message: format!("the username: {e}"),
            });
            None
        }
        None => None,
    };
    if let Some(name) = username.take_if(|u| u.is_email()) {
        match &email {
            None => email = Some(name),
            Some(e) if *e == name => {}
            Some(_) => {
                let message = "the username contains `@` and differs from the email; firegate \
                               treats every login with `@` as an email";
                return Err((Reason::UsernameLooksLikeEmail, message.into()));
            }
        }
    }
    if email.is_none() && username.is_none() {
        return Err(match dropped.into_iter().next() {
            Some(first) => (
                first.reason,
                format!("{}; the row has no other login", first.message),
            ),
            None => (
                Reason::NoLogin,
                "the row has neither a username nor an email".into(),
            ),
        });
    }
    Ok(Logins {
        email,
        username,
        dropped,
    })
}

/// A non-empty hash checked against its dialect's grammar and the limits sign-in enforces
/// (a hash over them could never be verified), or the reason it is refused.
pub(crate) fn vet_hash(
    dialect: Dialect,
    hash: &str,
    limits: &CostLimits,
    settings: &DialectSettings,
) -> Result<StoredHash, Problem> {
    let parsed = passwords::parse_with(dialect, hash, limits, settings)
        .and_then(|parsed| parsed.missing().map_or(Ok(parsed), Err));
    match parsed {
        Ok(_) => Ok(StoredHash::of_typed(hash.to_string(), dialect)),
        Err(HashError::Unusable) if dialect == Dialect::Django => Err((
            Reason::UnusablePassword,
            "unusable password (Django set_unusable_password)".into(),
        )),
        Err(e @ HashError::Unusable) => Err((Reason::UnusablePassword, e.to_string())),
        Err(e @ HashError::CostTooHigh { .. }) => Err((Reason::HashCostTooHigh, e.to_string())),
        Err(e @ HashError::UnknownScheme { .. }) => {
            // Another dialect may read it (a Werkzeug table imported with --dialect django):
            // say which, naming the dialect only, never the hash.
            let other = Dialect::ALL.into_iter().find(|d| {
                *d != dialect
                    && *d != Dialect::Firebase
                    && passwords::parse_with(*d, hash, limits, settings).is_ok()
            });
            let hint = other.map_or(String::new(), |d| {
                format!("; it reads as a {d} hash: import with --dialect {d}")
            });
            Err((Reason::InvalidHash, format!("{e}{hint}")))
        }
        Err(e) => Err((Reason::InvalidHash, e.to_string())),
    }
}

#[cfg(test)]
mod dialect_hint_tests {
    use super::*;

    #[test]
    fn a_hash_of_another_dialect_names_it() {
        let werkzeug = "pbkdf2:sha256:260000$1Cv49oUzVdDNPIj1$\
                        cdfbcb171f45e1e6ad5546f0bf66ff138b60ba1bd82c00a3cc5692fd01644001";
        let (reason, message) = vet_hash(
            Dialect::Django,
            werkzeug,
            &CostLimits::default(),
            &DialectSettings::default(),
        )
        .unwrap_err();
        assert_eq!(reason, Reason::InvalidHash);
        assert!(message.contains("--dialect werkzeug"), "{message}");
        assert!(!message.contains("1Cv49oUz"), "{message}");
    }
}

/// `true`/`false`, `t`/`f` (PostgreSQL), `1`/`0` (MySQL), `yes`/`no`, `y`/`n`, any case.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A creation time: RFC 3339 or PostgreSQL's `YYYY-MM-DD HH:MM:SS[.ffffff]+TZ`; without an
/// offset (MySQL `DATETIME`, Django with `USE_TZ = False`) the time is taken as UTC; a bare
/// number is Unix seconds (fractions allowed).
pub(crate) fn parse_timestamp(value: &str) -> Option<Timestamp> {
    let value = value.trim();
    if let Ok(ts) = value.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(civil) = value.parse::<DateTime>() {
        return civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    unix_seconds(value)
}

/// A date that stands for "no date": MySQL's zero date or datetime (`0000-00-00 00:00:00`,
/// WordPress's `user_registered` default), one with a zero month or day (`2019-00-00`, which
/// the modes WordPress sets let MySQL store), and PostgreSQL's `infinity` / `-infinity`.
pub(crate) fn means_no_date(value: &str) -> bool {
    let value = value.trim();
    if value.eq_ignore_ascii_case("infinity") || value.eq_ignore_ascii_case("-infinity") {
        return true;
    }
    let b = value.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [&b[0..4], &b[5..7], &b[8..10]]
            .iter()
            .all(|part| part.iter().all(u8::is_ascii_digit))
        && (&b[0..4] == b"0000" || &b[5..7] == b"00" || &b[8..10] == b"00")
}

/// `1614834367` or `1614834367.25`, read exactly (no floating point).
fn unix_seconds(value: &str) -> Option<Timestamp> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = whole.strip_prefix('-').unwrap_or(whole);
    if !digits(unsigned) || !(fraction.is_empty() || digits(fraction)) || fraction.len() > 9 {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let nanos: i32 = format!("{fraction:0<9}").parse().ok()?;
    let nanos = if whole.starts_with('-') {
        -nanos
    } else {
        nanos
    };
    Timestamp::new(seconds, nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(value: &str) -> String {
        parse_timestamp(value).unwrap().to_string()
    }

    #[test]
    fn an_email_shaped_username_counts_only_as_the_email() {
        let names = |email, username| {
            let Logins {
                email, username, ..
            } = logins(email, username).unwrap();
            (
                email.map(|l| l.to_string()),
                username.map(|l| l.to_string()),
            )
        };
        let merged = (Some("kim@x.org".to_string()), None);
        assert_eq!(names(None, Some("Kim@X.org")), merged);
        assert_eq!(names(Some("kim@x.org"), Some("KIM@x.org")), merged);
        let both = (Some("kim@x.org".to_string()), Some("Kim".to_string()));
        assert_eq!(names(Some("Kim@X.org"), Some("Kim")), both);
        let clash = logins(Some("y@a.org"), Some("x@a.org")).unwrap_err();
        assert_eq!(clash.0, Reason::UsernameLooksLikeEmail);
        assert_eq!(
            logins(Some("kim"), None).unwrap_err().0,
            Reason::InvalidEmail
        );
        assert_eq!(logins(None, None).unwrap_err().0, Reason::NoLogin);
    }

    #[test]
    fn an_unusable_login_is_dropped_while_another_remains() {
        let kept = logins(Some("n1<victim@school.example>"), Some("kim")).unwrap();
        assert_eq!(kept.email, None);
        assert_eq!(kept.username.unwrap().as_str(), "kim");
        let [dropped] = &kept.dropped[..] else {
            panic!("{:?}", kept.dropped)
        };
        assert_eq!(
            (dropped.field, dropped.reason),
            ("email", Reason::InvalidEmail)
        );
        assert!(
            dropped.message.contains("one bare address"),
            "{}",
            dropped.message
        );
        assert!(!dropped.message.contains("victim"), "{}", dropped.message);

        let kept = logins(Some("kim@x.org"), Some("ki\u{200B}m")).unwrap();
        assert_eq!(kept.email.unwrap().as_str(), "kim@x.org");
        assert_eq!(kept.dropped[0].reason, Reason::InvalidLogin);

        let (reason, message) = logins(Some("a@x.org,b@y.org"), None).unwrap_err();
        assert_eq!(reason, Reason::InvalidEmail);
        assert!(message.contains("no other login"), "{message}");
    }

    #[test]
    fn booleans_as_databases_print_them() {
        for yes in ["t", "TRUE", "1", "yes", "Y"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["f", "False", "0", "no", "N"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_bool(""), None);
    }

    #[test]
    fn timestamps_in_every_export_shape() {
        assert_eq!(ts("2021-03-04T05:06:07Z"), "2021-03-04T05:06:07Z");
        assert_eq!(ts("2021-03-04T05:06:07+09:00"), "2021-03-03T20:06:07Z");
        // PostgreSQL timestamptz in CSV.
        assert_eq!(
            ts("2021-03-04 05:06:07.123456+00"),
            "2021-03-04T05:06:07.123456Z"
        );
        assert_eq!(ts("2021-03-04 05:06:07+09"), "2021-03-03T20:06:07Z");
        // MySQL DATETIME and naive Django times: UTC.
        assert_eq!(ts("2021-03-04 05:06:07"), "2021-03-04T05:06:07Z");
        assert_eq!(ts("2021-03-04T05:06:07.5"), "2021-03-04T05:06:07.5Z");
        assert_eq!(ts("1614834367"), "2021-03-04T05:06:07Z");
        assert_eq!(ts("1614834367.25"), "2021-03-04T05:06:07.25Z");
        for zero in [
            "0000-00-00 00:00:00",
            "0000-00-00",
            " 0000-00-00 00:00:00.000000",
            "0000-00-01 00:00:00",
            "2019-00-00 00:00:00",
            "2019-05-00",
            "infinity",
            "-Infinity",
        ] {
            assert!(means_no_date(zero), "{zero}");
        }
        for date in [
            "2021-03-04",
            "2021-03-04 05:06:07",
            "1614834367",
            "soon",
            "0000",
        ] {
            assert!(!means_no_date(date), "{date}");
        }
        for bad in ["yesterday", "2021-13-01 00:00:00", "", "1e400"] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }
}

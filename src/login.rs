//! Login identifiers: the email or username a user types. One rule decides how they match:
//! a login containing `@` is an email and matches case-insensitively; any other login is a
//! username and matches exactly, byte for byte (as Django's default user model does).

use std::fmt;

use crate::{Error, Result};

/// Longest accepted login, in bytes (RFC 5321 caps a forward path at 256).
pub const MAX_BYTES: usize = 256;

/// A normalized login identifier: lowercased when it is an email, exact when it is a username.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Login(String);

impl Login {
    /// Normalizes and checks a login typed by a user or given to an admin command.
    pub fn parse(input: &str) -> Result<Login> {
        if input.is_empty() {
            return Err(Error::invalid(
                "invalid_login",
                "the login must not be empty",
            ));
        }
        if input.len() > MAX_BYTES {
            return Err(Error::invalid(
                "invalid_login",
                format!("the login is longer than {MAX_BYTES} bytes"),
            ));
        }
        if input.trim() != input {
            return Err(Error::invalid(
                "invalid_login",
                "the login must not start or end with whitespace",
            ));
        }
        if input.chars().any(char::is_control) {
            return Err(Error::invalid(
                "invalid_login",
                "the login must not contain control characters",
            ));
        }
        if input.contains('@') {
            let (local, domain) = input.rsplit_once('@').unwrap_or_default();
            if local.is_empty() || domain.is_empty() || input.contains(char::is_whitespace) {
                return Err(Error::invalid(
                    "invalid_email",
                    "an email must look like name@domain, without spaces",
                ));
            }
            return Ok(Login(input.to_lowercase()));
        }
        Ok(Login(input.to_string()))
    }

    /// True when this login is an email (contains `@`).
    pub fn is_email(&self) -> bool {
        self.0.contains('@')
    }

    /// The normalized text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The logins a sign-in attempt may mean, most specific first: the login itself and, when
    /// it is `name@<legacy domain>`, the bare username `name`.
    pub fn candidates(input: &str, legacy_domain: Option<&str>) -> Result<Vec<Login>> {
        let login = Login::parse(input)?;
        let mut out = vec![login];
        if let Some(domain) = legacy_domain
            && let Some((name, at)) = input.rsplit_once('@')
            && at.eq_ignore_ascii_case(domain)
            && !name.contains('@')
        {
            out.push(Login::parse(name)?);
        }
        Ok(out)
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_case_insensitive_usernames_exact() {
        assert_eq!(
            Login::parse("Alice@Example.COM").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(Login::parse("Alice").unwrap().as_str(), "Alice");
        assert!(Login::parse("Alice@x.org").unwrap().is_email());
        assert!(!Login::parse("alice").unwrap().is_email());
    }

    #[test]
    fn malformed_logins_are_refused_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            (" alice", "whitespace"),
            ("al\u{0}ice", "control"),
            ("@example.com", "name@domain"),
            ("alice@", "name@domain"),
            ("a b@example.com", "name@domain"),
        ] {
            let err = Login::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(Login::parse(&"a".repeat(MAX_BYTES + 1)).is_err());
        assert!(Login::parse(&"a".repeat(MAX_BYTES)).is_ok());
    }

    #[test]
    fn legacy_domain_adds_the_bare_username() {
        let c = Login::candidates("kim@school.example", Some("School.Example")).unwrap();
        let c: Vec<_> = c.iter().map(Login::as_str).collect();
        assert_eq!(c, ["kim@school.example", "kim"]);
        let c = Login::candidates("kim@other.example", Some("school.example")).unwrap();
        assert_eq!(c.len(), 1);
        let c = Login::candidates("kim", Some("school.example")).unwrap();
        assert_eq!(c.len(), 1);
    }
}

//! NULL in a boolean column (`is_active`, `disabled`, `email_verified`): a JSON `null`, an
//! empty field, or the text the user says spells NULL. What it means is the application's
//! choice, not the importer's, so a row holding one is refused unless the user says what it
//! means for that column (`--null-means COLUMN=VALUE`).

use super::options::{Columns, Format, Role};
use crate::{Error, Result};

/// What a NULL stands for in one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullMeaning {
    True,
    False,
    /// Not known: only an email-verified column has such a state.
    Unknown,
}

impl NullMeaning {
    /// The flag's value; `None` for unknown.
    pub(crate) fn flag(self) -> Option<bool> {
        match self {
            NullMeaning::True => Some(true),
            NullMeaning::False => Some(false),
            NullMeaning::Unknown => None,
        }
    }
}

/// How NULL is spelled in the boolean columns, and what it means in each.
#[derive(Clone, Debug, Default)]
pub struct Nulls {
    /// Text that also stands for NULL in a boolean column, besides an empty field and JSON
    /// `null` (MySQL's `--batch` prints `NULL`, PostgreSQL's text `COPY` prints `\N`).
    pub text: Option<String>,
    /// Column (or JSON key) name, as in the file, and what its NULL means.
    pub means: Vec<(String, NullMeaning)>,
}

impl Nulls {
    /// Parses one `COLUMN=VALUE` of `--null-means`: `true`, `false` (or any boolean
    /// spelling the importer reads), or `unknown`.
    pub fn parse_meaning(arg: &str) -> std::result::Result<(String, NullMeaning), String> {
        let usage = "expected COLUMN=VALUE, e.g. is_active=false; VALUE is true, false or \
                     (email-verified columns) unknown";
        let (column, value) = arg.split_once('=').ok_or(usage)?;
        let column = column.trim();
        if column.is_empty() {
            return Err(usage.into());
        }
        let meaning = match super::values::parse_bool(value) {
            Some(true) => NullMeaning::True,
            Some(false) => NullMeaning::False,
            None if value.trim().eq_ignore_ascii_case("unknown") => NullMeaning::Unknown,
            None => return Err(usage.into()),
        };
        Ok((column.to_string(), meaning))
    }

    /// Refuses, before any row is read, a `--null-means` for a column that is not one of the
    /// import's boolean columns, or an `unknown` for an account-state column.
    pub(crate) fn check(&self, columns: &Columns, format: Format) -> Result<()> {
        let flags = [Role::Active, Role::Disabled, Role::EmailVerified];
        for (column, meaning) in &self.means {
            let role = flags
                .into_iter()
                .find(|role| columns.candidates(*role, format).0.contains(column));
            match (role, meaning) {
                (None, _) => {
                    let known: Vec<String> = flags
                        .iter()
                        .flat_map(|role| columns.candidates(*role, format).0)
                        .collect();
                    return Err(Error::config(format!(
                        "--null-means {column}: `{column}` is not a boolean column this import \
                         reads; those are: {} (name others with --active-column, \
                         --disabled-column or --email-verified-column)",
                        known.join(", ")
                    )));
                }
                (Some(Role::Active | Role::Disabled), NullMeaning::Unknown) => {
                    return Err(Error::config(format!(
                        "--null-means {column}=unknown: an account is enabled or not; say \
                         true or false"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// True when a boolean column's text stands for NULL.
    pub(crate) fn is_null(&self, value: &str) -> bool {
        let value = value.trim();
        value.is_empty()
            || self
                .text
                .as_deref()
                .is_some_and(|text| text.trim() == value)
    }

    /// What NULL means in `column`, when the user said so.
    pub(crate) fn meaning(&self, column: &str) -> Option<NullMeaning> {
        self.means
            .iter()
            .rev()
            .find(|(name, _)| name == column)
            .map(|(_, meaning)| *meaning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings_parse_and_are_checked_against_the_columns() {
        assert_eq!(
            Nulls::parse_meaning("is_active=f"),
            Ok(("is_active".to_string(), NullMeaning::False))
        );
        assert_eq!(
            Nulls::parse_meaning("email_verified=Unknown").map(|m| m.1),
            Ok(NullMeaning::Unknown)
        );
        for bad in ["is_active", "=true", "is_active=maybe"] {
            assert!(Nulls::parse_meaning(bad).is_err(), "{bad}");
        }
        let nulls = |column: &str, meaning| Nulls {
            text: None,
            means: vec![(column.to_string(), meaning)],
        };
        let columns = Columns::default();
        assert!(
            nulls("is_active", NullMeaning::True)
                .check(&columns, Format::Csv)
                .is_ok()
        );
        let err = nulls("is_activ", NullMeaning::True)
            .check(&columns, Format::Csv)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is_active, active, disabled, email_verified"),
            "{err}"
        );
        let err = nulls("disabled", NullMeaning::Unknown)
            .check(&columns, Format::Csv)
            .unwrap_err()
            .to_string();
        assert!(err.contains("true or false"), "{err}");
    }

    #[test]
    fn null_is_empty_or_the_text_given() {
        let nulls = Nulls {
            text: Some("NULL".into()),
            means: Vec::new(),
        };
        assert!(nulls.is_null("") && nulls.is_null(" ") && nulls.is_null("NULL"));
        assert!(!nulls.is_null("null") && !nulls.is_null("0"));
        assert!(!Nulls::default().is_null("NULL"));
    }
}

//! What an import is told: the input format, the hash dialect, which column holds what, how a
//! legacy id becomes a Firebase uid, and whether to write, check only, or update.

use std::path::{Path, PathBuf};

use super::nulls::Nulls;
use crate::passwords::{CostLimits, Dialect, DialectSettings};
use crate::{Error, Result};

/// Who keeps an email that several accounts share (Django does not make emails unique).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DuplicateEmail {
    /// The first row in file order (or an account already in Firestore) keeps the email;
    /// a later row is imported by its other logins without it, and refused when it has
    /// none (`duplicate_email`).
    #[default]
    KeepFirst,
    /// A later row with the email is refused (`duplicate_login`, `login_taken`).
    Refuse,
    /// No row of an email several rows share keeps it: each is imported by its username
    /// without it (`duplicate_email`), refused when it has none. The file is read twice.
    None,
}

/// The shape of the input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row (PostgreSQL `\copy … csv header`, MySQL
    /// Workbench or Shell).
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Django `dumpdata auth.user`: a JSON array of `{"model", "pk", "fields"}` records.
    Django,
    /// `firebase auth:export users.json --format=JSON`: `{"users": [{"localId", …}]}`.
    Firebase,
    /// `mysql --batch` output: tab-separated with a header line, backslash escapes, no
    /// quoting, NULL printed as `NULL`.
    MysqlBatch,
}

impl Format {
    /// The format a file name implies: `.csv`/`.tsv`, `.jsonl`/`.ndjson`, or `.json` (Django).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Django),
            _ => None,
        }
    }

    /// How the format spells SQL NULL, when it has a spelling of its own that a text value
    /// may share (`mysql --batch` prints both as `NULL`).
    pub(crate) fn null_text(self) -> Option<&'static str> {
        match self {
            Format::MysqlBatch => Some("NULL"),
            Format::Csv | Format::Jsonl | Format::Django | Format::Firebase => None,
        }
    }
}

/// The facts a row can carry, each read from one column (CSV) or key (JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Id,
    Username,
    Email,
    Password,
    Created,
    Active,
    Disabled,
    EmailVerified,
}

impl Role {
    pub(crate) const ALL: [Role; 8] = [
        Role::Id,
        Role::Username,
        Role::Email,
        Role::Password,
        Role::Created,
        Role::Active,
        Role::Disabled,
        Role::EmailVerified,
    ];

    /// A boolean column: an account state or the email's verification.
    pub(crate) fn is_flag(self) -> bool {
        matches!(self, Role::Active | Role::Disabled | Role::EmailVerified)
    }

    /// A column no value of which can be the text `NULL` (an email has an `@`, a creation
    /// time digits), so there a format's spelling of NULL can only be NULL.
    pub(crate) fn never_holds_null_text(self) -> bool {
        matches!(self, Role::Email | Role::Created)
    }

    /// The flag that names this role's column, for error messages.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Role::Id => "--id-column",
            Role::Username => "--username-column",
            Role::Email => "--email-column",
            Role::Password => "--password-column",
            Role::Created => "--created-column",
            Role::Active => "--active-column",
            Role::Disabled => "--disabled-column",
            Role::EmailVerified => "--email-verified-column",
        }
    }
}

/// Column (or JSON key) names; `None` means the documented default for the role.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    pub id: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub created: Option<String>,
    /// A column that is true for accounts that may sign in (Django's `is_active`).
    pub active: Option<String>,
    /// A column that is true for accounts that may not sign in.
    pub disabled: Option<String>,
    /// A column that is true when the email is known to reach its owner.
    pub email_verified: Option<String>,
}

impl Columns {
    /// The names to look for, first match wins, and whether the user named the column
    /// (then it must exist).
    pub(crate) fn candidates(&self, role: Role, format: Format) -> (Vec<String>, bool) {
        let given = match role {
            Role::Id => &self.id,
            Role::Username => &self.username,
            Role::Email => &self.email,
            Role::Password => &self.password,
            Role::Created => &self.created,
            Role::Active => &self.active,
            Role::Disabled => &self.disabled,
            Role::EmailVerified => &self.email_verified,
        };
        if let Some(name) = given {
            return (vec![name.clone()], true);
        }
        // Naming one of the two account-state columns turns the other's default off.
        let state_given = self.active.is_some() || self.disabled.is_some();
        let defaults: &[&str] = match role {
            Role::Id if format == Format::Django => &["pk"],
            Role::Id => &["id"],
            Role::Username => &["username"],
            Role::Email => &["email"],
            Role::Password => &["password", "password_hash"],
            Role::Created => &["date_joined", "created_at", "created"],
            // `active`: Flask-Security's and many Flask-Login models' flag.
            Role::Active if !state_given => &["is_active", "active"],
            Role::Disabled if !state_given => &["disabled"],
            Role::Active | Role::Disabled => &[],
            Role::EmailVerified => &["email_verified", "emailVerified"],
        };
        (defaults.iter().map(|s| s.to_string()).collect(), false)
    }
}

/// How a row becomes a Firebase uid: literal text and `{id}`, `{username}`, `{email}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UidMapping {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Role),
}

impl Default for UidMapping {
    /// The legacy id itself, so data keyed by it stays valid.
    fn default() -> Self {
        UidMapping {
            parts: vec![Part::Field(Role::Id)],
        }
    }
}

impl UidMapping {
    /// `prefix` followed by the legacy id, e.g. `legacy-42`.
    pub fn prefix(prefix: &str) -> UidMapping {
        UidMapping {
            parts: vec![Part::Text(prefix.to_string()), Part::Field(Role::Id)],
        }
    }

    /// A template such as `school1-{id}`; `{id}`, `{username}` and `{email}` are replaced by
    /// the row's values. Any other `{…}` is refused, so a typo cannot yield constant uids.
    pub fn template(template: &str) -> Result<UidMapping> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').map(|c| open + c).ok_or_else(|| {
                Error::config(format!("--uid-template `{template}` has an unclosed `{{`"))
            })?;
            let role = match &rest[open + 1..close] {
                "id" => Role::Id,
                "username" => Role::Username,
                "email" => Role::Email,
                other => {
                    return Err(Error::config(format!(
                        "--uid-template `{template}`: unknown placeholder `{{{other}}}`; \
                         use {{id}}, {{username}} or {{email}}"
                    )));
                }
            };
            parts.push(Part::Field(role));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Field(_))) {
            return Err(Error::config(format!(
                "--uid-template `{template}` has no placeholder, so every row would get the \
                 same uid; use {{id}}, {{username}} or {{email}}"
            )));
        }
        Ok(UidMapping { parts })
    }

    /// True when the template reads `role`'s value.
    pub(crate) fn uses(&self, role: Role) -> bool {
        self.parts.contains(&Part::Field(role))
    }

    /// The uid text for a row, or the role whose value is missing.
    pub(crate) fn render(&self, value: impl Fn(Role) -> Option<String>) -> Result<String, Role> {
        let mut uid = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => uid.push_str(text),
                Part::Field(role) => uid.push_str(&value(*role).ok_or(*role)?),
            }
        }
        Ok(uid)
    }
}

/// Everything `import_accounts` needs to know besides the store and the file.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub format: Format,
    /// The framework whose grammar the hash column follows.
    pub dialect: Dialect,
    pub columns: Columns,
    /// How NULL is spelled in the boolean columns and what it means in each.
    pub nulls: Nulls,
    pub uids: UidMapping,
    /// Field separator of CSV input.
    pub delimiter: u8,
    /// Hashes above these limits could never be verified, so they are refused at import.
    pub limits: CostLimits,
    /// Check everything, Firestore included (read-only), and write nothing.
    pub dry_run: bool,
    /// Check the whole file first and write nothing if any row is refused.
    pub strict: bool,
    /// Give accounts already imported the file's disabled flag, and its hash while the stored
    /// one is still the one an import wrote.
    pub update: bool,
    /// Domain legacy clients append to bare usernames: a row whose login's other spelling
    /// under it (`kim` ↔ `kim@<domain>`) belongs to another account is refused.
    pub legacy_domain: Option<String>,
    /// Who keeps an email that several rows (or a row and an account in Firestore) share.
    pub duplicate_email: DuplicateEmail,
    /// Commits in flight at once.
    pub concurrency: usize,
    /// Where to write one JSON line per refused row.
    pub report: Option<PathBuf>,
    /// What the `firebase` and `spring` dialects need besides the hash (for `--format
    /// firebase`, exactly one Firebase project: the one the export came from).
    pub dialects: DialectSettings,
    /// argon2id memory (KiB), passes and lanes for clear-text values (Spring's `{noop}`),
    /// which are hashed at once and never stored as they came.
    pub argon2: [u32; 3],
}

impl ImportOptions {
    /// Options with the defaults for `format` and `dialect`.
    pub fn new(format: Format, dialect: Dialect) -> ImportOptions {
        ImportOptions {
            format,
            dialect,
            columns: Columns::default(),
            nulls: Nulls {
                text: format.null_text().map(String::from),
                means: Vec::new(),
            },
            uids: UidMapping::default(),
            delimiter: b',',
            limits: CostLimits::default(),
            dry_run: false,
            strict: false,
            update: false,
            concurrency: 4,
            report: None,
            dialects: DialectSettings::default(),
            argon2: [19456, 2, 1],
            legacy_domain: None,
            duplicate_email: DuplicateEmail::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(mapping: &UidMapping) -> Result<String, Role> {
        mapping.render(|role| match role {
            Role::Id => Some("42".into()),
            Role::Username => Some("kim".into()),
            _ => None,
        })
    }

    #[test]
    fn uid_mappings_render_the_legacy_id() {
        assert_eq!(render(&UidMapping::default()).unwrap(), "42");
        assert_eq!(render(&UidMapping::prefix("legacy-")).unwrap(), "legacy-42");
        let t = UidMapping::template("s1-{id}-{username}").unwrap();
        assert_eq!(render(&t).unwrap(), "s1-42-kim");
        let t = UidMapping::template("{email}").unwrap();
        assert_eq!(render(&t), Err(Role::Email));
        assert!(t.uses(Role::Email) && !t.uses(Role::Id));
    }

    #[test]
    fn bad_templates_are_refused_at_start_up() {
        for bad in ["school-{ids}", "school-{id", "constant"] {
            let err = UidMapping::template(bad).unwrap_err().to_string();
            assert!(err.contains("--uid-template"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_follow_the_file_extension() {
        assert_eq!(Format::from_path(Path::new("u.CSV")), Some(Format::Csv));
        // mysql --batch output is no RFC 4180 TSV, yet is saved as .tsv too: never guessed.
        assert_eq!(Format::from_path(Path::new("u.tsv")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("u.jsonl")), Some(Format::Jsonl));
        assert_eq!(Format::from_path(Path::new("u.json")), Some(Format::Django));
        assert_eq!(Format::from_path(Path::new("u.txt")), None);
    }

    #[test]
    fn naming_one_state_column_drops_the_other_default() {
        let columns = Columns {
            disabled: Some("banned".into()),
            ..Columns::default()
        };
        assert!(columns.candidates(Role::Active, Format::Csv).0.is_empty());
        let (names, explicit) = Columns::default().candidates(Role::Active, Format::Csv);
        assert_eq!(
            (names, explicit),
            (vec!["is_active".to_string(), "active".to_string()], false)
        );
    }
}

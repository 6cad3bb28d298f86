//! Reading accounts straight from the legacy database (`firegate import --from URL`):
//! PostgreSQL, MySQL/MariaDB or SQLite, through one `SELECT` whose result columns are named
//! like a CSV header's (`id`, `username`, `email`, `password`, …). A text export turns NULL
//! into text, escapes tabs and quotes its own way and cannot say what a zero date is; the
//! database itself hands over real NULLs and every character as stored.
//!
//! The query runs in a read-only transaction (a read-only connection for SQLite): an import
//! never writes to the legacy database. Values travel in the databases' text protocol, so
//! every column type arrives as the text the database prints for it (`t`/`1` for booleans,
//! `2020-01-02 03:04:05+00` for times), which the row checks already read.

use std::str::FromStr;
use std::sync::Arc;

use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use sqlx::mysql::{MySql, MySqlConnectOptions};
use sqlx::postgres::{PgConnectOptions, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnectOptions};
use sqlx::{ConnectOptions, Connection, Executor, Row};

use super::csv::resolve_header;
use super::options::{ImportOptions, Role};
use super::report::{Reason, Rejection};
use super::source::{Item, RawRow, Sink};
use crate::passwords::Dialect;
use crate::{Error, Result};

/// The kinds of database firegate reads, told by the URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    MySql,
    Sqlite,
}

impl Backend {
    /// `postgres://` (or `postgresql://`), `mysql://` (or `mariadb://`), `sqlite:`.
    fn of(url: &str) -> Result<Backend> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme.map(str::to_ascii_lowercase).as_deref() {
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("mysql" | "mariadb") => Ok(Backend::MySql),
            Some("sqlite") => Ok(Backend::Sqlite),
            _ => Err(Error::config(format!(
                "--from {}: firegate reads postgres://, mysql:// (MariaDB too) and sqlite:// \
                 databases; export others (SQL Server, Oracle) to CSV",
                redact(url)
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::MySql => "MySQL",
            Backend::Sqlite => "SQLite",
        }
    }
}

/// A query for a schema a framework creates, naming its columns as the import reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// WordPress `wp_users` (phpass `$P$`, 6.8's `$wp$`, bcrypt, old MD5).
    Wordpress,
    /// Django `auth_user`.
    Django,
    /// Flask with Flask-SQLAlchemy's `user` table and Werkzeug hashes (`password_hash`).
    Flask,
    /// Laravel `users` (bcrypt or argon2 via PHP's `password_hash`).
    Laravel,
    /// Drupal 7 `users` (`$S$` hashes; the anonymous user 0 left out).
    Drupal7,
    /// ASP.NET Core Identity `AspNetUsers` (as Entity Framework creates it).
    Aspnet,
}

impl Preset {
    /// The hash dialect the framework writes.
    pub fn dialect(self) -> Dialect {
        match self {
            Preset::Wordpress => Dialect::Wordpress,
            Preset::Laravel => Dialect::Php,
            Preset::Django => Dialect::Django,
            Preset::Flask => Dialect::Werkzeug,
            Preset::Drupal7 => Dialect::Drupal,
            Preset::Aspnet => Dialect::Aspnet,
        }
    }

    /// The query for this schema in `url`'s database (identifier quoting differs).
    pub fn query(self, url: &str) -> Result<String> {
        let backend = Backend::of(url)?;
        // A name that is a reserved word or mixed case, quoted as the database wants it.
        let quote = |name: &str| match backend {
            Backend::MySql => format!("`{name}`"),
            Backend::Postgres | Backend::Sqlite => format!("\"{name}\""),
        };
        // A ban in ASP.NET Identity is a lockout that ends in the far future; a lockout of
        // minutes after failed sign-ins is not carried over (firegate keeps its own).
        let banned = match backend {
            Backend::Postgres => {
                "COALESCE(\"LockoutEnabled\" AND \"LockoutEnd\" > now() + interval '1 year', false)"
            }
            Backend::MySql => {
                "COALESCE(`LockoutEnabled` AND `LockoutEnd` > UTC_TIMESTAMP() + INTERVAL 1 YEAR, 0)"
            }
            Backend::Sqlite => {
                "COALESCE(\"LockoutEnabled\" AND \"LockoutEnd\" > datetime('now', '+1 year'), 0)"
            }
        };
        // Every preset orders by the legacy id, so which row keeps an email several share
        // (--duplicate-email keep-first) is the same on every run.
        let query = match self {
            // Zero dates (`0000-00-00 00:00:00`, the column's default) are read as absent.
            // Multisite installs also have `spam` and `deleted`: add `AND spam = 0 AND
            // deleted = 0`, or select them as `disabled`.
            Preset::Wordpress => {
                "SELECT ID AS id, user_login AS username, user_email AS email,\n       \
                 user_pass AS password, user_registered AS created\n\
                 FROM wp_users\nORDER BY ID"
                    .to_string()
            }
            Preset::Django => "SELECT id, username, email, password, date_joined, is_active\n\
                 FROM auth_user\nORDER BY id"
                .to_string(),
            // Flask prescribes no table: every column of the model's, read by its name
            // (password or password_hash; active or is_active, whose NULL is refused until
            // --null-means says what it means; created_at), so a state flag is never missed.
            Preset::Flask => format!(
                "-- Flask-SQLAlchemy's User model: id, username and/or email, password_hash,\n\
                 -- and active / is_active and created_at where the model has them\n\
                 SELECT * FROM {}\nORDER BY id",
                quote("user")
            ),
            // `name` is a display name, not unique: the email is the login.
            Preset::Laravel => "SELECT id, email, password, created_at,\n       \
                 email_verified_at IS NOT NULL AS email_verified\n\
                 FROM users\nORDER BY id"
                .to_string(),
            // `status` 0 is a blocked user; uid 0 is the anonymous user.
            Preset::Drupal7 => {
                "SELECT uid AS id, name AS username, mail AS email, pass AS password,\n       \
                 created, status AS is_active\n\
                 FROM users\nWHERE uid > 0\nORDER BY uid"
                    .to_string()
            }
            Preset::Aspnet => format!(
                "SELECT {} AS id, {} AS username, {} AS email, {} AS password,\n       \
                 {} AS email_verified,\n       {banned} AS disabled\nFROM {}\nORDER BY {}",
                quote("Id"),
                quote("UserName"),
                quote("Email"),
                quote("PasswordHash"),
                quote("EmailConfirmed"),
                quote("AspNetUsers"),
                quote("Id"),
            ),
        };
        Ok(query)
    }
}

/// A legacy database and the query that lists its accounts.
#[derive(Clone)]
pub struct DatabaseQuery {
    url: String,
    backend: Backend,
    query: String,
    /// The password when it is not in the URL (an environment variable).
    password: Option<SecretString>,
}

impl std::fmt::Debug for DatabaseQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseQuery")
            .field("url", &redact(&self.url))
            .field("query", &self.query)
            .finish()
    }
}

impl DatabaseQuery {
    /// Checks the URL's scheme; nothing is connected yet.
    pub fn new(url: &str, query: &str) -> Result<DatabaseQuery> {
        let backend = Backend::of(url)?;
        if query.trim().is_empty() {
            return Err(Error::config("--query is empty: give one SELECT"));
        }
        Ok(DatabaseQuery {
            url: url.to_string(),
            backend,
            query: query.to_string(),
            password: None,
        })
    }

    /// The password to use when the URL has none.
    pub fn with_password(mut self, password: Option<String>) -> DatabaseQuery {
        self.password = password.filter(|p| !p.is_empty()).map(SecretString::from);
        self
    }

    /// The URL with any password replaced by `***`, for messages.
    pub fn display_url(&self) -> String {
        redact(&self.url)
    }
}

/// The URL with its password (`user:secret@`, or a `password=` parameter) as `***`; a URL
/// that does not parse keeps nothing of what stands before its last `@`.
pub fn redact(url: &str) -> String {
    let hidden = |url: &str| match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://***{}", &url[at..]),
        _ => url.to_string(),
    };
    let Ok(mut parsed) = url::Url::parse(url) else {
        return hidden(url);
    };
    if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
        return hidden(url);
    }
    let secret =
        |key: &str| key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("pass");
    if parsed.query_pairs().any(|(key, _)| secret(&key)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret(&key) {
                    "***".into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `url` writes `***` percent-encoded in the user info.
    parsed.to_string().replace("%2A%2A%2A", "***")
}

/// True when the URL carries a password.
pub fn has_password(url: &str) -> bool {
    redact(url) != url
}

/// Runs the query and hands each result row to `sink`, in the order the database returns
/// them. Called on a blocking thread of the runtime: the database is awaited row by row,
/// and `sink` (which may block on a full queue) runs outside any async context.
pub(crate) fn read(db: &DatabaseQuery, options: &ImportOptions, sink: &mut Sink<'_>) -> Result<()> {
    let on = tokio::runtime::Handle::current();
    let cannot_connect = |e: sqlx::Error| {
        Error::config(format!(
            "cannot connect to the {} database at {}: {}",
            db.backend.name(),
            db.display_url(),
            described(&e)
        ))
    };
    let bad_url =
        |e: sqlx::Error| Error::config(format!("--from {}: {}", db.display_url(), described(&e)));
    let password = db.password.as_ref().filter(|_| !has_password(&db.url));
    match db.backend {
        Backend::Postgres => {
            // Read-only for the whole session: a `--query` of several statements (`COMMIT;
            // DELETE …`) cannot write either.
            let mut connect = PgConnectOptions::from_str(&db.url)
                .map_err(bad_url)?
                .options([("default_transaction_read_only", "on")])
                .disable_statement_logging();
            if let Some(password) = password {
                connect = connect.password(password.expose_secret());
            }
            let mut conn = on.block_on(connect.connect()).map_err(cannot_connect)?;
            // One snapshot for the whole read, and no way to write.
            let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
            on.block_on(sqlx::raw_sql(begin).execute(&mut conn))
                .map_err(|e| query_error(db, &e))?;
            let read = rows::<Postgres>(&on, &mut conn, db, options, sink);
            let _ = on.block_on(conn.close());
            read
        }
        Backend::MySql => {
            // The server's own time zone and sql_mode, as the application reads its tables
            // (TIMESTAMP columns are shown in the session's zone; `||` stays OR).
            let mut connect = MySqlConnectOptions::from_str(&db.url)
                .map_err(bad_url)?
                .timezone(None)
                .pipes_as_concat(false)
                .no_engine_substitution(false)
                .disable_statement_logging();
            if let Some(password) = password {
                connect = connect.password(password.expose_secret());
            }
            let mut conn = on.block_on(connect.connect()).map_err(cannot_connect)?;
            let begin = "SET SESSION TRANSACTION READ ONLY; \
                         START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
            on.block_on(sqlx::raw_sql(begin).execute(&mut conn))
                .map_err(|e| query_error(db, &e))?;
            let read = rows::<MySql>(&on, &mut conn, db, options, sink);
            let _ = on.block_on(conn.close());
            read
        }
        Backend::Sqlite => {
            let connect = SqliteConnectOptions::from_str(&db.url)
                .map_err(bad_url)?
                .read_only(true)
                .create_if_missing(false)
                .disable_statement_logging();
            let mut conn = on.block_on(connect.connect()).map_err(cannot_connect)?;
            let read = rows::<Sqlite>(&on, &mut conn, db, options, sink);
            let _ = on.block_on(conn.close());
            read
        }
    }
}

/// Streams the query's rows into `sink`; the first row's column names decide which column
/// holds what, as a CSV header does.
fn rows<'c, DB>(
    on: &tokio::runtime::Handle,
    conn: &'c mut DB::Connection,
    db: &'c DatabaseQuery,
    options: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<()>
where
    DB: sqlx::Database,
    &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'r> Option<String>: sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let mut stream = sqlx::raw_sql(&db.query).fetch(conn);
    let mut columns: Option<Header> = None;
    let mut number = 0u64;
    while let Some(row) = on.block_on(stream.next()) {
        let row = row.map_err(|e| query_error(db, &e))?;
        number += 1;
        let (roles, names) = match &columns {
            Some((_, names)) if !same_columns(&row, names) => {
                return Err(Error::config(
                    "the query returned rows with other columns (several statements?): give \
                     one SELECT",
                ));
            }
            Some(resolved) => resolved,
            None => {
                let names: Vec<String> = row
                    .columns()
                    .iter()
                    .map(|c| sqlx::Column::name(c).to_string())
                    .collect();
                let roles = resolve_header(&names, options, "the query's result")?;
                let names: Vec<Arc<str>> = names.into_iter().map(Arc::from).collect();
                columns.insert((roles, names))
            }
        };
        if !sink(item(&row, number, roles, names)) {
            return Ok(());
        }
    }
    if number == 0 {
        return Err(Error::config(
            "the query returned no rows: nothing to import (is --from the right database, \
             and does the query's table hold the users?)",
        ));
    }
    Ok(())
}

/// Which column holds each role, and every column's name, from the first row.
type Header = (Vec<(Role, usize)>, Vec<Arc<str>>);

/// True when `row` has exactly the columns the first row had.
fn same_columns<R: Row>(row: &R, names: &[Arc<str>]) -> bool {
    let columns = row.columns();
    columns.len() == names.len()
        && columns
            .iter()
            .zip(names)
            .all(|(column, name)| sqlx::Column::name(column) == &**name)
}

/// One result row as the import reads it: each role's column as text, NULL as no value (a
/// boolean's NULL as empty text, whose meaning is the user's to say).
fn item<R: Row>(row: &R, number: u64, roles: &[(Role, usize)], names: &[Arc<str>]) -> Item
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let mut raw = RawRow::new(number, Some(number));
    for (role, index) in roles {
        let name = &names[*index];
        match row.try_get_unchecked::<Option<String>, usize>(*index) {
            Ok(Some(text)) => raw.set_from(*role, name, text),
            Ok(None) if role.is_flag() => raw.set_from(*role, name, String::new()),
            Ok(None) => {}
            Err(_) => {
                let message = format!(
                    "column `{name}` is not UTF-8 text; convert it in the query (MySQL \
                     HEX(…) or CONVERT(… USING utf8mb4), PostgreSQL encode(…, 'hex'))"
                );
                return Item::Rejected(Rejection {
                    record: Some(number),
                    ..Rejection::new(number, Reason::InvalidUtf8, message)
                });
            }
        }
    }
    Item::Row(raw)
}

/// The database's own message (never the URL or a value).
fn described(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

fn query_error(db: &DatabaseQuery, e: &sqlx::Error) -> Error {
    Error::config(format!(
        "the query failed in the {} database at {}: {}",
        db.backend.name(),
        db.display_url(),
        described(e)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_leave_the_url() {
        assert_eq!(
            redact("postgres://kim:s3cr3t@db.example:5432/app"),
            "postgres://kim:***@db.example:5432/app"
        );
        assert_eq!(
            redact("mysql://root@localhost/wp"),
            "mysql://root@localhost/wp"
        );
        assert_eq!(redact("sqlite://users.db"), "sqlite://users.db");
        // An `@` in the password (unencoded) still hides all of it.
        assert_eq!(redact("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        assert!(has_password("postgres://a:b@h/d") && !has_password("postgres://a@h/d"));
        for (url, shown) in [
            (
                "postgres://kim@h:1/db?password=hunter2&sslmode=require",
                "postgres://kim@h:1/db?password=***&sslmode=require",
            ),
            ("postgres://kim:hunt/er2@h/db", "postgres://***@h/db"),
            ("mysql://kim:p%40ss@h/db", "mysql://kim:***@h/db"),
        ] {
            assert_eq!(redact(url), shown);
            assert!(has_password(url), "{url}");
        }
        let q = DatabaseQuery::new("postgres://a:hunter2@h/d", "SELECT 1").unwrap();
        assert!(!format!("{q:?}").contains("hunter2"));
    }

    #[test]
    fn schemes_pick_the_backend() {
        assert_eq!(Backend::of("postgresql://h/d").unwrap(), Backend::Postgres);
        assert_eq!(Backend::of("MariaDB://h/d").unwrap(), Backend::MySql);
        assert_eq!(Backend::of("sqlite:users.db").unwrap(), Backend::Sqlite);
        let err = Backend::of("mssql://sa:pw@h/d").unwrap_err().to_string();
        assert!(err.contains("CSV") && !err.contains("pw@"), "{err}");
        assert!(DatabaseQuery::new("sqlite:x.db", "  ").is_err());
    }

    #[test]
    fn presets_quote_names_as_each_database_wants() {
        let flask = |url| Preset::Flask.query(url).unwrap();
        assert!(flask("postgres://h/d").ends_with("SELECT * FROM \"user\"\nORDER BY id"));
        assert!(flask("mysql://h/d").ends_with("SELECT * FROM `user`\nORDER BY id"));
        let aspnet = Preset::Aspnet.query("mysql://h/d").unwrap();
        assert!(aspnet.contains("`PasswordHash` AS password"), "{aspnet}");
        assert!(
            aspnet.contains("INTERVAL 1 YEAR, 0) AS disabled"),
            "{aspnet}"
        );
        assert_eq!(Preset::Drupal7.dialect(), Dialect::Drupal);
        assert!(
            Preset::Drupal7
                .query("sqlite:d.db")
                .unwrap()
                .contains("uid > 0")
        );
    }
}

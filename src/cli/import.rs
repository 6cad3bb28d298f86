//! `firegate import FILE`: turns flags into [`ImportOptions`], shows progress (a bar on a
//! terminal, a line every 10,000 rows otherwise), prints the summary on stdout and sets the
//! exit code: 0 all rows imported or present, 3 some rows refused, 1 a fatal error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Failure;
use crate::config::{CostLimitArgs, DialectArgs, HashArgs, KeyFileArgs, StoreArgs};
use crate::import::{
    Columns, DatabaseQuery, DuplicateEmail, Format, ImportOptions, ImportSummary, NullMeaning,
    Nulls, Preset, Progress, Source, UidMapping, has_password, import_accounts, redact,
};
use crate::passwords::Dialect;
use crate::store::Store;
use crate::{Error, Result, keys};

/// Exit code of a run that finished but refused some rows.
pub const EXIT_ROWS_REFUSED: u8 = 3;

/// Import accounts from a legacy user table.
#[derive(Args, Debug)]
#[command(next_help_heading = "Import")]
pub struct ImportArgs {
    /// The exported table (`-` reads standard input), unless --from reads the database.
    ///
    /// CSV with a header row, `mysql --batch` output, JSON Lines, Django dumpdata JSON, or a
    /// Firebase Auth export.
    #[arg(conflicts_with = "from")]
    pub file: Option<PathBuf>,

    /// Read the legacy database: postgres://, mysql:// or sqlite://.
    ///
    /// postgres://USER@HOST/DB, mysql://USER@HOST/DB (MariaDB too) or sqlite://FILE, with
    /// --preset or --query: real NULLs, no export. Its password comes from
    /// FIREGATE_IMPORT_DATABASE_PASSWORD (or PGPASSWORD), or from the URL in
    /// FIREGATE_IMPORT_FROM; never from the command line.
    // FIREGATE_IMPORT_FROM is read by `source()`, not clap: a secret-bearing URL is no
    // setting of firegate.toml.
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// The query for a framework's user table; implies its --dialect.
    ///
    /// wordpress, django, flask, laravel, drupal7 or aspnet; --print-query shows it.
    #[arg(long, value_enum, value_name = "SCHEMA", conflicts_with = "query")]
    pub preset: Option<Preset>,
    /// One SELECT whose columns are named as the import reads them.
    ///
    /// id, username, email, password, created, is_active, disabled, email_verified (or name
    /// them with the --*-column flags).
    // A query may start with an SQL comment (`-- …`), as the printed presets do.
    #[arg(long, value_name = "SQL", allow_hyphen_values = true)]
    pub query: Option<String>,
    /// Print the --preset's query for --from's database, and exit.
    #[arg(long, requires = "preset")]
    pub print_query: bool,

    /// Input format [default: by extension: .csv/.tsv, .jsonl/.ndjson, .json = Django;
    /// mysql-batch must be named].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// How to read the hash column (required for CSV, mysql-batch, JSON Lines and --query).
    ///
    /// werkzeug, django, phc (also: passlib, bcrypt, argon2, crypt), php (also: phpbb,
    /// laravel), wordpress (php's hashes, checked trimmed as WordPress's login does), drupal,
    /// aspnet, spring or firebase. Django and Firebase input, and --preset, imply theirs.
    #[arg(long)]
    pub dialect: Option<Dialect>,

    /// Column holding the legacy user id [default: id; Django: pk].
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// Column holding the username [default: username].
    #[arg(long, value_name = "NAME")]
    pub username_column: Option<String>,
    /// Column holding the email [default: email].
    #[arg(long, value_name = "NAME")]
    pub email_column: Option<String>,
    /// Column holding the password hash [default: password, else password_hash].
    #[arg(long, value_name = "NAME")]
    pub password_column: Option<String>,
    /// Column holding the creation time [default: date_joined, created_at or created;
    /// missing: now].
    #[arg(long, value_name = "NAME", hide_short_help = true)]
    pub created_column: Option<String>,
    /// Boolean column, true when the account may sign in [default: is_active if present].
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "disabled_column",
        hide_short_help = true
    )]
    pub active_column: Option<String>,
    /// Boolean column, true when the account may not sign in [default: disabled if
    /// present and is_active is not].
    #[arg(long, value_name = "NAME", hide_short_help = true)]
    pub disabled_column: Option<String>,
    /// Boolean column, true when the email is known to reach its owner [default:
    /// email_verified or emailVerified if present].
    #[arg(long, value_name = "NAME", hide_short_help = true)]
    pub email_verified_column: Option<String>,
    /// What NULL means in a boolean column: COLUMN=true|false|unknown (repeatable).
    ///
    /// NULL is JSON null, an empty field, or --null-text. Say what it means as the application
    /// reads it: true or false, or unknown for an email-verified column. Without it such a row
    /// is refused (`null_boolean`).
    #[arg(long, value_name = "COLUMN=VALUE", value_parser = Nulls::parse_meaning)]
    pub null_means: Vec<(String, NullMeaning)>,
    /// Text that also stands for NULL in a boolean column [default: `NULL` for mysql-batch].
    #[arg(long, value_name = "TEXT", hide_short_help = true)]
    pub null_text: Option<String>,

    /// Uid = this prefix + the legacy id (e.g. `legacy-` gives `legacy-42`).
    #[arg(long, conflicts_with = "uid_template", hide_short_help = true)]
    pub uid_prefix: Option<String>,
    /// Uid template with {id}, {username} or {email} (e.g. `school1-{id}`) [default: {id}].
    #[arg(long)]
    pub uid_template: Option<String>,

    /// CSV field separator: one ASCII character, or `tab` [default: tab for .tsv files,
    /// otherwise `,`].
    #[arg(long, value_parser = delimiter, hide_short_help = true)]
    pub delimiter: Option<u8>,

    /// Check every row, Firestore included (read-only), and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check the whole file first; write nothing if any row would be refused.
    #[arg(long)]
    pub strict: bool,
    /// Update accounts imported before: their disabled flag and hash, never their logins.
    ///
    /// The hash only where firegate has not changed the account since (sign-in upgrade,
    /// password change, admin edit).
    #[arg(long)]
    pub update: bool,
    /// Write one JSON line per refused row (line number, reason; never a hash) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Firestore commits in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64),
          hide_short_help = true)]
    pub concurrency: u32,

    /// Domain legacy clients append to bare usernames (as `serve --legacy-domain`).
    ///
    /// A row whose username's `name@<domain>` email, or whose `name@<domain>` email's
    /// username, belongs to another account or an earlier row is refused (`login_taken`,
    /// `duplicate_login`), so an import never shadows another account's sign-ins.
    #[arg(long, env = "FIREGATE_LEGACY_DOMAIN", value_name = "DOMAIN")]
    pub legacy_domain: Option<String>,
    /// Who keeps an email several rows share.
    #[arg(long, value_enum, value_name = "POLICY", default_value = "keep-first")]
    pub duplicate_email: DuplicateEmail,

    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub keys: KeyFileArgs,
    #[command(flatten)]
    pub limits: CostLimitArgs,
    #[command(flatten)]
    pub dialects: DialectArgs,
    #[command(flatten)]
    pub hashing: HashArgs,
}

impl ImportArgs {
    /// The library options these flags describe.
    pub fn options(&self) -> Result<ImportOptions> {
        let format = match (self.format, &self.file) {
            (Some(format), _) => format,
            // A query's result has named columns, as a CSV header does.
            (None, None) => Format::Csv,
            (None, Some(file)) => Format::from_path(file).ok_or_else(|| {
                Error::config(format!(
                    "cannot tell the format of {} from its name; pass --format csv, \
                     mysql-batch, jsonl, django or firebase",
                    file.display()
                ))
            })?,
        };
        if self.file.is_none() {
            if self.format.is_some() {
                return Err(Error::config(
                    "--format is for files: a database query's result needs none",
                ));
            }
            if self.null_text.is_some() {
                return Err(Error::config(
                    "--null-text is for text exports: a database hands over real NULLs",
                ));
            }
        }
        if format == Format::MysqlBatch && self.delimiter.is_some_and(|d| d != b'\t') {
            return Err(Error::config(
                "--format mysql-batch splits fields on tabs, as mysql writes them: leave \
                 --delimiter out",
            ));
        }
        let dialect = match (self.dialect.or(self.preset.map(Preset::dialect)), format) {
            (None | Some(Dialect::Firebase), Format::Firebase) => Dialect::Firebase,
            (Some(_), Format::Firebase) => {
                return Err(Error::config(
                    "--format firebase reads Firebase's own scrypt hashes: leave --dialect out \
                     (or pass --dialect firebase)",
                ));
            }
            (Some(dialect), _) => dialect,
            (None, Format::Django) => Dialect::Django,
            (None, _) => {
                return Err(Error::config(
                    "--dialect is required for CSV, mysql-batch, JSON Lines and --query \
                     input: werkzeug, django, phc, php, wordpress, drupal, aspnet, spring or \
                     firebase",
                ));
            }
        };
        let uids = match (&self.uid_prefix, &self.uid_template) {
            (Some(prefix), _) => UidMapping::prefix(prefix),
            (None, Some(template)) => UidMapping::template(template)?,
            (None, None) => UidMapping::default(),
        };
        Ok(ImportOptions {
            columns: Columns {
                id: self.id_column.clone(),
                username: self.username_column.clone(),
                email: self.email_column.clone(),
                password: self.password_column.clone(),
                created: self.created_column.clone(),
                active: self.active_column.clone(),
                disabled: self.disabled_column.clone(),
                email_verified: self.email_verified_column.clone(),
            },
            nulls: Nulls {
                text: self
                    .null_text
                    .clone()
                    .or(format.null_text().map(String::from)),
                means: self.null_means.clone(),
            },
            uids,
            delimiter: self.delimiter.unwrap_or(
                match self.file.as_ref().and_then(|f| f.extension()) {
                    Some(ext) if ext.eq_ignore_ascii_case("tsv") => b'\t',
                    _ => b',',
                },
            ),
            limits: self.limits.limits(),
            dry_run: self.dry_run,
            strict: self.strict,
            update: self.update,
            concurrency: self.concurrency as usize,
            legacy_domain: self.legacy_domain.clone(),
            duplicate_email: self.duplicate_email,
            report: self.report.clone(),
            dialects: self.dialects.settings(),
            argon2: [
                self.hashing.argon2_memory_kib,
                self.hashing.argon2_iterations,
                self.hashing.argon2_parallelism,
            ],
            ..ImportOptions::new(format, dialect)
        })
    }
}

impl ImportArgs {
    /// The file, standard input, or the database query (`--from`, else the URL in
    /// FIREGATE_IMPORT_FROM).
    fn source(&self) -> Result<Source> {
        let from_env = std::env::var("FIREGATE_IMPORT_FROM")
            .ok()
            .filter(|url| !url.is_empty());
        let (url, in_argv) = match (&self.file, &self.from, from_env) {
            (Some(_), _, _) if self.query.is_some() || self.preset.is_some() => {
                return Err(Error::config(
                    "--query and --preset read a database: give --from URL instead of a file",
                ));
            }
            (Some(file), _, _) => return Ok(Source::from_arg(file)),
            (None, Some(url), _) => (url.clone(), true),
            (None, None, Some(url)) => (url, false),
            (None, None, None) => {
                return Err(Error::config(
                    "give the exported FILE (`-` for standard input), or --from URL to read \
                     the database",
                ));
            }
        };
        let url = &url;
        let query = match (&self.query, self.preset) {
            (Some(query), _) => query.clone(),
            (None, Some(preset)) => preset.query(url)?,
            (None, None) => {
                return Err(Error::config(
                    "--from needs --preset (wordpress, django, flask, laravel, drupal7, aspnet) \
                     or --query \"SELECT …\"",
                ));
            }
        };
        if has_password(url) && in_argv {
            return Err(Error::config(format!(
                "--from {}: a password on the command line is visible to every user of this \
                 machine (ps, shell history); remove it from the URL and set \
                 FIREGATE_IMPORT_DATABASE_PASSWORD, or put the whole URL in FIREGATE_IMPORT_FROM",
                redact(url)
            )));
        }
        let password = std::env::var("FIREGATE_IMPORT_DATABASE_PASSWORD").ok();
        Ok(Source::Database(
            DatabaseQuery::new(url, &query)?.with_password(password),
        ))
    }
}

/// `--print-query`: the preset's query, for the database kind --from names (PostgreSQL
/// when there is none), to edit and pass back with --query.
fn print_query(args: &ImportArgs) -> std::result::Result<(), Failure> {
    let Some(preset) = args.preset else {
        return Err(Error::config("--print-query prints a --preset's query: name one").into());
    };
    let from_env = std::env::var("FIREGATE_IMPORT_FROM").ok();
    let url = args
        .from
        .as_deref()
        .or(from_env.as_deref())
        .unwrap_or("postgres://");
    let query = preset.query(url)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{query}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Error(Error::Io {
            what: "cannot write the query to standard output".into(),
            source: e,
        })),
        _ => Ok(()),
    }
}

/// Runs `firegate import`; a finished run that refused rows ends with
/// [`EXIT_ROWS_REFUSED`], one that stopped early with 1 (both explained on the terminal).
pub async fn run(args: ImportArgs) -> std::result::Result<(), Failure> {
    if args.print_query {
        return print_query(&args);
    }
    let options = args.options()?;
    let source = args.source()?;
    // An import needs Firestore only: the keys directory is read for the project id alone.
    let project = match &args.store.project_id {
        Some(project) => project.clone(),
        None => {
            let dir = &args.keys.dir.keys_dir;
            let loaded = keys::load_dir(dir, args.keys.allow_insecure_key_permissions)
                .map_err(Error::from)?;
            loaded.project(dir, None).map_err(Error::from)?
        }
    };
    let store = Store::connect(project, args.store.options()).await?;
    store.ping().await?;
    let display = Display::new(std::io::stderr().is_terminal(), source.size());
    let summary = import_accounts(&store, &source, &options, &|p| display.show(p)).await?;
    display.finish();
    let mut out = std::io::stdout().lock();
    match write_summary(&mut out, &summary, &options).and_then(|()| out.flush()) {
        // The reader closed the pipe (`| head`): the rows are settled all the same, and the
        // exit code below still says how.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(source) => {
            return Err(Failure::Error(Error::Io {
                what: "cannot write the summary to standard output".into(),
                source,
            }));
        }
        Ok(()) => {}
    }
    if let Some(why) = &summary.aborted {
        let _ = writeln!(
            std::io::stderr(),
            "error: the import stopped early: {why}\nRerun the same command to finish it."
        );
        return Err(Failure::Exit(1));
    }
    if summary.rejected_total() > 0 {
        return Err(Failure::Exit(EXIT_ROWS_REFUSED));
    }
    Ok(())
}

/// The summary, a `name: count` line each.
fn write_summary(
    out: &mut impl Write,
    s: &ImportSummary,
    options: &ImportOptions,
) -> std::io::Result<()> {
    let (imported, updated) = if s.dry_run {
        ("would import", "would update")
    } else {
        ("imported", "updated")
    };
    writeln!(out, "read: {}", s.read)?;
    writeln!(out, "{imported}: {}", s.imported)?;
    writeln!(out, "already present: {}", s.already_present)?;
    if s.differing > 0 {
        writeln!(
            out,
            "  differing from the file: {} ({})",
            s.differing,
            differing_why(s, options.update)
        )?;
    }
    writeln!(out, "{updated}: {}", s.updated)?;
    writeln!(out, "rejected: {}", s.rejected_total())?;
    for (reason, count) in &s.rejected {
        writeln!(out, "  {}: {count}", reason.as_str())?;
    }
    let kept: u64 = s.kept_without_login.values().sum();
    if kept > 0 {
        writeln!(out, "kept without a login: {kept}")?;
        for (reason, count) in &s.kept_without_login {
            writeln!(out, "  {}: {count}", reason.as_str())?;
        }
    }
    let settled = s.imported + s.already_present + s.updated + s.rejected_total();
    if s.read > settled {
        writeln!(out, "not attempted: {}", s.read - settled)?;
    }
    if options.dry_run {
        writeln!(out, "dry run: nothing was written")?;
    } else if s.dry_run {
        writeln!(out, "--strict: rows were refused, so nothing was written")?;
    }
    if s.rejected_total() + kept > 0 && options.report.is_none() {
        writeln!(
            out,
            "(pass --report FILE for the line number and reason of each refused row or \
             login left out)"
        )?;
    }
    Ok(())
}

/// Why accounts differing from the file were left as they are, and what `--update` would do
/// to them: suggested only for accounts it would change.
fn differing_why(s: &ImportSummary, update: bool) -> String {
    let firegates = "firegate changed their hash since the import (sign-in upgrade, password \
                     change or admin edit)";
    if update {
        return format!("{firegates}, so it was kept");
    }
    let mut why = Vec::new();
    if s.updatable > 0 {
        let what = if s.updatable_hashes > 0 {
            "hash and disabled flag"
        } else {
            "disabled flag"
        };
        why.push(format!(
            "{} would take the file's {what} with --update",
            s.updatable
        ));
    }
    let kept = s.differing.saturating_sub(s.updatable);
    if kept > 0 {
        why.push(format!("{kept}: {firegates}; --update keeps that hash"));
    }
    why.join("; ")
}

/// Progress on stderr: a bar on a terminal, a plain line every 10,000 rows otherwise.
enum Display {
    Bar(ProgressBar),
    Lines { next: AtomicU64 },
}

const LINE_EVERY: u64 = 10_000;

impl Display {
    /// A bar over the file's bytes on a terminal (a spinner for standard input).
    fn new(terminal: bool, total_bytes: Option<u64>) -> Display {
        if !terminal {
            return Display::Lines {
                next: AtomicU64::new(LINE_EVERY),
            };
        }
        let (bar, template) = match total_bytes {
            Some(total) => (
                ProgressBar::new(total),
                "{prefix} [{elapsed_precise}] {wide_bar} {percent}% (eta {eta}) {msg}",
            ),
            None => (
                ProgressBar::new_spinner(),
                "{prefix} [{elapsed_precise}] {spinner} {msg}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix("importing");
        bar.enable_steady_tick(Duration::from_millis(200));
        Display::Bar(bar)
    }

    fn show(&self, p: &Progress) {
        let phase = if p.dry_run { "checking" } else { "importing" };
        let counts = format!(
            "{} rows read, {} done, {} refused",
            p.rows_read, p.rows_done, p.rejected
        );
        match self {
            Display::Bar(bar) => {
                if bar.prefix() != phase {
                    bar.reset();
                    bar.set_prefix(phase);
                }
                bar.set_position(p.bytes_read);
                bar.set_message(counts);
            }
            Display::Lines { next } => {
                let mut due = next.load(Ordering::Relaxed);
                // `--strict` reads the file twice: the count starts again.
                if p.rows_read + LINE_EVERY < due {
                    due = LINE_EVERY;
                }
                if p.rows_read >= due {
                    due += LINE_EVERY;
                    let _ = writeln!(std::io::stderr(), "{phase}: {counts}");
                }
                next.store(due, Ordering::Relaxed);
            }
        }
    }

    fn finish(&self) {
        if let Display::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// One ASCII separator character, or `tab`.
fn delimiter(value: &str) -> std::result::Result<u8, String> {
    match value {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        v if v.len() == 1 && v.is_ascii() && !matches!(v, "\"" | "\n" | "\r") => {
            Ok(v.as_bytes()[0])
        }
        _ => Err(
            "the delimiter must be one ASCII character other than `\"` or a newline, or `tab`"
                .into(),
        ),
    }
}

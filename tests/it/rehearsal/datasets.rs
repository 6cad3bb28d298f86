//! The datasets: which generator writes each (Python in a pinned virtualenv, or PHP), the
//! database it writes to, and the manifest it leaves beside its exports.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::servers::{self, find};

/// What writes a dataset, and where.
pub struct Dataset {
    pub name: &'static str,
    generator: Generator,
}

enum Generator {
    /// `target/rehearsal/venv-<venv>/bin/python tests/rehearsal/<script>`, with PostgreSQL.
    Python {
        venv: &'static str,
        script: &'static str,
    },
    /// `php tests/rehearsal/<script>`, with MariaDB.
    Php { script: &'static str },
}

/// Every dataset the rehearsal imports.
pub const DATASETS: &[Dataset] = &[
    python("django42", "django42", "django_users.py"),
    python("django52", "django52", "django_users.py"),
    python("werkzeug23", "werkzeug23", "flask_users.py"),
    python("werkzeug30", "werkzeug30", "flask_users.py"),
    python("werkzeug31", "werkzeug31", "flask_users.py"),
    Dataset {
        name: "wordpress",
        generator: Generator::Php {
            script: "wordpress_users.php",
        },
    },
];

const fn python(name: &'static str, venv: &'static str, script: &'static str) -> Dataset {
    Dataset {
        name,
        generator: Generator::Python { venv, script },
    }
}

/// What a generator wrote: `manifest.json`.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub dataset: String,
    pub framework: String,
    pub version: String,
    pub exports: Vec<Export>,
    /// The databases the users are in, each read directly by an import of its own.
    pub databases: Vec<Database>,
    /// In the order every export lists them.
    pub users: Vec<User>,
}

/// One exported file and the flags `firegate import` takes for it.
#[derive(Clone, Debug, Deserialize)]
pub struct Export {
    pub name: String,
    pub file: String,
    pub flags: Vec<String>,
    /// The user field the uid is: `id` or `username`.
    pub uid_from: String,
    /// How the report locates a row: `records` (its place in a JSON array), `lines` (one
    /// row a line) or `header+lines` (the same after a header line).
    pub rows: String,
    /// Whether the file is `mysql --batch` output (backslash escapes, no quoting).
    #[serde(default)]
    pub mysql_batch: bool,
}

/// A database `firegate import --from` reads, and how.
#[derive(Clone, Debug, Deserialize)]
pub struct Database {
    /// The path's name in the results table.
    pub name: String,
    pub url: String,
    /// The `--preset` naming the framework's table.
    pub preset: String,
    /// The server (or library) and its version.
    pub server: String,
    /// When set, the preset's query (`--print-query`) edited so, and passed as `--query`.
    pub edit: Option<Edit>,
    /// Further flags for `firegate import`.
    pub flags: Vec<String>,
}

/// One replacement in a preset's query.
#[derive(Clone, Debug, Deserialize)]
pub struct Edit {
    pub replace: String,
    pub with: String,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// What the framework's login form accepts for this user.
    pub logins: Vec<String>,
    pub password: String,
    /// Other inputs the framework accepts as the password.
    pub variants: Vec<String>,
    pub wrong: String,
    /// Whether the framework lets the user sign in at all (not inactive, a usable password).
    pub can_sign_in: bool,
    pub note: String,
}

impl User {
    /// The uid an import gives this user when the uid is its `field`.
    pub fn uid(&self, field: &str) -> Option<&str> {
        match field {
            "id" => Some(&self.id),
            "username" => self.username.as_deref(),
            other => panic!("unknown uid field {other}"),
        }
    }
}

/// `target/rehearsal` (or under `$CARGO_TARGET_DIR`).
pub fn work_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("rehearsal")
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rehearsal")
}

/// What the servers and generators run, and the Debian package each comes from.
const PROGRAMS: &[(&str, &str)] = &[
    ("setpriv", "util-linux"),
    ("psql", "postgresql-client"),
    ("mariadbd", "mariadb-server"),
    ("mariadb-install-db", "mariadb-server"),
    ("mysql", "mariadb-client"),
    ("php", "php-cli"),
    ("python3", "python3"),
];

/// WordPress's password functions, which the WordPress generator loads.
const WORDPRESS_PHPASS: &str = "/usr/share/wordpress/wp-includes/class-phpass.php";

/// Fails at once, in one line naming every missing Debian package, before anything starts
/// (`.ci/run` installs them all).
pub fn check_installed() {
    let mut missing: Vec<&str> = PROGRAMS
        .iter()
        .filter(|(program, _)| find(program).is_none())
        .map(|(_, package)| *package)
        .collect();
    if servers::postgres_bin().is_none() {
        missing.push("postgresql");
    }
    if !Path::new(WORDPRESS_PHPASS).is_file() {
        missing.push("wordpress");
    }
    let mysqli = "exit(function_exists('mysqli_connect') ? 0 : 1);";
    if find("php").is_some()
        && !Command::new("php")
            .args(["-r", mysqli])
            .status()
            .is_ok_and(|s| s.success())
    {
        missing.push("php-mysql");
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "the rehearsals need what these Debian packages install: apt-get install {}",
        missing.join(" ")
    );
}

/// Creates the virtualenvs the Python generators need (`tests/rehearsal/setup.sh`, which
/// leaves up-to-date ones alone).
pub fn ensure_virtualenvs() {
    let output = Command::new("bash")
        .arg(scripts().join("setup.sh"))
        .output()
        .expect("run tests/rehearsal/setup.sh");
    assert!(
        output.status.success(),
        "tests/rehearsal/setup.sh failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
}

impl Dataset {
    /// Runs the generator into `target/rehearsal/data/<name>` and reads its manifest.
    pub fn generate(&self) -> (PathBuf, Manifest) {
        let out = work_dir().join("data").join(self.name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let mut command = match self.generator {
            Generator::Python { venv, script } => {
                let server = servers::postgres();
                let python = work_dir().join(format!("venv-{venv}/bin/python"));
                let mut command = Command::new(python);
                command.arg(script).args([
                    "--dataset",
                    self.name,
                    "--port",
                    &server.port.to_string(),
                    "--out",
                ]);
                command.arg(&out);
                command
            }
            Generator::Php { script } => {
                let server = servers::mariadb();
                let mut command = Command::new("php");
                command
                    .arg(script)
                    .args([self.name, &server.port.to_string()])
                    .arg(&out);
                command
            }
        };
        let output = command
            .current_dir(scripts())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run a rehearsal generator");
        assert!(
            output.status.success(),
            "the {} generator failed:\n{}{}",
            self.name,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let manifest = std::fs::read(out.join("manifest.json")).unwrap();
        let manifest: Manifest = serde_json::from_slice(&manifest)
            .unwrap_or_else(|e| panic!("{}/manifest.json: {e}", out.display()));
        (out, manifest)
    }
}

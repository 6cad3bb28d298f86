//! `firegate.toml`: the settings file under the environment and the flags. It is read and
//! checked against the [`Catalogue`] before clap parses the command line, so an unknown
//! section or key, a value of the wrong type or one the setting's own parser refuses stops
//! start-up with the file, the line and the names that are valid there (see
//! `document.rs` for how a document is read).

use std::fmt;
use std::path::{Path, PathBuf};

use super::document::Document;
use super::settings::{Catalogue, Setting};

/// The file read when neither `--config` nor `FIREGATE_CONFIG` names one, if it exists.
pub const DEFAULT_FILE: &str = "firegate.toml";

/// The variable that lets a file holding secrets be readable by others (a Cloud Run secret
/// volume is mounted 0444 in a container that runs nothing else).
pub const ALLOW_INSECURE_PERMISSIONS: &str = "FIREGATE_ALLOW_INSECURE_CONFIG_PERMISSIONS";

/// One setting the file sets: its values as its flag would take them, and the line.
#[derive(Clone, PartialEq, Eq)]
pub struct FileValue {
    /// The clap argument id.
    pub id: String,
    pub values: Vec<String>,
    pub line: usize,
    /// The setting is a secret: its values are never printed, not even by `{:?}`.
    pub secret: bool,
}

// By hand, because a secret's value must not reach a log through `{:?}` (secrets elsewhere
// are `SecretString`s; these stay strings until clap parses them into one).
impl fmt::Debug for FileValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("FileValue");
        debug.field("id", &self.id).field("line", &self.line);
        if self.secret {
            debug.field("values", &"[REDACTED]");
        } else {
            debug.field("values", &self.values);
        }
        debug.finish()
    }
}

/// A checked settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub values: Vec<FileValue>,
}

/// Everything wrong with a settings file, each problem with its line when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub problems: Vec<(Option<usize>, String)>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (line, problem)) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match line {
                Some(line) => write!(f, "{}:{line}: {problem}", self.path.display())?,
                None => write!(f, "{}: {problem}", self.path.display())?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// The file to read: the one named (`--config`, `FIREGATE_CONFIG`), else `./firegate.toml`
/// when there is one.
pub fn locate(named: Option<&Path>) -> Option<PathBuf> {
    match named {
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()),
    }
}

impl ConfigFile {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path, catalogue: &Catalogue) -> Result<ConfigFile, FileError> {
        let fail = |why: String| FileError {
            path: path.to_path_buf(),
            problems: vec![(None, why)],
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        let file = ConfigFile::parse(path, &text, catalogue)?;
        file.check_permissions(catalogue)?;
        Ok(file)
    }

    /// Checks `text`, the contents of `path`.
    pub fn parse(path: &Path, text: &str, catalogue: &Catalogue) -> Result<ConfigFile, FileError> {
        let document = Document::read(text, catalogue);
        if document.problems.is_empty() {
            Ok(ConfigFile {
                path: path.to_path_buf(),
                values: document.values,
            })
        } else {
            Err(FileError {
                path: path.to_path_buf(),
                problems: document.problems,
            })
        }
    }

    /// The value the file gives a clap argument id, if any.
    pub fn value(&self, id: &str) -> Option<&FileValue> {
        self.values.iter().find(|v| v.id == id)
    }

    /// A file that holds a secret must be private to its owner, as key files are.
    fn check_permissions(&self, catalogue: &Catalogue) -> Result<(), FileError> {
        let Some(secret) = self
            .values
            .iter()
            .filter(|v| v.secret)
            .min_by_key(|v| v.line)
        else {
            return Ok(());
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&self.path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            let allowed =
                std::env::var(ALLOW_INSECURE_PERMISSIONS).is_ok_and(|v| v == "true" || v == "1");
            let setting = catalogue
                .by_id(&secret.id)
                .map(Setting::name)
                .unwrap_or_default();
            if mode & 0o077 != 0 && !allowed {
                return Err(FileError {
                    path: self.path.clone(),
                    problems: vec![(
                        Some(secret.line),
                        format!(
                            "{setting} is a secret, and the file is readable by group or others \
                             (mode {:03o}); run `chmod 600` on it, keep the secret in the \
                             environment instead, or set {ALLOW_INSECURE_PERMISSIONS}=true where \
                             the mount cannot be 0600 (Cloud Run secret volumes)",
                            mode & 0o777
                        ),
                    )],
                });
            }
        }
        Ok(())
    }
}

//! The file under the environment and the flags: each value of `firegate.toml` becomes the
//! default of the clap argument it names, so clap itself applies flag > environment > file >
//! built-in default, and after parsing a default the file set is known to be the file's.
//! Validation, value parsers and `--help` stay clap's.

use std::fmt;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use super::file::ConfigFile;
use super::settings::{Catalogue, Kind, Setting};

/// Gives every command of the tree that has an argument the file sets the file's value as
/// that argument's default.
pub fn apply(mut command: Command, file: &ConfigFile) -> Command {
    let set: Vec<(String, Vec<String>)> = command
        .get_arguments()
        .filter_map(|arg| file.value(arg.get_id().as_str()))
        .map(|value| (value.id.clone(), value.values.clone()))
        .collect();
    for (id, values) in set {
        command = command.mut_arg(id, |arg| {
            let takes_value = arg.get_action().takes_values();
            let arg = arg.default_values(values);
            // Never shown: help describes the built-in default, and a secret is never printed.
            if takes_value {
                arg.hide_default_value(true)
            } else {
                arg
            }
        });
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |sub| apply(sub, file));
    }
    command
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The flag (without its dashes).
    Flag(String),
    Env(String),
    File {
        path: PathBuf,
        line: usize,
    },
    Default,
    /// No value: the setting is off or derived (its help says from what).
    Unset,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag --{flag}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File { path, line } => write!(f, "{}:{line}", path.display()),
            Source::Default => f.write_str("default"),
            Source::Unset => f.write_str("not set"),
        }
    }
}

/// One setting of a parsed command: its value and where it came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub setting: Setting,
    /// The values as given (a flag's `true`/`false`); empty when unset, and for a secret,
    /// whose value is never kept here.
    pub values: Vec<String>,
    pub source: Source,
}

/// The settings a parsed command runs with, and the file it read.
#[derive(Debug, Clone, Default)]
pub struct Effective {
    pub file: Option<PathBuf>,
    pub settings: Vec<Resolved>,
}

impl Effective {
    /// The settings of `command` (the subcommand that was run) as `matches` (its matches)
    /// hold them, in catalogue order.
    pub fn of(
        command: &Command,
        matches: &ArgMatches,
        catalogue: &Catalogue,
        file: Option<&ConfigFile>,
    ) -> Effective {
        let here: Vec<&str> = command
            .get_arguments()
            .map(|arg| arg.get_id().as_str())
            .collect();
        let settings = catalogue
            .settings()
            .iter()
            .filter(|s| here.contains(&s.id.as_str()))
            .map(|setting| resolve(setting, matches, file))
            .collect();
        Effective {
            file: file.map(|f| f.path.clone()),
            settings,
        }
    }

    /// The resolved setting of a clap argument id.
    pub fn get(&self, id: &str) -> Option<&Resolved> {
        self.settings.iter().find(|r| r.setting.id == id)
    }
}

fn resolve(setting: &Setting, matches: &ArgMatches, file: Option<&ConfigFile>) -> Resolved {
    let id = setting.id.as_str();
    let values: Vec<String> = match setting.kind {
        Kind::Bool => matches
            .try_get_one::<bool>(id)
            .ok()
            .flatten()
            .map(|b| vec![b.to_string()])
            .unwrap_or_default(),
        _ => matches
            .try_get_raw(id)
            .ok()
            .flatten()
            .map(|raw| raw.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default(),
    };
    let from_file = file.and_then(|f| f.value(id).map(|v| (f.path.clone(), v.line)));
    let source = match (matches.value_source(id), from_file) {
        (Some(ValueSource::CommandLine), _) => Source::Flag(setting.flag.clone()),
        (Some(ValueSource::EnvVariable), _) => Source::Env(setting.env.clone()),
        (Some(ValueSource::DefaultValue), Some((path, line))) => Source::File { path, line },
        _ if values.is_empty() => Source::Unset,
        _ => Source::Default,
    };
    Resolved {
        setting: setting.clone(),
        values: if setting.secret { Vec::new() } else { values },
        source,
    }
}

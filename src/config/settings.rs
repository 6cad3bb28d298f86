//! The catalogue of settings, read from the clap definitions themselves: every argument with a
//! long flag and an environment variable is a setting, and its help heading names its section
//! of `firegate.toml`. The file format, `config show`, `config init`, the help pages and the
//! configuration reference all come from here, so a new flag is in each of them at once.

use std::any::TypeId;

use clap::{Arg, ArgAction, Command};

/// The `firegate.toml` section of each help heading. A key is the flag's long name, less the
/// section's name and a dash where the flag starts with them (`[lockout] threshold` is
/// `--lockout-threshold` and `FIREGATE_LOCKOUT_THRESHOLD`): one name in three forms.
/// A setting without a heading is a top-level key.
pub const SECTIONS: &[(&str, &str)] = &[
    ("HTTP server", "http"),
    ("Sign-in", "sign-in"),
    ("Accounts", "accounts"),
    ("Breached passwords", "breached"),
    ("App Check", "app-check"),
    ("Brute-force lockout", "lockout"),
    ("Firestore", "firestore"),
    ("Signer", "signer"),
    ("Signing keys", "keys"),
    ("Key rotation", "rotation"),
    ("Password hashing", "hashing"),
    ("Stored-hash cost ceilings", "ceilings"),
    ("Legacy hash dialects", "dialects"),
    ("Admin page", "admin"),
    ("Password reset and mail", "mail"),
    ("Languages", "languages"),
    ("Firebase Auth bridge", "bridge"),
    ("Legacy verify hook", "legacy"),
    ("Second factor", "mfa"),
    ("Passkeys", "webauthn"),
];

/// The argument naming the config file: a flag and a variable, but not a key of the file.
pub const CONFIG_FILE_ARG: &str = "config";

/// What an operator sets on day one (argument ids): `--help` shows these, `--help-all` and
/// the reference every setting, and `config init` writes these uncommented.
pub const DAY_ONE: &[&str] = &[
    "listen",
    "port",
    "cors_origins",
    "trusted_proxy_hops",
    "legacy_domain",
    "disable_registration",
    "project_id",
    "firestore_emulator_host",
    "signer",
    "service_account",
    "keys_dir",
    "allow_insecure_key_permissions",
    "admin_password_hash",
    "mail_url",
    "public_url",
    "firebase_auth",
];

/// Settings refused on the command line, where every user of the machine could read them
/// (`ps`): the environment or the file only.
pub const NOT_ON_COMMAND_LINE: &[&str] = &["smtp_password", "legacy_verify_secret", "mfa_key"];

/// The TOML type a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false` (a flag without a value).
    Bool,
    /// An integer.
    Integer,
    /// A string.
    Text,
    /// An array of strings (a flag given several times, or a comma-separated variable).
    List,
}

impl Kind {
    /// How an error message names the type.
    pub fn described(self) -> &'static str {
        match self {
            Kind::Bool => "true or false",
            Kind::Integer => "an integer",
            Kind::Text => "a string",
            Kind::List => "an array of strings",
        }
    }
}

/// One setting: its three names, its type, and what its clap definition says about it.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The clap argument id (`lockout_threshold`).
    pub id: String,
    /// Its `firegate.toml` section; `None` at the top level.
    pub section: Option<&'static str>,
    /// Its key in that section (`threshold`).
    pub key: String,
    /// Its flag without the dashes (`lockout-threshold`).
    pub flag: String,
    /// Its environment variable (`FIREGATE_LOCKOUT_THRESHOLD`).
    pub env: String,
    pub kind: Kind,
    /// A password hash, key or other secret (its variable's value is hidden from help):
    /// never printed.
    pub secret: bool,
    /// In [`DAY_ONE`].
    pub day_one: bool,
    /// The built-in default, as the flag would take it (empty: none).
    pub defaults: Vec<String>,
    /// The values an enumerated setting accepts (empty: any).
    pub possible_values: Vec<String>,
    /// The one-line help (`--help`).
    pub help: String,
    /// The whole help (`--help-all`).
    pub long_help: String,
    pub(crate) arg: Arg,
}

impl Setting {
    /// `[lockout] threshold`, or the bare key of a top-level setting.
    pub fn name(&self) -> String {
        match self.section {
            Some(section) => format!("[{section}] {}", self.key),
            None => self.key.clone(),
        }
    }
}

/// Whether a clap argument is a setting (a flag with a variable, other than the config file).
pub fn is_setting(arg: &Arg) -> bool {
    arg.get_long().is_some() && arg.get_env().is_some() && arg.get_id() != CONFIG_FILE_ARG
}

/// Every setting of a command tree, in section order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    settings: Vec<Setting>,
}

impl Catalogue {
    /// The settings of `root` and all its subcommands. A setting several commands share (an
    /// argument id) is described once, where its heading names a section.
    pub fn of(root: &Command) -> Catalogue {
        let mut found: Vec<Setting> = Vec::new();
        collect(root, &mut found);
        let rank = |s: &Setting| match s.section {
            None => 0,
            Some(name) => 1 + SECTIONS.iter().position(|(_, n)| *n == name).unwrap_or(0),
        };
        found.sort_by_key(rank);
        Catalogue { settings: found }
    }

    pub fn settings(&self) -> &[Setting] {
        &self.settings
    }

    /// The setting of a clap argument id.
    pub fn by_id(&self, id: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.id == id)
    }

    /// The setting `key` of `section` (`None`: the top level).
    pub fn find(&self, section: Option<&str>, key: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .find(|s| s.section == section && s.key == key)
    }

    /// The settings of one section (`None`: the top level), in help order.
    pub fn in_section<'a>(&'a self, section: Option<&'a str>) -> impl Iterator<Item = &'a Setting> {
        self.settings.iter().filter(move |s| s.section == section)
    }

    /// The sections that have settings, in order, with their help headings.
    pub fn sections(&self) -> Vec<(&'static str, &'static str)> {
        SECTIONS
            .iter()
            .filter(|(_, name)| self.settings.iter().any(|s| s.section == Some(*name)))
            .map(|(heading, name)| (*name, *heading))
            .collect()
    }
}

fn collect(command: &Command, found: &mut Vec<Setting>) {
    for arg in command.get_arguments().filter(|a| is_setting(a)) {
        let setting = describe(arg);
        match found.iter_mut().find(|s| s.id == setting.id) {
            Some(known) if known.section.is_none() && setting.section.is_some() => {
                *known = setting;
            }
            Some(_) => {}
            None => found.push(setting),
        }
    }
    for sub in command.get_subcommands() {
        collect(sub, found);
    }
}

fn describe(arg: &Arg) -> Setting {
    let flag = arg.get_long().unwrap_or_default().to_string();
    let section = arg.get_help_heading().and_then(|heading| {
        SECTIONS
            .iter()
            .find(|(h, _)| *h == heading)
            .map(|(_, name)| *name)
    });
    let key = section
        .and_then(|s| flag.strip_prefix(s))
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(&flag)
        .to_string();
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    let kind = kind_of(arg);
    Setting {
        id: arg.get_id().to_string(),
        section,
        key,
        env: arg
            .get_env()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
        kind,
        secret: arg.is_hide_env_values_set(),
        day_one: DAY_ONE.contains(&arg.get_id().as_str()),
        defaults: match kind {
            // A flag's implicit `false` is no default worth printing.
            Kind::Bool => vec!["false".into()],
            _ => arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect(),
        },
        possible_values: match kind {
            Kind::Bool => Vec::new(),
            _ => arg.get_possible_values(),
        }
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect(),
        long_help: arg
            .get_long_help()
            .map(ToString::to_string)
            .unwrap_or_else(|| help.clone()),
        help,
        flag,
        arg: arg.clone(),
    }
}

fn kind_of(arg: &Arg) -> Kind {
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => Kind::Bool,
        ArgAction::Append => Kind::List,
        _ if arg.get_value_delimiter().is_some() => Kind::List,
        _ => {
            let parsed = arg.get_value_parser().type_id();
            let integers = [
                TypeId::of::<u8>(),
                TypeId::of::<u16>(),
                TypeId::of::<u32>(),
                TypeId::of::<u64>(),
                TypeId::of::<usize>(),
                TypeId::of::<i32>(),
                TypeId::of::<i64>(),
            ];
            if integers.iter().any(|t| parsed == *t) {
                Kind::Integer
            } else {
                Kind::Text
            }
        }
    }
}

/// Values as TOML: a bare integer or boolean, a quoted string, or an array of strings.
pub fn toml_value(kind: Kind, values: &[String]) -> String {
    match (kind, values) {
        (Kind::Bool, [one]) => one.clone(),
        (Kind::Integer, [one]) => one
            .trim()
            .parse::<i128>()
            .map_or_else(|_| toml_string(one), |n| n.to_string()),
        (Kind::List, _) => {
            let items: Vec<String> = values.iter().map(|v| toml_string(v)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => toml_string(&values.join(",")),
    }
}

/// A TOML basic string.
pub fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

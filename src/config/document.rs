//! One `firegate.toml` document read against the [`Catalogue`]: every section and key must
//! name a setting, every value must have the setting's TOML type and pass the setting's own
//! clap parser, and each problem is kept with its line and the names valid there.
//!
//! Why the `toml` crate's spanned document ([`DeTable`]) and not serde structs, figment or
//! config-rs: figment and config-rs give no line numbers for a value, and serde's
//! `deny_unknown_fields` does not work through `#[serde(flatten)]`, which is how the clap
//! groups are composed, so a misspelt key would be silently ignored. Walking the spanned
//! document against the catalogue keeps every line and refuses every unknown name, and the
//! catalogue comes from the clap definitions, so there is no second schema to keep in step.

use std::borrow::Cow;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::file::FileValue;
use super::settings::{Catalogue, Kind, Setting};

/// The values and problems of one document.
pub(super) struct Document {
    pub values: Vec<FileValue>,
    /// Sorted by line; a problem without a line (none so far) comes first.
    pub problems: Vec<(Option<usize>, String)>,
}

impl Document {
    /// Reads `text`.
    pub fn read(text: &str, catalogue: &Catalogue) -> Document {
        let mut reader = Reader {
            text,
            catalogue,
            values: Vec::new(),
            problems: Vec::new(),
        };
        match DeTable::parse(text) {
            Ok(table) => reader.document(table.get_ref()),
            Err(e) => {
                let line = e.span().map(|span| reader.line(span.start));
                reader.problems.push((line, e.message().to_string()));
            }
        }
        reader.problems.sort_by_key(|(line, _)| *line);
        Document {
            values: reader.values,
            problems: reader.problems,
        }
    }
}

/// Walks the parsed document, collecting values and problems.
struct Reader<'a> {
    text: &'a str,
    catalogue: &'a Catalogue,
    values: Vec<FileValue>,
    problems: Vec<(Option<usize>, String)>,
}

type Entry<'i> = (&'i Spanned<Cow<'i, str>>, &'i Spanned<DeValue<'i>>);

impl<'a> Reader<'a> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn problem(&mut self, offset: usize, message: String) {
        let line = self.line(offset);
        self.problems.push((Some(line), message));
    }

    fn document(&mut self, table: &DeTable<'_>) {
        for (key, value) in table.iter() {
            match value.get_ref() {
                DeValue::Table(inner) => self.section(key, inner),
                _ => self.setting(None, (key, value)),
            }
        }
    }

    fn section(&mut self, name: &Spanned<Cow<'_, str>>, table: &DeTable<'_>) {
        let sections = self.catalogue.sections();
        let Some((section, _)) = sections.iter().find(|(s, _)| *s == name.get_ref().as_ref())
        else {
            let names: Vec<&str> = sections.iter().map(|(s, _)| *s).collect();
            let hint = suggestion(name.get_ref(), &names)
                .map(|s| format!("did you mean [{s}]? "))
                .unwrap_or_default();
            let all: Vec<String> = names.iter().map(|s| format!("[{s}]")).collect();
            self.problem(
                name.span().start,
                format!(
                    "[{}] is not a section; {hint}the sections are {}",
                    name.get_ref(),
                    all.join(", ")
                ),
            );
            return;
        };
        for entry in table.iter() {
            self.setting(Some(section), entry);
        }
    }

    fn setting(&mut self, section: Option<&'static str>, (key, value): Entry<'_>) {
        let at = key.span().start;
        let Some(setting) = self.catalogue.find(section, key.get_ref()) else {
            let message = self.unknown(section, key.get_ref());
            self.problem(at, message);
            return;
        };
        let name = setting.name();
        let values = match typed(setting.kind, value.get_ref()) {
            Ok(values) => values,
            Err(found) => {
                let message = format!("{name} takes {}, not {found}", setting.kind.described());
                self.problem(at, message);
                return;
            }
        };
        if let Err(why) = check_value(setting, &values) {
            let message = if setting.secret {
                format!("{name}: {why}")
            } else {
                let written: Vec<&str> = self.text[value.span()].split_whitespace().collect();
                // A URL's password (a mail URL's user:secret@) is not shown either.
                let written = crate::import::redact(&written.join(" "));
                format!("{name} = {written}: {why}")
            };
            self.problem(at, message);
            return;
        }
        let line = self.line(at);
        self.values.push(FileValue {
            id: setting.id.clone(),
            values,
            line,
            secret: setting.secret,
        });
    }

    /// Why a key is not a setting, what it may have meant, and what the section takes.
    fn unknown(&self, section: Option<&str>, key: &str) -> String {
        let here: Vec<&str> = self
            .catalogue
            .in_section(section)
            .map(|s| s.key.as_str())
            .collect();
        let written = match section {
            Some(s) => format!("[{s}] {key}"),
            None => key.to_string(),
        };
        let hint = self
            .elsewhere(section, key)
            .or_else(|| suggestion(key, &here).map(str::to_string))
            .or_else(|| self.misspelt_elsewhere(section, key))
            .map(|s| format!("did you mean {s}? "))
            .unwrap_or_default();
        let takes = match section {
            Some(s) => format!("[{s}] takes {}", here.join(", ")),
            None => {
                let sections: Vec<String> = self
                    .catalogue
                    .sections()
                    .iter()
                    .map(|(s, _)| format!("[{s}]"))
                    .collect();
                format!(
                    "the top level takes {} and the sections {}",
                    here.join(", "),
                    sections.join(", ")
                )
            }
        };
        format!("{written} is not a setting; {hint}{takes}")
    }

    /// The setting a key names in another spelling: its flag, its variable, or its key in
    /// another section.
    fn elsewhere(&self, section: Option<&str>, key: &str) -> Option<String> {
        let spelt = key.to_ascii_lowercase().replace('_', "-");
        let spelt = spelt.strip_prefix("firegate-").unwrap_or(&spelt);
        self.catalogue
            .settings()
            .iter()
            .find(|s| s.flag == spelt || (s.key == spelt && s.section != section))
            .or_else(|| self.catalogue.find(section, spelt))
            .map(|s| {
                if s.section == section {
                    s.key.clone()
                } else {
                    s.name()
                }
            })
    }

    /// A close spelling of a key of another section.
    fn misspelt_elsewhere(&self, section: Option<&str>, key: &str) -> Option<String> {
        let others: Vec<&Setting> = self
            .catalogue
            .settings()
            .iter()
            .filter(|s| s.section != section)
            .collect();
        let keys: Vec<&str> = others.iter().map(|s| s.key.as_str()).collect();
        let close = suggestion(key, &keys)?;
        others.iter().find(|s| s.key == close).map(|s| s.name())
    }
}

/// The closest of `names` to a misspelt `name`, if one is close.
fn suggestion<'n>(name: &str, names: &[&'n str]) -> Option<&'n str> {
    names
        .iter()
        .map(|n| (strsim::jaro_winkler(name, n), *n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// A TOML value as the values its flag would take, or the TOML type found instead.
fn typed(kind: Kind, value: &DeValue<'_>) -> Result<Vec<String>, &'static str> {
    match (kind, value) {
        (Kind::Bool, DeValue::Boolean(b)) => Ok(vec![b.to_string()]),
        // TOML integers are 64-bit, so an i128 holds every one (hex, octal and binary too).
        (Kind::Integer, DeValue::Integer(i)) => i128::from_str_radix(i.as_str(), i.radix())
            .map(|n| vec![n.to_string()])
            .map_err(|_| "an integer"),
        (Kind::Text | Kind::List, DeValue::String(s)) => Ok(vec![s.to_string()]),
        (Kind::List, DeValue::Array(items)) => items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                other => Err(match other.type_str() {
                    "integer" => "an array holding an integer",
                    "boolean" => "an array holding a boolean",
                    _ => "an array holding something else than strings",
                }),
            })
            .collect(),
        (_, other) => Err(match other.type_str() {
            "string" => "a string",
            "integer" => "an integer",
            "float" => "a float",
            "boolean" => "a boolean",
            "datetime" => "a date-time",
            "array" => "an array",
            _ => "a table",
        }),
    }
}

/// Runs the setting's own clap parser over the values, so the file is held to exactly what
/// the flag and the variable are (ranges, enumerations, URL and hash checks).
fn check_value(setting: &Setting, values: &[String]) -> Result<(), String> {
    if setting.kind == Kind::Bool {
        return Ok(());
    }
    let arg = setting
        .arg
        .clone()
        .env(None)
        .default_values(Vec::<String>::new())
        .required(false)
        .global(false);
    let mut command = clap::Command::new("firegate")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(arg);
    let argv = values.iter().map(|v| format!("--{}={v}", setting.flag));
    match command.try_get_matches_from_mut(argv) {
        Ok(_) => Ok(()),
        Err(e) => Err(reason(&e, setting, values)),
    }
}

/// What a clap error says about a value, without the clap framing, and never quoting the
/// value of a secret.
fn reason(error: &clap::Error, setting: &Setting, values: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() == ErrorKind::InvalidValue
        && let Some(ContextValue::Strings(valid)) = error.get(ContextKind::ValidValue)
    {
        return format!("expected one of {}", valid.join(", "));
    }
    let why = match std::error::Error::source(error) {
        Some(source) => source.to_string(),
        None => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first
                .strip_prefix("error: ")
                .unwrap_or(first)
                .trim()
                .to_string()
        }
    };
    if setting.secret
        && values
            .iter()
            .any(|v| !v.is_empty() && why.contains(v.as_str()))
    {
        "not accepted (the value is not shown)".to_string()
    } else {
        why
    }
}

//! `firegate config init`: a commented starter `firegate.toml` with every section and every
//! setting, written from the catalogue. What an operator sets on day one is uncommented where
//! it has a default; everything else is commented out at its default, ready to uncomment.

use super::file::ALLOW_INSECURE_PERMISSIONS;
use super::settings::{Catalogue, Kind, Setting, toml_value};

const WIDTH: usize = 96;

/// The starter file.
pub fn starter(catalogue: &Catalogue) -> String {
    let mut out = String::from(
        "# firegate.toml: the settings of firegate's commands, each taking the ones it uses.\n\
         # Read from the working directory, or from the file --config or FIREGATE_CONFIG names.\n\
         #\n\
         # A flag wins over an environment variable, and a variable over this file. A key is its\n\
         # flag without the section's name: [lockout] threshold is --lockout-threshold and\n\
         # FIREGATE_LOCKOUT_THRESHOLD. Relative paths are relative to the working directory.\n\
         # Every setting is below: what is set on day one uncommented, the rest at its default.\n\
         # `firegate config show` prints what `serve` would run with and where each value comes\n\
         # from; `firegate serve --help-all` and the configuration reference describe each one.\n\
         #\n",
    );
    out.push_str(&format!(
        "# Secrets (password hashes, API keys) may be set here when the file is readable by its\n\
         # owner only (chmod 600; {ALLOW_INSECURE_PERMISSIONS}=true\n\
         # accepts a read-only secret mount); `firegate config show` never prints them.\n"
    ));
    for setting in catalogue.in_section(None) {
        out.push('\n');
        entry(&mut out, setting);
    }
    for (section, heading) in catalogue.sections() {
        out.push_str(&format!("\n\n# {heading}\n[{section}]\n"));
        for setting in catalogue.in_section(Some(section)) {
            out.push('\n');
            entry(&mut out, setting);
        }
    }
    out
}

fn entry(out: &mut String, setting: &Setting) {
    let mut about = setting.help.trim().trim_end_matches('.').to_string();
    about.push('.');
    if !setting.possible_values.is_empty() {
        about.push_str(&format!(" One of: {}.", setting.possible_values.join(", ")));
    }
    about.push_str(&format!(" ({}, --{})", setting.env, setting.flag));
    for line in wrap(&about, WIDTH - 2) {
        out.push_str(&format!("# {line}\n"));
    }
    let value = if setting.defaults.is_empty() {
        match setting.kind {
            Kind::List => "[]".to_string(),
            Kind::Integer => "<integer>".to_string(),
            _ => "\"\"".to_string(),
        }
    } else {
        toml_value(setting.kind, &setting.defaults)
    };
    let set = setting.day_one && !setting.defaults.is_empty() && !setting.secret;
    let comment = if set { "" } else { "#" };
    out.push_str(&format!("{comment}{} = {value}\n", setting.key));
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

//! `firegate config show`: the settings a server would run with, as TOML, each line saying
//! where its value comes from. A secret is never printed, only whether and where it is set.

use super::file::DEFAULT_FILE;
use super::layer::{Effective, Resolved, Source};
use super::settings::{SECTIONS, toml_value};

/// The column where a line's source comment starts.
const SOURCE_COLUMN: usize = 44;

/// The effective settings as a TOML document with the source of each value in a comment.
pub fn show(effective: &Effective) -> String {
    let mut out = String::new();
    out.push_str(
        "# The settings `firegate serve` runs with here, and where each comes from\n\
         # (flag > environment > file > default). Secrets are never shown.\n",
    );
    match &effective.file {
        Some(path) => out.push_str(&format!("# Config file: {}\n", path.display())),
        None => out.push_str(&format!(
            "# Config file: none (./{DEFAULT_FILE} when present, or --config / FIREGATE_CONFIG)\n"
        )),
    }
    let mut section = None;
    let mut first = true;
    for resolved in &effective.settings {
        if first || resolved.setting.section != section {
            section = resolved.setting.section;
            first = false;
            if let Some(name) = section {
                let heading = SECTIONS
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map_or("", |(h, _)| *h);
                out.push_str(&format!("\n[{name}]  # {heading}\n"));
            } else {
                out.push('\n');
            }
        }
        out.push_str(&line(resolved));
        out.push('\n');
    }
    out
}

fn line(resolved: &Resolved) -> String {
    let key = &resolved.setting.key;
    let assignment = match &resolved.source {
        Source::Unset => return format!("# {key} (not set)"),
        _ if resolved.setting.secret => format!("# {key} = (secret, not shown)"),
        _ => format!(
            "{key} = {}",
            toml_value(resolved.setting.kind, &resolved.values)
        ),
    };
    let pad = SOURCE_COLUMN
        .saturating_sub(assignment.chars().count())
        .max(1);
    format!("{assignment}{:pad$}# {}", "", resolved.source)
}

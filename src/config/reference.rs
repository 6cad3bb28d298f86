//! The configuration reference page of the book (`docs/src/reference/configuration.md`),
//! generated from the catalogue: one table per section with each setting's key, variable,
//! flag, default and help. A test compares the committed page with this.

use super::file::{ALLOW_INSECURE_PERMISSIONS, DEFAULT_FILE};
use super::settings::{Catalogue, NOT_ON_COMMAND_LINE, Setting, toml_value};

/// Where the page lives in the repository.
pub const REFERENCE_PAGE: &str = "docs/src/reference/configuration.md";

/// How to rewrite the page after changing a setting.
pub const REGENERATE: &str = "FIREGATE_WRITE_REFERENCE=1 cargo test --test it config_file::the_reference_page_matches_the_code";

/// The page, as Markdown.
pub fn reference(catalogue: &Catalogue) -> String {
    let mut out = format!(
        "# Configuration reference\n\
         \n\
         <!-- Generated from the flag definitions in src/config/; do not edit by hand.\n     \
         After changing a setting: {REGENERATE} -->\n\
         \n\
         Every setting has one name in three forms: a key of `{DEFAULT_FILE}`, an environment\n\
         variable and a flag. A flag wins over the environment, the environment over the file,\n\
         and the file over the built-in default. A key is its flag without the section's name:\n\
         `[lockout] threshold` is `FIREGATE_LOCKOUT_THRESHOLD` and `--lockout-threshold`.\n\
         \n\
         firegate reads `./{DEFAULT_FILE}` when it exists, or the file `--config FILE` or\n\
         `FIREGATE_CONFIG` names. An unknown section or key, or a value of the wrong type or out\n\
         of range, stops every command with the file, the line and the names accepted there.\n\
         Each command takes the settings it uses and ignores the rest, so one file (like one\n\
         environment) serves them all. Relative paths are relative to the working directory.\n\
         \n\
         - `firegate config init` writes a commented starter file with every setting below.\n\
         - `firegate config show` prints the settings `firegate serve` would run with, each\n  \
         with where its value comes from (flag, variable, file and line, or default).\n\
         - `firegate serve --help` shows the settings in **bold**, those set on day one;\n  \
         `--help-all` shows every one.\n\
         \n\
         Secrets (marked *secret*) may be set in the file when it is readable by its owner only\n\
         (`chmod 600`; `{ALLOW_INSECURE_PERMISSIONS}=true` accepts a read-only\n\
         secret mount such as Cloud Run's); `config show` never prints them. Cloud Run needs no\n\
         file: environment variables alone configure everything. The container image sets\n\
         `FIREGATE_KEYS_DIR=/keys` and `FIREGATE_LOG_FORMAT=json`, which win over a file.\n"
    );
    let top: Vec<&Setting> = catalogue.in_section(None).collect();
    if !top.is_empty() {
        out.push_str("\n## Top level\n\n");
        table(&mut out, &top);
    }
    for (section, heading) in catalogue.sections() {
        out.push_str(&format!("\n## `[{section}]`: {heading}\n\n"));
        let settings: Vec<&Setting> = catalogue.in_section(Some(section)).collect();
        table(&mut out, &settings);
    }
    out.push_str(
        "\n## Variables without a key\n\
         \n\
         Read from the environment only, as other tools read them too.\n\
         \n\
         | variable | meaning |\n\
         |---|---|\n\
         | `FIREGATE_CONFIG` | the settings file (`--config`) |\n\
         | `RUST_LOG` | log verbosity (default `info` for servers, `warn` for other commands) |\n\
         | `GOOGLE_APPLICATION_CREDENTIALS` | Application Default Credentials outside Google Cloud |\n\
         | `FIREBASE_AUTH_EMULATOR_HOST` | the Firebase Auth emulator (the Admin SDKs' variable) |\n\
         | `GCE_METADATA_HOST` | the metadata server (default `metadata.google.internal`) |\n",
    );
    out.push_str(&format!(
        "| `{ALLOW_INSECURE_PERMISSIONS}` | accept a settings file with secrets that others can read |\n\
         | `FIREGATE_ALLOW_INSECURE_HASH_CONFIG_PERMISSIONS` | accept a `--hash-config` file that others can read |\n"
    ));
    out
}

fn table(out: &mut String, settings: &[&Setting]) {
    out.push_str("| key | variable | flag | default | meaning |\n|---|---|---|---|---|\n");
    for s in settings {
        let key = if s.day_one {
            format!("**`{}`**", s.key)
        } else {
            format!("`{}`", s.key)
        };
        let default = if s.defaults.is_empty() {
            "—".to_string()
        } else {
            format!("`{}`", toml_value(s.kind, &s.defaults).replace('|', "\\|"))
        };
        let mut meaning = cell(&s.long_help);
        if !meaning.ends_with('.') {
            meaning.push('.');
        }
        if !s.possible_values.is_empty() {
            let values: Vec<String> = s.possible_values.iter().map(|v| format!("`{v}`")).collect();
            meaning.push_str(&format!(" One of {}.", values.join(", ")));
        }
        if s.secret {
            meaning.push_str(" *Secret.*");
        }
        let flag = if NOT_ON_COMMAND_LINE.contains(&s.id.as_str()) {
            format!("(`--{}` refused)", s.flag)
        } else {
            format!("`--{}`", s.flag)
        };
        out.push_str(&format!(
            "| {key} | `{}` | {flag} | {default} | {meaning} |\n",
            s.env
        ));
    }
}

/// Help text in one table cell: one line, `|` escaped, and `<`/`>` outside code spans
/// escaped so the book does not read them as HTML.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
    {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '*' if !in_code => out.push_str("\\*"),
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

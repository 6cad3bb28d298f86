//! Help pages that fit a screen: `--help` shows a command's own flags and the settings set on
//! day one ([`DAY_ONE`]), and says where the rest are; `--help-all` shows every setting the
//! command takes. Hidden settings are still accepted.

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command};

use crate::config::{DAY_ONE, REFERENCE_PAGE, is_setting};

/// Day-one settings a command does not need on day one, hidden from its `--help` as well:
/// the account, Firebase Auth and import commands sign nothing and read the keys only for
/// their project; `dev` signs with its own key on loopback.
const HIDDEN_FROM: &[(&str, &[&str])] = &[
    ("accounts", SIGNS_NOTHING),
    ("firebase-auth", SIGNS_NOTHING),
    ("import", SIGNS_NOTHING),
    (
        "dev",
        &[
            "signer",
            "service_account",
            "allow_insecure_key_permissions",
            "trusted_proxy_hops",
        ],
    ),
];

const SIGNS_NOTHING: &[&str] = &[
    "signer",
    "service_account",
    "allow_insecure_key_permissions",
];

/// Every command of the tree with the short and the long help flags, and its settings outside
/// [`DAY_ONE`] shown by `--help-all` only.
pub fn shape(command: Command) -> Command {
    shape_at(command, &[])
}

fn shape_at(mut command: Command, path: &[&str]) -> Command {
    let top = path.first().copied().unwrap_or_default();
    let hide = |id: &str| {
        !DAY_ONE.contains(&id)
            || HIDDEN_FROM
                .iter()
                .any(|(command, ids)| *command == top && ids.contains(&id))
            // `config show` takes every setting of `serve` for what they change, not to be told.
            || path == ["config", "show"]
    };
    let hidden: Vec<String> = command
        .get_arguments()
        .filter(|arg| is_setting(arg) && hide(arg.get_id().as_str()))
        .map(|arg| arg.get_id().to_string())
        .collect();
    for id in &hidden {
        command = command.mut_arg(id, |arg| arg.hide_short_help(true));
    }
    let own_hidden = command
        .get_arguments()
        .any(|arg| !is_setting(arg) && arg.is_hide_short_help_set());
    // The root's hidden setting is the global --log-format, whose copies every page hides.
    if (!hidden.is_empty() || own_hidden) && !path.is_empty() {
        let name = std::iter::once("firegate")
            .chain(path.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let more = if path == ["config", "show"] {
            "It takes every setting of `firegate serve`:"
        } else if own_hidden {
            "More flags and settings:"
        } else {
            "More settings:"
        };
        command = command
            .after_help(format!(
                "{more} `{name} --help-all`, or the configuration reference \
                 ({REFERENCE_PAGE}). Any setting can also go in firegate.toml \
                 (`firegate config init`)."
            ))
            .after_long_help(
                "Each setting can also be set in firegate.toml: the flag's section and name \
                 (`firegate config init` writes a commented starter file).",
            );
    }
    command = command
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::HelpShort)
                .help_heading(None::<&str>)
                .help("Print help (--help-all: with every setting)"),
        )
        .arg(
            Arg::new("help_all")
                .long("help-all")
                .action(ArgAction::HelpLong)
                .help_heading(None::<&str>)
                .help("Print help with every setting")
                .hide_short_help(true),
        );
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        let mut inner: Vec<&str> = path.to_vec();
        inner.push(&name);
        command = command.mut_subcommand(&name, |sub| shape_at(sub, &inner));
    }
    command
}

/// `firegate [COMMAND…] help [COMMAND…]` as `firegate [COMMAND…] [COMMAND…] --help`: clap's
/// help subcommand prints the long help, and it should print the page `--help` does.
pub fn help_subcommand_as_flag(command: &Command, mut argv: Vec<OsString>) -> Vec<OsString> {
    let mut at = command;
    for i in 1..argv.len() {
        let Some(word) = argv[i].to_str() else {
            break;
        };
        if word == "help" && at.has_subcommands() && at.find_subcommand("help").is_none() {
            argv.remove(i);
            argv.push("--help".into());
            break;
        }
        match at.find_subcommand(word) {
            Some(sub) => at = sub,
            None => break,
        }
    }
    argv
}

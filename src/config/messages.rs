//! The languages group: the message catalogs operators add, and the language of a request
//! that asks for none we have.

use clap::Args;

use crate::messages::MessageOptions;

/// Pages and mails in the user's language.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Languages")]
pub struct LanguageArgs {
    /// A directory of Fluent files named for their language (ja.ftl, ko.ftl) that add a
    /// language or override keys of a built-in one.
    ///
    /// Read and checked at start-up: a malformed file stops the server with its path and
    /// line; a key a language lacks is shown in English and logged once.
    #[arg(long, env = "FIREGATE_MESSAGES_DIR", value_name = "DIR")]
    pub messages_dir: Option<std::path::PathBuf>,

    /// The language of pages and mails when a request names none we have (a `lang`
    /// parameter, then Accept-Language, come first).
    #[arg(
        long,
        env = "FIREGATE_DEFAULT_LANGUAGE",
        default_value = "en",
        value_name = "TAG"
    )]
    pub default_language: String,
}

impl LanguageArgs {
    /// The catalogs' options.
    pub fn options(&self) -> MessageOptions {
        MessageOptions {
            dir: self.messages_dir.clone(),
            default_language: self.default_language.clone(),
        }
    }
}

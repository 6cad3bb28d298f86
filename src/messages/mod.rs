//! The words of the pages and mails in each language: Project Fluent catalogs, English and
//! Korean built in (`messages/*.ftl`), added to or overridden by an operator's
//! `--messages-dir`, and loaded and checked once at start-up. A page's language comes from
//! the request ([`Catalogs::negotiate`]); a mail's is the one of the request that caused it.

mod datetime;
mod load;
mod negotiate;
#[cfg(test)]
mod tests;
mod variables;

use std::borrow::Cow;
use std::path::PathBuf;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::Arc;
use tracing::{error, warn};
use unic_langid::LanguageIdentifier;

pub use datetime::time_zone;

/// Where the catalogs come from and which language answers when a request names none.
#[derive(Debug, Clone)]
pub struct MessageOptions {
    /// Files `<language>.ftl` that add a language or override keys of a built-in one.
    pub dir: Option<PathBuf>,
    /// The language of a request that asks for none we have (a loaded catalog's tag).
    pub default_language: String,
}

impl Default for MessageOptions {
    fn default() -> Self {
        MessageOptions {
            dir: None,
            default_language: "en".into(),
        }
    }
}

/// A loaded language: an index into [`Catalogs`], so no text a client sent ever stands for
/// a language in a page or a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(usize);

/// The reference language: every key exists in it, and the others fall back to it.
pub const ENGLISH: Lang = Lang(0);

/// Who a mail is written for: a language, and the time zone its times are shown in (UTC
/// unless the client named one).
#[derive(Debug, Clone)]
pub struct Locale {
    pub lang: Lang,
    pub zone: jiff::tz::TimeZone,
}

impl Locale {
    /// `lang`, with times in UTC.
    pub fn utc(lang: Lang) -> Locale {
        Locale {
            lang,
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// The same language, with times in `zone`.
    pub fn in_zone(self, zone: jiff::tz::TimeZone) -> Locale {
        Locale { zone, ..self }
    }
}

/// What a request says about its reader: the language it names, if it names one we have (a
/// `lang` parameter, `Accept-Language`, a `language` field), and its time zone (UTC unless
/// named).
#[derive(Debug, Clone)]
pub struct Asked {
    pub lang: Option<Lang>,
    pub zone: jiff::tz::TimeZone,
}

impl Asked {
    /// A request that names `lang` (or none), with times in UTC.
    pub fn utc(lang: Option<Lang>) -> Asked {
        Asked {
            lang,
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// Who a mail the request causes about an account is for: the request's language, else
    /// the one the account keeps (`stored`), else the default.
    pub fn reader(self, catalogs: &Catalogs, stored: Option<&str>) -> Locale {
        Locale {
            lang: self.lang.unwrap_or_else(|| catalogs.preferred(stored)),
            zone: self.zone,
        }
    }
}

/// A value a message may insert.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_string())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Arg::Text(text)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

type Bundle = FluentBundle<Arc<FluentResource>>;

/// One language: the same messages twice, with Unicode bidi isolation around inserted
/// values for pages (a browser honours it) and without for mails (a mail client shows the
/// marks, and they break a URL copied out of the text).
struct Catalog {
    id: LanguageIdentifier,
    tag: String,
    page: Bundle,
    mail: Bundle,
    /// English keys this language lacks (they fall back to English).
    untranslated: Vec<String>,
}

/// Every loaded language, English first.
pub struct Catalogs {
    catalogs: Vec<Catalog>,
    default: Lang,
    /// Keys of an operator's files (file, key) that English does not have: never shown.
    unknown: Vec<(String, String)>,
}

impl std::fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogs")
            .field(
                "languages",
                &self.catalogs.iter().map(|c| &c.tag).collect::<Vec<_>>(),
            )
            .field("default", &self.tag(self.default))
            .finish()
    }
}

impl Catalogs {
    /// The language's tag (`en`, `ko`, `pt-BR`), as `<html lang>` and links carry it.
    pub fn tag(&self, lang: Lang) -> &str {
        &self.catalog(lang).tag
    }

    /// Every loaded language.
    pub fn languages(&self) -> impl Iterator<Item = Lang> + '_ {
        (0..self.catalogs.len()).map(Lang)
    }

    /// `--default-language`'s catalog.
    pub fn default_lang(&self) -> Lang {
        self.default
    }

    /// The language of a mail no request caused: the account's preferred one (a stored tag)
    /// if it is still loaded, else the default.
    pub fn preferred(&self, stored: Option<&str>) -> Lang {
        stored
            .and_then(|tag| self.find(tag))
            .unwrap_or(self.default)
    }

    /// The keys (file, key) of `--messages-dir` files that English does not have (typos,
    /// most likely): no page or mail shows them.
    pub fn unknown_keys(&self) -> &[(String, String)] {
        &self.unknown
    }

    /// The English keys `lang` has no text for.
    pub fn untranslated(&self, lang: Lang) -> &[String] {
        &self.catalog(lang).untranslated
    }

    /// The message `key` for a page in `lang`.
    pub fn page(&self, lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
        self.format(lang, key, args, false)
            .unwrap_or_else(|| missing(key))
    }

    /// The message `key` for a mail in `lang`; `None` when no catalog has it.
    pub fn mail(&self, lang: Lang, key: &str, args: &[(&str, Arg)]) -> Option<String> {
        self.format(lang, key, args, true)
    }

    fn catalog(&self, lang: Lang) -> &Catalog {
        self.catalogs.get(lang.0).unwrap_or(&self.catalogs[0])
    }

    fn format(&self, lang: Lang, key: &str, args: &[(&str, Arg)], mail: bool) -> Option<String> {
        let args = fluent_args(args);
        for lang in [lang, ENGLISH] {
            let catalog = self.catalog(lang);
            let bundle = if mail { &catalog.mail } else { &catalog.page };
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
            if !errors.is_empty() {
                warn!(key, language = %catalog.tag, errors = ?errors, "message formatted with errors");
            }
            return Some(text.into_owned());
        }
        None
    }
}

fn missing(key: &str) -> String {
    error!(key, "no catalog has this message");
    key.to_string()
}

fn fluent_args<'a>(args: &'a [(&str, Arg)]) -> FluentArgs<'a> {
    let mut fluent = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        let value = match value {
            Arg::Text(text) => FluentValue::String(Cow::Borrowed(text.as_str())),
            Arg::Number(n) => FluentValue::from(*n),
        };
        fluent.set(*name, value);
    }
    fluent
}

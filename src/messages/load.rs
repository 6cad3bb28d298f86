//! Loading the catalogs at start-up: the built-in files, then an operator's `--messages-dir`
//! over them. A file that does not parse, defines a key twice, or has a message using a
//! variable that message does not get (or leaving out one it must show) stops start-up with
//! its path and line; a key a language lacks falls back to English, and a key English does
//! not have (a typo) is never shown; both are logged once, here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use fluent_syntax::ast::Entry;
use tracing::{info, warn};
use unic_langid::LanguageIdentifier;

use super::{Arg, Bundle, Catalog, Catalogs, MessageOptions};

/// The built-in catalogs, English (the reference) first.
const BUILT_IN: [(&str, &str); 2] = [
    ("en", include_str!("../../messages/en.ftl")),
    ("ko", include_str!("../../messages/ko.ftl")),
];

/// Catalog files larger than this are refused (the built-in ones are a few KiB).
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// Every variable a page or mail passes: a message naming another is a mistake that would
/// show as `{$name}` to users, so start-up refuses it.
const KNOWN_VARIABLES: &[&str] = &[
    "product",
    "min_chars",
    "status",
    "uid",
    "issued",
    "until",
    "to",
    "minutes",
    "expires",
    "year",
    "month",
    "day",
    "hour",
    "hour12",
    "minute",
    "minute2",
    "period",
    "zone",
];

/// Variables a message gets besides those the built-in catalogs' text for it uses: `$product`
/// (every message but `datetime`), and every part of a time for `datetime`, so a language may
/// arrange them its own way (`$hour` for a 24-hour clock).
const ALSO_GIVEN: &[(&str, &[&str])] = &[(
    "datetime",
    &[
        "year", "month", "day", "hour", "hour12", "minute", "minute2", "period", "zone",
    ],
)];

/// Variables a message must show, in every language: the address a mail is about, when its
/// link stops working, the zone a time is in, the shortest password a page asks for.
const MUST_SHOW: &[(&str, &[&str])] = &[
    ("reset-mail-intro", &["to"]),
    ("reset-mail-open", &["expires"]),
    ("verify-mail-intro", &["to"]),
    ("verify-mail-open", &["expires"]),
    ("factor-mail-account", &["to"]),
    ("reset-weak-password", &["min_chars"]),
    ("datetime", &["zone"]),
];

/// One parsed file and where it came from.
struct Source {
    origin: String,
    resource: Arc<FluentResource>,
    keys: Vec<String>,
    /// The variables each message uses.
    variables: BTreeMap<String, BTreeSet<String>>,
    built_in: bool,
}

impl Catalogs {
    /// The built-in catalogs with `options.dir`'s files over them, each checked.
    pub fn load(options: &MessageOptions) -> Result<Catalogs, String> {
        let mut languages: BTreeMap<String, (LanguageIdentifier, Vec<Source>)> = BTreeMap::new();
        let mut order = Vec::new();
        for (tag, text) in BUILT_IN {
            let id: LanguageIdentifier = tag.parse().map_err(|e| format!("{tag}: {e}"))?;
            let mut source = parse(format!("messages/{tag}.ftl (built in)"), text.to_string())?;
            source.built_in = true;
            order.push(tag.to_string());
            languages.insert(tag.to_string(), (id, vec![source]));
        }
        if let Some(dir) = &options.dir {
            for (id, path) in files(dir)? {
                let text = read(&path)?;
                let source = parse(path.display().to_string(), text)?;
                let tag = id.to_string();
                if !languages.contains_key(&tag) {
                    order.push(tag.clone());
                }
                languages
                    .entry(tag)
                    .or_insert_with(|| (id, Vec::new()))
                    .1
                    .push(source);
            }
        }
        let given = given(languages.values().flat_map(|(_, sources)| sources));
        let english: BTreeSet<String> = given.keys().cloned().collect();
        let mut catalogs = Vec::new();
        let mut unknown = Vec::new();
        for tag in order {
            let (id, sources) = languages
                .remove(&tag)
                .ok_or("a language was loaded twice")?;
            for source in &sources {
                check_variables(source, &given)?;
                for key in source.keys.iter().filter(|k| !english.contains(*k)) {
                    warn!(
                        file = %source.origin,
                        key = %key,
                        "this message is never shown: English has no such key (a typo?)"
                    );
                    unknown.push((source.origin.clone(), key.clone()));
                }
            }
            let catalog = build(id, tag, &sources, &english)?;
            if !catalog.untranslated.is_empty() {
                warn!(
                    language = %catalog.tag,
                    keys = %catalog.untranslated.join(", "),
                    "messages missing in this language are shown in English"
                );
            }
            catalogs.push(catalog);
        }
        let mut catalogs = Catalogs {
            catalogs,
            default: super::ENGLISH,
            unknown,
        };
        catalogs.default = catalogs.find(&options.default_language).ok_or_else(|| {
            format!(
                "--default-language `{}` has no catalog; loaded: {}",
                options.default_language,
                catalogs
                    .languages()
                    .map(|l| catalogs.tag(l).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if options.dir.is_some() {
            let tags: Vec<&str> = catalogs.languages().map(|l| catalogs.tag(l)).collect();
            info!(languages = %tags.join(", "), "message catalogs loaded");
        }
        Ok(catalogs)
    }
}

/// The `.ftl` files of `dir`, each named for its language (`ko.ftl`, `pt-BR.ftl`), in name
/// order.
fn files(dir: &Path) -> Result<Vec<(LanguageIdentifier, std::path::PathBuf)>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read --messages-dir {}: {e}", dir.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read --messages-dir {}: {e}", dir.display()))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("ftl") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let id: LanguageIdentifier = stem.parse().map_err(|_| {
            format!(
                "{}: the file name is not a language tag (name it like ko.ftl or pt-BR.ftl)",
                path.display()
            )
        })?;
        found.push((id, path));
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

fn read(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{} is {size} bytes; a catalog file is at most {MAX_FILE_BYTES}",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Parses one file: its first syntax error, or a key it defines twice, is the error.
fn parse(origin: String, text: String) -> Result<Source, String> {
    let resource = match FluentResource::try_new(text) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            let first = &errors[0];
            let line = line_of(resource.source(), first.pos.start);
            return Err(format!(
                "{origin}:{line}: {} (the file is Fluent syntax: key = text)",
                first.kind
            ));
        }
    };
    let mut keys = Vec::new();
    let mut variables = BTreeMap::new();
    for entry in resource.entries() {
        if let Entry::Message(message) = entry {
            let key = message.id.name.to_string();
            if variables.contains_key(&key) {
                let line = key_lines(resource.source(), &key).nth(1).unwrap_or(1);
                return Err(format!("{origin}:{line}: the key `{key}` is defined twice"));
            }
            let mut used = BTreeSet::new();
            if let Some(pattern) = &message.value {
                super::variables::used_in(pattern, &mut used);
            }
            variables.insert(key.clone(), used);
            keys.push(key);
        }
    }
    Ok(Source {
        origin,
        resource: Arc::new(resource),
        keys,
        variables,
        built_in: false,
    })
}

/// One language's bundles from its sources, later ones overriding earlier ones key by key;
/// every message is formatted once, so a variable no caller passes stops start-up.
fn build(
    id: LanguageIdentifier,
    tag: String,
    sources: &[Source],
    english: &BTreeSet<String>,
) -> Result<Catalog, String> {
    let bundle = |isolating: bool| {
        let mut bundle: Bundle = FluentBundle::new_concurrent(vec![id.clone()]);
        bundle.set_use_isolating(isolating);
        for source in sources {
            bundle.add_resource_overriding(source.resource.clone());
        }
        bundle
    };
    let page = bundle(true);
    let mail = bundle(false);
    let mut keys = BTreeSet::new();
    let sample: Vec<(&str, Arg)> = KNOWN_VARIABLES
        .iter()
        .map(|name| (*name, Arg::Number(1)))
        .collect();
    let args = super::fluent_args(&sample);
    // The last source defining a key is the one its text comes from.
    for source in sources.iter().rev() {
        for key in &source.keys {
            if !keys.insert(key.clone()) {
                continue;
            }
            let Some(pattern) = mail.get_message(key).and_then(|m| m.value()) else {
                let line = key_line(source.resource.source(), key);
                return Err(format!(
                    "{}:{line}: `{key}` has no text (only attributes)",
                    source.origin
                ));
            };
            let mut errors = Vec::new();
            mail.format_pattern(pattern, Some(&args), &mut errors);
            if let Some(error) = errors.first() {
                let line = key_line(source.resource.source(), key);
                return Err(format!(
                    "{}:{line}: `{key}`: {error} (variables a message may use: ${})",
                    source.origin,
                    KNOWN_VARIABLES.join(", $")
                ));
            }
        }
    }
    let untranslated = english.difference(&keys).cloned().collect();
    Ok(Catalog {
        id,
        tag,
        page,
        mail,
        untranslated,
    })
}

/// What each message gets: the variables the built-in catalogs' text for it uses, and
/// [`ALSO_GIVEN`]'s. Its keys are the built-in English keys.
fn given<'a>(sources: impl Iterator<Item = &'a Source>) -> BTreeMap<String, BTreeSet<String>> {
    let sources: Vec<&Source> = sources.filter(|s| s.built_in).collect();
    let mut given: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let english = sources
        .iter()
        .find(|s| s.origin.starts_with("messages/en.ftl"));
    for key in english.iter().flat_map(|s| s.keys.iter()) {
        let mut names: BTreeSet<String> = sources
            .iter()
            .filter_map(|s| s.variables.get(key))
            .flatten()
            .cloned()
            .collect();
        match ALSO_GIVEN.iter().find(|(k, _)| k == key) {
            Some((_, also)) => names.extend(also.iter().map(|n| n.to_string())),
            None => {
                names.insert("product".into());
            }
        }
        given.insert(key.clone(), names);
    }
    given
}

/// Each message of `source` uses only variables it gets, and shows those it must.
fn check_variables(
    source: &Source,
    given: &BTreeMap<String, BTreeSet<String>>,
) -> Result<(), String> {
    for (key, used) in &source.variables {
        let Some(gets) = given.get(key) else {
            continue;
        };
        let at = || {
            format!(
                "{}:{}",
                source.origin,
                key_line(source.resource.source(), key)
            )
        };
        let listed = |names: &mut dyn Iterator<Item = &String>| {
            names
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(extra) = used.iter().find(|name| !gets.contains(*name)) {
            return Err(format!(
                "{}: `{key}` uses ${extra}, which this message is not given, so readers would \
                 see it as {{${extra}}}; it is given: {}",
                at(),
                listed(&mut gets.iter())
            ));
        }
        let must = MUST_SHOW
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[][..], |(_, names)| *names);
        if let Some(missing) = must.iter().find(|name| !used.contains(**name)) {
            return Err(format!(
                "{}: `{key}` must show ${missing} (readers need it); add {{ ${missing} }} to \
                 the text",
                at()
            ));
        }
    }
    Ok(())
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    1 + text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// The line where `key` is defined (the syntax tree keeps no positions).
fn key_line(text: &str, key: &str) -> usize {
    key_lines(text, key).next().unwrap_or(1)
}

/// The 1-based lines that define `key`.
fn key_lines<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.lines().enumerate().filter_map(move |(at, line)| {
        line.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
            .then_some(at + 1)
    })
}

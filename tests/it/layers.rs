//! The layering `lib.rs` documents: every module of `src/` uses only modules below it, so
//! there are no import circles and no part imports the flag layer (`config`) or anything
//! above it; and only `store/` names the `firestore` crate, only `http/` names axum and hyper.
//! Read from the source text, so a new `use crate::…` or `use axum::…` that breaks it fails
//! here.

use std::collections::BTreeMap;
use std::path::Path;

/// Top to bottom, as `lib.rs` lists them. Modules on one line are peers: they may not use
/// each other either.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["config"],
    &["app"],
    &["http"],
    &["service"],
    &["import", "mail"],
    &["store"],
    &["keys"],
    &["google", "legacy_hook", "breached"],
    &["custom_token"],
    &["lockout"],
    &["accounts"],
    &["factors", "passkeys"],
    &["login", "claims", "client_network"],
    &["passwords"],
    &["emulator", "telemetry", "messages", "bounded_body"],
    &["error"],
];

/// External crates only one module may name: the Firestore client stays behind `store`, the
/// HTTP server behind `http`.
const CONFINED: &[(&str, &[&str])] = &[
    ("store", &["firestore"]),
    (
        "http",
        &["axum", "hyper", "hyper_util", "tower", "tower_http"],
    ),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `crate::<module>` a file names, outside `#[cfg(test)]` modules (unit tests may use
/// any helper), including names inside `use crate::{a, b::c}` groups.
fn crate_paths(source: &str) -> Vec<String> {
    let code = match source.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &source[..at],
        None => source,
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        } else {
            found.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    found
}

/// The external crates of `CONFINED` a file's code names as a path (`axum::…`, `::axum::…`,
/// `use axum;`), comments left out.
fn confined_crates(source: &str) -> Vec<&'static str> {
    let mut named = Vec::new();
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for (_, crates) in CONFINED {
            for name in crates.iter() {
                let path = format!("{name}::");
                let used = code.match_indices(&path).any(|(at, _)| {
                    let before = code[..at].trim_end_matches("::");
                    !before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '>')
                }) || code.starts_with(&format!("use {name};"))
                    || code.starts_with(&format!("use {name} as"));
                if used && !named.contains(name) {
                    named.push(*name);
                }
            }
        }
    }
    named
}

/// Every `.rs` file under `src/`, with its path relative to `src/`.
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&src).unwrap().display().to_string();
                found.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    found
}

/// The crate-confinement faults of a set of files: each file naming a confined crate outside
/// the module that owns it.
fn confinement_faults(files: &[(String, String)]) -> Vec<String> {
    let mut faults = Vec::new();
    for (file, source) in files {
        let top = file.split('/').next().unwrap_or("").trim_end_matches(".rs");
        for name in confined_crates(source) {
            let (owner, _) = CONFINED
                .iter()
                .find(|(_, crates)| crates.contains(&name))
                .unwrap();
            if top != *owner {
                faults.push(format!(
                    "src/{file} names the {name} crate, which only src/{owner}/ may name"
                ));
            }
        }
    }
    faults.sort();
    faults
}

/// `module -> the modules it names`, for every top-level module of `src/`.
fn uses() -> BTreeMap<String, Vec<(String, String)>> {
    let mut uses: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (file, source) in sources() {
        let top = file.split('/').next().unwrap_or("").trim_end_matches(".rs");
        if top == "lib" || top == "main" {
            continue;
        }
        for used in crate_paths(&source) {
            // `crate::Error` / `crate::Result` are the crate root's re-exports of `error`.
            let used = match used.as_str() {
                "Error" | "Result" => "error".to_string(),
                _ => used,
            };
            if used != top && !used.is_empty() {
                uses.entry(top.to_string())
                    .or_default()
                    .push((used, file.clone()));
            }
        }
    }
    uses
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let uses = uses();
    let mut faults = Vec::new();
    for (module, used) in &uses {
        let Some(own) = layer_of(module) else {
            faults.push(format!(
                "src/{module}: not in LAYERS (add it where it belongs)"
            ));
            continue;
        };
        for (other, file) in used {
            match layer_of(other) {
                Some(layer) if layer > own => {}
                Some(_) => faults.push(format!(
                    "src/{file} uses crate::{other}, not below {module}"
                )),
                None => faults.push(format!("src/{file} uses crate::{other}, not in LAYERS")),
            }
        }
    }
    faults.sort();
    faults.dedup();
    assert!(faults.is_empty(), "layering broken:\n{}", faults.join("\n"));
}

#[test]
fn the_check_sees_what_it_checks() {
    // The scan must find real uses, or the test above would pass on nothing.
    let uses = uses();
    assert!(
        uses["service"].iter().any(|(m, _)| m == "store"),
        "{:?}",
        uses["service"]
    );
    assert!(uses["cli"].iter().any(|(m, _)| m == "config"));
    assert_eq!(
        crate_paths("use crate::{Error, config::X};\nlet a = crate::http::router;"),
        ["Error", "config", "http"]
    );
}

#[test]
fn only_store_names_firestore_and_only_http_names_axum() {
    let faults = confinement_faults(&sources());
    assert!(
        faults.is_empty(),
        "a crate named outside its module:\n{}",
        faults.join("\n")
    );
}

#[test]
fn the_confinement_check_sees_what_it_checks() {
    // The scan must catch each way of naming a crate, or the test above would pass on nothing.
    let files = [
        ("service/x.rs", "use firestore::FirestoreDb;"),
        ("app.rs", "let r = ::axum::Router::new();"),
        ("keys/y.rs", "fn f() -> hyper::StatusCode {}"),
        ("store/z.rs", "use firestore::FirestoreDb;"),
        ("http/w.rs", "use axum::Json;"),
        ("app.rs", "// axum::Router is named in a comment only"),
        (
            "app.rs",
            "let a = crate::http::axum_like::f(); let b = my_hyper::x;",
        ),
    ]
    .map(|(f, s)| (f.to_string(), s.to_string()));
    assert_eq!(
        confinement_faults(&files),
        [
            "src/app.rs names the axum crate, which only src/http/ may name",
            "src/keys/y.rs names the hyper crate, which only src/http/ may name",
            "src/service/x.rs names the firestore crate, which only src/store/ may name",
        ]
    );
    assert!(
        sources()
            .iter()
            .any(|(f, s)| f.starts_with("store/") && confined_crates(s).contains(&"firestore"))
    );
}

//! What the book tells a newcomer to install and expect, checked against what the suite itself
//! runs, so the two cannot drift apart.

use std::path::Path;

fn read(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The web client's install line names the Firebase JS SDK major version the end-to-end suite
/// signs in with (`firebase@13` needs Node 24, which a newcomer on Node 20 may not have).
#[test]
fn the_client_page_installs_the_sdk_the_suite_runs() {
    let package: serde_json::Value = serde_json::from_str(&read("tests/e2e/package.json")).unwrap();
    let version = package["dependencies"]["firebase"].as_str().unwrap();
    let major = version
        .trim_start_matches(['^', '~'])
        .split('.')
        .next()
        .unwrap();
    let clients = read("docs/src/clients.md");
    let install = format!("npm install firebase@{major} firebase-tools");
    assert!(
        clients.contains(&install),
        "docs/src/clients.md lacks `{install}` (tests/e2e/package.json has firebase {version})"
    );
    // The Auth emulator logs nothing when an app names another project (the e2e suite's
    // "signs in an app configured for another project id" shows it).
    assert!(!clients.contains("the emulator logs a warning"));
}

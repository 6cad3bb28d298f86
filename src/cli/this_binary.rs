//! How another terminal runs this same binary: `dev` prints it beside the `export` line, since
//! `firegate` is not on `PATH` after `cargo run`.

use std::path::{Path, PathBuf};

/// How another terminal runs this same binary, and where: `firegate` when that is what
/// `PATH` finds; `cargo run -q --` in the checkout when cargo started it from its target
/// directory; else the binary's own path, which works from anywhere.
pub(super) fn command() -> (String, &'static str) {
    let Ok(exe) = std::env::current_exe().and_then(|e| e.canonicalize()) else {
        return ("firegate".into(), "");
    };
    if on_path("firegate").is_some_and(|found| found == exe) {
        return ("firegate".into(), "");
    }
    let checkout = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let profile = exe
        .parent()
        .and_then(|dir| dir.file_name())
        .and_then(|n| n.to_str());
    if let (Some(checkout), Some(profile), Some(_)) = (checkout, profile, std::env::var_os("CARGO"))
        && checkout.join("Cargo.toml").is_file()
    {
        let command = match profile {
            "debug" => "cargo run -q --".to_string(),
            "release" => "cargo run -q --release --".to_string(),
            other => format!("cargo run -q --profile {other} --"),
        };
        return (command, " (in this checkout)");
    }
    (shell_quoted(&exe), "")
}

/// The file `name` that `PATH` finds, resolved.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .and_then(|found| found.canonicalize().ok())
}

/// `path` as one shell word.
fn shell_quoted(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

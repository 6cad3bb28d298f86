//! The signing-key settings groups: the keys directory and its permission check, and how a
//! running server follows rotations.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::non_empty;
use crate::keys::{GOOGLE_X509_BASE, KeyOptions};

/// The keys directory alone (commands that only write or rename key files).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Signing keys")]
pub struct KeysDirArgs {
    /// Directory of service-account key files (*.json).
    #[arg(
        long,
        env = "FIREGATE_KEYS_DIR",
        default_value = "keys",
        value_name = "DIR"
    )]
    pub keys_dir: PathBuf,
}

/// The keys directory and how its files are checked (commands that load keys).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Signing keys")]
pub struct KeyFileArgs {
    #[command(flatten)]
    pub dir: KeysDirArgs,

    /// Accept key files that group or others can read.
    #[arg(long, env = "FIREGATE_ALLOW_INSECURE_KEY_PERMISSIONS")]
    pub allow_insecure_key_permissions: bool,
}

/// How key rotations reach running servers and what activation checks.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Key rotation")]
pub struct KeyRotationArgs {
    /// How often a server rescans the keys directory and reads the recorded key state, in
    /// seconds: the longest an instance signs with a key after another is activated.
    #[arg(long, env = "FIREGATE_KEY_REFRESH_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=300))]
    pub key_refresh_secs: u32,

    /// Where Google publishes service-account certificates (activation checks a key is there).
    #[arg(long, env = "FIREGATE_X509_BASE_URL", default_value = GOOGLE_X509_BASE,
          value_parser = non_empty("--x509-base-url"))]
    pub x509_base_url: String,
}

impl KeyFileArgs {
    /// The key ring's options; `rotation` is `None` for commands that do not rotate.
    pub fn options(&self, rotation: Option<&KeyRotationArgs>) -> KeyOptions {
        let defaults = KeyOptions::default();
        KeyOptions {
            dir: self.dir.keys_dir.clone(),
            allow_insecure_permissions: self.allow_insecure_key_permissions,
            refresh: rotation.map_or(defaults.refresh, |r| {
                Duration::from_secs(r.key_refresh_secs.into())
            }),
            x509_base_url: rotation.map_or(defaults.x509_base_url, |r| r.x509_base_url.clone()),
            signs: defaults.signs,
        }
    }
}

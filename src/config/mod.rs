//! Every setting firegate reads, as clap argument groups with environment-variable fallbacks,
//! one group per part it configures. Each command flattens only the groups it reads, and this
//! module turns them into each part's own options type: no module below it imports it.
//! Values are validated here, at start-up, so a bad setting fails fast with a message that
//! names it.
//!
//! The same definitions make the settings file: [`Catalogue`] reads every setting from the
//! clap command tree (a heading is a `firegate.toml` section), [`ConfigFile`] checks a file
//! against it, and [`apply`] layers the file under the environment and the flags. The starter
//! file, `config show` and the reference page are rendered from the catalogue too.

mod admin;
mod app_check;
mod breached;
mod bridge;
mod document;
mod file;
mod http;
mod keys;
mod layer;
mod legacy;
mod mail;
mod messages;
mod mfa;
mod passkeys;
mod passwords;
mod reference;
mod settings;
mod show;
mod sign_in;
mod signer;
mod starter;
mod store;
mod values;

use std::time::Duration;

use clap::Args;

pub use admin::AdminArgs;
pub use app_check::AppCheckArgs;
pub use breached::{BreachedArgs, BreachedAtSignIn, BreachedCheck, BreachedUnreachable};
pub use bridge::{BridgeArgs, FirebaseAuthMode};
pub use file::{
    ALLOW_INSECURE_PERMISSIONS, ConfigFile, DEFAULT_FILE, FileError, FileValue, locate,
};
pub use http::{DevListenArgs, HttpArgs, ListenArgs};
pub use keys::{KeyFileArgs, KeyRotationArgs, KeysDirArgs};
pub use layer::{Effective, Resolved, Source, apply};
pub use legacy::LegacyArgs;
pub use mail::ResetArgs;
pub use messages::LanguageArgs;
pub use mfa::{MfaArgs, MfaSetting};
pub use passkeys::PasskeyArgs;
pub use passwords::{CostLimitArgs, DialectArgs, HashArgs, HashPoolArgs};
pub use reference::{REFERENCE_PAGE, REGENERATE, reference};
pub use settings::{
    CONFIG_FILE_ARG, Catalogue, DAY_ONE, Kind, NOT_ON_COMMAND_LINE, SECTIONS, Setting, is_setting,
    toml_value,
};
pub use show::show;
pub use sign_in::{LockoutArgs, NewPasswordArgs, SignInArgs};
pub use signer::{SignerArgs, SignerKind};
pub use starter::starter;
pub use store::StoreArgs;

use crate::app::AppOptions;
use crate::keys::KeyOptions;
use crate::passwords::PasswordOptions;
use crate::service::{Policy, ServiceOptions};

/// Everything a server reads (`serve` and `dev`) except where it listens.
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub sign_in: SignInArgs,
    #[command(flatten)]
    pub new_passwords: NewPasswordArgs,
    #[command(flatten)]
    pub breached: BreachedArgs,
    #[command(flatten)]
    pub app_check: AppCheckArgs,
    #[command(flatten)]
    pub lockout: LockoutArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub keys: KeyFileArgs,
    #[command(flatten)]
    pub rotation: KeyRotationArgs,
    #[command(flatten)]
    pub hashing: HashArgs,
    #[command(flatten)]
    pub pool: HashPoolArgs,
    #[command(flatten)]
    pub limits: CostLimitArgs,
    #[command(flatten)]
    pub dialects: DialectArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(flatten)]
    pub reset: ResetArgs,
    #[command(flatten)]
    pub languages: LanguageArgs,
    #[command(flatten)]
    pub bridge: BridgeArgs,
    #[command(flatten)]
    pub legacy: LegacyArgs,
    #[command(flatten)]
    pub mfa: MfaArgs,
    #[command(flatten)]
    pub passkeys: PasskeyArgs,
}

impl ServerArgs {
    /// What a server refuses to start with, beyond what each value's parser checks: settings
    /// that only make sense together.
    pub fn check(&self) -> Result<(), String> {
        self.bridge.check_for_server()?;
        self.legacy.check_for_server()?;
        self.breached.check()?;
        self.app_check.check()?;
        self.reset.check_for_server()
    }

    /// The service a server runs.
    pub fn service_options(&self) -> ServiceOptions {
        ServiceOptions {
            project_id: self.store.project_id.clone(),
            store: self.store.options(),
            keys: self.keys.options(Some(&self.rotation)),
            signer: self.signer.choice(),
            passwords: PasswordOptions {
                dialects: self.dialects.settings(),
                ..self.hashing.options(Some(&self.pool), Some(&self.limits))
            },
            policy: Policy {
                token_lifetime: self.sign_in.token_lifetime,
                tenant_id: self.sign_in.tenant_id.clone(),
                legacy_domain: self.sign_in.legacy_domain.clone(),
                min_password_chars: self.new_passwords.min_password_length as usize,
                registration_open: !self.sign_in.disable_registration,
                failure_floor: Duration::from_millis(self.sign_in.failure_floor_ms.into()),
                lockout: self.lockout.policy(),
                require_verified_email: self.reset.require_verified_email,
            },
            admin: self.admin.credential(),
            reset: self.reset.options(),
            bridge: self.bridge.options(self.sign_in.tenant_id.as_deref()),
            legacy: self.legacy.options(),
            breached: self.breached.options(),
            app_check: self.app_check.options(self.store.project_id.as_deref()),
            messages: self.languages.options(),
            factors: self.mfa.options(),
            passkeys: self.passkeys.options(),
        }
    }

    /// The whole server, listening on `listen`.
    pub fn app_options(&self, listen: std::net::SocketAddr) -> AppOptions {
        AppOptions {
            listen,
            service: self.service_options(),
            http: self.http.options(),
        }
    }
}

/// `firegate serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `firegate dev`.
#[derive(Args, Debug, Clone)]
pub struct DevArgs {
    #[command(flatten)]
    pub listen: DevListenArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// What every `firegate accounts …` command reads: Firestore, the keys (they name the
/// project), and how new passwords are hashed and checked.
#[derive(Args, Debug, Clone)]
pub struct AccountsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub keys: KeyFileArgs,
    #[command(flatten)]
    pub hashing: HashArgs,
    #[command(flatten)]
    pub new_passwords: NewPasswordArgs,
    #[command(flatten)]
    pub breached: BreachedArgs,
    #[command(flatten)]
    pub bridge: BridgeArgs,
    #[command(flatten)]
    pub mfa: MfaArgs,
    /// The Identity Platform tenant whose Firebase users the bridge writes (the server's
    /// --tenant-id).
    #[arg(long, env = "FIREGATE_TENANT_ID", value_parser = values::non_empty("--tenant-id"))]
    pub tenant_id: Option<String>,
}

impl AccountsArgs {
    /// The service an account command runs on.
    pub fn service_options(&self) -> ServiceOptions {
        ServiceOptions {
            project_id: self.store.project_id.clone(),
            store: self.store.options(),
            // No account command signs a token: with --project-id, no keys directory needed.
            keys: KeyOptions {
                signs: false,
                ..self.keys.options(None)
            },
            signer: self.signer.choice(),
            passwords: self.hashing.options(None, None),
            policy: Policy {
                min_password_chars: self.new_passwords.min_password_length as usize,
                ..Policy::default()
            },
            admin: None,
            reset: None,
            bridge: self.bridge.options(self.tenant_id.as_deref()),
            legacy: None,
            breached: self.breached.options(),
            app_check: None,
            messages: crate::messages::MessageOptions::default(),
            factors: self.mfa.options(),
            passkeys: Default::default(),
        }
    }
}

/// What `firegate keys list|retire` read: Firestore and the keys.
#[derive(Args, Debug, Clone)]
pub struct KeyAdminArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub keys: KeyFileArgs,
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod file_tests;

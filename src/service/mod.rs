//! The use cases: signing in, registering, changing passwords and administering accounts.
//! The HTTP server and the CLI both call these, over one [`Service`] built from one
//! [`ServiceOptions`]. This file builds the service; `views.rs` holds what the use cases
//! return; `key_state.rs` settles and refreshes which key signs; `sign_in.rs`, `accounts.rs`
//! and `rotation.rs` hold the use cases.

mod accounts;
mod admin;
mod app_check;
mod breached;
mod bridge;
mod export;
mod factors;
mod failed_confirms;
mod key_state;
mod language;
mod legacy;
mod passkey_sign_in;
mod passkeys;
mod reset;
mod rotation;
mod second_factor;
mod sign_in;
mod signing;
mod target;
mod views;

pub use admin::AdminVerdict;
pub use app_check::AppCheckVerdict;
pub use bridge::{BridgeMode, BridgeOptions, FIREBASE_MIN_PASSWORD_CHARS, SyncReport};
pub use export::{ExportReport, MAX_USERS_PER_IMPORT, import_request};
pub use factors::{Caller, FactorList, FactorsReset};
pub use key_state::Settling;
pub use reset::ResetOptions;
pub use rotation::{KeyAdmin, Rotation};
pub use signing::{Signer, SignerChoice, SignerInfo};
pub use target::AccountRef;
pub use views::{
    AccountDetail, Challenge, LockoutSummary, LookAlikeReport, NewAccount, PasswordChange,
    STATS_KEPT, SchemeStats, SignInOutcome, SignedIn, Unlocked, legacy_accounts,
};

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

use crate::Result;
use secrecy::SecretString;

use crate::breached::{Breached, BreachedOptions};
use crate::factors::{FactorOptions, MfaMode};
use crate::google::{
    AppCheckOptions, AppCheckVerifier, IamSigner, IdTokenOptions, IdTokenVerifier,
};
use crate::keys::{self, KeyOptions, KeyRing, Publication};
use crate::legacy_hook::{LegacyHook, LegacyHookOptions};
use crate::lockout::LockoutPolicy;
use crate::mail::{MailOptions, Mailer};
use crate::messages::{Catalogs, MessageOptions};
use crate::passwords::{PasswordOptions, Passwords};
use crate::store::{Store, StoreOptions};

/// Everything a [`Service`] is built from, each part's options in its own type.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// The Firestore project; `None` takes the signing key's.
    pub project_id: Option<String>,
    pub store: StoreOptions,
    pub keys: KeyOptions,
    /// Key files or IAM Credentials.
    pub signer: SignerChoice,
    pub passwords: PasswordOptions,
    pub policy: Policy,
    /// The admin credential, when the admin page and API are on.
    pub admin: Option<AdminCredential>,
    /// Password reset by mail, when a mail transport and a link are configured.
    pub reset: Option<(ResetOptions, MailOptions)>,
    /// The Firebase Auth bridge.
    pub bridge: BridgeOptions,
    /// The legacy system's verify hook, when accounts are checked there.
    pub legacy: Option<LegacyHookOptions>,
    /// Passwords known from breaches.
    pub breached: BreachedOptions,
    /// App Check on the public routes, when any route group verifies it.
    pub app_check: Option<AppCheckOptions>,
    /// The pages' and mails' message catalogs.
    pub messages: MessageOptions,
    /// Second factors and the ID tokens of the self-service routes.
    pub factors: FactorOptions,
    /// Passkeys' relying party.
    pub passkeys: crate::passkeys::PasskeyOptions,
}

/// The account policy the use cases apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Custom-token lifetime, in seconds (at most 3600).
    pub token_lifetime: u32,
    /// Identity Platform tenant written into tokens.
    pub tenant_id: Option<String>,
    /// Domain legacy clients append to bare usernames.
    pub legacy_domain: Option<String>,
    /// Shortest new password, in characters.
    pub min_password_chars: usize,
    /// Whether `POST /register/` creates accounts.
    pub registration_open: bool,
    /// Least time a failed sign-in takes.
    pub failure_floor: Duration,
    /// Brute-force lockout.
    pub lockout: LockoutPolicy,
    /// Registrations must verify their email before they sign in.
    pub require_verified_email: bool,
}

impl Default for Policy {
    /// The documented defaults: one-hour tokens, 8-character passwords, open registration, a
    /// 500 ms failure floor, the default lockout.
    fn default() -> Self {
        Policy {
            token_lifetime: 3600,
            tenant_id: None,
            legacy_domain: None,
            min_password_chars: 8,
            registration_open: true,
            failure_floor: Duration::from_millis(500),
            lockout: LockoutPolicy::default(),
            require_verified_email: false,
        }
    }
}

/// Everything a use case needs: keys, password hashing, storage and policy settings.
pub struct Service {
    pub signer: Signer,
    pub passwords: Passwords,
    pub store: Store,
    pub publication: Publication,
    /// The admin credential, when the admin page and API are on.
    pub admin: Option<AdminCredential>,
    reset: Option<reset::Reset>,
    /// The pages' and mails' words, in every loaded language.
    messages: Arc<Catalogs>,
    bridge: Option<bridge::Bridge>,
    /// The legacy system's verify hook.
    legacy: Option<LegacyHook>,
    /// The breached-password lookup, when one is on.
    breached: Option<Breached>,
    /// How a legacy account's first sign-in treats a breached password.
    at_sign_in: crate::breached::AtSignIn,
    /// App Check, when a route group verifies it.
    app_check: Option<app_check::AppCheck>,
    key_refresh: Duration,
    /// Whether start-up found a recorded key state. Without one the first refresh runs at
    /// once (it records the key); with one, an interval on (start-up has just read it, and a
    /// second read would compete with the first sign-in).
    recorded_at_start: std::sync::atomic::AtomicBool,
    /// Start-up's outcome once the key state is read (`None` until then): see [`Service::ready`].
    settled: key_state::Settled,
    stats_cache: tokio::sync::Mutex<Option<(Instant, SchemeStats)>>,
    policy: Policy,
    factors: FactorOptions,
    /// Passkeys' relying party; `None` when passkeys are off (no `--webauthn-rp-id`).
    relying_party: Option<crate::passkeys::RelyingParty>,
    id_tokens: IdTokenVerifier,
    /// Password-checking requests in progress, bounded by hashing slots plus queue, so a
    /// flood is refused before it costs any Firestore call or memory.
    admissions: Arc<tokio::sync::Semaphore>,
    legacy_count: legacy::LegacyCount,
    /// Password checks running per lockout key, so a burst gets no more than the lockout
    /// threshold allows.
    checks_in_flight: Arc<crate::lockout::Ledger>,
}

impl Service {
    /// Loads the keys, checks the password settings, opens the Firestore client and reads the
    /// recorded key state, which decides the signing key. Start-up fails when the recorded
    /// active key is not loaded here (signing with any other key could fail every login), when
    /// nothing is recorded and several keys could sign, or when no key loads; other key files
    /// that do not load are set aside with a warning. With IAM Credentials no key file is
    /// read: the project and the account come from the options or the metadata server, and
    /// nothing calls IAM until the first token (or [`Signer::probe`]).
    pub async fn build(options: ServiceOptions) -> Result<Arc<Service>> {
        let (service, settling) = Service::start(options).await?;
        settling.finished().await?;
        Ok(service)
    }

    /// [`Service::build`] up to the recorded key state, which is read in the background. A
    /// server serves meanwhile: a sign-in's Firestore reads and password check need no key,
    /// and its token waits for the read ([`Service::ready`]), as every other route does. The
    /// returned [`Settling`] completes with start-up's outcome; a server stops on its error.
    pub async fn start(options: ServiceOptions) -> Result<(Arc<Service>, Settling)> {
        let ServiceOptions {
            project_id,
            store,
            keys: key_options,
            signer: choice,
            passwords,
            policy,
            admin,
            reset,
            bridge,
            legacy,
            breached,
            app_check,
            messages,
            factors,
            passkeys,
        } = options;
        let at_sign_in = breached.at_sign_in;
        let breached = Breached::new(&breached)?;
        let legacy = match legacy {
            Some(options) => Some(legacy::start_hook(&options).await?),
            None => None,
        };
        if legacy.as_ref().is_some_and(|h| h.creates_unknown()) && policy.registration_open {
            // Registration does not ask the hook: anyone may register a login the old
            // system holds before its owner's first sign-in, and that owner's sign-ins are
            // then checked against the squatter's password.
            warn!(
                "--legacy-create-unknown with open registration: a login the legacy system \
                 holds can be registered by someone else before its owner signs in; set \
                 --disable-registration until the old system is switched off (see the book, \
                 \"Legacy verify hook\")"
            );
        }
        let messages = Arc::new(Catalogs::load(&messages).map_err(crate::Error::config)?);
        if matches!(choice, SignerChoice::Iam(_)) || bridge.mode != BridgeMode::Off {
            // Beside the key and Firestore reads below, instead of before serving.
            crate::google::warm_api_client();
        }
        let reset = match reset {
            Some((options, mail)) => Some(reset::Reset::new(
                options,
                Mailer::new(&mail).map_err(|e| crate::Error::config(e.to_string()).caused_by(e))?,
                messages.clone(),
            )?),
            None => None,
        };
        if policy.require_verified_email
            && reset
                .as_ref()
                .is_none_or(|r| r.options.verify_link_template.is_none())
        {
            return Err(crate::Error::config(
                "--require-verified-email needs verification mails: set --mail-url and \
                 --public-url (or --verify-link-template)",
            ));
        }
        let admissions = passwords.concurrency + passwords.queue;
        let passwords = Passwords::new(&passwords)?;
        let (signer, store, loaded, key_project) = match (choice, project_id) {
            // Nothing to sign and the project known: no key file is read (an unsettled
            // ring refuses to sign, should anything ask).
            (SignerChoice::Keys, Some(project_id)) if !key_options.signs => {
                let store = connect(project_id, store).await?;
                let ring =
                    KeyRing::unsettled(&key_options.dir, key_options.allow_insecure_permissions);
                (Signer::Keys(ring), store, None, None)
            }
            (SignerChoice::Keys, project_id) => {
                let dir = &key_options.dir;
                let allow_insecure = key_options.allow_insecure_permissions;
                let loaded = keys::load_dir(dir, allow_insecure)?;
                let key_project = loaded.keys.first().map(|k| k.project_id.clone());
                let project_id = loaded.project(dir, project_id.as_deref())?;
                if let Some(key_project) = key_project.as_ref().filter(|p| **p != project_id) {
                    // Supported (Firestore in one project, Firebase Auth in another), but a
                    // mistyped --project-id looks just like it.
                    warn!(
                        firestore_project = %project_id,
                        key_project = %key_project,
                        "--project-id differs from the signing keys' project: tokens (and the \
                         ID tokens the self-service routes take) are for the keys' Firebase \
                         project, accounts are read from --project-id's Firestore"
                    );
                }
                let store = connect(project_id, store).await?;
                let ring = KeyRing::unsettled(dir, allow_insecure);
                (Signer::Keys(ring), store, Some(loaded), key_project)
            }
            (SignerChoice::Iam(iam), project_id) => {
                let signer = IamSigner::new(&iam)?;
                let project_id = match project_id {
                    Some(project) => project,
                    None => signer.metadata_project_id().await?,
                };
                let store = connect(project_id, store).await?;
                (Signer::Iam(signer), store, None, None)
            }
        };
        let bridge = bridge::Bridge::new(bridge, store.project_id())?;
        // ID tokens name the project custom tokens are exchanged in: the signing keys'
        // (with IAM, the Firestore project unless set), which need not be Firestore's.
        let project = factors
            .id_token_project
            .clone()
            .or(key_project)
            .unwrap_or_else(|| store.project_id().to_string());
        // Unsigned (emulator) ID tokens only where no real user can be: demo- projects (the
        // ID tokens' and Firestore's, which holds the accounts) or `dev`, so a stray
        // FIREBASE_AUTH_EMULATOR_HOST in production turns nothing off.
        let demo = project.starts_with("demo-") && store.project_id().starts_with("demo-");
        let allow_unsigned = factors.auth_emulator && (demo || factors.dev);
        if factors.auth_emulator && !allow_unsigned {
            warn!(
                project = %project,
                firestore_project = %store.project_id(),
                "FIREBASE_AUTH_EMULATOR_HOST is set but the projects are not demo- ones: Firebase \
                 ID tokens are verified against Google's certificates all the same"
            );
        }
        if factors.mode != MfaMode::Off && !factors.sealer.seals() {
            tracing::info!(
                "TOTP secrets are stored unsealed: set --mfa-key to seal them (see the book, \
                 \"Second factor\")"
            );
        }
        let app_check = app_check.map(|mut options| {
            options.project_id.get_or_insert_with(|| project.clone());
            app_check::AppCheck::new(AppCheckVerifier::new(options))
        });
        if app_check.is_some() {
            crate::google::warm_api_client();
        }
        let decoy_key = factors.sealer.derive(b"passkey decoys");
        let relying_party =
            crate::passkeys::RelyingParty::new(&passkeys, decoy_key.as_ref().map(|k| &k[..]))
                .map_err(crate::Error::config)?;
        let id_tokens = IdTokenVerifier::new(IdTokenOptions {
            project_id: project,
            certs_url: factors.id_token_certs_url.clone(),
            allow_unsigned,
        });
        let service = Arc::new(Service {
            bridge,
            legacy,
            breached,
            at_sign_in,
            app_check,
            signer,
            passwords,
            store,
            publication: Publication::new(&key_options.x509_base_url),
            admin,
            reset,
            messages,
            key_refresh: key_options.refresh,
            recorded_at_start: std::sync::atomic::AtomicBool::new(false),
            settled: tokio::sync::watch::Sender::new(None),
            stats_cache: tokio::sync::Mutex::new(None),
            policy,
            factors,
            relying_party,
            id_tokens,
            admissions: Arc::new(tokio::sync::Semaphore::new(admissions)),
            legacy_count: legacy::LegacyCount::default(),
            checks_in_flight: crate::lockout::Ledger::new(),
        });
        let settling = service.settle_in_background(loaded);
        Ok((service, settling))
    }

    /// The pages' and mails' words.
    pub fn messages(&self) -> &Arc<Catalogs> {
        &self.messages
    }

    /// The product name pages and mails speak of (`--product-name`).
    pub fn product(&self) -> &str {
        self.reset
            .as_ref()
            .map_or("firegate", |r| r.options.product.as_str())
    }

    /// The Auth emulator's URL when its (unsigned) ID tokens are taken: the demo enrolment
    /// page turns custom tokens into ID tokens there.
    pub fn auth_emulator_url(&self) -> Option<&str> {
        self.id_tokens
            .allows_unsigned()
            .then_some(self.factors.auth_emulator_url.as_deref())
            .flatten()
    }

    /// The Firebase project whose ID tokens the self-service routes take.
    pub fn id_token_project(&self) -> &str {
        self.id_tokens.project_id()
    }

    /// The shortest new password, in characters.
    pub fn min_password_chars(&self) -> usize {
        self.policy.min_password_chars
    }

    /// Key rotation over this service's ring, store and certificate endpoint; refused with
    /// IAM Credentials, whose keys Google manages.
    pub fn rotation(&self) -> Result<Rotation<'_>> {
        let ring = self
            .signer
            .key_ring()
            .ok_or(crate::Error::Disabled(NO_ROTATION))?;
        Ok(Rotation {
            ring,
            store: &self.store,
            publication: &self.publication,
        })
    }
}

/// Why rotation commands refuse to run with `--signer iam`.
pub const NO_ROTATION: &str = "key rotation does not apply to --signer iam: Google creates and \
     rotates the keys of the service account; see the book, \"Keys and keyless signing\"";

/// Opens the Firestore client, recording the project for the logs. A `demo-` project exists
/// only in the emulators, so without an emulator host it is refused with the fix (rather
/// than a DNS error from Google's endpoint, deep in gRPC text).
async fn connect(project_id: String, options: StoreOptions) -> Result<Store> {
    if project_id.starts_with("demo-") && options.emulator_host.is_none() {
        return Err(crate::Error::config(format!(
            "project `{project_id}` is a demo project, which exists only in the Firebase \
             emulators: set FIRESTORE_EMULATOR_HOST (`firegate dev` prints the line to export) \
             or give --project-id of a real project"
        )));
    }
    crate::telemetry::set_project(&project_id);
    Store::connect(project_id, options).await
}

/// The admin page and API credential: a user name and an argon2id hash of the password.
#[derive(Debug, Clone)]
pub struct AdminCredential {
    pub user: String,
    pub password_hash: SecretString,
}

//! `firegate keys …` and `firegate admin …`: key rotation from the command line, and the
//! admin credential the HTTP admin page checks.

use clap::Subcommand;

use crate::config::{HashArgs, KeyAdminArgs, KeyRotationArgs, KeysDirArgs, SignerKind};
use crate::google::IamSigner;
use crate::keys::{self, KeyInfo, Publication};
use crate::passwords::Passwords;
use crate::service::{KeyAdmin, NO_ROTATION, Signer, SignerChoice, SignerInfo};
use crate::{Error, Result};

/// Key rotation.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// List keys: kid, client email, state, SHA-256 fingerprint of the public key, created.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: KeyAdminArgs,
    },
    /// Generate an RSA-2048 key here (the private key never leaves this machine) and a
    /// certificate to upload with `gcloud iam service-accounts keys upload`.
    Generate {
        /// The service account the key is for (…@PROJECT.iam.gserviceaccount.com).
        #[arg(long)]
        client_email: String,
        /// File name (without extension) for the key and certificate.
        #[arg(long)]
        name: Option<String>,
        /// Project of a --client-email not of the form NAME@PROJECT.iam.gserviceaccount.com.
        #[arg(long, env = "FIREGATE_PROJECT_ID")]
        project_id: Option<String>,
        #[command(flatten)]
        dir: KeysDirArgs,
    },
    /// Record the key id Google assigned to an uploaded certificate.
    ImportId {
        /// The key: its file, file name without extension, or pending id.
        key: String,
        /// The 40-hex-character id (the last part of the key name `keys upload` prints).
        kid: String,
        #[command(flatten)]
        dir: KeysDirArgs,
    },
    /// Make a key the signing key on every instance.
    Activate {
        kid: String,
        /// Skip the check that Google publishes the key's certificate.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        at: KeyAdminArgs,
        #[command(flatten)]
        rotation: KeyRotationArgs,
    },
    /// Check the signer: sign a probe token and verify it with the certificate Google
    /// publishes for its key (with --signer iam: one signBlob call as the service account).
    Check {
        #[command(flatten)]
        at: KeyAdminArgs,
        #[command(flatten)]
        rotation: KeyRotationArgs,
    },
    /// Retire a key: it never signs again.
    Retire {
        kid: String,
        #[command(flatten)]
        at: KeyAdminArgs,
    },
}

/// Admin credential tools.
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Read a password from stdin and print the argon2id hash for --admin-password-hash.
    HashPassword {
        #[command(flatten)]
        hashing: HashArgs,
    },
}

/// Runs one `keys` subcommand.
pub async fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Generate {
            client_email,
            name,
            project_id,
            dir,
        } => generate(client_email, name, project_id, &dir).await,
        KeysCommand::ImportId { key, kid, dir } => import_id(&key, &kid, &dir),
        // These open the keys without requiring an active one (a server would refuse to
        // start), so they can repair that; listing only reads.
        KeysCommand::List { json, at } if at.signer.signer == SignerKind::Iam => {
            list_iam(&at, json)
        }
        KeysCommand::Activate { at, .. } | KeysCommand::Retire { at, .. }
            if at.signer.signer == SignerKind::Iam =>
        {
            Err(Error::Disabled(NO_ROTATION))
        }
        KeysCommand::Check { at, rotation } => check(&at, &rotation).await,
        KeysCommand::List { json, at } => list(&at, json).await,
        KeysCommand::Activate {
            kid,
            force,
            at,
            rotation,
        } => activate(&kid, force, &at, &rotation).await,
        KeysCommand::Retire { kid, at } => retire(&kid, &at).await,
    }
}

/// `keys generate`: an RSA key and its certificate, for a service account of the project the
/// directory's keys already sign for.
async fn generate(
    client_email: String,
    name: Option<String>,
    project_id: Option<String>,
    dir: &KeysDirArgs,
) -> Result<()> {
    // The service account's address names its project; --project-id only helps for
    // addresses of other forms.
    let project = match (project_of(&client_email), &project_id) {
        (Some(p), _) => p,
        (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(Error::invalid(
                "invalid_client_email",
                "--client-email must be NAME@PROJECT.iam.gserviceaccount.com (or pass --project-id)",
            ));
        }
    };
    // The keys of one directory sign for one Firebase project: a key of another
    // project would be refused by Firebase the day it is activated.
    if let Ok(existing) = keys::load_dir(&dir.keys_dir, true)
        && let Some(other) = existing.keys.iter().find(|k| k.project_id != project)
    {
        return Err(Error::invalid(
            "invalid_client_email",
            format!(
                "--client-email {client_email} belongs to project {project}, but the \
                 keys in {} sign for {} ({}): Firebase accepts custom tokens only from \
                 service accounts of its own project",
                dir.keys_dir.display(),
                other.project_id,
                other.file.display()
            ),
        ));
    }
    let name =
        name.unwrap_or_else(|| format!("key-{}", jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S")));
    let files = tokio::task::spawn_blocking({
        let dir = dir.keys_dir.clone();
        move || keys::generate(&dir, &client_email, &project, &name)
    })
    .await??;
    out!(
        "private key:  {} (mode 0600; it never needs to leave this machine)",
        files.key_file.display()
    );
    out!("certificate:  {}", files.certificate_file.display());
    out!("\nUpload the certificate, then record the key id Google prints:\n");
    out!("  {}", files.upload_command);
    let stem = files
        .key_file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    out!("  firegate keys import-id {stem} <KEY_ID>");
    Ok(())
}

/// `keys import-id`: records the key id Google assigned to an uploaded certificate.
fn import_id(key: &str, kid: &str, dir: &KeysDirArgs) -> Result<()> {
    let file = keys::import_id(&dir.keys_dir, key, kid)?;
    out!("{}: key id set to {}", file.display(), kid.to_lowercase());
    out!("next: firegate keys activate {}", kid.to_lowercase());
    Ok(())
}

/// `keys list --signer iam`: there are no key files; says whose keys sign.
fn list_iam(at: &KeyAdminArgs, json: bool) -> Result<()> {
    let info = SignerInfo {
        signer: "iam",
        service_account: at.signer.service_account.clone(),
        key_id: None,
    };
    if json {
        out!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        let account = info
            .service_account
            .as_deref()
            .unwrap_or("the metadata server's default account");
        out!("signer: iam (IAM Credentials signBlob as {account})");
        out!("Google creates and rotates this account's keys; no key file is used.");
        out!("Sign a probe and see its key id with `firegate keys check --signer iam`.");
    }
    Ok(())
}

/// `keys list`: the keys of the directory, and what is wrong with the active one.
async fn list(at: &KeyAdminArgs, json: bool) -> Result<()> {
    let admin = open(at, None).await?;
    let listed = admin.rotation().list();
    print_keys(&listed, json)?;
    for problem in admin.ring.problems() {
        eprintln!("warning: {problem}");
    }
    let recorded = admin.recorded.as_ref().and_then(|r| r.active.as_deref());
    match (recorded, admin.ring.try_active()) {
        (Some(kid), None) => eprintln!(
            "warning: Firestore records {kid} as the active key, but it is not in {}",
            at.keys.dir.keys_dir.display()
        ),
        (None, None) => {
            eprintln!("warning: no key is active; choose one with `firegate keys activate <kid>`")
        }
        _ => {}
    }
    Ok(())
}

/// `keys activate`: makes a key the signing key on every instance.
async fn activate(
    kid: &str,
    force: bool,
    at: &KeyAdminArgs,
    rotation: &KeyRotationArgs,
) -> Result<()> {
    let admin = open(at, Some(rotation)).await?;
    let key = admin.rotation().activate(kid, force, &actor()).await?;
    out!(
        "{} is now the signing key; running servers switch within {}s",
        key.kid,
        rotation.key_refresh_secs
    );
    Ok(())
}

/// `keys retire`: the key never signs again.
async fn retire(kid: &str, at: &KeyAdminArgs) -> Result<()> {
    let admin = open(at, None).await?;
    let key = admin.rotation().retire(kid, &actor()).await?;
    out!(
        "{} is retired; delete it at Google once tokens it signed have expired",
        key.kid
    );
    Ok(())
}

/// The shortest admin password `admin hash-password` accepts: the admin page guards every
/// account.
const MIN_ADMIN_PASSWORD_CHARS: usize = 12;

/// Runs one `admin` subcommand.
pub async fn run_admin(command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::HashPassword { hashing } => {
            let password = super::read_new_password()?;
            let chars = password.expose().chars().count();
            if chars < MIN_ADMIN_PASSWORD_CHARS {
                return Err(crate::Error::invalid(
                    "weak_password",
                    format!(
                        "the admin password has {chars} characters; use at least \
                         {MIN_ADMIN_PASSWORD_CHARS} (a passphrase of a few words)"
                    ),
                ));
            }
            let passwords = Passwords::new(&hashing.options(None, None))?;
            out!("{}", passwords.hash(&password).await?.hash);
        }
    }
    Ok(())
}

/// `keys check`: a probe token, signed as a server would sign it, verified with the
/// certificate Google publishes, so what is checked is what Firebase Auth will check.
async fn check(at: &KeyAdminArgs, rotation: &KeyRotationArgs) -> Result<()> {
    let publication = Publication::new(&rotation.x509_base_url);
    let unverified = |why: crate::keys::PublicationError| {
        Error::invalid("signature_unverified", why.to_string()).caused_by(why)
    };
    match at.signer.choice() {
        SignerChoice::Iam(options) => {
            let signer = Signer::Iam(IamSigner::new(&options)?);
            let token = signer.probe().await?;
            let info = signer.info();
            let email = info.service_account.unwrap_or_default();
            let kid = info.key_id.unwrap_or_default();
            out!("signer:           iam (IAM Credentials signBlob)");
            out!("service account:  {email}");
            out!("signBlob:         ok, signed with Google-managed key {kid}");
            let (message, signature) = crate::custom_token::split_signature(&token)
                .ok_or_else(|| Error::internal("the probe token has no signature part"))?;
            publication
                .verify(&email, &kid, message.as_bytes(), &signature)
                .await
                .map_err(unverified)?;
            out!("published key:    ok (Firebase Auth verifies these tokens with it)");
        }
        SignerChoice::Keys => {
            let admin = open(at, Some(rotation)).await?;
            let Some(active) = admin.ring.try_active() else {
                return Err(Error::invalid(
                    "no_active_key",
                    "no key is active; choose one with `firegate keys activate <kid>`",
                ));
            };
            out!("signer:           key (key file {})", active.file.display());
            out!("service account:  {}", active.client_email);
            out!("key id:           {}", active.kid);
            publication.check(&active).await.map_err(unverified)?;
            out!("published key:    ok (Firebase Auth verifies these tokens with it)");
        }
    }
    Ok(())
}

/// The keys and recorded state the key commands work on.
async fn open(at: &KeyAdminArgs, rotation: Option<&KeyRotationArgs>) -> Result<KeyAdmin> {
    KeyAdmin::open(
        &at.keys.options(rotation),
        at.store.project_id.as_deref(),
        at.store.options(),
    )
    .await
}

fn project_of(client_email: &str) -> Option<String> {
    let (_, domain) = client_email.split_once('@')?;
    let project = domain.strip_suffix(".iam.gserviceaccount.com")?;
    (!project.is_empty()).then(|| project.to_string())
}

/// Who runs a CLI command, for the audit trail.
fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

fn print_keys(keys: &[KeyInfo], json: bool) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(keys)?;
        out!("{text}");
        return Ok(());
    }
    out!(
        "{:<42} {:<8} {:<18} {:<64} CLIENT EMAIL",
        "KID",
        "STATE",
        "CREATED",
        "FINGERPRINT (SHA-256)"
    );
    for k in keys {
        let state = serde_json::to_value(k.state)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let created = k
            .created
            .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let kid = if k.kid.is_empty() { "-" } else { &k.kid };
        out!(
            "{kid:<42} {state:<8} {created:<18} {:<64} {}",
            k.fingerprint,
            k.client_email
        );
        if let Some(problem) = &k.problem {
            out!("    ! {problem}");
        }
    }
    Ok(())
}

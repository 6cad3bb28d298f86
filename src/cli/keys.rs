//! `firegate keys …` and `firegate admin …`: key rotation from the command line, and the
//! admin credential the HTTP admin page checks.

use clap::Subcommand;

use crate::config::Config;
use crate::keys::{self, KeyAdmin, KeyInfo};
use crate::passwords::Passwords;
use crate::{Error, Result};

/// Key rotation.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// List keys: kid, client email, state, SHA-256 fingerprint of the public key, created.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
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
    },
    /// Record the key id Google assigned to an uploaded certificate.
    ImportId {
        /// The key: its file, file name without extension, or pending id.
        key: String,
        /// The 40-hex-character id (the last part of the key name `keys upload` prints).
        kid: String,
    },
    /// Make a key the signing key on every instance.
    Activate {
        kid: String,
        /// Skip the check that Google publishes the key's certificate.
        #[arg(long)]
        force: bool,
    },
    /// Retire a key: it never signs again.
    Retire { kid: String },
}

/// Admin credential tools.
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Read a password from stdin and print the argon2id hash for --admin-password-hash.
    HashPassword,
}

/// Runs one `keys` subcommand.
pub async fn run(config: Config, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Generate { client_email, name } => {
            // The service account's address names its project; --project-id only helps for
            // addresses of other forms.
            let project = match (project_of(&client_email), &config.project_id) {
                (Some(p), _) => p,
                (None, Some(p)) => p.clone(),
                (None, None) => {
                    return Err(Error::invalid(
                        "invalid_client_email",
                        "--client-email must be NAME@PROJECT.iam.gserviceaccount.com (or pass --project-id)",
                    ));
                }
            };
            let name = name.unwrap_or_else(|| {
                format!("key-{}", jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S"))
            });
            let files = tokio::task::spawn_blocking({
                let dir = config.keys_dir.clone();
                move || keys::generate(&dir, &client_email, &project, &name)
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
            println!(
                "private key:  {} (mode 0600; it never needs to leave this machine)",
                files.key_file.display()
            );
            println!("certificate:  {}", files.certificate_file.display());
            println!("\nUpload the certificate, then record the key id Google prints:\n");
            println!("  {}", files.upload_command);
            let stem = files
                .key_file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            println!("  firegate keys import-id {stem} <KEY_ID>");
        }
        KeysCommand::ImportId { key, kid } => {
            let file = keys::import_id(&config.keys_dir, &key, &kid)?;
            println!("{}: key id set to {}", file.display(), kid.to_lowercase());
            println!("next: firegate keys activate {}", kid.to_lowercase());
        }
        // These open the keys without requiring an active one (a server would refuse to
        // start), so they can repair that; listing only reads.
        KeysCommand::List { json } => {
            let admin = KeyAdmin::open(&config).await?;
            let listed = admin.rotation().list();
            print_keys(&listed, json)?;
            for problem in admin.ring.problems() {
                eprintln!("warning: {problem}");
            }
            let recorded = admin.recorded.as_ref().and_then(|r| r.active.as_deref());
            match (recorded, admin.ring.try_active()) {
                (Some(kid), None) => eprintln!(
                    "warning: Firestore records {kid} as the active key, but it is not in {}",
                    config.keys_dir.display()
                ),
                (None, None) => eprintln!(
                    "warning: no key is active; choose one with `firegate keys activate <kid>`"
                ),
                _ => {}
            }
        }
        KeysCommand::Activate { kid, force } => {
            let admin = KeyAdmin::open(&config).await?;
            let key = admin.rotation().activate(&kid, force, &actor()).await?;
            println!(
                "{} is now the signing key; running servers switch within {}s",
                key.kid, config.key_refresh_secs
            );
        }
        KeysCommand::Retire { kid } => {
            let admin = KeyAdmin::open(&config).await?;
            let key = admin.rotation().retire(&kid, &actor()).await?;
            println!(
                "{} is retired; delete it at Google once tokens it signed have expired",
                key.kid
            );
        }
    }
    Ok(())
}

/// Runs one `admin` subcommand.
pub async fn run_admin(config: Config, command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::HashPassword => {
            let password = super::read_password()?;
            let passwords = Passwords::new(&config.passwords, config.cost_limits.limits())?;
            println!("{}", passwords.hash(&password).await?.hash);
        }
    }
    Ok(())
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
        let text =
            serde_json::to_string_pretty(keys).map_err(|e| Error::Internal(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    println!(
        "{:<42} {:<8} {:<18} {:<64} CLIENT EMAIL",
        "KID", "STATE", "CREATED", "FINGERPRINT (SHA-256)"
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
        println!(
            "{kid:<42} {state:<8} {created:<18} {:<64} {}",
            k.fingerprint, k.client_email
        );
        if let Some(problem) = &k.problem {
            println!("    ! {problem}");
        }
    }
    Ok(())
}

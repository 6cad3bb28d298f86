//! `firegate accounts …`: account administration from the command line. Passwords are read
//! from stdin (never argv); output is JSON or a plain table, never a hash.

use std::io::{IsTerminal, Read, Write};

use clap::Subcommand;
use jiff::Timestamp;

use crate::accounts::{AccountSummary, Uid};
use crate::claims::Claims;
use crate::config::AccountsArgs;
use crate::login::Login;
use crate::passwords::Password;
use crate::service::{AccountRef, NewAccount, Service};
use crate::store::AccountFilter;
use crate::{Error, Result};

/// Account administration.
#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Create an account; the password is read from stdin (never from the command line).
    Create {
        /// Email or username; give it twice for an account with both.
        #[arg(long = "login", required = true, num_args = 1, action = clap::ArgAction::Append)]
        logins: Vec<String>,
        /// Firebase uid [default: a random 28-character uid].
        #[arg(long)]
        uid: Option<String>,
        /// Developer claims as a JSON object, copied into every token.
        #[arg(long)]
        claims: Option<String>,
        /// Record the email as verified (you know it reaches its owner); otherwise its state
        /// is unknown, which `--require-verified-email` lets sign in.
        #[arg(long)]
        email_verified: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Show an account as JSON (never its password hash).
    Show {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Disable an account: it can no longer sign in.
    Disable {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Re-enable a disabled account.
    Enable {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Delete an account and free its logins (asks for confirmation unless --yes).
    Delete {
        #[command(flatten)]
        which: Which,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Replace an account's developer claims (a JSON object; `{}` removes them all).
    // The uid may be missing before the claims: `set-claims --login LOGIN CLAIMS`.
    #[command(allow_missing_positional = true)]
    SetClaims {
        #[command(flatten)]
        which: Which,
        /// The claims: a JSON object.
        claims: String,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Forget an account's failed sign-ins (or a login's), lifting a brute-force lock.
    Unlock {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Set an account's password, read from stdin.
    SetPassword {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// List accounts in uid order, a page at a time.
    List {
        /// Only accounts whose hash scheme is this (e.g. argon2id, werkzeug-pbkdf2-sha256).
        #[arg(long)]
        scheme: Option<String>,
        /// Only disabled accounts.
        #[arg(long, conflicts_with = "enabled")]
        disabled: bool,
        /// Only enabled accounts.
        #[arg(long)]
        enabled: bool,
        /// Page size.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Start after this uid (the last uid of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Accounts per password-hash scheme: how far the migration to argon2id has come.
    Stats {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// An account's second factor: show it, or remove it for an owner who lost it.
    Mfa {
        #[command(subcommand)]
        command: MfaCommand,
    },
    /// An account's passkeys: list them, or remove one (a lost or stolen device).
    Passkeys {
        #[command(subcommand)]
        command: PasskeysCommand,
    },
    /// Claim the look-alike skeleton of every login that has none (accounts from before
    /// look-alike logins were refused); prints the logins that look like another account's.
    ClaimLookAlikes {
        #[command(flatten)]
        at: AccountsArgs,
    },
}

/// `accounts mfa …`.
#[derive(Subcommand, Debug)]
pub enum MfaCommand {
    /// Show an account's second factor as JSON (never a secret or a code).
    Show {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Remove every second factor of an account (asks for confirmation unless --yes); its
    /// owner signs in with the password alone and may enrol again.
    Reset {
        #[command(flatten)]
        which: Which,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
}

/// `accounts passkeys …`.
#[derive(Subcommand, Debug)]
pub enum PasskeysCommand {
    /// List an account's passkeys as JSON (ids, names, dates; never a key).
    List {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        at: AccountsArgs,
    },
    /// Remove one passkey of an account (asks for confirmation unless --yes); the owner is
    /// mailed, and removing the last one turns passkeys off as the second factor.
    Remove {
        #[command(flatten)]
        which: Which,
        /// The passkey's credential id (from `accounts passkeys list`).
        #[arg(long)]
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        at: AccountsArgs,
    },
}

/// The account a command acts on: its uid, or the account holding `--login`. A uid is never
/// read as a login, nor a login as a uid.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// The account's uid.
    uid: Option<String>,
    /// The account holding this email or username, instead of a uid.
    #[arg(long)]
    login: Option<String>,
}

impl Which {
    fn target(&self) -> AccountRef {
        match &self.login {
            Some(login) => AccountRef::Login(login.clone()),
            // clap requires the uid without --login.
            None => AccountRef::Uid(self.uid.clone().unwrap_or_default()),
        }
    }
}

/// Runs one `accounts` subcommand.
pub async fn run(command: AccountsCommand) -> Result<()> {
    let service = Service::build(command.settings().service_options()).await?;
    match command {
        AccountsCommand::Create {
            logins,
            uid,
            claims,
            email_verified,
            ..
        } => {
            let email_verified = email_verified.then_some(true);
            let (email, username) = split_logins(&logins)?;
            let uid = uid.as_deref().map(Uid::parse).transpose()?;
            let claims = claims
                .as_deref()
                .map(Claims::from_json)
                .transpose()?
                .unwrap_or_default();
            let password = read_new_password()?;
            service.check_new_password(&password).await?;
            let new = NewAccount {
                uid,
                email,
                email_verified,
                username,
                password,
                claims,
            };
            let account = service.create_account(new, Timestamp::now()).await?;
            out!("{}", account.uid);
        }
        AccountsCommand::Show { which, .. } => {
            print_json(&service.show_account(&which.target()).await?)?
        }
        AccountsCommand::Disable { which, .. } => {
            print_json(&service.set_disabled(&which.target(), true).await?)?
        }
        AccountsCommand::Enable { which, .. } => {
            print_json(&service.set_disabled(&which.target(), false).await?)?
        }
        AccountsCommand::Delete { which, yes, .. } => {
            let target = which.target();
            if !yes {
                confirm(&format!(
                    "Delete the account with the {target} and free its logins?"
                ))?;
            }
            let uid = service.delete_account(&target).await?;
            out!("deleted {uid}");
        }
        AccountsCommand::SetClaims { which, claims, .. } => {
            let claims = Claims::from_json(&claims)?;
            print_json(&service.set_claims(&which.target(), claims).await?)?;
        }
        AccountsCommand::Unlock { which, .. } => {
            let target = which.target();
            if service.unlock(&target).await?.cleared {
                out!("unlocked the {target}");
            } else {
                out!("nothing to unlock: the {target} has no failed sign-ins counted");
            }
        }
        AccountsCommand::SetPassword { which, .. } => {
            let password = read_new_password()?;
            let uid = service
                .set_password(&which.target(), &password, Timestamp::now())
                .await?;
            out!("password set for {uid}");
        }
        AccountsCommand::List {
            scheme,
            disabled,
            enabled,
            limit,
            after,
            json,
            ..
        } => {
            let filter = AccountFilter {
                scheme,
                disabled: if disabled {
                    Some(true)
                } else if enabled {
                    Some(false)
                } else {
                    None
                },
            };
            let after = after.as_deref().map(Uid::parse).transpose()?;
            let page = service
                .list_accounts(&filter, limit, after.as_ref())
                .await?;
            print_list(&page, json, limit)?;
        }
        AccountsCommand::Stats { json, .. } => {
            let stats = service.scheme_stats().await?;
            if json {
                print_json(&stats)?;
            } else {
                let total: u64 = stats.iter().map(|s| s.accounts).sum();
                let graduated: u64 = stats.iter().map(|s| s.graduated).sum();
                out!(
                    "{:<32} {:>10} {:>7} {:>10}",
                    "SCHEME",
                    "ACCOUNTS",
                    "SHARE",
                    "GRADUATED"
                );
                for s in &stats {
                    let share = 100.0 * s.accounts as f64 / total.max(1) as f64;
                    out!(
                        "{:<32} {:>10} {:>6.1}% {:>10}",
                        s.scheme,
                        s.accounts,
                        share,
                        s.graduated
                    );
                }
                out!("{:<32} {:>10} {:>7} {:>10}", "total", total, "", graduated);
                let legacy = crate::service::legacy_accounts(&stats);
                if legacy > 0 {
                    let (noun, verb) = if legacy == 1 {
                        ("account", "needs")
                    } else {
                        ("accounts", "need")
                    };
                    out!(
                        "\n{legacy} {noun} still {verb} the legacy system (scheme external): \
                         each moves off it at its first sign-in through --legacy-verify-url"
                    );
                } else if total > 0 {
                    out!(
                        "\nno account needs the legacy system: its verify hook may be switched off"
                    );
                }
                let second_factor = service.second_factor_count().await?;
                out!("accounts with a second factor: {second_factor}");
                let breached = service.breached_count().await?;
                out!(
                    "accounts whose password was found in breaches at a legacy sign-in \
                     (not changed since): {breached}"
                );
                let passkeys = service.passkey_account_count().await?;
                out!("accounts with a passkey: {passkeys}");
            }
        }
        AccountsCommand::Passkeys {
            command: PasskeysCommand::List { which, .. },
        } => {
            let (uid, passkeys) = service.account_passkeys(&which.target()).await?;
            print_json(&serde_json::json!({ "uid": uid, "passkeys": passkeys }))?;
        }
        AccountsCommand::Passkeys {
            command: PasskeysCommand::Remove { which, id, yes, .. },
        } => {
            let target = which.target();
            if !yes {
                confirm(&format!(
                    "Remove passkey {id} of the account with the {target}?"
                ))?;
            }
            service
                .remove_account_passkey(&target, &id, "firegate:cli")
                .await?;
            out!("removed passkey {id}");
        }
        AccountsCommand::ClaimLookAlikes { .. } => {
            print_json(&service.claim_look_alikes().await?)?;
        }
        AccountsCommand::Mfa {
            command: MfaCommand::Show { which, .. },
        } => {
            let detail = service.show_account(&which.target()).await?;
            print_json(&serde_json::json!({
                "uid": detail.account.uid,
                "second_factor": detail.account.second_factor,
            }))?;
        }
        AccountsCommand::Mfa {
            command: MfaCommand::Reset { which, yes, .. },
        } => {
            let target = which.target();
            if !yes {
                confirm(&format!(
                    "Remove every second factor of the account with the {target}?"
                ))?;
            }
            let reset = service.reset_factors(&target, "firegate:cli").await?;
            if reset.removed {
                out!("removed the second factors of {}", reset.uid);
            } else {
                out!("{} has no second factor", reset.uid);
            }
        }
    }
    Ok(())
}

impl AccountsCommand {
    /// The settings every account command carries.
    fn settings(&self) -> &AccountsArgs {
        match self {
            AccountsCommand::Create { at, .. }
            | AccountsCommand::Show { at, .. }
            | AccountsCommand::Disable { at, .. }
            | AccountsCommand::Enable { at, .. }
            | AccountsCommand::Delete { at, .. }
            | AccountsCommand::SetClaims { at, .. }
            | AccountsCommand::Unlock { at, .. }
            | AccountsCommand::SetPassword { at, .. }
            | AccountsCommand::List { at, .. }
            | AccountsCommand::Stats { at, .. }
            | AccountsCommand::ClaimLookAlikes { at }
            | AccountsCommand::Mfa {
                command: MfaCommand::Show { at, .. } | MfaCommand::Reset { at, .. },
            }
            | AccountsCommand::Passkeys {
                command: PasskeysCommand::List { at, .. } | PasskeysCommand::Remove { at, .. },
            } => at,
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    out!("{text}");
    Ok(())
}

fn print_list(page: &[AccountSummary], json: bool, limit: u32) -> Result<()> {
    match write_list(&mut std::io::stdout().lock(), page, json, limit) {
        // `| head` closed the pipe: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(Error::Io {
            what: "cannot write to standard output".into(),
            source,
        }),
        Ok(()) => Ok(()),
    }
}

/// The page as JSON lines, or as a table whose columns fit the widest value of each.
fn write_list(
    out: &mut impl Write,
    page: &[AccountSummary],
    json: bool,
    limit: u32,
) -> std::io::Result<()> {
    if json {
        for a in page {
            writeln!(out, "{}", serde_json::to_string(a)?)?;
        }
        return Ok(());
    }
    let rows: Vec<[String; 5]> = page
        .iter()
        .map(|a| {
            [
                a.uid.to_string(),
                a.logins.join(","),
                a.hash_scheme.clone(),
                if a.disabled { "disabled" } else { "enabled" }.to_string(),
                a.created_at.strftime("%Y-%m-%d").to_string(),
            ]
        })
        .collect();
    let header = ["UID", "LOGINS", "SCHEME", "STATE", "CREATED"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    if page.len() as u32 == limit
        && let Some(last) = page.last()
    {
        writeln!(out, "(more: --after {})", a_quote(last.uid.as_str()))?;
    }
    Ok(())
}

fn a_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Asks for `yes` on a terminal; without one, refuses (pass --yes in scripts).
fn confirm(question: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            "confirmation_required",
            "refusing to delete without confirmation; pass --yes",
        ));
    }
    eprint!("{question} Type yes to continue: ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(Error::io("cannot read the answer from standard input"))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::invalid(
            "not_confirmed",
            "not confirmed; nothing was deleted",
        ))
    }
}

/// One email and/or one username from repeated `--login` flags.
fn split_logins(logins: &[String]) -> Result<(Option<Login>, Option<Login>)> {
    let mut email = None;
    let mut username = None;
    for raw in logins {
        let login = Login::parse(raw)?;
        let slot = if login.is_email() {
            &mut email
        } else {
            &mut username
        };
        if slot.replace(login).is_some() {
            return Err(Error::invalid(
                "invalid_login",
                "give at most one email and one username with --login",
            ));
        }
    }
    Ok((email, username))
}

/// Reads a password from stdin: without echo on a terminal, otherwise the first line.
/// A new password: on a terminal asked twice (a typo would lock its owner out); from a pipe,
/// its first line.
pub fn read_new_password() -> Result<Password> {
    let first = read_password()?;
    if std::io::stdin().is_terminal() {
        let again = rpassword::prompt_password("Password again: ").map_err(|e| {
            Error::invalid(
                "unreadable_password",
                format!("cannot read the password from the terminal: {e}"),
            )
        })?;
        if again != first.expose() {
            return Err(Error::invalid(
                "passwords_differ",
                "the two passwords differ; nothing was changed",
            ));
        }
    }
    Ok(first)
}

pub fn read_password() -> Result<Password> {
    let unreadable = |e: std::io::Error| {
        Error::invalid(
            "unreadable_password",
            format!("cannot read the password from stdin: {e}"),
        )
    };
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(unreadable)?
    } else {
        let mut text = String::new();
        std::io::stdin()
            .take(crate::passwords::MAX_PASSWORD_BYTES as u64 + 2)
            .read_to_string(&mut text)
            .map_err(unreadable)?;
        let line = text.split('\n').next().unwrap_or_default();
        line.strip_suffix('\r').unwrap_or(line).to_string()
    };
    Password::new(text)
}

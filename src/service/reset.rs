//! Forgotten passwords: a reset link by mail, and the new password it allows.
//!
//! A request answers the same, after the same time, whether or not the account exists: the
//! lookup, the token and the mail happen in a task of their own after the answer's floor is
//! set, so neither the answer nor its timing depends on them. A token is 256 random bits,
//! stored only as its SHA-256, single use, short-lived, and outdated by any change of the
//! account (a password change above all). Confirming is one transaction: the new hash, the
//! token used, the account's failure record gone.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::RngExt;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::Service;
use super::failed_confirms::FailedConfirms;
use super::sign_in::Checked;
use crate::accounts::Account;
use crate::client_network::ClientNetwork;
use crate::login::Login;
use crate::mail::{Mail, MailKind, MailTemplates, MailVars, Mailer};
use crate::messages::{Arg, Asked, Catalogs, Lang, Locale};
use crate::passwords::Password;
use crate::store::NewToken;
use crate::{Error, Result};

/// Reset requests whose mail is being prepared at once; beyond, requests are answered alike
/// and dropped (the per-client rate limit comes first).
const IN_FLIGHT: usize = 16;

/// How password reset is set up.
#[derive(Debug, Clone)]
pub struct ResetOptions {
    /// The link in a reset mail; `{token}` is replaced by the token, `{lang}` by the mail's
    /// language.
    pub link_template: String,
    /// The link in a verification mail; verification is off without one.
    pub verify_link_template: Option<String>,
    /// Files that replace the built-in mail templates.
    pub templates_dir: Option<std::path::PathBuf>,
    /// How long a link works.
    pub lifetime: Duration,
    /// Most reset mails per account per hour.
    pub mails_per_hour: u32,
    /// The product name mails speak of.
    pub product: String,
}

/// Password reset as a running service holds it.
pub struct Reset {
    pub(super) options: ResetOptions,
    pub(super) mailer: Mailer,
    pub(super) templates: MailTemplates,
    pub(super) catalogs: Arc<Catalogs>,
    pub(super) in_flight: Arc<tokio::sync::Semaphore>,
    /// Failed token confirmations per client network.
    failed_confirms: FailedConfirms,
}

impl Reset {
    pub(super) fn new(
        options: ResetOptions,
        mailer: Mailer,
        catalogs: Arc<Catalogs>,
    ) -> Result<Reset> {
        let templates = MailTemplates::load(options.templates_dir.as_deref(), &catalogs)
            .map_err(|e| Error::config(e.to_string()).caused_by(e))?;
        Ok(Reset {
            options,
            mailer,
            templates,
            catalogs,
            in_flight: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
            failed_confirms: FailedConfirms::new(),
        })
    }
}

/// What a mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Reset,
    Verify,
    /// A reset link sent because a legacy sign-in found the password in breaches: a reset
    /// token like any other, in a mail that says why.
    BreachedReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset | Purpose::BreachedReset => "reset",
            Purpose::Verify => "verify",
        }
    }
}

/// The answer to a token that cannot be used, whatever the reason.
fn invalid_token() -> Error {
    Error::invalid(
        "invalid_token",
        "This link is invalid, used or expired; ask for a new one.",
    )
}

/// The id a token is stored under: its SHA-256, hex.
fn token_id(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Refuses an email that is not one bare address, in a request that may mail it: mail goes
/// to no other shape, and the refusal is the same whether or not an account has it.
/// Usernames (no `@`) pass.
fn check_mailable(login: &str) -> Result<()> {
    if login.contains('@') {
        Login::parse(login)?;
    }
    Ok(())
}

impl Service {
    /// Asks for a reset link for `login` (an email, or a username whose account has one).
    /// Always `Ok` once the request is well-formed, after at least the failure floor; the
    /// mail, if any, is sent meanwhile, written for `reader` (in the language the request
    /// names, else the account's own, else the default).
    pub async fn request_password_reset(
        self: &Arc<Self>,
        login: &str,
        reader: Asked,
        now: Timestamp,
    ) -> Result<()> {
        let Some(reset) = &self.reset else {
            return Err(Error::Disabled(
                "password reset is off: it needs --mail-url and --public-url",
            ));
        };
        check_mailable(login)?;
        let candidates = Login::candidates(login, self.policy.legacy_domain.as_deref())?;
        let started = Instant::now();
        match reset.in_flight.clone().try_acquire_owned() {
            Ok(permit) => {
                let service = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = service.send_reset(&candidates, &reader, now).await {
                        error!(error = %crate::error::chain(&e), "password reset mail not sent");
                    }
                    drop(permit);
                });
            }
            Err(_) => warn!("too many password resets in progress; this request was dropped"),
        }
        tokio::time::sleep_until(started + self.policy.failure_floor).await;
        Ok(())
    }

    async fn send_reset(&self, candidates: &[Login], reader: &Asked, now: Timestamp) -> Result<()> {
        let Some(found) = self.store.find_by_login(candidates).await? else {
            info!(outcome = "unknown", "password reset requested");
            return Ok(());
        };
        let reader = reader
            .clone()
            .reader(self.messages(), found.account.language.as_deref());
        self.send_link(&found.account, Purpose::Reset, &reader, now)
            .await
    }

    /// Mails `account` a link for `purpose`, within its hourly allowance: a new token (stored
    /// by its SHA-256 only, with the mail's language and time zone) in the link of that
    /// purpose, in `reader`'s language.
    pub(super) async fn send_link(
        &self,
        account: &Account,
        purpose: Purpose,
        reader: &Locale,
        now: Timestamp,
    ) -> Result<()> {
        let Some(reset) = &self.reset else {
            return Ok(());
        };
        let what = purpose.as_str();
        let Some(email) = account.email.as_ref().filter(|_| !account.disabled) else {
            info!(uid = %account.uid, outcome = "no_mail", purpose = what, "no link mailed: the account has no email, or is disabled");
            return Ok(());
        };
        let (template, kind) = match purpose {
            Purpose::Reset | Purpose::BreachedReset => {
                (Some(&reset.options.link_template), MailKind::Reset)
            }
            Purpose::Verify => (
                reset.options.verify_link_template.as_ref(),
                MailKind::Verify,
            ),
        };
        let Some(template) = template else {
            return Ok(());
        };
        // Only to the one address the login is: never a display name's address or a list,
        // which a login stored under older rules may hold.
        let Ok(to) = email.mail_address() else {
            warn!(uid = %account.uid, outcome = "unmailable", purpose = what, "no link mailed: the account's email is not one bare address");
            return Ok(());
        };
        if !self
            .store
            .take_mail_allowance(&account.uid, what, reset.options.mails_per_hour, now)
            .await?
        {
            warn!(uid = %account.uid, outcome = "limited", purpose = what, "mail limit reached");
            return Ok(());
        }
        let bytes: [u8; 32] = rand::rng().random();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let lifetime = reset.options.lifetime;
        let id = token_id(&token);
        let catalogs = &reset.catalogs;
        let lang = catalogs.tag(reader.lang);
        let expires_at = now + lifetime;
        self.store
            .create_token(&NewToken {
                id: &id,
                uid: &account.uid,
                purpose: what,
                expires_at,
                account_updated_at: account.updated_at,
                now,
                language: lang,
                time_zone: reader.zone.iana_name(),
            })
            .await?;
        // The tag is a loaded catalog's, never the client's text.
        let link = template.replace("{token}", &token).replace("{lang}", lang);
        let product = reset.options.product.as_str();
        let shown = to.to_string();
        let expires = catalogs.datetime(reader.lang, expires_at, &reader.zone);
        let vars = MailVars {
            product,
            to: &shown,
            link: &link,
            minutes: lifetime.as_secs().div_ceil(60),
            expires: &expires,
            lang,
            event: if purpose == Purpose::BreachedReset {
                "breached"
            } else {
                ""
            },
        };
        let (text, html) = reset
            .templates
            .render(kind, &vars, catalogs, reader.lang)
            .map_err(|e| Error::internal("cannot write the mail").caused_by(e))?;
        let subject_key = match purpose {
            Purpose::Reset => "reset-mail-subject",
            Purpose::BreachedReset => "reset-mail-breached-subject",
            Purpose::Verify => "verify-mail-subject",
        };
        let subject = catalogs
            .mail(reader.lang, subject_key, &[("product", Arg::from(product))])
            .unwrap_or_else(|| product.to_string());
        let mail = Mail {
            to,
            subject,
            text,
            html,
        };
        reset
            .mailer
            .send(&self.store, &mail)
            .await
            .map_err(|e| Error::internal("cannot send the mail").caused_by(e))?;
        match purpose {
            Purpose::Reset | Purpose::BreachedReset => {
                info!(uid = %account.uid, outcome = "sent", language = lang, "password reset mail sent")
            }
            Purpose::Verify => {
                info!(uid = %account.uid, outcome = "sent", language = lang, "verification mail sent")
            }
        }
        Ok(())
    }

    /// Tells the account's owner that its second factors changed (within the account's
    /// hourly allowance of such mails; nothing without mail or an email), in `reader`, the
    /// language the request that made the change names; without one (a request naming none,
    /// an admin's change, the CLI's), the language the account keeps.
    pub(super) async fn mail_factor_event(
        &self,
        account: &Account,
        event: &str,
        reader: Option<Lang>,
        now: Timestamp,
    ) -> Result<()> {
        let Some(reset) = &self.reset else {
            return Ok(());
        };
        let Some(to) = account.email.as_ref().and_then(|e| e.mail_address().ok()) else {
            return Ok(());
        };
        if !self
            .store
            .take_mail_allowance(&account.uid, "factor", reset.options.mails_per_hour, now)
            .await?
        {
            warn!(uid = %account.uid, outcome = "limited", purpose = "factor", "mail limit reached");
            return Ok(());
        }
        let product = reset.options.product.as_str();
        let shown = to.to_string();
        let catalogs = &reset.catalogs;
        let lang = match reader {
            Some(lang) => lang,
            None => catalogs.preferred(account.language.as_deref()),
        };
        let vars = MailVars {
            product,
            to: &shown,
            link: "",
            minutes: 0,
            expires: "",
            lang: catalogs.tag(lang),
            event,
        };
        let (text, html) = reset
            .templates
            .render(MailKind::Factor, &vars, catalogs, lang)
            .map_err(|e| Error::internal("cannot write the mail").caused_by(e))?;
        let mail = Mail {
            to,
            subject: catalogs
                .mail(
                    lang,
                    "factor-mail-subject",
                    &[("product", Arg::from(product))],
                )
                .unwrap_or_else(|| format!("Second factor changed on your {product} account")),
            text,
            html,
        };
        reset
            .mailer
            .send(&self.store, &mail)
            .await
            .map_err(|e| Error::internal("cannot send the mail").caused_by(e))?;
        info!(uid = %account.uid, outcome = "sent", "second-factor mail sent");
        Ok(())
    }

    /// The stored token a mailed `token` names, if it is of `purpose`, unused, unexpired
    /// and its account unchanged since; with the account, as read.
    async fn usable_token(
        &self,
        token: &str,
        purpose: Purpose,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<(
        String,
        crate::store::StoredToken,
        crate::store::StoredAccount,
    )> {
        let found = self.find_usable_token(token, purpose, now).await;
        self.count_confirm(&found, client)?;
        found
    }

    /// Counts a failed confirmation against `client`: past the hourly allowance, `429`.
    fn count_confirm<T>(&self, result: &Result<T>, client: Option<ClientNetwork>) -> Result<()> {
        let (Some(reset), Some(network), Err(Error::InvalidInput { code, .. })) =
            (&self.reset, client, result)
        else {
            return Ok(());
        };
        if *code == "invalid_token" && !reset.failed_confirms.count(&network) {
            warn!(client = %network, "repeated failed token confirmations");
            return Err(Error::RateLimited(
                "Too many invalid links from this address; retry later.",
            ));
        }
        Ok(())
    }

    /// Forgets the client networks whose failed confirmations have all aged out; the server
    /// calls it periodically, so the count's memory follows recent failures only.
    pub fn forget_idle_networks(&self) {
        if let Some(reset) = &self.reset {
            reset.failed_confirms.forget_idle();
        }
    }

    async fn find_usable_token(
        &self,
        token: &str,
        purpose: Purpose,
        now: Timestamp,
    ) -> Result<(
        String,
        crate::store::StoredToken,
        crate::store::StoredAccount,
    )> {
        // 256 bits in unpadded base64url: anything else was never issued.
        if token.len() != 43 || URL_SAFE_NO_PAD.decode(token).is_err() {
            return Err(invalid_token());
        }
        let id = token_id(token);
        let Some(stored) = self.store.find_token(&id).await? else {
            return Err(invalid_token());
        };
        if stored.purpose != purpose.as_str() || stored.used || stored.expires_at <= now {
            return Err(invalid_token());
        }
        let Some(found) = self.store.find_by_uid(&stored.uid).await? else {
            return Err(invalid_token());
        };
        if found.account.updated_at != stored.account_updated_at || found.account.disabled {
            return Err(invalid_token());
        }
        Ok((id, stored, found))
    }

    /// Sets a new password with a reset token. Every unusable token — unknown, used, expired,
    /// or outdated by a change of the account — is one answer, `invalid_token`.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &Password,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<()> {
        if self.reset.is_none() {
            return Err(Error::Disabled(
                "password reset is off: it needs --mail-url and --public-url",
            ));
        }
        self.check_new_password(new_password).await?;
        let (id, stored, found) = self
            .usable_token(token, Purpose::Reset, client, now)
            .await?;
        let hash = self.passwords.hash(new_password).await?;
        if !self
            .store
            .complete_reset(&id, &stored, found.version, &hash, now)
            .await?
        {
            return Err(invalid_token());
        }
        info!(uid = %stored.uid, "password reset");
        // Firebase sessions end; in graduate mode the new password moves there too.
        let mut account = found.account;
        account.email_verified = Some(true);
        self.bridge_changed(&account, Some(new_password), true)
            .await;
        Ok(())
    }
}

impl Service {
    /// Mails a verification link for the account `login` and `password` sign in to (checked
    /// like a sign-in: the same answer, lockout and floor for every failure). Nothing is sent
    /// for an address already verified, or beyond the hourly mail allowance; the answer is
    /// the same.
    pub async fn request_email_verification(
        self: &Arc<Self>,
        login: &str,
        password: &Password,
        client: Option<ClientNetwork>,
        reader: Asked,
        now: Timestamp,
    ) -> Result<()> {
        if !self.verification_on() {
            return Err(Error::Disabled(
                "email verification is off: it needs --mail-url and --public-url (or \
                 --verify-link-template)",
            ));
        }
        check_mailable(login)?;
        let admitted = self.admit()?;
        let started = Instant::now();
        let found = self
            .authenticate(admitted, login, password, client, now, None)
            .await;
        self.pad_failure(&found, started).await;
        let (Checked { found, .. }, _admitted) = found?;
        if found.account.email_verified != Some(true) {
            let reader = reader.reader(self.messages(), found.account.language.as_deref());
            self.mail_verification(found.account, reader, now);
        }
        Ok(())
    }

    /// Marks the account's email verified with a verification token; an unusable token is
    /// `invalid_token`, as for a reset.
    pub async fn confirm_email_verification(
        &self,
        token: &str,
        client: Option<ClientNetwork>,
        now: Timestamp,
    ) -> Result<()> {
        if !self.verification_on() {
            return Err(Error::Disabled("email verification is off"));
        }
        let (id, stored, found) = self
            .usable_token(token, Purpose::Verify, client, now)
            .await?;
        if !self
            .store
            .complete_verification(&id, &stored, found.version, now)
            .await?
        {
            return Err(invalid_token());
        }
        info!(uid = %stored.uid, "email verified");
        let mut account = found.account;
        account.email_verified = Some(true);
        self.bridge_changed(&account, None, false).await;
        Ok(())
    }

    /// Whether password reset is on.
    pub fn reset_on(&self) -> bool {
        self.reset.is_some()
    }

    /// Mails being prepared or sent in the background right now.
    pub fn mails_in_flight(&self) -> usize {
        self.reset
            .as_ref()
            .map_or(0, |r| IN_FLIGHT - r.in_flight.available_permits())
    }

    /// Whether verification links can be mailed.
    pub fn verification_on(&self) -> bool {
        self.reset
            .as_ref()
            .is_some_and(|r| r.options.verify_link_template.is_some())
    }

    /// A verification mail, in the background (at most [`IN_FLIGHT`] mails are prepared at
    /// once; beyond, this one is dropped with a warning).
    pub(super) fn mail_verification(
        self: &Arc<Self>,
        account: Account,
        reader: Locale,
        now: Timestamp,
    ) {
        let Some(reset) = self.reset.as_ref().filter(|_| self.verification_on()) else {
            return;
        };
        let Ok(permit) = reset.in_flight.clone().try_acquire_owned() else {
            warn!(uid = %account.uid, "too many mails in progress; verification mail dropped");
            return;
        };
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(e) = service
                .send_link(&account, Purpose::Verify, &reader, now)
                .await
            {
                error!(error = %crate::error::chain(&e), "verification mail not sent");
            }
            drop(permit);
        });
    }
}

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

use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::RngExt;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::Service;
use crate::login::Login;
use crate::mail::{Mail, Mailer};
use crate::passwords::Password;
use crate::store::NewToken;
use crate::{Error, Result};

/// Reset requests whose mail is being prepared at once; beyond, requests are answered alike
/// and dropped (the per-client rate limit comes first).
const IN_FLIGHT: usize = 16;

/// How password reset is set up.
#[derive(Debug, Clone)]
pub struct ResetOptions {
    /// The link in the mail; `{token}` is replaced by the token.
    pub link_template: String,
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
    pub(super) in_flight: Arc<tokio::sync::Semaphore>,
}

impl Reset {
    pub(super) fn new(options: ResetOptions, mailer: Mailer) -> Reset {
        Reset {
            options,
            mailer,
            in_flight: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
        }
    }
}

#[derive(Template)]
#[template(path = "reset_mail.txt")]
struct ResetText<'a> {
    product: &'a str,
    to: &'a str,
    link: &'a str,
    minutes: u64,
}

#[derive(Template)]
#[template(path = "reset_mail.html")]
struct ResetHtml<'a> {
    product: &'a str,
    to: &'a str,
    link: &'a str,
    minutes: u64,
}

const PURPOSE: &str = "reset";

/// The answer to a token that cannot be used, whatever the reason.
fn invalid_token() -> Error {
    Error::invalid(
        "invalid_token",
        "this reset link is invalid, used or expired; ask for a new one",
    )
}

/// The id a token is stored under: its SHA-256, hex.
fn token_id(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Service {
    /// Asks for a reset link for `login` (an email, or a username whose account has one).
    /// Always `Ok` once the request is well-formed, after at least the failure floor; the
    /// mail, if any, is sent meanwhile.
    pub async fn request_password_reset(
        self: &Arc<Self>,
        login: &str,
        now: Timestamp,
    ) -> Result<()> {
        let Some(reset) = &self.reset else {
            return Err(Error::Disabled(
                "password reset is off: it needs --mail-url and --public-url",
            ));
        };
        let candidates = Login::candidates(login, self.policy.legacy_domain.as_deref())?;
        let started = Instant::now();
        match reset.in_flight.clone().try_acquire_owned() {
            Ok(permit) => {
                let service = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = service.send_reset(&candidates, now).await {
                        error!(error = %e, "password reset mail not sent");
                    }
                    drop(permit);
                });
            }
            Err(_) => warn!("too many password resets in progress; this request was dropped"),
        }
        tokio::time::sleep_until(started + self.policy.failure_floor).await;
        Ok(())
    }

    async fn send_reset(&self, candidates: &[Login], now: Timestamp) -> Result<()> {
        let Some(reset) = &self.reset else {
            return Ok(());
        };
        let Some(found) = self.store.find_by_login(candidates).await? else {
            info!(outcome = "unknown", "password reset requested");
            return Ok(());
        };
        let account = &found.account;
        let Some(email) = account.email.as_ref().filter(|_| !account.disabled) else {
            info!(uid = %account.uid, outcome = "no_mail", "password reset requested for an account without an email, or disabled");
            return Ok(());
        };
        if !self
            .store
            .take_mail_allowance(&account.uid, reset.options.mails_per_hour, now)
            .await?
        {
            warn!(uid = %account.uid, outcome = "limited", "password reset mail limit reached");
            return Ok(());
        }
        let bytes: [u8; 32] = rand::rng().random();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let lifetime = reset.options.lifetime;
        let id = token_id(&token);
        self.store
            .create_token(&NewToken {
                id: &id,
                uid: &account.uid,
                purpose: PURPOSE,
                expires_at: now + lifetime,
                account_updated_at: account.updated_at,
                now,
            })
            .await?;
        let link = reset.options.link_template.replace("{token}", &token);
        let minutes = lifetime.as_secs().div_ceil(60);
        let product = reset.options.product.as_str();
        let to = email.as_str();
        let rendered = (
            ResetText {
                product,
                to,
                link: &link,
                minutes,
            }
            .render(),
            ResetHtml {
                product,
                to,
                link: &link,
                minutes,
            }
            .render(),
        );
        let (Ok(text), Ok(html)) = rendered else {
            return Err(Error::Internal(
                "the reset mail templates failed to render".into(),
            ));
        };
        let mail = Mail {
            to: to.to_string(),
            subject: format!("Reset your {product} password"),
            text,
            html,
        };
        reset
            .mailer
            .send(&self.store, &mail)
            .await
            .map_err(Error::Internal)?;
        info!(uid = %account.uid, outcome = "sent", "password reset mail sent");
        Ok(())
    }

    /// Sets a new password with a reset token. Every unusable token — unknown, used, expired,
    /// or outdated by a change of the account — is one answer, `invalid_token`.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &Password,
        now: Timestamp,
    ) -> Result<()> {
        if self.reset.is_none() {
            return Err(Error::Disabled(
                "password reset is off: it needs --mail-url and --public-url",
            ));
        }
        self.check_policy(new_password)?;
        // 256 bits in unpadded base64url: anything else was never issued.
        if token.len() != 43 || URL_SAFE_NO_PAD.decode(token).is_err() {
            return Err(invalid_token());
        }
        let id = token_id(token);
        let Some(stored) = self.store.find_token(&id).await? else {
            return Err(invalid_token());
        };
        if stored.purpose != PURPOSE || stored.used || stored.expires_at <= now {
            return Err(invalid_token());
        }
        let Some(found) = self.store.find_by_uid(&stored.uid).await? else {
            return Err(invalid_token());
        };
        if found.account.updated_at != stored.account_updated_at || found.account.disabled {
            return Err(invalid_token());
        }
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
        self.bridge_changed(&found.account, Some(new_password), true)
            .await;
        Ok(())
    }
}

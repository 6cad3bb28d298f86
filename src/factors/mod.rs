//! The second factor of an account: a TOTP authenticator (RFC 6238) and single-use recovery
//! codes, as stored beside the account, and the rules that check a code against them. Codes
//! are checked here; the store records the step a code was accepted at, and the service
//! decides when a check is allowed.

mod handle;
mod recovery;
mod seal;
mod totp;

use std::time::Duration;

use jiff::Timestamp;

/// Where Google publishes the certificates that sign Firebase ID tokens.
pub const SECURETOKEN_CERTS_URL: &str =
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

pub use handle::MfaHandle;
pub use recovery::{RECOVERY_CODES, RecoveryCode, RecoveryCodes};
pub use seal::{MFA_KEY_BYTES, Sealer};
pub use totp::{Enrollment, PendingTotp, TotpFactor, TotpSecret, qr_svg};

/// Whether accounts may add a second factor (`--mfa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MfaMode {
    /// No enrolment; an account that already has a factor still needs it to sign in (a
    /// factor is never skipped silently: `accounts mfa reset` removes it).
    Off,
    /// Accounts may enrol a factor, and then need it at every sign-in.
    #[default]
    Optional,
}

/// How second factors are kept and checked.
#[derive(Clone)]
pub struct FactorOptions {
    pub mode: MfaMode,
    /// Seals TOTP secrets at rest and keys the recovery-code hashes (`--mfa-key`).
    pub sealer: Sealer,
    /// The name authenticator apps show beside the account.
    pub issuer: String,
    /// How recent a sign-in must be to change factors (Firebase's `requires-recent-login`).
    pub recent_sign_in: Duration,
    /// How long an `mfa_token` between the two sign-in steps lives.
    pub mfa_token_lifetime: Duration,
    /// Wrong codes one `mfa_token` takes before it is spent.
    pub mfa_token_attempts: u32,
    /// Where the certificates of Firebase ID tokens are (Google's securetoken URL).
    pub id_token_certs_url: String,
    /// The Firebase project whose ID tokens are taken (`aud`, `iss`); `None`: the project
    /// custom tokens are minted for (the signing keys'), else the Firestore project.
    pub id_token_project: Option<String>,
    /// Unsigned ID tokens (the Auth emulator's) are taken: set only with
    /// `FIREBASE_AUTH_EMULATOR_HOST`, and the service takes them only for a `demo-` project
    /// or under `dev`.
    pub auth_emulator: bool,
    /// `http://<FIREBASE_AUTH_EMULATOR_HOST>`, for the demo enrolment page.
    pub auth_emulator_url: Option<String>,
    /// Running under `firegate dev`.
    pub dev: bool,
}

impl Default for FactorOptions {
    fn default() -> Self {
        FactorOptions {
            mode: MfaMode::Optional,
            sealer: Sealer::default(),
            issuer: "firegate".into(),
            recent_sign_in: Duration::from_secs(300),
            mfa_token_lifetime: Duration::from_secs(300),
            mfa_token_attempts: 5,
            id_token_certs_url: SECURETOKEN_CERTS_URL.into(),
            id_token_project: None,
            auth_emulator: false,
            auth_emulator_url: None,
            dev: false,
        }
    }
}

impl std::fmt::Debug for FactorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactorOptions")
            .field("mode", &self.mode)
            .field("sealed", &self.sealer.seals())
            .field("issuer", &self.issuer)
            .field("recent_sign_in", &self.recent_sign_in)
            .field("mfa_token_lifetime", &self.mfa_token_lifetime)
            .field("mfa_token_attempts", &self.mfa_token_attempts)
            .field("id_token_certs_url", &self.id_token_certs_url)
            .field("id_token_project", &self.id_token_project)
            .field("auth_emulator", &self.auth_emulator)
            .field("auth_emulator_url", &self.auth_emulator_url)
            .field("dev", &self.dev)
            .finish()
    }
}

/// An account's second factors as stored (secrets sealed, recovery codes hashed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Factors {
    /// The confirmed authenticator, when there is one.
    pub totp: Option<TotpFactor>,
    /// A secret handed out by enrolment and not confirmed yet.
    pub pending: Option<PendingTotp>,
    /// The recovery codes, hashed; a used one is kept with its time so the count shows.
    pub recovery: RecoveryCodes,
    /// When a factor was last added or removed: ID tokens from sign-ins before it are refused.
    pub changed_at: Option<Timestamp>,
    /// When the owner turned on passkeys as a second factor (a registered passkey alone does
    /// not make password sign-ins two steps: old clients would break).
    pub webauthn: Option<Timestamp>,
}

/// One kind of factor, as clients see it in `factors` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Totp,
    Webauthn,
    RecoveryCode,
}

impl Factors {
    /// Whether a sign-in needs a second step.
    pub fn required(&self) -> bool {
        self.totp.is_some() || self.webauthn.is_some()
    }

    /// Whether there is nothing to remove (no factor, no enrolment, no code).
    pub fn is_empty(&self) -> bool {
        self.totp.is_none()
            && self.pending.is_none()
            && self.recovery.0.is_empty()
            && self.webauthn.is_none()
    }

    /// The kinds a second step accepts, strongest first.
    pub fn kinds(&self) -> Vec<FactorKind> {
        let mut kinds = Vec::new();
        if self.webauthn.is_some() {
            kinds.push(FactorKind::Webauthn);
        }
        if self.totp.is_some() {
            kinds.push(FactorKind::Totp);
            if self.recovery.unused() > 0 {
                kinds.push(FactorKind::RecoveryCode);
            }
        }
        kinds
    }
}

/// What a code typed at the second step is: six digits are a TOTP code, anything else is
/// taken as a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Totp(String),
    Recovery(String),
}

impl Code {
    /// Reads a code as typed: spaces and dashes are ignored, letters are case-insensitive.
    /// `None` for an empty or absurdly long text, which cannot be either.
    pub fn parse(text: &str) -> Option<Code> {
        if text.len() > 64 {
            return None;
        }
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.is_empty() {
            return None;
        }
        if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Code::Totp(compact));
        }
        Some(Code::Recovery(compact.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(Code::parse(" 123 456 "), Some(Code::Totp("123456".into())));
        assert_eq!(
            Code::parse("ABCD-efgh-2345-6789"),
            Some(Code::Recovery("abcdefgh23456789".into()))
        );
        assert_eq!(Code::parse("12345"), Some(Code::Recovery("12345".into())));
        assert_eq!(Code::parse(" - "), None);
        assert_eq!(Code::parse(&"1".repeat(65)), None);
    }

    #[test]
    fn only_a_confirmed_authenticator_asks_for_a_second_step() {
        let mut factors = Factors::default();
        assert!(!factors.required());
        assert!(factors.kinds().is_empty());
        factors.pending = Some(PendingTotp {
            sealed: "plain:AAAA".into(),
            created_at: Timestamp::UNIX_EPOCH,
        });
        assert!(!factors.required(), "an unconfirmed secret is no factor");
    }
}

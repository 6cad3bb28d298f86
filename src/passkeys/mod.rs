//! Passkeys (WebAuthn): the relying party built from the settings over webauthn-rs, the
//! ceremonies' options as clients receive them, and a stored credential. Ceremony state is
//! serialised (webauthn-rs's `danger-allow-state-serialisation`) so that the store keeps it
//! server-side, single use, with an expiry checked on read; clients only ever see a random
//! ceremony id. The service decides who may run which ceremony.

use std::time::Duration;

use aws_lc_rs::hmac;
use jiff::Timestamp;
use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, CredentialID, DiscoverableAuthentication,
    DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
    WebauthnError,
};
use webauthn_rs_proto::{AllowCredentials, AuthenticatorTransport, ResidentKeyRequirement};

/// Who the relying party is (`--webauthn-rp-id`, `--webauthn-origin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyOptions {
    /// The domain passkeys are bound to; `None`: passkeys are off.
    pub rp_id: Option<String>,
    /// The name authenticators show.
    pub rp_name: String,
    /// Origins whose ceremonies are accepted: web origins (`https://app.example.com`) and
    /// Android apps (`android:apk-key-hash:…`).
    pub origins: Vec<String>,
    /// How long a ceremony's state waits for its finish.
    pub ceremony_lifetime: Duration,
}

impl Default for PasskeyOptions {
    fn default() -> Self {
        PasskeyOptions {
            rp_id: None,
            rp_name: "firegate".into(),
            origins: Vec::new(),
            ceremony_lifetime: Duration::from_secs(300),
        }
    }
}

/// What the three ceremonies keep between start and finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
    SecondFactor,
}

impl Purpose {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Register => "passkey-register",
            Purpose::SignIn => "passkey-sign-in",
            Purpose::SecondFactor => "passkey-second-factor",
        }
    }
}

/// A registered passkey as firegate keeps it.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The credential id, base64url without padding (as clients name it).
    pub id: String,
    /// A name the owner gives it.
    pub name: String,
    /// webauthn-rs's record: public key, counter, backup flags.
    pub passkey: Passkey,
    /// How the authenticator is reached (`internal`, `hybrid`, `usb`…), from registration.
    pub transports: Vec<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Why a ceremony's finish is refused.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// The authenticator's signature counter did not move forward: a cloned authenticator.
    #[error("the authenticator's counter went backwards (a cloned authenticator?)")]
    CounterRegression,
    /// Anything else webauthn-rs refuses: origin, challenge, signature, user verification.
    #[error("the WebAuthn response does not verify: {0}")]
    Refused(#[source] WebauthnError),
    /// Serialised state that does not read back (a stored document damaged by hand).
    #[error("the stored ceremony state does not read")]
    State(#[source] serde_json::Error),
}

/// The relying party: checks ceremonies against the configured domain and origins.
#[derive(Clone)]
pub struct RelyingParty {
    webauthn: Webauthn,
    rp_id: String,
    decoy: hmac::Key,
    pub ceremony_lifetime: Duration,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("rp_id", &self.rp_id)
            .field("origins", &self.webauthn.get_allowed_origins())
            .finish()
    }
}

impl RelyingParty {
    /// The relying party of `options`, or `None` when passkeys are off. `decoy_key` keys the
    /// decoy options of unknown logins (the `--mfa-key`); without one a random key is drawn,
    /// so decoys are stable within one process only.
    pub fn new(
        options: &PasskeyOptions,
        decoy_key: Option<&[u8]>,
    ) -> Result<Option<RelyingParty>, String> {
        let Some(rp_id) = &options.rp_id else {
            return Ok(None);
        };
        let origins = options
            .origins
            .iter()
            .map(|o| {
                Url::parse(o).map_err(|e| {
                    format!(
                        "--webauthn-origin `{o}` is not an origin ({e}); write it as \
                         `https://app.example.com` or `android:apk-key-hash:<hash>`"
                    )
                })
            })
            .collect::<Result<Vec<Url>, String>>()?;
        let Some(first) = origins.iter().find(|u| u.domain().is_some()) else {
            return Err(format!(
                "--webauthn-rp-id `{rp_id}` needs at least one web --webauthn-origin on that \
                 domain (`https://{rp_id}`)"
            ));
        };
        let mut builder = WebauthnBuilder::new(rp_id, first).map_err(|_| {
            format!(
                "--webauthn-origin `{first}` is not on --webauthn-rp-id `{rp_id}`: the relying \
                 party id must be the origin's domain or a parent of it"
            )
        })?;
        for origin in origins.iter().filter(|o| *o != first) {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .rp_name(&options.rp_name)
            .timeout(options.ceremony_lifetime)
            .build()
            .map_err(|e| format!("the WebAuthn settings are refused: {e}"))?;
        let decoy = match decoy_key {
            Some(key) => hmac::Key::new(hmac::HMAC_SHA256, key),
            None => {
                let random: [u8; 32] = rand::random();
                hmac::Key::new(hmac::HMAC_SHA256, &random)
            }
        };
        Ok(Some(RelyingParty {
            webauthn,
            rp_id: rp_id.clone(),
            decoy,
            ceremony_lifetime: options.ceremony_lifetime,
        }))
    }

    /// The relying party id.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// Creation options for a new passkey of the account with `handle`, excluding the
    /// credentials it has: a discoverable credential preferred (webauthn-rs's passkey
    /// options say `discouraged`), user verification required. The state to keep is JSON.
    pub fn start_registration(
        &self,
        handle: Uuid,
        name: &str,
        display_name: &str,
        exclude: Vec<CredentialID>,
    ) -> Result<(CreationChallengeResponse, String), WebauthnError> {
        let exclude = (!exclude.is_empty()).then_some(exclude);
        let (mut options, state) =
            self.webauthn
                .start_passkey_registration(handle, name, display_name, exclude)?;
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
            selection.require_resident_key = false;
        }
        Ok((options, state_json(&state)))
    }

    /// Checks a registration against its stored state.
    pub fn finish_registration(
        &self,
        credential: &RegisterPublicKeyCredential,
        state: &str,
    ) -> Result<Passkey, CeremonyError> {
        let state: PasskeyRegistration =
            serde_json::from_str(state).map_err(CeremonyError::State)?;
        self.webauthn
            .finish_passkey_registration(credential, &state)
            .map_err(refused)
    }

    /// Request options for a passwordless sign-in. `allow` narrows them to credentials (an
    /// account's, or a decoy's); without it any discoverable credential answers
    /// (conditional UI).
    pub fn start_sign_in(
        &self,
        allow: Option<Vec<AllowCredentials>>,
    ) -> Result<(RequestChallengeResponse, String), WebauthnError> {
        let (mut options, state) = self.webauthn.start_discoverable_authentication()?;
        if let Some(allow) = allow {
            options.public_key.allow_credentials = allow;
            options.mediation = None;
        }
        Ok((options, state_json(&state)))
    }

    /// Checks a passwordless sign-in's assertion against the account's passkeys.
    pub fn finish_sign_in(
        &self,
        assertion: &PublicKeyCredential,
        state: &str,
        passkeys: &[Passkey],
    ) -> Result<AuthenticationResult, CeremonyError> {
        let state: DiscoverableAuthentication =
            serde_json::from_str(state).map_err(CeremonyError::State)?;
        let keys: Vec<DiscoverableKey> = passkeys.iter().map(DiscoverableKey::from).collect();
        self.webauthn
            .finish_discoverable_authentication(assertion, state, &keys)
            .map_err(refused)
    }

    /// Request options for a second step, limited to the account's passkeys.
    pub fn start_second_factor(
        &self,
        passkeys: &[Passkey],
    ) -> Result<(RequestChallengeResponse, String), WebauthnError> {
        let (options, state) = self.webauthn.start_passkey_authentication(passkeys)?;
        Ok((options, state_json(&state)))
    }

    /// Checks a second step's assertion.
    pub fn finish_second_factor(
        &self,
        assertion: &PublicKeyCredential,
        state: &str,
    ) -> Result<AuthenticationResult, CeremonyError> {
        let state: PasskeyAuthentication =
            serde_json::from_str(state).map_err(CeremonyError::State)?;
        self.webauthn
            .finish_passkey_authentication(assertion, &state)
            .map_err(refused)
    }

    /// The credentials a login with no passkey is answered with: one or two ids derived
    /// from the login under the decoy key, the same at every request, shaped like real ones.
    pub fn decoy_credentials(&self, login: &str) -> Vec<AllowCredentials> {
        let tag = hmac::sign(&self.decoy, login.as_bytes());
        let bytes = tag.as_ref();
        let count = 1 + usize::from(bytes[0] & 1);
        (0..count)
            .map(|i| {
                let mut context = hmac::Context::with_key(&self.decoy);
                context.update(bytes);
                context.update(&[i as u8]);
                let id = context.sign();
                AllowCredentials {
                    type_: "public-key".into(),
                    id: id.as_ref()[..16].to_vec().into(),
                    transports: Some(vec![
                        AuthenticatorTransport::Internal,
                        AuthenticatorTransport::Hybrid,
                    ]),
                }
            })
            .collect()
    }
}

/// The allow-list entries of stored credentials.
pub fn allow_list(credentials: &[Credential]) -> Vec<AllowCredentials> {
    credentials
        .iter()
        .map(|c| AllowCredentials {
            type_: "public-key".into(),
            id: c.passkey.cred_id().clone().into(),
            transports: Some(
                c.transports
                    .iter()
                    .filter_map(|t| serde_json::from_value(Value::String(t.clone())).ok())
                    .collect(),
            ),
        })
        .collect()
}

/// A credential id as clients write it (base64url, no padding).
pub fn credential_id_text(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// The transports a registration reports, as stored.
pub fn transports(credential: &RegisterPublicKeyCredential) -> Vec<String> {
    credential
        .response
        .transports
        .iter()
        .flatten()
        .filter_map(|t| match serde_json::to_value(t) {
            Ok(Value::String(s)) => Some(s),
            _ => None,
        })
        .collect()
}

fn refused(e: WebauthnError) -> CeremonyError {
    match e {
        WebauthnError::CredentialPossibleCompromise => CeremonyError::CounterRegression,
        other => CeremonyError::Refused(other),
    }
}

fn state_json<T: serde::Serialize>(state: &T) -> String {
    // The states are plain data (challenges, credential records): they always serialise.
    serde_json::to_string(state).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(rp_id: &str, origins: &[&str]) -> PasskeyOptions {
        PasskeyOptions {
            rp_id: Some(rp_id.into()),
            origins: origins.iter().map(|o| o.to_string()).collect(),
            ..PasskeyOptions::default()
        }
    }

    #[test]
    fn an_origin_off_the_relying_party_is_refused_at_start() {
        let err =
            RelyingParty::new(&options("example.com", &["https://evil.test"]), None).unwrap_err();
        assert!(err.contains("not on --webauthn-rp-id"), "{err}");
        let err = RelyingParty::new(&options("example.com", &[]), None).unwrap_err();
        assert!(err.contains("needs at least one web"), "{err}");
        let ok = RelyingParty::new(
            &options(
                "example.com",
                &["https://app.example.com", "android:apk-key-hash:abc"],
            ),
            None,
        );
        assert!(ok.unwrap().is_some());
        assert!(
            RelyingParty::new(&PasskeyOptions::default(), None)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn decoys_are_stable_per_login_and_differ_between_logins() {
        let rp = RelyingParty::new(
            &options("example.com", &["https://example.com"]),
            Some(b"k"),
        )
        .unwrap()
        .unwrap();
        let ids = |login| {
            rp.decoy_credentials(login)
                .into_iter()
                .map(|c| c.id.to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("kim@example.com"), ids("kim@example.com"));
        assert_ne!(ids("kim@example.com"), ids("lee@example.com"));
    }

    #[test]
    fn registration_prefers_a_discoverable_credential() {
        let rp = RelyingParty::new(&options("example.com", &["https://example.com"]), None)
            .unwrap()
            .unwrap();
        let (ccr, state) = rp
            .start_registration(Uuid::new_v4(), "kim", "kim", Vec::new())
            .unwrap();
        let json = serde_json::to_value(&ccr).unwrap();
        let selection = &json["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "preferred", "{json}");
        assert_eq!(selection["userVerification"], "required", "{json}");
        assert!(serde_json::from_str::<PasskeyRegistration>(&state).is_ok());
    }
}

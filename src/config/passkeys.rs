//! The passkeys settings group (`--webauthn-rp-id`, `--webauthn-origin`, the name
//! authenticators show).

use std::time::Duration;

use clap::Args;

use super::values::non_empty;
use crate::passkeys::PasskeyOptions;

/// Passkeys (WebAuthn): the relying party's domain and the origins its ceremonies come from.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Passkeys")]
pub struct PasskeyArgs {
    /// The domain passkeys are bound to (book: "Passkeys"); unset, passkeys are off.
    ///
    /// The web origins' registrable domain or one of its parents (`example.com` for
    /// `https://app.example.com`). It cannot change later without every passkey becoming
    /// useless: authenticators bind each credential to it.
    #[arg(long, env = "FIREGATE_WEBAUTHN_RP_ID", value_name = "DOMAIN",
          value_parser = non_empty("--webauthn-rp-id"))]
    pub webauthn_rp_id: Option<String>,

    /// An origin whose passkey ceremonies are accepted (repeat for several).
    ///
    /// A web origin on the relying party's domain (`https://app.example.com`), or an
    /// Android app as `android:apk-key-hash:<base64url of its signing certificate's
    /// SHA-256>`. iOS apps sign with their associated domain's web origin.
    #[arg(long = "webauthn-origin", env = "FIREGATE_WEBAUTHN_ORIGIN", value_name = "ORIGIN",
          value_delimiter = ',', value_parser = non_empty("--webauthn-origin"))]
    pub webauthn_origins: Vec<String>,

    /// The relying party's name, which authenticators show beside the passkey.
    #[arg(long, env = "FIREGATE_WEBAUTHN_RP_NAME", default_value = "firegate",
          value_parser = non_empty("--webauthn-rp-name"))]
    pub webauthn_rp_name: String,
}

impl PasskeyArgs {
    /// The relying party's options.
    pub fn options(&self) -> PasskeyOptions {
        PasskeyOptions {
            rp_id: self.webauthn_rp_id.clone(),
            rp_name: self.webauthn_rp_name.clone(),
            origins: self.webauthn_origins.clone(),
            ceremony_lifetime: Duration::from_secs(300),
        }
    }
}

//! Google APIs besides Firestore, over one credential source: Application Default
//! Credentials through Google's `google-cloud-auth` crate ([`AccessTokens`]), the metadata
//! server ([`Metadata`]) and IAM Credentials `signBlob` ([`IamSigner`]), which signs custom
//! tokens without a key file.

mod credentials;
mod iam;
mod metadata;

pub use credentials::AccessTokens;
pub use iam::{IAM_CREDENTIALS_URL, IamOptions, IamSigner, Signature};
pub use metadata::{METADATA_HOST, Metadata};

/// Google's answers quoted in messages are cut to this many characters: enough to name the
/// cause, never a whole body.
const QUOTE_CHARS: usize = 300;

/// The start of `text`, at most [`QUOTE_CHARS`] characters.
fn quote(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTE_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

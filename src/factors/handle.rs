//! The `mfa_token` between the two sign-in steps: 256 random bits handed to the client,
//! stored only as their SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// An `mfa_token` as the client holds it.
#[derive(Clone)]
pub struct MfaHandle(String);

impl std::fmt::Debug for MfaHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaHandle(<redacted>)")
    }
}

impl MfaHandle {
    /// A new random handle.
    pub fn generate() -> MfaHandle {
        let bytes: [u8; 32] = rand::random();
        MfaHandle(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A handle as a client sent it; `None` when it cannot be one (so it costs no read).
    pub fn parse(text: &str) -> Option<MfaHandle> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        (bytes.len() == 32).then(|| MfaHandle(text.to_string()))
    }

    /// The text to hand to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored id: the handle's SHA-256, hex, with a prefix that keeps it apart from
    /// other tokens in the same collection.
    pub fn id(&self) -> String {
        format!("mfa-{}", hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_are_stored_hashed() {
        let h = MfaHandle::generate();
        let back = MfaHandle::parse(h.as_str()).unwrap();
        assert_eq!(back.id(), h.id());
        assert!(!h.id().contains(h.as_str()));
        assert!(MfaHandle::parse("short").is_none());
        assert!(MfaHandle::parse(&"!".repeat(43)).is_none());
        assert_eq!(format!("{h:?}"), "MfaHandle(<redacted>)");
    }
}

//! TOTP secrets at rest and the recovery-code hash key. With `--mfa-key` (32 random bytes)
//! a secret is sealed with AES-256-GCM, bound to its account's uid, so a copy of the
//! accounts collection (an export, a backup, a reader of the database) cannot compute codes;
//! without it a secret is stored as it is, and start-up says so. Recovery codes are hashed
//! with HMAC-SHA-256 under a key derived from the same key (a fixed one without it).

use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use super::totp::TotpSecret;

/// The length of `--mfa-key`, in bytes (given as base64).
pub const MFA_KEY_BYTES: usize = 32;

const SEALED: &str = "sealed:v1:";
const PLAIN: &str = "plain:";

/// Seals and opens TOTP secrets, and hashes recovery codes.
#[derive(Clone)]
pub struct Sealer {
    aead: Option<Arc<LessSafeKey>>,
    recovery: hmac::Key,
}

impl Default for Sealer {
    /// No key: secrets are stored as they are.
    fn default() -> Self {
        Sealer {
            aead: None,
            recovery: hmac::Key::new(hmac::HMAC_SHA256, b"firegate recovery codes v1"),
        }
    }
}

impl Sealer {
    /// A sealer under `key`, given as base64 of [`MFA_KEY_BYTES`] bytes. The error never
    /// quotes the value.
    pub fn from_base64(key: &str) -> Result<Sealer, String> {
        let bytes = Zeroizing::new(STANDARD.decode(key.trim()).map_err(|_| {
            format!(
                "the MFA key is not base64; make one with `openssl rand -base64 {MFA_KEY_BYTES}`"
            )
        })?);
        if bytes.len() != MFA_KEY_BYTES {
            return Err(format!(
                "the MFA key must be {MFA_KEY_BYTES} bytes (base64 of `openssl rand -base64 \
                 {MFA_KEY_BYTES}`), this one is {}",
                bytes.len()
            ));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| "the MFA key cannot be used for AES-256-GCM".to_string())?;
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            b"firegate recovery codes v1",
        );
        Ok(Sealer {
            aead: Some(Arc::new(LessSafeKey::new(unbound))),
            recovery: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// Whether secrets are sealed (a key is set).
    pub fn seals(&self) -> bool {
        self.aead.is_some()
    }

    /// The stored form of `secret` for the account `uid`.
    pub fn seal(&self, uid: &str, secret: &TotpSecret) -> String {
        let Some(key) = &self.aead else {
            return format!("{PLAIN}{}", secret.base32());
        };
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = secret.bytes().to_vec();
        let sealed = key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(uid.as_bytes()),
            &mut data,
        );
        match sealed {
            Ok(()) => {
                let mut out = nonce_bytes.to_vec();
                out.extend_from_slice(&data);
                format!("{SEALED}{}", URL_SAFE_NO_PAD.encode(out))
            }
            // AES-GCM sealing fails only for inputs of gigabytes; a secret is 20 bytes.
            Err(_) => format!("{PLAIN}{}", secret.base32()),
        }
    }

    /// The secret stored as `stored` for `uid`. The error says what is wrong, never the secret.
    pub fn open(&self, uid: &str, stored: &str) -> Result<TotpSecret, String> {
        if let Some(text) = stored.strip_prefix(PLAIN) {
            return TotpSecret::from_base32(text)
                .ok_or_else(|| format!("the TOTP secret of `{uid}` is corrupt"));
        }
        let Some(text) = stored.strip_prefix(SEALED) else {
            return Err(format!("the TOTP secret of `{uid}` is in an unknown form"));
        };
        let Some(key) = &self.aead else {
            return Err(format!(
                "the TOTP secret of `{uid}` is sealed and no --mfa-key is set: start with the \
                 key it was sealed with"
            ));
        };
        let mut data = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| format!("the TOTP secret of `{uid}` is corrupt"))?,
        );
        if data.len() <= NONCE_LEN {
            return Err(format!("the TOTP secret of `{uid}` is corrupt"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&data[..NONCE_LEN]);
        let opened = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(uid.as_bytes()),
                &mut data[NONCE_LEN..],
            )
            .map_err(|_| {
                format!(
                    "the TOTP secret of `{uid}` does not open with this --mfa-key (another key, \
                     or another account's secret)"
                )
            })?;
        Ok(TotpSecret::from_bytes(opened))
    }

    /// 32 bytes derived from the MFA key for `label` (another use's key), or `None` without
    /// a key.
    pub fn derive(&self, label: &[u8]) -> Option<[u8; 32]> {
        self.aead.as_ref()?;
        let tag = hmac::sign(&self.recovery, label);
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag.as_ref()[..32]);
        Some(out)
    }

    /// The stored hash of a recovery code of `uid` (the code as [`super::Code`] reads it).
    pub fn recovery_hash(&self, uid: &str, code: &str) -> String {
        keyed_hash(&self.recovery, uid, code)
    }

    /// The hashes a stored recovery code of `uid` may have: under this key, and — once a key
    /// is set — under the fixed key codes made before it was set were hashed with, so adding
    /// `--mfa-key` later keeps every code working.
    pub fn recovery_hashes(&self, uid: &str, code: &str) -> Vec<String> {
        let mut hashes = vec![self.recovery_hash(uid, code)];
        if self.aead.is_some() {
            hashes.push(Sealer::default().recovery_hash(uid, code));
        }
        hashes
    }
}

fn keyed_hash(key: &hmac::Key, uid: &str, code: &str) -> String {
    let mut context = hmac::Context::with_key(key);
    context.update(uid.as_bytes());
    context.update(b"\0");
    context.update(code.as_bytes());
    hex::encode(context.sign().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        STANDARD.encode([7u8; MFA_KEY_BYTES])
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_key() {
        let sealer = Sealer::from_base64(&key()).unwrap();
        let secret = TotpSecret::generate();
        let stored = sealer.seal("kim", &secret);
        assert!(stored.starts_with(SEALED));
        assert!(!stored.contains(&secret.base32()));
        assert_eq!(sealer.open("kim", &stored).unwrap().bytes(), secret.bytes());
        assert!(sealer.open("lee", &stored).is_err(), "bound to the uid");
        let other = Sealer::from_base64(&STANDARD.encode([8u8; MFA_KEY_BYTES])).unwrap();
        assert!(other.open("kim", &stored).is_err());
        let err = Sealer::default().open("kim", &stored).unwrap_err();
        assert!(err.contains("--mfa-key"), "{err}");
    }

    #[test]
    fn without_a_key_secrets_are_stored_plainly_and_still_open_with_one() {
        let secret = TotpSecret::generate();
        let stored = Sealer::default().seal("kim", &secret);
        assert!(stored.starts_with(PLAIN));
        let sealer = Sealer::from_base64(&key()).unwrap();
        assert_eq!(sealer.open("kim", &stored).unwrap().bytes(), secret.bytes());
    }

    #[test]
    fn bad_keys_are_refused_without_quoting_them() {
        let err = Sealer::from_base64("not base64 secret!").err().unwrap();
        assert!(!err.contains("secret!"), "{err}");
        let err = Sealer::from_base64(&STANDARD.encode([1u8; 16]))
            .err()
            .unwrap();
        assert!(err.contains("32 bytes"), "{err}");
    }

    #[test]
    fn recovery_hashes_depend_on_the_account_and_the_key() {
        let plain = Sealer::default();
        let keyed = Sealer::from_base64(&key()).unwrap();
        let a = plain.recovery_hash("kim", "abcd");
        assert_eq!(a, plain.recovery_hash("kim", "abcd"));
        assert_ne!(a, plain.recovery_hash("lee", "abcd"));
        assert_ne!(a, keyed.recovery_hash("kim", "abcd"));
    }
}

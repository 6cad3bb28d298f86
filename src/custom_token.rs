//! Firebase custom tokens: the exact header and payload the official Admin SDKs produce,
//! signed RS256 with a service-account key that is parsed once, when the key is loaded.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::Serialize;

use crate::accounts::Uid;
use crate::claims::Claims;
use crate::{Error, Result};

/// The audience Firebase Auth requires of custom tokens.
pub const AUDIENCE: &str =
    "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit";

/// Longest lifetime Firebase accepts, in seconds.
pub const MAX_LIFETIME_SECS: u32 = 3600;

/// Smallest RSA modulus accepted for signing, in bits.
pub const MIN_RSA_BITS: usize = 2048;

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Serialize)]
struct Payload<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'static str,
    iat: i64,
    exp: i64,
    uid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<&'a Claims>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<&'a str>,
}

/// What goes into one token besides the signer's identity.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    pub uid: &'a Uid,
    pub claims: &'a Claims,
    pub tenant_id: Option<&'a str>,
    pub issued_at: Timestamp,
    pub lifetime_secs: u32,
}

/// A parsed RSA private key with the identity it signs as. Cheap to share behind an `Arc`.
pub struct TokenSigner {
    kid: String,
    client_email: String,
    key_pair: RsaKeyPair,
    encoded_header: String,
    rng: SystemRandom,
}

impl TokenSigner {
    /// Parses a PKCS#8 DER RSA private key of at least 2048 bits. The error never contains
    /// key material.
    pub fn from_pkcs8_der(
        kid: &str,
        client_email: &str,
        der: &[u8],
    ) -> Result<TokenSigner, String> {
        let key_pair = RsaKeyPair::from_pkcs8(der).or_else(|pkcs8| {
            RsaKeyPair::from_der(der).map_err(|pkcs1| {
                if [pkcs8.description_(), pkcs1.description_()].contains(&"TooSmall") {
                    format!("is an RSA key under {MIN_RSA_BITS} bits; generate a 2048-bit key")
                } else {
                    "is not an RSA private key (PKCS#8 or PKCS#1)".to_string()
                }
            })
        })?;
        let bits = key_pair.public_modulus_len() * 8;
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "is a {bits}-bit RSA key; at least {MIN_RSA_BITS} bits are required"
            ));
        }
        let header = Header {
            alg: "RS256",
            typ: "JWT",
            kid,
        };
        let encoded_header = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&header).map_err(|e| format!("header not serialisable: {e}"))?,
        );
        Ok(TokenSigner {
            kid: kid.to_string(),
            client_email: client_email.to_string(),
            key_pair,
            encoded_header,
            rng: SystemRandom::new(),
        })
    }

    /// The key id written into the token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The service-account email, the token's `iss` and `sub`.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The public key as a DER `RSAPublicKey`, for fingerprints and certificates.
    pub fn public_key_der(&self) -> &[u8] {
        self.key_pair.public_key().as_ref()
    }

    /// Mints a custom token. `issued_at` is a parameter so callers (and tests) own the clock.
    pub fn mint(&self, request: TokenRequest<'_>) -> Result<String> {
        let input = signing_input(&self.encoded_header, &self.client_email, request)?;
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::internal("RSA signing failed"))?;
        Ok(with_signature(input, &signature))
    }
}

/// The header of tokens signed through IAM Credentials, `{"alg":"RS256","typ":"JWT"}`
/// encoded: without `kid`, as the Admin SDKs write it for every signer. The header is part of
/// what is signed, and IAM names the key (`keyId`) only after signing; Google checks such a
/// token against each key it publishes for the account.
pub const KEYLESS_HEADER: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";

/// `header.payload`, the bytes a token's signature covers, for `client_email` as issuer.
/// The compact JWS is assembled here rather than by `jsonwebtoken::encode`, which re-parses
/// and re-validates the private key for every signature.
pub fn signing_input(
    encoded_header: &str,
    client_email: &str,
    request: TokenRequest<'_>,
) -> Result<String> {
    if request.lifetime_secs == 0 || request.lifetime_secs > MAX_LIFETIME_SECS {
        return Err(Error::config(format!(
            "token lifetime {}s is outside 1..={MAX_LIFETIME_SECS}",
            request.lifetime_secs
        )));
    }
    let iat = request.issued_at.as_second();
    let payload = Payload {
        iss: client_email,
        sub: client_email,
        aud: AUDIENCE,
        iat,
        exp: iat + i64::from(request.lifetime_secs),
        uid: request.uid.as_str(),
        claims: (!request.claims.is_empty()).then_some(request.claims),
        tenant_id: request.tenant_id,
    };
    let payload =
        serde_json::to_vec(&payload).map_err(|e| Error::internal("token payload").caused_by(e))?;
    let mut input = String::with_capacity(800);
    input.push_str(encoded_header);
    input.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut input);
    Ok(input)
}

/// A token's signed part and its decoded signature; `None` when it has no valid signature
/// part.
pub fn split_signature(token: &str) -> Option<(&str, Vec<u8>)> {
    let (message, signature) = token.rsplit_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    Some((message, signature))
}

/// The whole token: `input` (from [`signing_input`]) and its signature.
pub fn with_signature(mut input: String, signature: &[u8]) -> String {
    input.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut input);
    input
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::keygen;
    use serde_json::{Value, json};
    use std::sync::OnceLock;

    fn test_key() -> &'static (keygen::GeneratedKey, TokenSigner) {
        static KEY: OnceLock<(keygen::GeneratedKey, TokenSigner)> = OnceLock::new();
        KEY.get_or_init(|| {
            let key = keygen::generate_rsa(2048).unwrap();
            let signer = TokenSigner::from_pkcs8_der(
                "kid-1",
                "sa@demo-test.iam.gserviceaccount.com",
                key.pkcs8_der(),
            )
            .unwrap();
            (key, signer)
        })
    }

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    fn mint(claims: &Claims, tenant: Option<&str>) -> String {
        let uid = Uid::parse("user-42").unwrap();
        test_key()
            .1
            .mint(TokenRequest {
                uid: &uid,
                claims,
                tenant_id: tenant,
                issued_at: Timestamp::from_second(1_700_000_000).unwrap(),
                lifetime_secs: 3600,
            })
            .unwrap()
    }

    #[test]
    fn header_and_payload_are_exactly_what_firebase_expects() {
        let token = mint(&Claims::default(), None);
        let parts: Vec<_> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode_part(parts[0]),
            json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        assert_eq!(
            decode_part(parts[1]),
            json!({
                "iss": "sa@demo-test.iam.gserviceaccount.com",
                "sub": "sa@demo-test.iam.gserviceaccount.com",
                "aud": AUDIENCE,
                "iat": 1_700_000_000,
                "exp": 1_700_003_600,
                "uid": "user-42",
            })
        );
    }

    #[test]
    fn the_keyless_header_has_no_kid() {
        assert_eq!(
            decode_part(KEYLESS_HEADER),
            json!({"alg": "RS256", "typ": "JWT"})
        );
    }

    #[test]
    fn claims_and_tenant_appear_only_when_set() {
        let claims = Claims::parse(json!({"role": "teacher"})).unwrap();
        let token = mint(&claims, Some("tenant-a"));
        let payload = decode_part(token.split('.').nth(1).unwrap());
        assert_eq!(payload["claims"], json!({"role": "teacher"}));
        assert_eq!(payload["tenant_id"], "tenant-a");
    }

    #[test]
    fn the_signature_verifies_with_the_public_key_and_not_another() {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
        let token = mint(&Claims::default(), None);
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = false;
        let own = DecodingKey::from_rsa_pem(test_key().0.public_pem().as_bytes()).unwrap();
        let claims = decode::<Value>(&token, &own, &validation).unwrap().claims;
        assert_eq!(claims["uid"], "user-42");

        let other = keygen::generate_rsa(2048).unwrap();
        let other = DecodingKey::from_rsa_pem(other.public_pem().as_bytes()).unwrap();
        assert!(decode::<Value>(&token, &other, &validation).is_err());
    }

    #[test]
    fn lifetimes_over_an_hour_are_refused() {
        let uid = Uid::parse("u").unwrap();
        let request = TokenRequest {
            uid: &uid,
            claims: &Claims::default(),
            tenant_id: None,
            issued_at: Timestamp::from_second(0).unwrap(),
            lifetime_secs: 3601,
        };
        assert!(test_key().1.mint(request).is_err());
    }

    #[test]
    fn short_keys_are_refused_and_errors_hold_no_key_material() {
        let small = keygen::generate_rsa(1024).unwrap();
        let err = TokenSigner::from_pkcs8_der("k", "e", small.pkcs8_der()).unwrap_err();
        assert!(err.contains("under 2048 bits"), "{err}");
        let err = TokenSigner::from_pkcs8_der("k", "e", b"not a key").unwrap_err();
        assert!(err.contains("not an RSA private key"), "{err}");
        assert!(!format!("{:?}", test_key().1).contains("key_pair"));
    }
}

//! Developer claims: the per-account JSON object copied into a custom token's `claims`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// Claim names Firebase reserves (OIDC and Firebase's own), plus the custom-token payload's.
pub const RESERVED: &[&str] = &[
    "acr",
    "amr",
    "at_hash",
    "aud",
    "auth_time",
    "azp",
    "cnf",
    "c_hash",
    "exp",
    "firebase",
    "iat",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "sub",
    "uid",
    "claims",
    "tenant_id",
];

/// Firebase's limit on the serialized size of developer claims, in bytes.
pub const MAX_BYTES: usize = 1000;

/// A validated developer-claims object: no reserved names, at most [`MAX_BYTES`] serialized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// Validates a JSON value as developer claims.
    pub fn parse(value: Value) -> Result<Claims> {
        let Value::Object(map) = value else {
            return Err(Error::invalid(
                "invalid_claims",
                "claims must be a JSON object, e.g. {\"role\": \"teacher\"}",
            ));
        };
        if let Some(name) = map.keys().find(|k| RESERVED.contains(&k.as_str())) {
            return Err(Error::invalid(
                "reserved_claim",
                format!("claim name `{name}` is reserved by Firebase; choose another name"),
            ));
        }
        let size = serde_json::to_vec(&map)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_BYTES {
            return Err(Error::invalid(
                "claims_too_large",
                format!("claims take {size} bytes serialized; Firebase allows at most {MAX_BYTES}"),
            ));
        }
        Ok(Claims(map))
    }

    /// Parses and validates claims given as JSON text (CLI and stored form).
    pub fn from_json(text: &str) -> Result<Claims> {
        let value = serde_json::from_str(text).map_err(|e| {
            Error::invalid("invalid_claims", format!("claims are not valid JSON: {e}"))
        })?;
        Claims::parse(value)
    }

    /// The claims as compact JSON text.
    #[expect(clippy::expect_used, reason = "a JSON object always serializes")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a JSON map always serializes")
    }

    /// True when there are no claims (the token then omits `claims`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_an_object_of_developer_claims() {
        let c = Claims::parse(json!({"role": "teacher", "grade": 3})).unwrap();
        assert_eq!(c.to_json(), r#"{"grade":3,"role":"teacher"}"#);
        assert_eq!(Claims::from_json(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn every_reserved_name_is_refused() {
        for name in RESERVED {
            let err = Claims::parse(json!({ *name: 1 })).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn non_objects_and_oversized_claims_are_refused() {
        assert!(Claims::parse(json!(["role"])).is_err());
        assert!(Claims::from_json("{").is_err());
        let big = "x".repeat(MAX_BYTES);
        let err = Claims::parse(json!({ "blob": big })).unwrap_err();
        assert!(err.to_string().contains("at most 1000"), "{err}");
        let fits = "x".repeat(MAX_BYTES - 11);
        assert!(Claims::parse(json!({ "blob": fits })).is_ok());
    }
}

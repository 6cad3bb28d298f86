//! Developer claims: the per-account JSON object copied into a custom token's `claims`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// Claim names a developer claim may not take, compared case-insensitively, each with why.
/// Firebase copies developer claims to the top level of the ID token, beside its own claims,
/// so a developer claim with one of these names would stand in for what Firebase says about
/// the user (`request.auth.token.email` in security rules) or clash with the token's own
/// fields; and a rule or backend that compares names without regard to case would be misled
/// by `Email` or `SUB` as well.
pub const RESERVED: &[(&str, &str)] = &[
    // Registered JWT and OpenID Connect claims, which Firebase refuses as developer claims.
    ("acr", JWT),
    ("amr", JWT),
    ("at_hash", JWT),
    ("aud", JWT),
    ("auth_time", JWT),
    ("azp", JWT),
    ("cnf", JWT),
    ("c_hash", JWT),
    ("exp", JWT),
    ("iat", JWT),
    ("iss", JWT),
    ("jti", JWT),
    ("nbf", JWT),
    ("nonce", JWT),
    ("sub", JWT),
    // What Firebase writes into every ID token about the user and the sign-in.
    ("firebase", ID_TOKEN),
    ("email", ID_TOKEN),
    ("email_verified", ID_TOKEN),
    ("phone_number", ID_TOKEN),
    ("name", ID_TOKEN),
    ("picture", ID_TOKEN),
    ("user_id", ID_TOKEN),
    ("sign_in_provider", SIGN_IN),
    // The custom token's own payload fields.
    ("uid", CUSTOM_TOKEN),
    ("claims", CUSTOM_TOKEN),
    ("tenant_id", CUSTOM_TOKEN),
];

const JWT: &str = "it is a registered JWT or OpenID Connect claim, which Firebase refuses as a \
                   developer claim";
const ID_TOKEN: &str = "Firebase sets it in ID tokens and security rules read it as \
                        request.auth.token.<name>, so a developer claim would stand in for it";
const SIGN_IN: &str = "Firebase names the sign-in method with it \
                       (request.auth.token.firebase.sign_in_provider in security rules)";
const CUSTOM_TOKEN: &str = "it is a field of the custom token itself";

/// Why `name` may not be a developer claim, if it may not (any case: `Sub`, `EMAIL`, and
/// the Unicode letters whose case mapping reaches ASCII, as JavaScript's, Java's and Python's
/// case-insensitive comparisons make them: `emaıl`, `ſub`).
fn reserved(name: &str) -> Option<(&'static str, &'static str)> {
    let (upper, lower) = (name.to_uppercase(), name.to_lowercase());
    RESERVED
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(&upper) || known.eq_ignore_ascii_case(&lower))
        .copied()
}

/// Firebase's limit on the serialized size of developer claims, in bytes.
pub const MAX_BYTES: usize = 1000;

/// A validated developer-claims object: no reserved names ([`RESERVED`], in any case), at most
/// [`MAX_BYTES`] serialized.
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
        if let Some((name, (canonical, why))) = map
            .keys()
            .find_map(|name| reserved(name).map(|found| (name, found)))
        {
            let why = why.replace("<name>", canonical);
            return Err(Error::invalid(
                "reserved_claim",
                format!("claim name `{name}` is reserved: {why}; choose another name"),
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

    /// Parses and validates claims given as JSON text (the CLI's).
    pub fn from_json(text: &str) -> Result<Claims> {
        Claims::parse(json_value(text)?)
    }

    /// Claims read back from an account, as they were stored: possibly under older, looser
    /// rules (a name reserved since), which must not stop the account from signing in.
    /// Replacing them validates the new ones.
    pub fn from_stored(text: &str) -> Result<Claims> {
        match json_value(text)? {
            Value::Object(map) => Ok(Claims(map)),
            _ => Err(Error::invalid(
                "invalid_claims",
                "stored claims are not a JSON object",
            )),
        }
    }

    /// The claims as compact JSON text.
    #[expect(clippy::expect_used, reason = "a JSON object always serializes")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a JSON map always serializes")
    }

    /// These claims with `others` added under the names these do not use: these win. The
    /// result is checked as any claims are (a size over the limit is refused).
    pub fn merged_over(&self, others: &Claims) -> Result<Claims> {
        let mut map = others.0.clone();
        map.extend(self.0.clone());
        Claims::parse(Value::Object(map))
    }

    /// True when there are no claims (the token then omits `claims`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn json_value(text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::invalid("invalid_claims", format!("claims are not valid JSON: {e}")))
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
    fn every_reserved_name_is_refused_in_any_case_with_the_reason() {
        for (name, _) in RESERVED {
            let upper = name.to_ascii_uppercase();
            let mut capitalized = name.to_string();
            capitalized[..1].make_ascii_uppercase();
            for spelling in [name.to_string(), upper, capitalized] {
                let err =
                    Claims::parse(json!({ "role": "teacher", spelling.as_str(): 1 })).unwrap_err();
                assert!(
                    matches!(
                        err,
                        Error::InvalidInput {
                            code: "reserved_claim",
                            ..
                        }
                    ),
                    "{spelling}: {err}"
                );
                assert!(err.to_string().contains(&spelling), "{spelling}: {err}");
            }
        }
    }

    #[test]
    fn unicode_letters_whose_case_reaches_a_reserved_name_are_refused() {
        // Dotless ı and long ſ uppercase to I and S in every language that compares
        // case-insensitively by Unicode rules.
        for spelling in ["emaıl", "ſub", "fırebase"] {
            let err = Claims::parse(json!({ spelling: 1 })).unwrap_err();
            assert!(err.to_string().contains("reserved"), "{spelling}: {err}");
        }
        assert!(Claims::parse(json!({ "emails": 1 })).is_ok());
    }

    #[test]
    fn claims_that_rules_read_about_the_user_are_refused() {
        for name in [
            "email",
            "email_verified",
            "phone_number",
            "name",
            "picture",
            "user_id",
            "sign_in_provider",
            "firebase",
            "auth_time",
            "sub",
            "uid",
        ] {
            let err = Claims::from_json(&format!(r#"{{"{name}": true}}"#)).unwrap_err();
            assert!(err.to_string().contains("reserved"), "{name}: {err}");
        }
        let err = Claims::parse(json!({ "Email": "boss@example.com" })).unwrap_err();
        assert!(
            err.to_string()
                .contains("security rules read it as request.auth.token.email"),
            "{err}"
        );
        let err = Claims::parse(json!({ "SUB": "someone" })).unwrap_err();
        assert!(err.to_string().contains("JWT"), "{err}");
        // Names that merely contain a reserved one are the developer's own.
        let ok = json!({ "email_domain": "school.example", "display_name": "Kim", "role": "x" });
        assert!(Claims::parse(ok).is_ok());
    }

    #[test]
    fn stored_claims_are_read_as_they_were_written() {
        let stored = r#"{"email":"kim@example.com","role":"teacher"}"#;
        assert!(Claims::from_json(stored).is_err(), "refused when set now");
        assert_eq!(Claims::from_stored(stored).unwrap().to_json(), stored);
        assert!(Claims::from_stored("[1]").is_err());
        assert!(Claims::from_stored("{").is_err());
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

//! Stored hash strings: dialects, parsing and verification (argon2 PHC strings only for now).

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordVerifier};

/// Which framework wrote a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Werkzeug,
    Django,
    Phc,
}

impl Dialect {
    pub fn as_str(&self) -> &'static str {
        match self {
            Dialect::Werkzeug => "werkzeug",
            Dialect::Django => "django",
            Dialect::Phc => "phc",
        }
    }
}

impl FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "werkzeug" => Ok(Dialect::Werkzeug),
            "django" => Ok(Dialect::Django),
            "phc" | "passlib" | "argon2" | "bcrypt" | "crypt" => Ok(Dialect::Phc),
            _ => Err(format!(
                "unknown dialect `{s}`; expected werkzeug, django or phc"
            )),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct CostLimits;

impl CostLimits {
    pub fn unbounded() -> Self {
        CostLimits
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("malformed hash: {0}")]
    Malformed(String),
}

pub struct Argon2Params {
    pub variant: &'static str,
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

pub struct ParsedHash(String, Argon2Params);

impl fmt::Debug for ParsedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1.variant)
    }
}

pub fn parse(
    _dialect: Dialect,
    stored: &str,
    _limits: &CostLimits,
) -> Result<ParsedHash, HashError> {
    let h = PasswordHash::new(stored).map_err(|e| HashError::Malformed(e.to_string()))?;
    let get = |k: &str| h.params.get_decimal(k).unwrap_or(0);
    let variant = match h.algorithm.as_str() {
        "argon2id" => "argon2id",
        "argon2i" => "argon2i",
        "argon2d" => "argon2d",
        _ => return Err(HashError::Malformed("unknown".into())),
    };
    let p = Argon2Params {
        variant,
        m_cost: get("m"),
        t_cost: get("t"),
        p_cost: get("p"),
    };
    Ok(ParsedHash(stored.to_string(), p))
}

impl ParsedHash {
    pub fn verify(&self, password: &str) -> bool {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), self.0.as_str())
            .is_ok()
    }
    pub fn scheme(&self) -> &'static str {
        self.1.variant
    }
    pub fn argon2_params(&self) -> Option<&Argon2Params> {
        Some(&self.1)
    }
}

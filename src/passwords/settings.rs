//! What two dialects need besides the stored string: a Firebase project's password hash
//! parameters (the signer key is a secret, kept in the operator's file and in memory, never in
//! an account or a log), and the Spring Security encoder settings its `{pbkdf2}` strings do
//! not carry.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretSlice};

use super::digest::HashFn;
use super::encoding::b64_padded;

/// Settings of the dialects whose strings do not say everything; the defaults read every
/// string that carries its own parameters.
#[derive(Clone, Default)]
pub struct DialectSettings {
    /// The Firebase projects whose hashes may be verified (`--hash-config`, repeatable).
    pub firebase: Vec<Arc<FirebaseProject>>,
    /// Spring Security's `Pbkdf2PasswordEncoder` and `StandardPasswordEncoder` settings.
    pub spring: SpringSettings,
}

impl DialectSettings {
    /// The project a Firebase hash names, if it was configured.
    pub(crate) fn firebase_project(&self, id: &str) -> Option<&Arc<FirebaseProject>> {
        self.firebase.iter().find(|project| project.id == id)
    }
}

impl fmt::Debug for DialectSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DialectSettings")
            .field("firebase", &self.firebase)
            .field("spring", &self.spring)
            .finish()
    }
}

/// One Firebase project's "Password hash parameters" (console: Authentication → Users → ⋮ →
/// Password hash parameters). Its `Debug` shows the parameters' id and costs, never the key.
pub struct FirebaseProject {
    id: String,
    signer_key: SecretSlice<u8>,
    salt_separator: Vec<u8>,
    /// scrypt r (Firebase's `rounds`, 1–8).
    pub rounds: u32,
    /// scrypt log2(N) (Firebase's `mem_cost`, 1–14).
    pub mem_cost: u32,
}

impl FirebaseProject {
    /// Reads the parameters as the console prints them (`hash_config { algorithm: SCRYPT,
    /// base64_signer_key: …, base64_salt_separator: …, rounds: 8, mem_cost: 14, }`) or as a
    /// JSON object with the same keys (or their camelCase forms). Errors never quote a value.
    pub fn parse(text: &str) -> Result<FirebaseProject, String> {
        let fields = fields(text)?;
        let get = |names: &[&str]| {
            fields
                .iter()
                .find(|(key, _)| names.contains(&key.as_str()))
                .map(|(_, value)| value.as_str())
        };
        if let Some(algorithm) = get(&["algorithm"])
            && !algorithm.eq_ignore_ascii_case("SCRYPT")
        {
            return Err("the algorithm is not SCRYPT; only Firebase's scrypt is supported".into());
        }
        let key = get(&["base64_signer_key", "base64SignerKey", "signerKey"])
            .ok_or("base64_signer_key is missing")?;
        let signer_key = b64_padded(key)
            .filter(|key| !key.is_empty())
            .ok_or("base64_signer_key is not base64")?;
        let separator = get(&[
            "base64_salt_separator",
            "base64SaltSeparator",
            "saltSeparator",
        ])
        .ok_or("base64_salt_separator is missing")?;
        let salt_separator = b64_padded(separator).ok_or("base64_salt_separator is not base64")?;
        let number = |names: &[&str], what: &str, range: std::ops::RangeInclusive<u32>| {
            let value = get(names).ok_or(format!("{what} is missing"))?;
            value
                .parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or(format!(
                    "{what} is not a number from {} to {}",
                    range.start(),
                    range.end()
                ))
        };
        let rounds = number(&["rounds"], "rounds", 1..=8)?;
        let mem_cost = number(&["mem_cost", "memCost", "memoryCost"], "mem_cost", 1..=14)?;
        Ok(FirebaseProject::new(
            signer_key,
            salt_separator,
            rounds,
            mem_cost,
        ))
    }

    /// Parameters given directly (tests, and callers that read them elsewhere).
    pub fn new(
        signer_key: Vec<u8>,
        salt_separator: Vec<u8>,
        rounds: u32,
        mem_cost: u32,
    ) -> FirebaseProject {
        use sha2::Digest as _;
        // A fingerprint of all four parameters names the project in each stored hash, so
        // accounts of two merged projects find their own key. 48 bits of a hash of a random
        // 64-byte key say nothing about the key.
        let mut fingerprint = sha2::Sha256::new();
        fingerprint.update(b"firegate firebase-scrypt\0");
        fingerprint.update((signer_key.len() as u64).to_be_bytes());
        fingerprint.update(&signer_key);
        fingerprint.update((salt_separator.len() as u64).to_be_bytes());
        fingerprint.update(&salt_separator);
        fingerprint.update(rounds.to_be_bytes());
        fingerprint.update(mem_cost.to_be_bytes());
        let id = hex::encode(&fingerprint.finalize()[..6]);
        FirebaseProject {
            id,
            signer_key: signer_key.into(),
            salt_separator,
            rounds,
            mem_cost,
        }
    }

    /// The fingerprint that stored hashes carry to name these parameters (12 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The string firegate stores for an account that `firebase auth:export` wrote with
    /// `passwordHash` and `salt` (both base64): `$firebase-scrypt$<id>$r=<rounds>,m=<mem_cost>$<salt>$<hash>`.
    /// The costs are repeated so that the cost ceilings are checked from the string alone.
    pub fn stored_hash(&self, password_hash: &str, salt: &str) -> String {
        format!(
            "$firebase-scrypt${}$r={},m={}${salt}${password_hash}",
            self.id, self.rounds, self.mem_cost
        )
    }

    pub(crate) fn signer_key(&self) -> &[u8] {
        self.signer_key.expose_secret()
    }

    pub(crate) fn salt_separator(&self) -> &[u8] {
        &self.salt_separator
    }
}

impl fmt::Debug for FirebaseProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FirebaseProject({}, rounds {}, mem_cost {}, <signer key redacted>)",
            self.id, self.rounds, self.mem_cost
        )
    }
}

/// `key: value` lines of the console's block, or the members of a JSON object (nested under
/// `hash_config`/`hashConfig` or not), as text.
fn fields(text: &str) -> Result<Vec<(String, String)>, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))?;
        let object = value
            .get("hash_config")
            .or_else(|| value.get("hashConfig"))
            .unwrap_or(&value)
            .as_object()
            .ok_or("the JSON is not an object")?;
        return Ok(object
            .iter()
            .map(|(key, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key.clone(), text)
            })
            .collect());
    }
    let mut fields = Vec::new();
    for line in trimmed.lines() {
        let line = line.trim().trim_end_matches(',').trim();
        if line.is_empty() || line == "}" || line.ends_with('{') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(
                "a line is not `key: value` (expected the console's hash_config block \
                        or JSON)"
                    .into(),
            );
        };
        let value = value.trim().trim_matches('"');
        fields.push((key.trim().to_string(), value.to_string()));
    }
    Ok(fields)
}

/// How Spring Security's `Pbkdf2PasswordEncoder` was configured: the digest, iterations and
/// hash width, none of which its output records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpringPbkdf2 {
    pub(crate) hash: HashFn,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Derived key length in bytes (`hashWidth` / 8).
    pub width: usize,
}

impl SpringPbkdf2 {
    /// `Pbkdf2PasswordEncoder.defaultsForSpringSecurity_v5_5()`, which the `{pbkdf2}` id has
    /// meant since 5.8 (and what `new Pbkdf2PasswordEncoder()` did before): HMAC-SHA1,
    /// 185,000 iterations, 256 bits.
    pub const V5_5: SpringPbkdf2 = SpringPbkdf2 {
        hash: HashFn::Sha1,
        iterations: 185_000,
        width: 32,
    };

    /// `defaultsForSpringSecurity_v5_8()`, the `{pbkdf2@SpringSecurity_v5_8}` id:
    /// HMAC-SHA256, 310,000 iterations, 256 bits.
    pub const V5_8: SpringPbkdf2 = SpringPbkdf2 {
        hash: HashFn::Sha256,
        iterations: 310_000,
        width: 32,
    };

    /// `PBKDF2WithHmacSHA256:310000[:256]`: Java's algorithm name, the iterations and the
    /// hash width in bits (default: the digest's width, as Spring sets it).
    pub fn parse(spec: &str) -> Result<SpringPbkdf2, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let (algorithm, iterations, bits) = match parts.as_slice() {
            [a, i] => (*a, *i, None),
            [a, i, b] => (*a, *i, Some(*b)),
            _ => {
                return Err("expected ALGORITHM:ITERATIONS[:HASH_BITS], e.g. \
                            PBKDF2WithHmacSHA256:310000:256"
                    .into());
            }
        };
        let hash = match algorithm {
            "PBKDF2WithHmacSHA1" => HashFn::Sha1,
            "PBKDF2WithHmacSHA256" => HashFn::Sha256,
            "PBKDF2WithHmacSHA512" => HashFn::Sha512,
            _ => {
                return Err(
                    "the algorithm must be PBKDF2WithHmacSHA1, PBKDF2WithHmacSHA256 \
                            or PBKDF2WithHmacSHA512"
                        .into(),
                );
            }
        };
        let iterations = iterations
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("the iteration count is not a positive number")?;
        let width = match bits {
            None => hash.output_len(),
            Some(bits) => {
                bits.parse::<usize>()
                    .ok()
                    .filter(|b| *b >= 128 && b % 8 == 0 && *b <= 4096)
                    .ok_or("the hash width is not a multiple of 8 bits from 128 to 4096")?
                    / 8
            }
        };
        Ok(SpringPbkdf2 {
            hash,
            iterations,
            width,
        })
    }
}

/// Spring Security settings its encoded strings do not carry.
#[derive(Clone)]
pub struct SpringSettings {
    /// What `{pbkdf2}` means (default [`SpringPbkdf2::V5_5`]).
    pub pbkdf2: SpringPbkdf2,
    /// The `secret` (pepper) given to `Pbkdf2PasswordEncoder` and `StandardPasswordEncoder`;
    /// empty by default, as in every `defaultsFor…` factory.
    pub secret: SecretSlice<u8>,
}

impl Default for SpringSettings {
    fn default() -> Self {
        SpringSettings {
            pbkdf2: SpringPbkdf2::V5_5,
            secret: Vec::new().into(),
        }
    }
}

impl SpringSettings {
    pub(crate) fn secret(&self) -> &[u8] {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for SpringSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpringSettings")
            .field("pbkdf2", &self.pbkdf2)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE: &str = "hash_config {
  algorithm: SCRYPT,
  base64_signer_key: jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==,
  base64_salt_separator: Bw==,
  rounds: 8,
  mem_cost: 14,
}";

    #[test]
    fn the_console_block_and_json_give_the_same_project() {
        let console = FirebaseProject::parse(CONSOLE).unwrap();
        let json = FirebaseProject::parse(
            r#"{"hash_config": {"algorithm": "SCRYPT", "base64_signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==", "base64_salt_separator": "Bw==", "rounds": 8, "mem_cost": 14}}"#,
        )
        .unwrap();
        assert_eq!(console.id(), json.id());
        assert_eq!((console.rounds, console.mem_cost), (8, 14));
        assert_eq!(console.salt_separator(), [7]);
        let other = FirebaseProject::parse(&CONSOLE.replace("rounds: 8", "rounds: 7")).unwrap();
        assert_ne!(console.id(), other.id());
    }

    #[test]
    fn bad_parameters_are_named_and_the_key_never_shown() {
        for (text, reason) in [
            (CONSOLE.replace("SCRYPT", "HMAC_SHA256"), "not SCRYPT"),
            (CONSOLE.replace("mem_cost: 14", "mem_cost: 15"), "mem_cost"),
            (CONSOLE.replace("rounds: 8,", ""), "rounds is missing"),
            (
                CONSOLE.replace("==,", "=!,"),
                "base64_signer_key is not base64",
            ),
            ("nonsense".to_string(), "key: value"),
        ] {
            let error = FirebaseProject::parse(&text).unwrap_err();
            assert!(error.contains(reason), "{error}");
            assert!(!error.contains("jxspr8"), "{error}");
        }
        let project = FirebaseProject::parse(CONSOLE).unwrap();
        let shown = format!("{project:?} {:?}", DialectSettings::default());
        assert!(
            !shown.contains("jxspr8") && shown.contains(project.id()),
            "{shown}"
        );
    }

    #[test]
    fn spring_pbkdf2_specs() {
        let spec = SpringPbkdf2::parse("PBKDF2WithHmacSHA256:310000").unwrap();
        assert_eq!(spec, SpringPbkdf2::V5_8);
        let spec = SpringPbkdf2::parse("PBKDF2WithHmacSHA512:1000:512").unwrap();
        assert_eq!((spec.hash, spec.width), (HashFn::Sha512, 64));
        for bad in [
            "PBKDF2WithHmacMD5:1",
            "PBKDF2WithHmacSHA1",
            "PBKDF2WithHmacSHA1:0",
            "PBKDF2WithHmacSHA1:1:100",
        ] {
            assert!(SpringPbkdf2::parse(bad).is_err(), "{bad}");
        }
    }
}

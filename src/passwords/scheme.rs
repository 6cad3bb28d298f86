//! The public face of legacy password verification: the dialect a stored hash is read
//! in, the cost limits that keep absurd parameters from ever being computed, the error
//! that says why a hash is unusable, and the parsed hash that checks a password.

use std::fmt;
use std::str::FromStr;

use super::settings::DialectSettings;
use super::transform::{Transform, php_trim};
use super::verifier::{BcryptInput, Verifier};
use super::{MAX_PASSWORD_BYTES, aspnet, django, firebase, phc, phpass, spring, werkzeug};

pub use super::limits::{CostLimits, GUARANTEED_PASSWORD_BYTES};

/// Stored strings longer than this are rejected unread; real hashes stay under 300.
pub const MAX_STORED_BYTES: usize = 1024;

/// Which framework wrote a stored hash: the same prefix means different algorithms in
/// different ones (`sha1$salt$hex` is HMAC-SHA1 in Werkzeug, SHA1(salt ‖ password) in Django).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// `werkzeug.security`: `pbkdf2:…`, `scrypt:…`, and ≤ 2.2's `<digest>$salt$hex`.
    Werkzeug,
    /// `django.contrib.auth.hashers`: `pbkdf2_sha256$…`, `argon2$…`, `bcrypt$…`, `md5$…`, ….
    Django,
    /// PHC strings and modular crypt as passlib, bcrypt, argon2-cffi, crypt(3) and firegate
    /// write them: `$argon2id$`, `$2b$`, `$pbkdf2-sha256$`, `$scrypt$`, `$6$`, `$1$`,
    /// 13-character DES crypt, and LDAP `{SSHA}` values.
    #[serde(alias = "passlib", alias = "bcrypt", alias = "argon2", alias = "crypt")]
    Phc,
    /// PHP: phpass `$P$` (WordPress ≤ 6.7) and `$H$` (phpBB3), WordPress 6.8 `$wp$2y$`,
    /// `password_hash` output (`$2y$`, `$argon2i$`, `$argon2id$`), and bare MD5 hex.
    #[serde(alias = "phpbb", alias = "laravel")]
    Php,
    /// WordPress's `wp_users.user_pass`: the `php` grammar, checked as WordPress's login
    /// does, on the typed password without surrounding whitespace (`wp_authenticate` trims
    /// it) whatever the hash: phpass, `$wp$`, a plugin's bare bcrypt, or MD5.
    Wordpress,
    /// Drupal 7 `users.pass`: `$S$`, `U$S$`, and the phpass `$P$`/`$H$` it kept; checked on
    /// the typed password without surrounding whitespace, as Drupal's login form trims it.
    Drupal,
    /// ASP.NET Identity `PasswordHasher` v2 and v3 (`AspNetUsers.PasswordHash`).
    Aspnet,
    /// Spring Security `DelegatingPasswordEncoder` strings: `{bcrypt}`, `{pbkdf2}`, ….
    Spring,
    /// Firebase Auth's modified scrypt, with the project's parameters from `--hash-config`.
    Firebase,
    /// No hash here: the legacy system checks the password through the verify hook
    /// (`--legacy-verify-url`) at the account's first sign-in. Not in [`Dialect::ALL`]: it
    /// has no grammar to parse.
    External,
}

impl Dialect {
    /// Every dialect, in the order help texts list them.
    pub const ALL: [Dialect; 9] = [
        Dialect::Werkzeug,
        Dialect::Django,
        Dialect::Phc,
        Dialect::Php,
        Dialect::Wordpress,
        Dialect::Drupal,
        Dialect::Aspnet,
        Dialect::Spring,
        Dialect::Firebase,
    ];

    /// The canonical name, as accepted by `FromStr` and written by serde.
    pub fn as_str(&self) -> &'static str {
        match self {
            Dialect::Werkzeug => "werkzeug",
            Dialect::Django => "django",
            Dialect::Phc => "phc",
            Dialect::Php => "php",
            Dialect::Wordpress => "wordpress",
            Dialect::Drupal => "drupal",
            Dialect::Aspnet => "aspnet",
            Dialect::Spring => "spring",
            Dialect::Firebase => "firebase",
            Dialect::External => "external",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dialect name that `Dialect::from_str` does not know.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown hash dialect '{0}': expected werkzeug, django, phc, php, wordpress, drupal, \
     aspnet, spring, firebase or external (passlib, bcrypt, argon2 and crypt also mean phc; phpbb and \
     laravel mean php)"
)]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "werkzeug" => Ok(Dialect::Werkzeug),
            "django" => Ok(Dialect::Django),
            "phc" | "passlib" | "bcrypt" | "argon2" | "crypt" => Ok(Dialect::Phc),
            "php" | "phpbb" | "laravel" => Ok(Dialect::Php),
            "wordpress" => Ok(Dialect::Wordpress),
            "drupal" => Ok(Dialect::Drupal),
            "aspnet" => Ok(Dialect::Aspnet),
            "spring" => Ok(Dialect::Spring),
            "firebase" => Ok(Dialect::Firebase),
            "external" => Ok(Dialect::External),
            _ => Err(UnknownDialect(s.to_owned())),
        }
    }
}

/// Argon2 parameters of a stored hash, for deciding whether to re-hash it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// `argon2id`, `argon2i` or `argon2d`.
    pub variant: &'static str,
    /// `0x13` (written `v=19`), or `0x10` when the string has no `v=` field.
    pub version: u32,
    /// Memory in KiB (`m=`).
    pub m_cost: u32,
    /// Passes over memory (`t=`).
    pub t_cost: u32,
    /// Lanes (`p=`).
    pub p_cost: u32,
    /// Length of the stored hash in bytes.
    pub output_len: usize,
}

/// Why a stored hash cannot be used. The text names the scheme and what is wrong, and
/// never any part of the hash, salt, digest or password.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The account has no usable password: Django's `!` marker, or a locked crypt entry.
    #[error("unusable password: the stored value marks the account as having none")]
    Unusable,
    /// No algorithm of the dialect matches. The algorithm field is named only when it is an
    /// identifier from firegate's fixed list; any other text could be a clear-text password
    /// (a legacy table holding `Summer$2020`) and is not kept.
    #[error("{dialect}: {prefix}")]
    UnknownScheme { dialect: Dialect, prefix: Prefix },
    /// The scheme is known but the string does not follow its grammar.
    #[error("malformed {scheme} hash: {reason}")]
    Malformed {
        scheme: &'static str,
        reason: &'static str,
    },
    /// The hash needs settings that were not given (a Firebase hash without its project's
    /// `--hash-config`), so it is not computed.
    #[error(
        "{scheme}: the hash needs its project's parameters, which are not loaded (give them with {flag})"
    )]
    MissingParameters {
        scheme: &'static str,
        flag: &'static str,
    },
    /// The account's `password_input` names a transform this version does not know, so no
    /// typed password can be brought to the form its hash was computed from.
    #[error(
        "the stored password_input names an input transform this version does not know \
         (it knows trim, des8, bcrypt72)"
    )]
    UnknownTransform,
    /// The password lives in the legacy system, which only the verify hook can ask.
    #[error(
        "the password is checked by the legacy system, and no verify hook is configured \
         (set --legacy-verify-url)"
    )]
    External,
    /// A cost parameter is above the configured limit, so the hash is not computed.
    #[error("{scheme}: {param} {value} exceeds the limit {limit} (raise {flag} to allow)")]
    CostTooHigh {
        scheme: &'static str,
        param: &'static str,
        value: u64,
        limit: u64,
        flag: &'static str,
    },
}

/// What an unknown hash's algorithm field was, as far as an error may say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    /// The string has no algorithm field at all.
    Absent,
    /// A field that is no identifier firegate knows; its text is deliberately dropped.
    Unrecognised,
    /// A well-known identifier (of another dialect, or of a scheme firegate does not
    /// verify), always one of firegate's own static strings.
    Known(&'static str),
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prefix::Absent => f.write_str("not a recognised hash format"),
            Prefix::Unrecognised => f.write_str("unrecognised scheme prefix"),
            Prefix::Known(name) => write!(f, "unsupported algorithm prefix '{name}'"),
        }
    }
}

pub(crate) fn malformed(scheme: &'static str, reason: &'static str) -> HashError {
    HashError::Malformed { scheme, reason }
}

/// A stored hash string parsed under its dialect, ready to verify. Its `Debug` output
/// shows the scheme only, never the salt or digest.
#[derive(Clone)]
pub struct ParsedHash {
    scheme: &'static str,
    verifier: Verifier,
    /// The application trims what is typed before checking it (WordPress's login), so only
    /// the trimmed form is checked.
    trims_typed: bool,
}

/// Parses `stored` as `dialect` writes it, checking grammar, lengths, encodings and cost
/// limits, so that an importer can vet a hash without verifying anything.
/// Dialects that need settings (Firebase's project parameters, Spring's `{pbkdf2}` encoder)
/// read them from [`DialectSettings::default`]: see [`parse_with`].
pub fn parse(dialect: Dialect, stored: &str, limits: &CostLimits) -> Result<ParsedHash, HashError> {
    parse_with(dialect, stored, limits, &DialectSettings::default())
}

/// [`parse`] with the settings of the dialects whose strings do not carry every parameter.
/// A Firebase hash whose project is not in `settings` still parses (its scheme can be named
/// and its costs are checked) but never verifies: [`ParsedHash::missing`] says why.
pub fn parse_with(
    dialect: Dialect,
    stored: &str,
    limits: &CostLimits,
    settings: &DialectSettings,
) -> Result<ParsedHash, HashError> {
    if stored.len() > MAX_STORED_BYTES {
        return Err(malformed(dialect.as_str(), "longer than 1024 bytes"));
    }
    let (scheme, verifier) = match dialect {
        Dialect::Werkzeug => werkzeug::parse(stored, limits)?,
        Dialect::Django => django::parse(stored, limits)?,
        Dialect::Phc => phc::parse(stored, limits)?,
        Dialect::Php | Dialect::Wordpress => phpass::parse_php(stored, limits)?,
        Dialect::Drupal => phpass::parse_drupal(stored, limits)?,
        Dialect::Aspnet => aspnet::parse(stored, limits)?,
        Dialect::Spring => spring::parse(stored, &settings.spring, limits)?,
        Dialect::Firebase => firebase::parse(stored, settings, limits)?,
        Dialect::External => return Err(HashError::External),
    };
    Ok(ParsedHash {
        scheme,
        verifier,
        // WordPress's wp_authenticate and Drupal 7's login form (user_login_authenticate_
        // validate) trim the typed password before any hash is compared.
        trims_typed: matches!(dialect, Dialect::Wordpress | Dialect::Drupal),
    })
}

/// The clear text of a stored value that is a password rather than a hash (Spring's
/// `{noop}`), which an importer must hash at once and never store.
pub fn clear_text(dialect: Dialect, stored: &str) -> Option<&str> {
    match dialect {
        Dialect::Spring => spring::clear_text(stored),
        _ => None,
    }
}

impl ParsedHash {
    /// Whether `password` (UTF-8, as every supported framework encodes it) matches.
    /// CPU-heavy by design: run it on a blocking pool. Digests are compared in constant
    /// time. A password the hash's work budget does not cover (see [`ParsedHash::admits`])
    /// never matches and costs no hashing.
    pub fn verify(&self, password: &str) -> bool {
        self.matches(password.as_bytes()).is_some()
    }

    /// [`ParsedHash::verify`] for a password as bytes (a transformed one need not be text),
    /// saying, on a match, which [`Transform`] brings every input this hash accepts to one
    /// form: a hash that replaces this one is computed over that form of `password` and kept
    /// with the transform, so no input that matched here stops matching, and no other starts.
    pub fn matches(&self, password: &[u8]) -> Option<Transform> {
        let trimmed = php_trim(password);
        if self.trims_typed {
            // WordPress's and Drupal's logins trim what is typed (and refuse it when nothing
            // is left), then check that against whatever the hash is: every padding of the
            // trimmed password matches, and bcrypt also ignores what follows 72 bytes of it.
            if trimmed.is_empty() || !self.exact(trimmed) {
                return None;
            }
            return Some(match &self.verifier {
                Verifier::Bcrypt {
                    input: BcryptInput::Password,
                    ..
                } if Transform::for_bcrypt(trimmed) == Transform::Bcrypt72 => {
                    Transform::TrimBcrypt72
                }
                _ => Transform::Trim,
            });
        }
        match self.scheme {
            // WordPress hashes `trim($password)` (wp_hash_password) and trims what is typed
            // before checking it (wp_authenticate), so one check of the trimmed input is
            // exactly what WordPress does, and every padding of it matches.
            "wordpress-bcrypt" => (!trimmed.is_empty()
                && self.admits_all(&[trimmed.len()])
                && self.verifier.verify(trimmed))
            .then_some(Transform::Trim),
            // phpass's `$P$` is WordPress's, whose users' typed whitespace is trimmed, but
            // also other applications', which hash what was typed: both forms are checked,
            // and both count against the budget before either is computed. A hash of text
            // with surrounding whitespace matches that text only; any other matches every
            // padding of it.
            "phpass-md5" if trimmed.len() != password.len() && !trimmed.is_empty() => {
                if !self.admits_all(&[password.len(), trimmed.len()]) {
                    None
                } else if self.verifier.verify(password) {
                    Some(Transform::None)
                } else {
                    self.verifier.verify(trimmed).then_some(Transform::Trim)
                }
            }
            "phpass-md5" => {
                let input = if trimmed.is_empty() {
                    Transform::None
                } else {
                    Transform::Trim
                };
                self.exact(password).then_some(input)
            }
            _ => self.exact(password).then(|| match &self.verifier {
                Verifier::DesCrypt { .. } => Transform::Des8,
                Verifier::Bcrypt {
                    input: BcryptInput::Password,
                    ..
                } => Transform::for_bcrypt(password),
                // The others read every byte (bcrypt over a prehash hashes all of it first).
                _ => Transform::None,
            }),
        }
    }

    /// One check of `password` exactly as given, within the work budget.
    fn exact(&self, password: &[u8]) -> bool {
        self.admits_all(&[password.len()]) && self.verifier.verify(password)
    }

    /// Whether a password of `password_len` bytes is checked at all: at most
    /// [`MAX_PASSWORD_BYTES`], and, for the schemes whose work grows with the password
    /// (sha-crypt, phpass, Drupal 7), within the work the cost ceilings allow one check.
    /// Every hash the ceilings admit is checked for passwords of at least
    /// [`GUARANTEED_PASSWORD_BYTES`].
    pub fn admits(&self, password_len: usize) -> bool {
        self.admits_all(&[password_len])
    }

    /// Whether checking each of these lengths in turn stays within one check's budget.
    fn admits_all(&self, lengths: &[usize]) -> bool {
        if lengths.iter().any(|&len| len > MAX_PASSWORD_BYTES) {
            return false;
        }
        let mut spent = 0u64;
        for &len in lengths {
            match self.verifier.work(len) {
                None => {}
                Some((work, budget)) => {
                    spent = spent.saturating_add(work);
                    if spent > budget {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// A stable scheme name for statistics. The full list:
    ///
    /// - Werkzeug: `werkzeug-pbkdf2-<digest>`, `werkzeug-scrypt`, `werkzeug-hmac-<digest>`
    ///   (≤ 2.2 salted), `werkzeug-<digest>` (≤ 2.2 unsalted), where `<digest>` is one of
    ///   `md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`, `sha512_224`, `sha512_256`,
    ///   `sha3_224`, `sha3_256`, `sha3_384`, `sha3_512`, `blake2b`, `blake2s`.
    /// - Django: `django-pbkdf2-sha256`, `django-pbkdf2-sha1`, `django-argon2id`,
    ///   `django-argon2i`, `django-argon2d`, `django-bcrypt-sha256`, `django-bcrypt`,
    ///   `django-scrypt`, `django-md5`, `django-sha1`, `django-unsalted-md5`,
    ///   `django-unsalted-sha1`, `django-crypt`.
    /// - PHC: `argon2id`, `argon2i`, `argon2d`, `bcrypt`, `pbkdf2-sha256`, `pbkdf2-sha512`,
    ///   `pbkdf2-sha1`, `scrypt`, `sha256-crypt`, `sha512-crypt`, `md5-crypt`, `des-crypt`,
    ///   `ldap-sha`, `ldap-ssha`, `ldap-sha256`, `ldap-ssha256`, `ldap-sha512`,
    ///   `ldap-ssha512`, `ldap-md5`, `ldap-smd5` (`{CRYPT}` values report the crypt scheme).
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// True when only the trimmed form of what is typed is checked (WordPress, Drupal 7).
    pub fn trims_typed(&self) -> bool {
        self.trims_typed
    }

    /// Why this parsed hash still cannot be verified (a Firebase hash without its project's
    /// parameters), if so; it would never match.
    pub fn missing(&self) -> Option<HashError> {
        self.verifier.missing()
    }

    /// For argon2 hashes, their parameters, so the caller can decide to re-hash with
    /// stronger ones; `None` for every other scheme.
    pub fn argon2_params(&self) -> Option<Argon2Params> {
        self.verifier.argon2_params()
    }

    /// What verifying recomputes, for code that re-expresses a hash for another system
    /// (`firebase_import`).
    pub(crate) fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl fmt::Debug for ParsedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedHash")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{CostLimits, Dialect, MAX_PASSWORD_BYTES, parse};

    #[test]
    fn dialect_names_and_aliases() {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.as_str().parse::<Dialect>().unwrap(), dialect);
            let json = serde_json::to_string(&dialect).unwrap();
            assert_eq!(json, format!("\"{dialect}\""));
        }
        for alias in ["passlib", "bcrypt", "argon2", "crypt", "PHC"] {
            assert_eq!(alias.parse::<Dialect>().unwrap(), Dialect::Phc);
        }
        assert_eq!(
            serde_json::from_str::<Dialect>("\"passlib\"").unwrap(),
            Dialect::Phc
        );
        for alias in ["phpBB", "laravel"] {
            assert_eq!(alias.parse::<Dialect>().unwrap(), Dialect::Php);
        }
        assert_eq!("WordPress".parse::<Dialect>().unwrap(), Dialect::Wordpress);
        let error = "flask".parse::<Dialect>().unwrap_err().to_string();
        assert!(error.contains("werkzeug, django, phc, php"), "{error}");
    }

    #[test]
    fn oversized_passwords_never_verify() {
        let limits = CostLimits::default();
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        let digest = crate::passwords::digest::HashFn::Sha256.digest(&[long.as_bytes()]);
        let parsed = parse(
            Dialect::Werkzeug,
            &format!("sha256$${}", hex::encode(digest)),
            &limits,
        );
        let parsed = parsed.unwrap();
        assert!(!parsed.verify(&long));
    }

    #[test]
    fn parsed_hashes_can_move_to_a_blocking_pool() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<super::ParsedHash>();
        assert_send_sync::<super::HashError>();
    }
}

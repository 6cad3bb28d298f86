//! Passwords known from breaches (Have I Been Pwned's Pwned Passwords): a new password is
//! looked up before it is set, and a legacy password at the one sign-in where it is seen in
//! the clear. The lookup goes to the k-anonymity range API ([`RangeApi`]: only the first five
//! hex characters of the password's SHA-1 leave the machine) or to an offline copy in the
//! official downloader's format ([`OfflineFile`]: a sorted file searched in place, never
//! loaded). Neither the password nor any part of its hash is logged or quoted in an error.

mod file;
mod range;

use std::path::PathBuf;
use std::time::Duration;

use sha1::{Digest, Sha1};

pub use crate::error::BreachedError;
use crate::passwords::Password;

pub use file::OfflineFile;
pub use range::RangeApi;

/// Pwned Passwords' range API.
pub const RANGE_API_URL: &str = "https://api.pwnedpasswords.com/range/";

/// Where breached passwords are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreachedSource {
    /// No lookup: any password of the minimum length is taken.
    Off,
    /// The range API at this base URL (the five hex characters are appended).
    Range(String),
    /// An offline copy: lines `SHA1HEX:COUNT`, sorted by hash.
    File(PathBuf),
}

/// What firegate does when the range API cannot answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The password is taken, and a warning logged (availability over the check).
    Open,
    /// The change is refused with 503 until the API answers.
    Closed,
}

/// What a legacy account's first sign-in does with a breached password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtSignIn {
    /// Not checked at sign-in.
    Allow,
    /// Checked; a breached one is recorded on the account, the sign-in goes through and a
    /// mail invites a change.
    Flag,
    /// Checked; a breached one is recorded, the sign-in is refused (`403
    /// password_reset_required`) and a reset link mailed.
    Reset,
}

/// The breached-password settings.
#[derive(Debug, Clone)]
pub struct BreachedOptions {
    pub source: BreachedSource,
    /// A password seen fewer times than this is taken.
    pub min_count: u64,
    /// Longest a range lookup may take.
    pub deadline: Duration,
    pub unreachable: Unreachable,
    pub at_sign_in: AtSignIn,
}

impl Default for BreachedOptions {
    /// The documented defaults: the range API, any count, two seconds, fail open, flag.
    fn default() -> Self {
        BreachedOptions {
            source: BreachedSource::Range(RANGE_API_URL.into()),
            min_count: 1,
            deadline: Duration::from_secs(2),
            unreachable: Unreachable::Open,
            at_sign_in: AtSignIn::Flag,
        }
    }
}

/// The SHA-1 of a password as Pwned Passwords writes it: 40 upper-case hex characters. Kept
/// in a type whose `Debug` shows nothing.
pub struct PasswordSha1([u8; 40]);

impl PasswordSha1 {
    pub fn of(password: &Password) -> PasswordSha1 {
        let digest = Sha1::digest(password.expose().as_bytes());
        let mut hex = [0u8; 40];
        // hex::encode_to_slice writes lower case; Pwned Passwords' files and answers are
        // upper case.
        for (i, byte) in digest.iter().enumerate() {
            hex[2 * i] = HEX[usize::from(byte >> 4)];
            hex[2 * i + 1] = HEX[usize::from(byte & 0xf)];
        }
        PasswordSha1(hex)
    }

    /// The first five characters, sent to the range API.
    fn prefix(&self) -> &str {
        std::str::from_utf8(&self.0[..5]).unwrap_or_default()
    }

    /// The other 35, compared with the range API's answer.
    fn suffix(&self) -> &[u8] {
        &self.0[5..]
    }

    fn bytes(&self) -> &[u8; 40] {
        &self.0
    }
}

impl std::fmt::Debug for PasswordSha1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordSha1(..)")
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The configured lookup.
pub struct Breached {
    lookup: Lookup,
    options: BreachedOptions,
}

enum Lookup {
    Range(RangeApi),
    File(OfflineFile),
}

impl Breached {
    /// The lookup `options` configure, or `None` when it is off. An offline file is opened
    /// and its format checked now, so a wrong path stops start-up.
    pub fn new(options: &BreachedOptions) -> crate::Result<Option<Breached>> {
        let lookup = match &options.source {
            BreachedSource::Off => return Ok(None),
            BreachedSource::Range(url) => Lookup::Range(RangeApi::new(url, options.deadline)?),
            BreachedSource::File(path) => Lookup::File(
                OfflineFile::open(path)
                    .map_err(|e| crate::Error::config(e.to_string()).caused_by(e))?,
            ),
        };
        Ok(Some(Breached {
            lookup,
            options: options.clone(),
        }))
    }

    pub fn options(&self) -> &BreachedOptions {
        &self.options
    }

    /// How many times `password` appears in the breaches, when at least the threshold
    /// (`None`: not found, or fewer times).
    pub async fn count(&self, password: &Password) -> Result<Option<u64>, BreachedError> {
        let sha1 = PasswordSha1::of(password);
        let count = match &self.lookup {
            Lookup::Range(api) => api.count(&sha1).await?,
            Lookup::File(file) => file.count(&sha1).await?,
        };
        Ok(count.filter(|n| *n >= self.options.min_count.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_upper_case_hex_and_never_shown() {
        let sha1 = PasswordSha1::of(&Password::new("password".into()).unwrap());
        assert_eq!(
            std::str::from_utf8(sha1.bytes()).unwrap(),
            "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"
        );
        assert_eq!(sha1.prefix(), "5BAA6");
        assert_eq!(format!("{sha1:?}"), "PasswordSha1(..)");
    }
}

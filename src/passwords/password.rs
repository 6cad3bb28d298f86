//! The password a user types: bounded in length, hidden from `Debug`, wiped on drop.

use std::fmt;

use zeroize::Zeroizing;

use crate::{Error, Result};

/// Longest accepted password, in bytes; longer ones are refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// A password as typed. Its `Debug` never shows it and its memory is wiped on drop.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Accepts any non-empty password up to [`MAX_PASSWORD_BYTES`], used whole and unchanged.
    pub fn new(value: String) -> Result<Password> {
        let value = Zeroizing::new(value);
        if value.is_empty() {
            return Err(Error::invalid(
                "empty_password",
                "the password must not be empty",
            ));
        }
        if value.len() > MAX_PASSWORD_BYTES {
            return Err(Error::invalid(
                "password_too_long",
                format!("the password is longer than {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        Ok(Password(value))
    }

    /// The password text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

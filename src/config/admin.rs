//! The admin page settings group: the HTTP Basic credential, whose password is given only as
//! an argon2id hash and never echoed back, not even when it is malformed.

use clap::Args;
use clap::builder::{TypedValueParser, ValueParser};
use clap::error::ErrorKind;
use secrecy::SecretString;

use super::values::non_empty;
use crate::passwords::{CostLimits, Dialect};
use crate::service::AdminCredential;

/// Who may use the admin page and API.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Admin page")]
pub struct AdminArgs {
    /// Admin user name for the admin page and API (HTTP Basic).
    #[arg(long, env = "FIREGATE_ADMIN_USER", default_value = "admin", value_parser = non_empty("--admin-user"))]
    pub admin_user: String,

    /// argon2id hash of the admin password (`firegate admin hash-password`); the admin page
    /// and API are off without it.
    #[arg(long, env = "FIREGATE_ADMIN_PASSWORD_HASH", value_name = "HASH",
          value_parser = admin_hash_parser(), hide_env_values = true)]
    pub admin_password_hash: Option<SecretString>,
}

impl AdminArgs {
    /// The credential, when the admin page is on.
    pub fn credential(&self) -> Option<AdminCredential> {
        self.admin_password_hash
            .as_ref()
            .map(|hash| AdminCredential {
                user: self.admin_user.clone(),
                password_hash: hash.clone(),
            })
    }
}

/// Accepts an argon2id PHC string, checked so a typo fails at start-up rather than at login.
/// The error never contains the value: a plaintext password put in the variable by mistake
/// must not end up in the logs.
fn admin_hash_parser() -> ValueParser {
    ValueParser::new(AdminHashParser)
}

#[derive(Clone)]
struct AdminHashParser;

impl TypedValueParser for AdminHashParser {
    type Value = SecretString;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SecretString, clap::Error> {
        let refuse = || {
            clap::Error::raw(
                ErrorKind::ValueValidation,
                "--admin-password-hash (FIREGATE_ADMIN_PASSWORD_HASH) is not an argon2id hash \
                 ($argon2id$v=19$...); create one with `firegate admin hash-password` \
                 (the value is not shown)\n",
            )
            .with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(refuse)?;
        let argon2id = crate::passwords::parse(Dialect::Phc, text, &CostLimits::default())
            .is_ok_and(|parsed| parsed.scheme() == "argon2id");
        if argon2id {
            Ok(SecretString::from(text.to_string()))
        } else {
            Err(refuse())
        }
    }
}

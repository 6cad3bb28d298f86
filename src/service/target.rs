//! How admin use cases name an account: by its uid, or by one of its logins, never one read
//! as the other. A username is chosen by whoever registers it, so a login equal to another
//! account's uid must not stand in for that account; and a new login may not be one.

use std::fmt;

use super::Service;
use crate::accounts::{AccountSummary, Uid};
use crate::login::Login;
use crate::store::StoredAccount;
use crate::{Error, Result};

/// The account an admin command or route acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    /// The uid, exactly as given (see [`Uid::named`]).
    Uid(String),
    /// An email or username, looked up as typed and normalized (see [`Login::lookups`]).
    Login(String),
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountRef::Uid(uid) => write!(f, "uid `{uid}`"),
            AccountRef::Login(login) => write!(f, "login `{}`", login.trim()),
        }
    }
}

impl Service {
    /// The account `target` names.
    pub(super) async fn find(&self, target: &AccountRef) -> Result<StoredAccount> {
        let found = match target {
            AccountRef::Uid(text) => match Uid::named(text) {
                Some(uid) => self.store.find_by_uid(&uid).await?,
                None => None,
            },
            AccountRef::Login(text) => self.store.find_by_login(&Login::lookups(text)?).await?,
        };
        found.ok_or_else(|| Error::AccountNotFound(target.to_string()))
    }

    /// The account holding `login`, as a list of at most one: the admin API's `?login=`
    /// search. A login no account holds is an empty list, not an error.
    pub async fn search_login(&self, login: &str) -> Result<Vec<AccountSummary>> {
        let found = self.store.find_by_login(&Login::lookups(login)?).await?;
        Ok(found
            .iter()
            .map(|f| AccountSummary::from(&f.account))
            .collect())
    }

    /// Refuses new logins that are the uid of an account other than `uid` (the account
    /// being created): such a login would read, to whoever meets it, as a name for that
    /// account. One batch read of the accounts.
    pub(super) async fn refuse_logins_that_are_uids<'a>(
        &self,
        uid: &Uid,
        logins: impl Iterator<Item = &'a Login>,
    ) -> Result<()> {
        let others: Vec<&Login> = logins.filter(|l| l.as_str() != uid.as_str()).collect();
        let texts: Vec<&str> = others.iter().map(|l| l.as_str()).collect();
        let taken = self.store.uids_exist(&texts).await?;
        match others.iter().zip(taken).find(|(_, taken)| *taken) {
            Some((login, _)) => Err(Error::LoginIsUid(login.to_string())),
            None => Ok(()),
        }
    }
}

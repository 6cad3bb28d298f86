//! Look-alike claims: beside each login document, `<logins>/_skeleton_<hex SHA-256 of the
//! login's TR39 skeleton>` names the uid whose login claimed that skeleton. A claim is
//! created with its login, in the same commit and with the same "must not exist"
//! precondition, so of two logins that look alike (`аdmin` and `admin`) Firestore itself
//! lets only one exist, however the creations race. Sign-in never reads claims: it finds an
//! account by its login document, as before.

use std::collections::HashMap;

use firestore::{
    FirestoreTimestamp, FirestoreTransactionOps, FirestoreWritePrecondition,
    firestore_document_to_serializable,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::import::CommitOutcome;
use super::{Store, map_error};
use crate::Result;
use crate::accounts::Account;
use crate::login::Login;

/// Rounds of read, create and read again before `claim_existing` gives up on a page that
/// keeps changing under it.
const ROUNDS: usize = 5;

#[derive(Serialize, Deserialize)]
pub(super) struct ClaimDoc {
    pub(super) uid: String,
    /// The login that claimed the skeleton (for messages and for an operator reading it).
    pub(super) login: String,
    #[serde(default, rename = "_firestore_updated", skip_serializing)]
    pub(super) version: Option<FirestoreTimestamp>,
}

/// The account holding a skeleton, through one of its logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlikeHolder {
    pub uid: String,
    /// That account's login with the skeleton.
    pub login: String,
}

/// An existing login whose skeleton another account's login claimed first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LookAlike {
    pub uid: String,
    pub login: String,
    pub holder_uid: String,
    pub holder_login: String,
}

/// The id of the claim document of `login`'s skeleton. No login document id starts with `_`
/// (`login_doc_id` encodes a leading one), so claims and logins never meet; hashed, so any
/// skeleton (which may be several times longer than its login) fits a document id.
pub(super) fn claim_doc_id(login: &Login) -> String {
    let skeleton = login.skeleton();
    format!(
        "_skeleton_{}",
        hex::encode(Sha256::digest(skeleton.as_bytes()))
    )
}

/// The distinct claims an account's logins make (its email and username may look alike).
pub(super) fn claims_of(account: &Account) -> Vec<(String, &Login)> {
    let mut out: Vec<(String, &Login)> = Vec::with_capacity(2);
    for login in account.logins() {
        let id = claim_doc_id(login);
        if !out.iter().any(|(seen, _)| *seen == id) {
            out.push((id, login));
        }
    }
    out
}

impl ClaimDoc {
    pub(super) fn new(account: &Account, login: &Login) -> ClaimDoc {
        ClaimDoc {
            uid: account.uid.to_string(),
            login: login.to_string(),
            version: None,
        }
    }
}

impl Store {
    /// The claim documents of `ids` that exist, by id.
    pub(super) async fn claim_docs(&self, ids: Vec<String>) -> Result<HashMap<String, ClaimDoc>> {
        self.batch_get(&self.options.logins_collection, ids)
            .await?
            .into_iter()
            .map(|(id, doc)| {
                let claim =
                    firestore_document_to_serializable::<ClaimDoc>(&doc).map_err(map_error)?;
                Ok((id, claim))
            })
            .collect()
    }

    /// Who holds the skeleton of each of `logins`, in order: one batch read.
    pub async fn look_alike_holders(
        &self,
        logins: &[Login],
    ) -> Result<Vec<Option<LookAlikeHolder>>> {
        let ids: Vec<String> = logins.iter().map(claim_doc_id).collect();
        let mut found = self.claim_docs(ids.clone()).await?;
        Ok(ids
            .iter()
            .map(|id| {
                found.remove(id).map(|doc| LookAlikeHolder {
                    uid: doc.uid,
                    login: doc.login,
                })
            })
            .collect())
    }

    /// Claims the skeletons of `accounts`' logins where no account has yet (accounts written
    /// before claims existed); returns the logins whose skeleton another account holds.
    /// Creations race safely with registrations: each claim must not exist yet.
    pub async fn claim_existing(&self, accounts: &[&Account]) -> Result<Vec<LookAlike>> {
        let wanted: Vec<(String, &Account, &Login)> = accounts
            .iter()
            .flat_map(|a| claims_of(a).into_iter().map(move |(id, l)| (id, *a, l)))
            .collect();
        for _ in 0..ROUNDS {
            let held = self
                .claim_docs(wanted.iter().map(|(id, _, _)| id.clone()).collect())
                .await?;
            let mut writes = self.new_commit();
            let mut clashes = Vec::new();
            let mut creating: Vec<&str> = Vec::new();
            let mut deferred = false;
            for (id, account, login) in &wanted {
                match held.get(id) {
                    Some(claim) if claim.uid == account.uid.as_str() => {}
                    Some(claim) => clashes.push(LookAlike {
                        uid: account.uid.to_string(),
                        login: login.to_string(),
                        holder_uid: claim.uid.clone(),
                        holder_login: claim.login.clone(),
                    }),
                    // Two accounts of one page that look alike: the first in uid order
                    // claims, the next is reported in the next round.
                    None if creating.contains(&id.as_str()) => deferred = true,
                    None => {
                        creating.push(id.as_str());
                        writes
                            .update_object(
                                &self.options.logins_collection,
                                id,
                                &ClaimDoc::new(account, login),
                                None,
                                Some(FirestoreWritePrecondition::Exists(false)),
                                vec![],
                            )
                            .map_err(map_error)?;
                    }
                }
            }
            match self.commit(writes).await? {
                CommitOutcome::Committed if !deferred => return Ok(clashes),
                // Claims made meanwhile, or a clash inside the page: read again.
                CommitOutcome::Committed | CommitOutcome::Refused => {}
            }
        }
        Err(crate::Error::unavailable(
            "the logins kept changing while their look-alike claims were written; run again",
        ))
    }
}

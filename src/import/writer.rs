//! Writing vetted accounts: batches of at most 500 writes committed atomically with
//! create-only preconditions. When Firestore refuses a batch because something in it exists,
//! the batch's documents are read back, each account is classified (already imported,
//! to update, conflicting, or new) and the new ones are committed again. This is what makes
//! a rerun, or a run after an interruption, finish the work without duplicating any of it.
//! Before an account is classified, a login of it that looks like another account's (its
//! skeleton claimed by that account) is left out, or refuses the row when it is the last.

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use rand::RngExt;
use tracing::warn;

use super::options::DuplicateEmail;
use super::report::{Reason, Rejection};
use super::row::Candidate;
use super::values::Dropped;
use crate::accounts::Account;
use crate::store::{CommitOutcome, ExistingAccount, ImportUpdate, MAX_WRITES_PER_COMMIT, Store};
use crate::{Error, Result};

/// Attempts of one Firestore call while it reports itself unavailable.
const ATTEMPTS: u32 = 6;

/// Rounds of commit, read back and commit again before a batch's rows count as failed.
const ROUNDS: usize = 5;

/// What became of one account of a batch.
#[derive(Debug)]
pub(crate) enum Outcome {
    Imported,
    /// Already in Firestore as this row describes it, or (`differs`) with another hash or
    /// disabled flag that was left as it is (without `--update`, or a hash firegate wrote).
    /// `update_hash`: `--update` would replace the hash; `update_state`: it would change
    /// the disabled flag.
    Present {
        differs: bool,
        update_hash: bool,
        update_state: bool,
    },
    Updated,
    Rejected(Rejection),
    /// Not an outcome of its own: a login its row goes on without (the row has another).
    KeptWithout(Rejection),
}

/// Whether to write, and whether to replace what differs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode<'a> {
    pub dry_run: bool,
    pub update: bool,
    pub legacy_domain: Option<&'a str>,
    pub duplicate_email: DuplicateEmail,
}

/// Accounts gathered for one commit.
#[derive(Default)]
pub(crate) struct Batch {
    pub candidates: Vec<Candidate>,
    writes: usize,
}

impl Batch {
    /// Adds a candidate, or hands it back when it would push the commit over the limit.
    pub(crate) fn try_push(&mut self, candidate: Candidate) -> Option<Candidate> {
        // The account, and a login document and a look-alike claim per login.
        let writes = 1 + 2 * candidate.account.logins().count();
        if self.writes + writes > MAX_WRITES_PER_COMMIT {
            return Some(candidate);
        }
        self.writes += writes;
        self.candidates.push(candidate);
        None
    }
}

/// Settles every account of a batch, in order. An error means Firestore stayed
/// unavailable: the rows not yet settled are reported as failed and the run should stop.
pub(crate) async fn settle(
    store: &Store,
    batch: Batch,
    mode: Mode<'_>,
    now: Timestamp,
) -> (Vec<Outcome>, Option<Error>) {
    let mut outcomes = Vec::with_capacity(batch.candidates.len());
    let pending = batch.candidates;
    // Refused before anything is written: a row whose login's legacy-domain spelling
    // belongs to another account would shadow that account's sign-ins.
    let (pending, taken) = match refuse_taken_aliases(store, pending, mode.legacy_domain).await {
        Ok(split) => split,
        Err((e, pending)) => return failed(outcomes, &pending, e),
    };
    outcomes.extend(taken);
    // And a row one of whose logins is another account's uid: it would read as a name for
    // that account.
    let (mut pending, uids) = match refuse_logins_that_are_uids(store, pending).await {
        Ok(split) => split,
        Err((e, pending)) => return failed(outcomes, &pending, e),
    };
    outcomes.extend(uids);
    for _ in 0..ROUNDS {
        if pending.is_empty() {
            return (outcomes, None);
        }
        if !mode.dry_run {
            let refs: Vec<&Account> = pending.iter().map(|c| &c.account).collect();
            match retrying(|| store.create_accounts(&refs)).await {
                Ok(CommitOutcome::Committed) => {
                    outcomes.extend(pending.iter().map(|_| Outcome::Imported));
                    return (outcomes, None);
                }
                Ok(CommitOutcome::Refused) => {}
                Err(e) => return failed(outcomes, &pending, e),
            }
        }
        // Only now, so that a commit that goes through costs no read: what is left out
        // here is left out before the account is compared with what a rerun finds.
        pending = match leave_out_look_alikes(store, pending).await {
            Ok((kept, settled)) => {
                outcomes.extend(settled);
                kept
            }
            Err((e, pending)) => return failed(outcomes, &pending, e),
        };
        let refs: Vec<&Account> = pending.iter().map(|c| &c.account).collect();
        let existing = match retrying(|| store.existing_accounts(&refs)).await {
            Ok(existing) => existing,
            Err(e) => return failed(outcomes, &pending, e),
        };
        drop(refs);
        let mut again = Vec::new();
        let mut updates = Vec::new();
        for (mut candidate, mut found) in pending.into_iter().zip(existing) {
            // An account in Firestore keeps its email whatever the policy but `refuse`.
            if mode.duplicate_email != DuplicateEmail::Refuse
                && let Some(note) = leave_out_taken_email(&mut candidate, &mut found)
            {
                outcomes.push(note);
            }
            match classify(&candidate, found, mode.update) {
                Class::New if mode.dry_run => outcomes.push(Outcome::Imported),
                Class::New => again.push(candidate),
                Class::Update(_) if mode.dry_run => outcomes.push(Outcome::Updated),
                Class::Update(plan) => updates.push((candidate, plan)),
                Class::Settled(outcome) => outcomes.push(outcome),
            }
        }
        if !updates.is_empty() {
            let list: Vec<ImportUpdate> = updates
                .iter()
                .map(|(c, plan)| ImportUpdate {
                    uid: &c.account.uid,
                    password: plan.hash.then_some(&c.account.password),
                    disabled: c.account.disabled,
                    version: plan.version,
                })
                .collect();
            let result = retrying(|| store.update_imported(&list, now)).await;
            drop(list);
            let (done, changed): (Vec<_>, Vec<_>) = match result {
                Ok(CommitOutcome::Committed) => (updates, Vec::new()),
                // One of them changed since it was read: read them all again.
                Ok(CommitOutcome::Refused) => (Vec::new(), updates),
                Err(e) => {
                    again.extend(updates.into_iter().map(|(c, _)| c));
                    return failed(outcomes, &again, e);
                }
            };
            outcomes.extend(done.iter().map(|_| Outcome::Updated));
            again.extend(changed.into_iter().map(|(c, _)| c));
        }
        pending = again;
    }
    // Something else keeps creating and removing these documents.
    let message = "the account's documents kept changing during the import; rerun it";
    outcomes.extend(
        pending
            .iter()
            .map(|c| Outcome::Rejected(c.reject(Reason::WriteFailed, message))),
    );
    (outcomes, None)
}

/// Leaves out of each candidate the logins whose skeleton another account holds, and
/// refuses the candidates left with no login: one batch read of the claims.
async fn leave_out_look_alikes(
    store: &Store,
    pending: Vec<Candidate>,
) -> Result<(Vec<Candidate>, Vec<Outcome>), (Error, Vec<Candidate>)> {
    let fields = |c: &Candidate| {
        let a = &c.account;
        let email = a.email.clone().map(|l| ("email", l));
        let username = a.username.clone().map(|l| ("username", l));
        email.into_iter().chain(username).collect::<Vec<_>>()
    };
    let logins: Vec<Vec<(&'static str, crate::login::Login)>> =
        pending.iter().map(fields).collect();
    let flat: Vec<crate::login::Login> = logins.iter().flatten().map(|(_, l)| l.clone()).collect();
    if flat.is_empty() {
        return Ok((pending, Vec::new()));
    }
    let holders = match retrying(|| store.look_alike_holders(&flat)).await {
        Ok(holders) => holders,
        Err(e) => return Err((e, pending)),
    };
    let mut holders = holders.into_iter();
    let mut keep = Vec::with_capacity(pending.len());
    let mut settled = Vec::new();
    for (mut candidate, own) in pending.into_iter().zip(logins) {
        let count = own.len();
        let clashes: Vec<Dropped> = own
            .into_iter()
            .zip(holders.by_ref().take(count))
            .filter_map(|((field, login), holder)| {
                // The same login held by another account is `login_taken`, found below.
                let holder = holder.filter(|h| {
                    h.uid != candidate.account.uid.as_str() && h.login != login.as_str()
                })?;
                Some(Dropped {
                    field,
                    reason: Reason::LookAlikeLogin,
                    message: format!(
                        "the {field} looks like a login of another account (uid {}): the \
                         same Unicode TR39 skeleton",
                        holder.uid
                    ),
                })
            })
            .collect();
        if !clashes.is_empty() && clashes.len() == count {
            let message = format!("{}; the row has no other login", clashes[0].message);
            settled.push(Outcome::Rejected(
                candidate.reject(Reason::LookAlikeLogin, message),
            ));
            continue;
        }
        for dropped in &clashes {
            candidate.drop_login(dropped.field);
            settled.push(Outcome::KeptWithout(candidate.kept_without(dropped)));
        }
        keep.push(candidate);
    }
    Ok((keep, settled))
}

/// Splits off the candidates one of whose legacy-domain aliases another account holds.
async fn refuse_taken_aliases(
    store: &Store,
    pending: Vec<Candidate>,
    domain: Option<&str>,
) -> Result<(Vec<Candidate>, Vec<Outcome>), (Error, Vec<Candidate>)> {
    let aliases: Vec<Vec<crate::login::Login>> = pending
        .iter()
        .map(|c| super::row::legacy_aliases(&c.account, domain))
        .collect();
    let flat: Vec<crate::login::Login> = aliases.iter().flatten().cloned().collect();
    if flat.is_empty() {
        return Ok((pending, Vec::new()));
    }
    let holders = match retrying(|| store.uids_for_logins(&flat)).await {
        Ok(holders) => holders,
        Err(e) => return Err((e, pending)),
    };
    let mut holders = flat.iter().zip(holders);
    let mut keep = Vec::with_capacity(pending.len());
    let mut refused = Vec::new();
    for (candidate, own) in pending.into_iter().zip(aliases) {
        let taken = holders
            .by_ref()
            .take(own.len())
            .find(|(_, holder)| {
                holder
                    .as_deref()
                    .is_some_and(|h| h != candidate.account.uid.as_str())
            })
            .map(|(alias, _)| alias.clone());
        match taken {
            Some(alias) => refused.push(Outcome::Rejected(candidate.reject(
                Reason::LoginTaken,
                format!(
                    "`{alias}`, this login's other spelling under the legacy domain, belongs \
                     to another account; legacy clients send either spelling"
                ),
            ))),
            None => keep.push(candidate),
        }
    }
    Ok((keep, refused))
}

/// Splits off the candidates one of whose logins is the uid of an account in Firestore other
/// than their own. A candidate already imported (a rerun: the login is its own already) is
/// kept, to be counted as present. One batch read of the accounts, and one of the logins
/// only when an account was found.
async fn refuse_logins_that_are_uids(
    store: &Store,
    pending: Vec<Candidate>,
) -> Result<(Vec<Candidate>, Vec<Outcome>), (Error, Vec<Candidate>)> {
    let others = |c: &Candidate| -> Vec<crate::login::Login> {
        c.account
            .logins()
            .filter(|l| l.as_str() != c.account.uid.as_str())
            .cloned()
            .collect()
    };
    let logins: Vec<Vec<crate::login::Login>> = pending.iter().map(others).collect();
    let texts: Vec<&str> = logins.iter().flatten().map(|l| l.as_str()).collect();
    if texts.is_empty() {
        return Ok((pending, Vec::new()));
    }
    let exist = match retrying(|| store.uids_exist(&texts)).await {
        Ok(exist) => exist,
        Err(e) => return Err((e, pending)),
    };
    let hits: Vec<crate::login::Login> = logins
        .iter()
        .flatten()
        .zip(&exist)
        .filter(|(_, exists)| **exists)
        .map(|(login, _)| login.clone())
        .collect();
    if hits.is_empty() {
        return Ok((pending, Vec::new()));
    }
    let holders = match retrying(|| store.uids_for_logins(&hits)).await {
        Ok(holders) => holders,
        Err(e) => return Err((e, pending)),
    };
    let mut keep = Vec::with_capacity(pending.len());
    let mut refused = Vec::new();
    for (candidate, own) in pending.into_iter().zip(logins) {
        let uid = candidate.account.uid.as_str();
        let refusing = own.iter().find(|login| {
            hits.iter()
                .zip(&holders)
                .any(|(hit, holder)| hit == *login && holder.as_deref() != Some(uid))
        });
        match refusing {
            Some(login) => {
                let what = if login.is_email() {
                    "email"
                } else {
                    "username"
                };
                refused.push(Outcome::Rejected(candidate.reject(
                    Reason::LoginIsUid,
                    format!("the {what} is the uid of another account"),
                )));
            }
            None => keep.push(candidate),
        }
    }
    Ok((keep, refused))
}

fn failed(
    mut outcomes: Vec<Outcome>,
    pending: &[Candidate],
    e: Error,
) -> (Vec<Outcome>, Option<Error>) {
    let message = format!("{e}; rerun the import to finish");
    outcomes.extend(
        pending
            .iter()
            .map(|c| Outcome::Rejected(c.reject(Reason::WriteFailed, message.clone()))),
    );
    (outcomes, Some(e))
}

/// Leaves out a candidate's email that another account in Firestore holds, while the
/// candidate has a username to be imported by: that account keeps the email
/// (`--duplicate-email keep-first`). A rerun finds the account imported without it.
fn leave_out_taken_email(
    candidate: &mut Candidate,
    found: &mut ExistingAccount,
) -> Option<Outcome> {
    candidate.account.email.as_ref()?;
    // The email comes first in `Account::logins` order.
    let holder = found.login_holders.first()?.as_deref()?;
    if holder == candidate.account.uid.as_str() {
        return None;
    }
    let dropped = Dropped {
        field: "email",
        reason: Reason::DuplicateEmail,
        message: format!("another account (uid {holder}) keeps the same email"),
    };
    if !candidate.drop_login("email") {
        return None;
    }
    found.login_holders.remove(0);
    Some(Outcome::KeptWithout(candidate.kept_without(&dropped)))
}

enum Class {
    New,
    Update(Plan),
    Settled(Outcome),
}

/// What `--update` writes to one account: always the file's disabled flag, and the file's
/// hash when the stored one is still the one an import wrote.
#[derive(Debug, Clone, Copy)]
struct Plan {
    version: crate::store::Version,
    hash: bool,
}

/// Decides what to do with an account, given what Firestore holds for it.
fn classify(candidate: &Candidate, found: ExistingAccount, update: bool) -> Class {
    let new = &candidate.account;
    let reject = |reason, message: String| {
        Class::Settled(Outcome::Rejected(candidate.reject(reason, message)))
    };
    match found.stored {
        Some(Err(why)) => reject(
            Reason::UidTaken,
            format!(
                "the uid's document is not an account firegate can read: {}",
                why.chain().replace("\n  caused by: ", ": ")
            ),
        ),
        Some(Ok(stored)) => {
            let old = &stored.account;
            if old.email != new.email || old.username != new.username {
                return reject(
                    Reason::UidTaken,
                    "an account with this uid but other logins exists".to_string(),
                );
            }
            let hash_differs = old.password != new.password;
            let disabled_differs = old.disabled != new.disabled;
            // Any write since the import (a sign-in upgrade, a password change, an admin's
            // edit) moved `updated_at` past the stamp: that hash may be newer than any export.
            let hash_is_imported = found.hash_imported_at == Some(old.updated_at);
            let replace_hash = hash_differs && hash_is_imported;
            if update && (replace_hash || disabled_differs) {
                Class::Update(Plan {
                    version: stored.version,
                    // Rewritten unchanged too, so that its stamp follows `updated_at`.
                    hash: hash_is_imported,
                })
            } else if !hash_differs && !disabled_differs && old.updated_at == new.updated_at {
                Class::Settled(Outcome::Imported)
            } else {
                let differs = hash_differs || disabled_differs;
                Class::Settled(Outcome::Present {
                    differs,
                    update_hash: replace_hash,
                    update_state: disabled_differs,
                })
            }
        }
        None => {
            for (login, holder) in new.logins().zip(found.login_holders) {
                let what = if login.is_email() {
                    "email"
                } else {
                    "username"
                };
                match holder {
                    Some(uid) if uid == new.uid.as_str() => {
                        return reject(
                            Reason::LoginTaken,
                            format!("the {what}'s login entry exists without its account"),
                        );
                    }
                    Some(uid) => {
                        return reject(
                            Reason::LoginTaken,
                            format!("the {what} belongs to another account (uid {uid})"),
                        );
                    }
                    None => {}
                }
            }
            Class::New
        }
    }
}

/// Runs a Firestore call again, with exponential backoff and jitter, while Firestore says
/// it is unavailable (including deadlines and aborted commits).
async fn retrying<T, F, Fut>(mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(why @ Error::Unavailable { .. }) if attempt < ATTEMPTS => {
                warn!(attempt, error = %why.chain(), "Firestore unavailable during import; retrying");
                let jitter = Duration::from_millis(rand::rng().random_range(0..100));
                tokio::time::sleep(delay + jitter).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            other => return other,
        }
    }
}

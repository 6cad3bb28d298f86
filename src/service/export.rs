//! `firegate firebase-auth export`: accounts whose current hash Firebase Auth can check are
//! imported with it (`accounts:batchCreate`, at most 1,000 users per call, one call per
//! hash algorithm and parameter set), so they graduate without signing in. The rest are
//! listed with the reason; they graduate at their next sign-in, except those whose hash is
//! kept with an input transform (a lossy legacy hash's other accepted forms), which stay
//! with firegate until their password is set anew.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;
use jiff::Timestamp;
use serde::Serialize;
use tracing::{info, warn};

use super::Service;
use super::bridge::{Bridge, BridgeMode};
use crate::accounts::{Account, FirebaseState, Mirrored, Uid};
use crate::google::MAX_LOOKUP;
use crate::passwords::{ImportAlgorithm, ImportableHash, importable};
use crate::{Error, Result};

/// Firebase Auth's limit on one `accounts:batchCreate` call.
pub const MAX_USERS_PER_IMPORT: usize = 1000;

/// Accounts read per page.
const PAGE: u32 = 500;

/// What an export did (or, in a dry run, would do).
#[derive(Debug, Default, Serialize)]
pub struct ExportReport {
    pub checked: u64,
    pub imported: u64,
    pub already_graduated: u64,
    pub not_importable_total: u64,
    /// One entry per hash algorithm and parameter set.
    pub groups: Vec<ExportGroup>,
    /// Why the others stay, most common first.
    pub not_importable: Vec<NotImportableCount>,
}

/// The accounts of one hash algorithm and parameter set.
#[derive(Debug, Default, Serialize)]
pub struct ExportGroup {
    /// E.g. `PBKDF2_SHA256 rounds=120000`.
    pub algorithm: String,
    pub accounts: u64,
    pub calls: u64,
    /// Users Firebase Auth refused, with its message.
    pub refused: Vec<(String, String)>,
}

/// How many accounts stay for one reason.
#[derive(Debug, Serialize)]
pub struct NotImportableCount {
    pub reason: String,
    pub accounts: u64,
}

/// The export's running state: accounts waiting for their group's call, and the report.
struct Export<'a> {
    service: &'a Service,
    bridge: &'a Bridge,
    dry_run: bool,
    pending: BTreeMap<ImportAlgorithm, Vec<(Account, ImportableHash)>>,
    groups: BTreeMap<ImportAlgorithm, ExportGroup>,
    reasons: BTreeMap<String, u64>,
    report: ExportReport,
}

impl Service {
    /// Runs the export (see the module comment). Needs graduate mode: after the import
    /// Firebase Auth owns these passwords, which only graduate mode keeps in step.
    pub async fn export_to_firebase_auth(&self, dry_run: bool) -> Result<ExportReport> {
        let bridge = self.bridge_or_refuse()?;
        if bridge.mode() != BridgeMode::Graduate {
            return Err(Error::Disabled(
                "export needs --firebase-auth graduate: the imported passwords then belong \
                 to Firebase Auth, and only graduate mode keeps later password changes in step",
            ));
        }
        let mut export = Export {
            service: self,
            bridge,
            dry_run,
            pending: BTreeMap::new(),
            groups: BTreeMap::new(),
            reasons: BTreeMap::new(),
            report: ExportReport::default(),
        };
        let mut after: Option<Uid> = None;
        loop {
            let page = self
                .store
                .list_accounts(&Default::default(), PAGE, after.as_ref())
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.account.uid.clone());
            let full = page.len() == PAGE as usize;
            for found in page {
                export.add(found.account).await?;
            }
            if !full {
                break;
            }
        }
        export.finish().await
    }
}

impl Export<'_> {
    /// Sorts one account into its group (sending the group when it is full) or its reason.
    async fn add(&mut self, account: Account) -> Result<()> {
        self.report.checked += 1;
        if account.firebase.graduated_at.is_some() {
            self.report.already_graduated += 1;
            return Ok(());
        }
        let hash = match self.service.passwords.parse(&account.password) {
            // signInWithEmailAndPassword would skip the second factor firegate asks for.
            Ok(_) if account.factors.required() || account.factors.pending.is_some() => {
                Err("a second factor: a Firebase password would sign in without it".to_string())
            }
            // Firebase Auth checks passwords as typed: the other forms would stop working.
            Ok(_) if account.password.input.is_some() => Err(
                "password kept with an input transform (other forms of it sign in); Firebase \
                 Auth would accept only one"
                    .to_string(),
            ),
            Ok(parsed) => importable(&parsed).map_err(|e| e.to_string()),
            Err(e) => Err(format!("unusable hash: {e}")),
        };
        let why = match (hash, self.bridge.desired(&account).email) {
            (Ok(hash), Some(_)) => return self.queue(account, hash).await,
            (Ok(_), None) => "no email (set --graduate-email-domain)".to_string(),
            (Err(why), _) => why,
        };
        *self.reasons.entry(why).or_default() += 1;
        self.report.not_importable_total += 1;
        Ok(())
    }

    /// Adds an importable account to its group, sending the group when it is full.
    async fn queue(&mut self, account: Account, hash: ImportableHash) -> Result<()> {
        let algorithm = hash.algorithm.clone();
        let users = self.pending.entry(algorithm.clone()).or_default();
        users.push((account, hash));
        if users.len() == MAX_USERS_PER_IMPORT {
            let users = std::mem::take(users);
            self.send(&algorithm, users).await?;
        }
        Ok(())
    }

    /// Sends what is left and completes the report.
    async fn finish(mut self) -> Result<ExportReport> {
        for (algorithm, users) in std::mem::take(&mut self.pending) {
            if !users.is_empty() {
                self.send(&algorithm, users).await?;
            }
        }
        self.report.groups = self.groups.into_values().collect();
        let mut reasons: Vec<NotImportableCount> = self
            .reasons
            .into_iter()
            .map(|(reason, accounts)| NotImportableCount { reason, accounts })
            .collect();
        reasons.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.reason.cmp(&b.reason)));
        self.report.not_importable = reasons;
        Ok(self.report)
    }

    /// One `accounts:batchCreate` call for up to 1,000 accounts of one algorithm; each
    /// account Firebase took is recorded as graduated.
    async fn send(
        &mut self,
        algorithm: &ImportAlgorithm,
        users: Vec<(Account, ImportableHash)>,
    ) -> Result<()> {
        let bridge = self.bridge;
        let group = self
            .groups
            .entry(algorithm.clone())
            .or_insert_with(|| ExportGroup {
                algorithm: algorithm.describe(),
                ..ExportGroup::default()
            });
        group.calls += 1;
        let body = import_request(algorithm, &users, |a| bridge.desired(a))?;
        let refused = if self.dry_run {
            Vec::new()
        } else {
            bridge.client().batch_create(&body).await?
        };
        let refused_at: HashSet<usize> = refused.iter().map(|e| e.index).collect();
        for e in &refused {
            if let Some((account, _)) = users.get(e.index) {
                warn!(uid = %account.uid, said = %e.message, "Firebase Auth refused an imported user");
                group
                    .refused
                    .push((account.uid.to_string(), e.message.clone()));
            }
        }
        let taken: Vec<&Account> = users
            .iter()
            .enumerate()
            .filter(|(i, _)| !refused_at.contains(i))
            .map(|(_, (account, _))| account)
            .collect();
        group.accounts += taken.len() as u64;
        self.report.imported += taken.len() as u64;
        info!(
            algorithm = %algorithm.describe(),
            users = users.len(),
            refused = refused.len(),
            dry_run = self.dry_run,
            "accounts:batchCreate"
        );
        if self.dry_run {
            return Ok(());
        }
        // Recorded with the Firebase user's passwordUpdatedAt after the import: sign-ins
        // then trust firegate's own hash until the password changes inside Firebase Auth (so
        // an import Firebase computes differently never locks anyone out of firegate).
        let now = Timestamp::now();
        let mut password_at: HashMap<String, i64> = HashMap::new();
        for chunk in taken.chunks(MAX_LOOKUP) {
            let uids: Vec<&str> = chunk.iter().map(|a| a.uid.as_str()).collect();
            for user in bridge.client().lookup_many(&uids).await? {
                if let Some(at) = user.password_updated_at {
                    password_at.insert(user.local_id, at);
                }
            }
        }
        let store = &self.service.store;
        let password_at = &password_at;
        let records = futures::stream::iter(taken)
            .map(|account| async move {
                let state = FirebaseState {
                    mirrored: Some(bridge.desired(account)),
                    graduated_at: Some(now),
                    password_at: password_at.get(account.uid.as_str()).copied(),
                };
                (
                    account,
                    store.record_firebase(&account.uid, &state, None).await,
                )
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        for (account, result) in records {
            if let Err(e) = result {
                warn!(uid = %account.uid, error = %crate::error::chain(&e), "imported into Firebase Auth but cannot record it; rerun the export");
            }
        }
        Ok(())
    }
}

/// The `accounts:batchCreate` body: the algorithm's fields and one entry per user with its
/// hash and salt in web-safe base64 (what the Admin SDKs send).
pub fn import_request(
    algorithm: &ImportAlgorithm,
    users: &[(Account, ImportableHash)],
    desired: impl Fn(&Account) -> Mirrored,
) -> Result<serde_json::Value> {
    let mut body = match serde_json::to_value(algorithm)? {
        serde_json::Value::Object(map) => map,
        _ => {
            return Err(Error::internal("an import algorithm is not an object"));
        }
    };
    let users: Vec<serde_json::Value> = users
        .iter()
        .map(|(account, hash)| {
            let mirrored = desired(account);
            let mut user = serde_json::json!({
                "localId": account.uid.as_str(),
                "disabled": mirrored.disabled,
                "passwordHash": hash.password_hash_base64(),
            });
            if let Some(email) = &mirrored.email {
                user["email"] = email.clone().into();
            }
            if let Some(name) = &mirrored.display_name {
                user["displayName"] = name.clone().into();
            }
            if let Some(salt) = hash.salt_base64() {
                user["salt"] = salt.into();
            }
            user
        })
        .collect();
    body.insert("users".into(), users.into());
    Ok(serde_json::Value::Object(body))
}

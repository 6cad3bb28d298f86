//! Reading many accounts: paged, filtered listing for admins, counts and the per-scheme
//! statistics that show how far the migration to argon2id has come.

use std::collections::BTreeMap;

use firestore::gcloud_sdk::google::firestore::v1::Value;
use firestore::gcloud_sdk::google::firestore::v1::value::ValueType;
use firestore::{FirestoreQueryCursor, FirestoreValue};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::Store;
use super::accounts::{AccountDoc, StoredAccount};
use crate::Result;
use crate::accounts::Uid;

/// Which accounts `list_accounts` returns.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Only accounts whose hash scheme has this name (e.g. `werkzeug-pbkdf2-sha256`).
    pub scheme: Option<String>,
    /// Only disabled (`Some(true)`) or enabled (`Some(false)`) accounts.
    pub disabled: Option<bool>,
}

/// How many accounts use one hash scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeCount {
    pub scheme: String,
    pub accounts: u64,
}

#[derive(Deserialize)]
struct SchemeOnly {
    #[serde(default)]
    hash_scheme: String,
}

impl Store {
    /// Up to `limit` accounts in uid order, starting after `after`.
    pub async fn list_accounts(
        &self,
        filter: &AccountFilter,
        limit: u32,
        after: Option<&Uid>,
    ) -> Result<Vec<StoredAccount>> {
        let collection = &self.options.accounts_collection;
        let mut query = self
            .db
            .fluent()
            .select()
            .from(collection.as_str())
            .filter(|q| {
                q.for_all([
                    filter
                        .scheme
                        .as_ref()
                        .and_then(|s| q.field("hash_scheme").eq(s.as_str())),
                    filter.disabled.and_then(|d| q.field("disabled").eq(d)),
                ])
            })
            .order(|o| o.fields([o.field("__name__").ascending()]))
            .limit(limit);
        if let Some(after) = after {
            let name = format!("{}/{}/{}", self.db.get_documents_path(), collection, after);
            let reference = Value {
                value_type: Some(ValueType::ReferenceValue(name)),
            };
            query = query.start_at(FirestoreQueryCursor::AfterValue(vec![
                FirestoreValue::from(reference),
            ]));
        }
        let docs: Vec<AccountDoc> = self.call(query.obj::<AccountDoc>().query()).await?;
        docs.into_iter().map(AccountDoc::into_stored).collect()
    }

    /// The number of accounts.
    pub async fn count_accounts(&self) -> Result<u64> {
        Ok(self.scheme_counts().await?.iter().map(|c| c.accounts).sum())
    }

    /// Accounts per hash scheme, most used first. Reads the `hash_scheme` field of every
    /// account (one Firestore read per account).
    pub async fn scheme_counts(&self) -> Result<Vec<SchemeCount>> {
        let schemes: Vec<SchemeOnly> = self
            .call(async {
                self.db
                    .fluent()
                    .select()
                    .fields(["hash_scheme"])
                    .from(self.options.accounts_collection.as_str())
                    .obj::<SchemeOnly>()
                    .stream_query_with_errors()
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for s in schemes {
            *counts.entry(s.hash_scheme).or_default() += 1;
        }
        let mut counts: Vec<SchemeCount> = counts
            .into_iter()
            .map(|(scheme, accounts)| SchemeCount { scheme, accounts })
            .collect();
        counts.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.scheme.cmp(&b.scheme)));
        Ok(counts)
    }
}

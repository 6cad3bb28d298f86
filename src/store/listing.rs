//! Reading many accounts: paged, filtered listing for admins, counts and the per-scheme
//! statistics that show how far the migration to argon2id has come.

use std::collections::BTreeMap;
use std::time::Duration;

use firestore::gcloud_sdk::google::firestore::v1::Value;
use firestore::gcloud_sdk::google::firestore::v1::value::ValueType;
use firestore::{FirestoreQueryCursor, FirestoreValue};
use serde::{Deserialize, Serialize};

use super::accounts::{AccountDoc, StoredAccount};
use super::{Store, map_error};
use crate::accounts::Uid;
use crate::{Error, Result};

/// Firestore's own limit on an aggregation query.
const AGGREGATION_DEADLINE: Duration = Duration::from_secs(60);

/// Longest scheme name a listing filters on. firegate's own names are under 32 characters;
/// Firestore refuses a filter value over 1,500 bytes (an index entry's limit), and a value
/// that is no scheme name matches nothing anyway.
pub const MAX_SCHEME_FILTER_BYTES: usize = 64;

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
    /// Of these, the accounts whose password moved into Firebase Auth (graduate mode).
    pub graduated: u64,
}

impl AccountFilter {
    /// Refuses a filter no account can match before it reaches Firestore: a scheme filter is
    /// a scheme name (letters, digits, `-`, `_`, at most [`MAX_SCHEME_FILTER_BYTES`]).
    pub fn check(&self) -> Result<()> {
        let Some(scheme) = &self.scheme else {
            return Ok(());
        };
        let name_like = scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if scheme.len() > MAX_SCHEME_FILTER_BYTES || !name_like {
            return Err(Error::invalid(
                "invalid_scheme",
                format!(
                    "the scheme filter must be a scheme name such as werkzeug-pbkdf2-sha256 (as \
                     the statistics list them): at most {MAX_SCHEME_FILTER_BYTES} letters, \
                     digits, `-` and `_`"
                ),
            ));
        }
        Ok(())
    }
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
        filter.check()?;
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

    /// The number of accounts: one count aggregation, which Firestore bills as one read per
    /// 1,000 accounts and answers without sending any document.
    pub async fn count_accounts(&self) -> Result<u64> {
        self.count_with_scheme(None, false).await
    }

    /// The number of accounts whose hash is of one scheme: one count aggregation.
    pub async fn count_scheme(&self, scheme: &str) -> Result<u64> {
        self.count_with_scheme(Some(scheme), false).await
    }

    /// Accounts per hash scheme, most used first. Walks the distinct `hash_scheme` values in
    /// index order (one single-document query each) and counts each with an aggregation, so
    /// the work is two small calls per scheme however many accounts there are. Accounts
    /// without a readable scheme are reported under the empty name.
    pub async fn scheme_counts(&self) -> Result<Vec<SchemeCount>> {
        let total = self.count_accounts().await?;
        let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut after: Option<String> = None;
        while let Some(scheme) = self.next_scheme(after.as_deref()).await? {
            let (accounts, graduated) = futures::try_join!(
                self.count_with_scheme(Some(&scheme), false),
                self.count_with_scheme(Some(&scheme), true)
            )?;
            counts.insert(scheme.clone(), (accounts, graduated));
            after = Some(scheme);
        }
        // Counted one query at a time, so accounts created meanwhile can make the parts
        // exceed the whole; the remainder is only the documents no scheme query can see.
        let rest = total.saturating_sub(counts.values().map(|(a, _)| *a).sum());
        if rest > 0 {
            counts.entry(String::new()).or_default().0 += rest;
        }
        let mut counts: Vec<SchemeCount> = counts
            .into_iter()
            .filter(|(_, (accounts, _))| *accounts > 0)
            .map(|(scheme, (accounts, graduated))| SchemeCount {
                scheme,
                accounts,
                graduated,
            })
            .collect();
        counts.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.scheme.cmp(&b.scheme)));
        Ok(counts)
    }

    /// The smallest string `hash_scheme` after `after` (from the start with `None`).
    async fn next_scheme(&self, after: Option<&str>) -> Result<Option<String>> {
        let found: Vec<SchemeOnly> = self
            .call(
                self.db
                    .fluent()
                    .select()
                    .fields(["hash_scheme"])
                    .from(self.options.accounts_collection.as_str())
                    .filter(|q| {
                        // A range filter also keeps out values that are not strings.
                        let field = q.field("hash_scheme");
                        match after {
                            Some(after) => field.greater_than(after),
                            None => field.greater_than_or_equal(""),
                        }
                    })
                    .order(|o| o.fields([o.field("hash_scheme").ascending()]))
                    .limit(1)
                    .obj::<SchemeOnly>()
                    .query(),
            )
            .await?;
        Ok(found.into_iter().next().map(|s| s.hash_scheme))
    }

    /// Accounts that need a second factor (`second_factor` is true): one aggregation.
    pub async fn count_second_factor(&self) -> Result<u64> {
        self.count_true("second_factor").await
    }

    /// Accounts whose password a legacy sign-in found in breaches: one aggregation.
    pub async fn count_breached(&self) -> Result<u64> {
        self.count_true("breached").await
    }

    /// Accounts whose boolean `field` is true, by count aggregation (with the aggregation
    /// deadline, as [`Store::count_with_scheme`]).
    async fn count_true(&self, field: &'static str) -> Result<u64> {
        #[derive(Deserialize)]
        struct Count {
            count: i64,
        }
        let deadline = self.options.timeout.max(AGGREGATION_DEADLINE);
        let db = self.db.clone_with_request_timeout(Some(deadline));
        let query = db
            .fluent()
            .select()
            .from(self.options.accounts_collection.as_str())
            .filter(|q| q.field(field).eq(true))
            .aggregate(|a| a.fields([a.field("count").count()]))
            .obj::<Count>()
            .query();
        let counted = tokio::time::timeout(deadline, query)
            .await
            .map_err(|_| {
                Error::unavailable(format!(
                    "counting accounts took over {} s",
                    deadline.as_secs()
                ))
            })?
            .map_err(map_error)?;
        Ok(u64::try_from(counted.first().map_or(0, |c| c.count)).unwrap_or(0))
    }

    /// Accounts whose scheme is `scheme`, or all of them, by count aggregation. Counting
    /// takes time in proportion to the accounts counted, so it gets Firestore's own limit
    /// for aggregations rather than the per-call deadline sized for sign-in reads.
    async fn count_with_scheme(&self, scheme: Option<&str>, graduated: bool) -> Result<u64> {
        #[derive(Deserialize)]
        struct Count {
            count: i64,
        }
        let deadline = self.options.timeout.max(AGGREGATION_DEADLINE);
        let db = self.db.clone_with_request_timeout(Some(deadline));
        let query = db
            .fluent()
            .select()
            .from(self.options.accounts_collection.as_str())
            .filter(|q| {
                q.for_all([
                    scheme.and_then(|s| q.field("hash_scheme").eq(s)),
                    graduated.then(|| q.field("graduated").eq(true)).flatten(),
                ])
            })
            .aggregate(|a| a.fields([a.field("count").count()]))
            .obj::<Count>()
            .query();
        let counted = tokio::time::timeout(deadline, query)
            .await
            .map_err(|_| {
                Error::unavailable(format!(
                    "counting accounts took over {} s",
                    deadline.as_secs()
                ))
            })?
            .map_err(map_error)?;
        let count = counted.first().map_or(0, |c| c.count);
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(name: &str) -> AccountFilter {
        AccountFilter {
            scheme: Some(name.to_string()),
            disabled: None,
        }
    }

    #[test]
    fn a_scheme_filter_must_look_like_a_scheme_name() {
        for ok in ["werkzeug-pbkdf2-sha512_256", "argon2id", "unusable", ""] {
            assert!(scheme(ok).check().is_ok(), "{ok}");
        }
        assert!(AccountFilter::default().check().is_ok());
        let longest = "a".repeat(MAX_SCHEME_FILTER_BYTES);
        assert!(scheme(&longest).check().is_ok());
        for bad in [
            "a".repeat(MAX_SCHEME_FILTER_BYTES + 1),
            "x".repeat(1500),
            "argon2id'".into(),
            "sha1 ".into(),
            "\u{0}".into(),
        ] {
            let err = scheme(&bad).check().unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        code: "invalid_scheme",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(!err.to_string().contains(&bad), "the value is not echoed");
        }
    }
}

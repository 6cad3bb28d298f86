//! The admin page and API under `/admin/`: key rotation and account administration, behind
//! the checks of [`gate`]. Without an admin credential every `/admin` route answers 404. Every
//! action is logged once it has run, with who, what and the outcome ([`audit`]).

mod audit;
mod gate;

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, any, get, post, put};
use axum::{Extension, Json, Router, middleware};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use self::audit::{OptionalObject, Refusal, Segment, ValidQuery, audited};
use super::body::JsonObject;
use super::error::ApiError;
use super::pages;
use crate::Error;
use crate::accounts::{AccountSummary, Uid};
use crate::claims::Claims;
use crate::keys::KeyInfo;
use crate::passwords::Password;
use crate::service::{
    AccountRef, FactorsReset, STATS_KEPT, SchemeStats, Service, SignerInfo, Unlocked,
};
use crate::store::{AccountFilter, AuditEntry, SchemeCount};

/// The authenticated admin's name, for the audit log.
#[derive(Clone)]
struct Admin(String);

/// Every `/admin` route, wrapped in the gate: any method on any path under `/admin` meets
/// the gate first (404 without a credential, authentication before 405 or 404 with one).
pub fn routes(service: Arc<Service>) -> Router<Arc<Service>> {
    // Explicit method fallbacks: the main router's method-not-allowed fallback replaces only
    // default ones, and those would answer outside the gate.
    let gated = |methods: MethodRouter<Arc<Service>>| methods.fallback(super::method_not_allowed);
    Router::new()
        .route("/admin", gated(get(page)))
        .route("/admin/", gated(get(page)))
        .route("/admin/api/keys", gated(get(list_keys)))
        .route("/admin/api/signer", gated(get(signer)))
        .route("/admin/api/keys/{kid}/activate", gated(post(activate_key)))
        .route("/admin/api/keys/{kid}/retire", gated(post(retire_key)))
        .route("/admin/api/stats", gated(get(stats)))
        .route("/admin/api/audit", gated(get(audit_trail)))
        .route("/admin/api/accounts", gated(get(list_accounts)))
        .route(
            "/admin/api/accounts/{uid}",
            gated(get(show_account).delete(delete_account)),
        )
        .route(
            "/admin/api/accounts/{uid}/disable",
            gated(post(disable_account)),
        )
        .route(
            "/admin/api/accounts/{uid}/enable",
            gated(post(enable_account)),
        )
        .route(
            "/admin/api/accounts/{uid}/unlock",
            gated(post(unlock_account)),
        )
        .route("/admin/api/accounts/{uid}/claims", gated(put(set_claims)))
        .route(
            "/admin/api/accounts/{uid}/mfa/reset",
            gated(post(reset_mfa)),
        )
        .route(
            "/admin/api/accounts/{uid}/passkeys",
            gated(get(list_passkeys)),
        )
        .route(
            "/admin/api/accounts/{uid}/passkeys/remove",
            gated(post(remove_passkey)),
        )
        .route(
            "/admin/api/accounts/{uid}/password",
            gated(put(set_password)),
        )
        .route("/admin/{*rest}", any(super::not_found))
        .layer(middleware::from_fn_with_state(
            gate::Gate::new(service),
            gate::gate,
        ))
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    nonce: &'a str,
    user: &'a str,
    keys: Vec<KeyRow>,
    signer: SignerInfo,
    stats: Vec<SchemeCount>,
    /// Why the counts could not be made (Firestore unavailable); the rest of the page works.
    stats_problem: Option<String>,
    /// Why the keys could not be listed.
    keys_problem: Option<String>,
    /// When the counts were made, RFC 3339 in UTC, and how old they are.
    stats_computed_at: String,
    stats_age_secs: u64,
    /// How long counts are kept before a request counts again.
    stats_kept_secs: u64,
    total: u64,
    migrated: u64,
    percent: u64,
    graduated: u64,
    graduate_percent: u64,
    graduates: bool,
    /// Accounts only the legacy system can check, and whether a verify hook is configured.
    legacy: u64,
    legacy_hook: bool,
    /// Accounts whose password a legacy sign-in found in breaches.
    breached: u64,
}

/// A key as the page's table shows it.
struct KeyRow {
    info: KeyInfo,
    /// When the key was created (UTC, to the second), or `unknown`.
    created: String,
    /// The key file's name in the keys directory.
    file: String,
}

impl From<KeyInfo> for KeyRow {
    fn from(info: KeyInfo) -> Self {
        KeyRow {
            created: info
                .created
                .map_or_else(|| "unknown".to_string(), to_the_second),
            file: info.file.file_name().map_or_else(
                || info.file.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            ),
            info,
        }
    }
}

/// `2026-12-02T05:40:17Z`: what the page shows of a time.
fn to_the_second(at: Timestamp) -> String {
    at.round(jiff::Unit::Second).unwrap_or(at).to_string()
}

async fn page(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
) -> Result<Response, ApiError> {
    // The page stays usable while Firestore is down: each part says what it cannot show.
    let (stats, stats_problem) = match service.cached_scheme_stats().await {
        Ok(stats) => (stats, None),
        Err(e) => (
            SchemeStats {
                computed_at: Timestamp::now(),
                schemes: Vec::new(),
                second_factor: 0,
                breached: 0,
            },
            Some(e.to_string()),
        ),
    };
    let (keys, keys_problem) = match keys(&service).await {
        Ok(keys) => (keys.into_iter().map(KeyRow::from).collect(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let (total, migrated, graduated) = (stats.total(), stats.migrated(), stats.graduated());
    let legacy = stats.legacy();
    let nonce = pages::nonce();
    let rendered = AdminPage {
        nonce: &nonce,
        user: &admin.0,
        keys,
        keys_problem,
        stats_problem,
        signer: service.signer.info(),
        stats_computed_at: to_the_second(stats.computed_at),
        stats_age_secs: stats.age_secs(Timestamp::now()),
        stats_kept_secs: STATS_KEPT.as_secs(),
        stats: stats.schemes,
        total,
        migrated,
        percent: (migrated * 100).checked_div(total).unwrap_or(100),
        graduated,
        graduate_percent: (graduated * 100).checked_div(total).unwrap_or(0),
        graduates: service.graduates(),
        legacy,
        legacy_hook: service.legacy_hook().is_some(),
        breached: stats.breached,
    }
    .render();
    Ok(pages::html_response(rendered, &nonce))
}

/// Every key with its state (none with IAM Credentials, which uses no key file). Listing
/// rescans the keys directory and parses the key files, so it runs on the blocking pool, off
/// the threads that serve requests.
async fn keys(service: &Arc<Service>) -> crate::Result<Vec<KeyInfo>> {
    if service.signer.key_ring().is_none() {
        return Ok(Vec::new());
    }
    let service = service.clone();
    tokio::task::spawn_blocking(move || service.rotation().map(|r| r.list()))
        .await
        .map_err(Error::Task)?
}

/// The signer: `key` with the active key's id, or `iam` with the account and the last
/// `keyId` IAM reported.
async fn signer(State(service): State<Arc<Service>>) -> Json<SignerInfo> {
    Json(service.signer.info())
}

async fn list_keys(State(service): State<Arc<Service>>) -> Result<Json<Vec<KeyInfo>>, ApiError> {
    Ok(Json(keys(&service).await.map_err(ApiError::from)?))
}

async fn activate_key(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    kid: Result<Segment, Refusal>,
    body: Result<OptionalObject, Refusal>,
) -> Result<Json<KeyInfo>, Refusal> {
    let kid = kid.map(|Segment(kid)| kid);
    let target = kid.as_ref().ok().cloned();
    let force = force(body);
    let action = match force {
        Ok(true) => "force-activate-key",
        _ => "activate-key",
    };
    let actor = format!("admin:{}", admin.0);
    audited(&service, &admin, action, target.as_deref(), async {
        Ok(service.rotation()?.activate(&kid?, force?, &actor).await?)
    })
    .await
    .map(Json)
}

/// The optional `{"force": true}` of an activation.
fn force(body: Result<OptionalObject, Refusal>) -> Result<bool, Refusal> {
    let Some(mut body) = body?.0 else {
        return Ok(false);
    };
    let force = body.optional_bool("force")?.unwrap_or(false);
    body.finish("`force`")?;
    Ok(force)
}

async fn retire_key(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    kid: Result<Segment, Refusal>,
) -> Result<Json<KeyInfo>, Refusal> {
    let kid = kid.map(|Segment(kid)| kid);
    let target = kid.as_ref().ok().cloned();
    let actor = format!("admin:{}", admin.0);
    audited(&service, &admin, "retire-key", target.as_deref(), async {
        Ok(service.rotation()?.retire(&kid?, &actor).await?)
    })
    .await
    .map(Json)
}

async fn stats(State(service): State<Arc<Service>>) -> Result<Json<Value>, ApiError> {
    let stats = service.cached_scheme_stats().await?;
    Ok(Json(json!({
        "total": stats.total(),
        "argon2id": stats.migrated(),
        "graduated": stats.graduated(),
        "legacy": stats.legacy(),
        "computed_at": stats.computed_at,
        "age_secs": stats.age_secs(Timestamp::now()),
        "schemes": stats.schemes,
    })))
}

/// `GET /admin/api/audit` parameters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<u32>,
}

/// The most recent admin actions (page and API), newest first.
async fn audit_trail(
    State(service): State<Arc<Service>>,
    ValidQuery(query): ValidQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, Refusal> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Refusal::bad_request(
            "invalid_query",
            "`limit` must be between 1 and 500",
        ));
    }
    Ok(Json(service.store.recent_audit(limit).await?))
}

/// `GET /admin/api/accounts` parameters; any other parameter is refused, so a misspelt filter
/// never silently lists every account.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    scheme: Option<String>,
    disabled: Option<bool>,
    limit: Option<u32>,
    after: Option<String>,
    /// A search: the account holding this login, alone.
    login: Option<String>,
}

/// A page of accounts, or with `?login=` the account holding that login (a list of at
/// most one): the one place a login names an account.
async fn list_accounts(
    State(service): State<Arc<Service>>,
    ValidQuery(query): ValidQuery<ListQuery>,
) -> Result<Json<Vec<AccountSummary>>, Refusal> {
    if let Some(login) = &query.login {
        let alone = query.scheme.is_none()
            && query.disabled.is_none()
            && query.limit.is_none()
            && query.after.is_none();
        if !alone {
            return Err(Refusal::bad_request(
                "invalid_query",
                "`login` finds one account and takes no other parameter",
            ));
        }
        return Ok(Json(service.search_login(login).await?));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Refusal::bad_request(
            "invalid_query",
            "`limit` must be between 1 and 1000",
        ));
    }
    let filter = AccountFilter {
        scheme: query.scheme,
        disabled: query.disabled,
    };
    let after = query.after.as_deref().map(Uid::parse).transpose()?;
    Ok(Json(
        service
            .list_accounts(&filter, limit, after.as_ref())
            .await?,
    ))
}

/// The account a route's `{uid}` names: by uid only, never as a login.
fn by_uid(segment: Result<Segment, Refusal>) -> Result<AccountRef, Refusal> {
    segment.map(|Segment(uid)| AccountRef::Uid(uid))
}

async fn show_account(
    State(service): State<Arc<Service>>,
    uid: Result<Segment, Refusal>,
) -> Result<Json<crate::service::AccountDetail>, Refusal> {
    Ok(Json(service.show_account(&by_uid(uid)?).await?))
}

async fn disable_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
) -> Result<Json<AccountSummary>, Refusal> {
    audited(&service, &admin, "disable-account", None, async {
        Ok(service.set_disabled(&by_uid(uid)?, true).await?)
    })
    .await
    .map(Json)
}

async fn enable_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
) -> Result<Json<AccountSummary>, Refusal> {
    audited(&service, &admin, "enable-account", None, async {
        Ok(service.set_disabled(&by_uid(uid)?, false).await?)
    })
    .await
    .map(Json)
}

/// Forgets the failed sign-ins counted against an account and against its logins as
/// unknown ones; familiar networks stay.
async fn unlock_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
) -> Result<Json<Unlocked>, Refusal> {
    audited(&service, &admin, "unlock-account", None, async {
        Ok(service.unlock(&by_uid(uid)?).await?)
    })
    .await
    .map(Json)
}

/// `POST …/mfa/reset`: every second factor of the account removed, as `accounts mfa reset`.
async fn reset_mfa(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
) -> Result<Json<FactorsReset>, Refusal> {
    audited(&service, &admin, "reset-mfa", None, async {
        let by = format!("admin:{}", admin.0);
        Ok(service.reset_factors(&by_uid(uid)?, &by).await?)
    })
    .await
    .map(Json)
}

/// `GET …/passkeys`: the account's passkeys, as `accounts passkeys list` shows them.
async fn list_passkeys(
    State(service): State<Arc<Service>>,
    uid: Result<Segment, Refusal>,
) -> Result<Json<Value>, Refusal> {
    let (uid, passkeys) = service.account_passkeys(&by_uid(uid)?).await?;
    Ok(Json(
        serde_json::json!({ "uid": uid, "passkeys": passkeys }),
    ))
}

/// `POST …/passkeys/remove` with `{"id": …}`: one passkey removed, as `accounts passkeys
/// remove`.
async fn remove_passkey(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<Value>, Refusal> {
    let mut removed = String::new();
    let uid = audited(&service, &admin, "remove-passkey", None, async {
        let target = by_uid(uid)?;
        let mut body = body?;
        removed = body.string("id")?;
        body.finish("`id`")?;
        let by = format!("admin:{}", admin.0);
        Ok(service
            .remove_account_passkey(&target, &removed, &by)
            .await?)
    })
    .await?;
    Ok(Json(serde_json::json!({ "uid": uid, "removed": removed })))
}

async fn set_claims(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<AccountSummary>, Refusal> {
    audited(&service, &admin, "set-claims", None, async {
        let target = by_uid(uid)?;
        let claims = Claims::parse(Value::Object(body?.into_map()))?;
        Ok(service.set_claims(&target, claims).await?)
    })
    .await
    .map(Json)
}

/// `PUT …/password` with `{"password": "…"}`: the policy and the code path of
/// `firegate accounts set-password`.
async fn set_password(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
    body: Result<JsonObject, ApiError>,
) -> Result<StatusCode, Refusal> {
    audited(&service, &admin, "set-password", None, async {
        let target = by_uid(uid)?;
        let mut body = body?;
        let password = body.string("password")?;
        body.finish("`password`")?;
        let password = Password::new(password)?;
        Ok(service
            .set_password(&target, &password, Timestamp::now())
            .await?)
    })
    .await
    .map(|_| StatusCode::NO_CONTENT)
}

async fn delete_account(
    State(service): State<Arc<Service>>,
    Extension(admin): Extension<Admin>,
    uid: Result<Segment, Refusal>,
) -> Result<StatusCode, Refusal> {
    audited(&service, &admin, "delete-account", None, async {
        Ok(service.delete_account(&by_uid(uid)?).await?)
    })
    .await
    .map(|_| StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page while Firestore fails: it still renders, and each part says what it lacks.
    #[test]
    fn the_page_renders_what_it_can_when_counts_or_keys_fail() {
        let page = AdminPage {
            nonce: "n0nce",
            user: "admin",
            keys: Vec::new(),
            signer: SignerInfo {
                signer: "key",
                service_account: None,
                key_id: None,
            },
            stats: Vec::new(),
            stats_problem: Some("Firestore is unavailable: no answer within 5000 ms".into()),
            keys_problem: Some("Firestore is unavailable: <deadline>".into()),
            stats_computed_at: "2026-12-02T06:00:00Z".into(),
            stats_age_secs: 0,
            stats_kept_secs: 60,
            total: 0,
            migrated: 0,
            percent: 100,
            graduated: 0,
            graduate_percent: 0,
            graduates: false,
            legacy: 0,
            legacy_hook: false,
            breached: 0,
        }
        .render()
        .unwrap();
        assert!(page.contains(
            "The counts are unavailable: Firestore is unavailable: no answer within 5000 ms."
        ));
        // Escaped like everything else on the page.
        assert!(
            page.contains(
                "The keys cannot be listed: Firestore is unavailable: &#60;deadline&#62;."
            )
        );
        assert!(!page.contains("id=\"keys\""), "no empty key table");
        assert!(
            !page.contains("id=\"migration\""),
            "no progress bar without counts"
        );
        assert!(
            page.contains("id=\"search\""),
            "accounts can still be searched"
        );
    }
}

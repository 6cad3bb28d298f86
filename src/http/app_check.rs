//! App Check at the edge: which paths belong to which route group ([`GROUPS`]), and the
//! middleware that reads `X-Firebase-AppCheck` on their POSTs and answers `401
//! app_check_failed` when their group enforces and the token does not verify.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::google::RouteGroup;
use crate::service::{AppCheckVerdict, Service};

/// The header App Check's client SDKs send the token in.
pub const APP_CHECK_HEADER: &str = "x-firebase-appcheck";

/// Each route group's paths (without the trailing slash; a path also covers everything
/// under it). A new public route joins a group with a row here; a new group is a
/// [`RouteGroup`] variant, which gives it a name in `--app-check`.
pub const GROUPS: &[(RouteGroup, &[&str])] = &[
    (
        RouteGroup::SignIn,
        &["/login", "/login/second-factor", "/password"],
    ),
    (RouteGroup::Registration, &["/register"]),
    (
        RouteGroup::Reset,
        &["/password-reset", "/email-verification"],
    ),
    (
        RouteGroup::Passkeys,
        &["/passkeys", "/login/second-factor/passkey"],
    ),
];

/// Paths under a group that App Check never checks: the confirmations of a mailed link,
/// whose single-use token is the proof, and which firegate's own pages (the ones the links
/// open, where no App Check SDK runs) send.
pub const EXEMPT: &[&str] = &["/password-reset/confirm", "/email-verification/confirm"];

/// The group of `path`: the longest listed path it is, or is under.
pub fn group_of(path: &str) -> Option<RouteGroup> {
    let path = path.strip_suffix('/').unwrap_or(path);
    if EXEMPT.contains(&path) {
        return None;
    }
    GROUPS
        .iter()
        .flat_map(|(group, paths)| paths.iter().map(move |p| (*group, *p)))
        .filter(|(_, p)| {
            path == *p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|(_, p)| p.len())
        .map(|(group, _)| group)
}

/// Checks the App Check token of a POST to a guarded route.
pub async fn guard(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    if service.app_check().is_none() || request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(group) = group_of(request.uri().path()) else {
        return next.run(request).await;
    };
    let token = request
        .headers()
        .get(APP_CHECK_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = jiff::Timestamp::now().as_second();
    match service.check_app_check(group, token, now).await {
        AppCheckVerdict::Pass => next.run(request).await,
        AppCheckVerdict::Refuse => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "app_check_failed",
            "This app could not be verified (Firebase App Check): update the app, or retry \
             with a fresh X-Firebase-AppCheck token.",
        )
        .into_response(),
        AppCheckVerdict::Unavailable => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "This app cannot be verified right now; retry shortly.",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_into_their_groups() {
        assert_eq!(group_of("/login/"), Some(RouteGroup::SignIn));
        assert_eq!(group_of("/login/second-factor/"), Some(RouteGroup::SignIn));
        assert_eq!(group_of("/password"), Some(RouteGroup::SignIn));
        assert_eq!(group_of("/register"), Some(RouteGroup::Registration));
        assert_eq!(group_of("/password-reset/"), Some(RouteGroup::Reset));
        assert_eq!(group_of("/email-verification"), Some(RouteGroup::Reset));
        assert_eq!(
            group_of("/password-reset/confirm/"),
            None,
            "the link is the proof"
        );
        assert_eq!(group_of("/email-verification/confirm"), None);
        assert_eq!(
            group_of("/passkeys/login/finish/"),
            Some(RouteGroup::Passkeys)
        );
        assert_eq!(
            group_of("/login/second-factor/passkey/"),
            Some(RouteGroup::Passkeys)
        );
        assert_eq!(group_of("/registered"), None);
        assert_eq!(group_of("/admin/api/stats"), None);
        assert_eq!(group_of("/healthz"), None);
    }
}

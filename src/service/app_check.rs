//! App Check on the public routes: a request of a verified route group is taken, refused
//! (`enforce`), or taken with a log line and a count of what would have been refused
//! (`monitor`, as Firebase's own unenforced mode, so a team can watch before it enforces).
//! Registration and reset may consume limited-use tokens (replay protection).

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{info, warn};

use super::Service;
use crate::google::{AppCheckError, AppCheckMode, AppCheckVerifier, RouteGroup};

/// App Check as a running service holds it.
pub(super) struct AppCheck {
    verifier: AppCheckVerifier,
    /// Requests refused, or that would have been (monitor), per group in
    /// [`RouteGroup::ALL`]'s order.
    refused: [AtomicU64; RouteGroup::ALL.len()],
}

impl AppCheck {
    pub(super) fn new(verifier: AppCheckVerifier) -> AppCheck {
        AppCheck {
            verifier,
            refused: Default::default(),
        }
    }
}

/// What App Check says of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppCheckVerdict {
    /// Serve it.
    Pass,
    /// Refuse it: `401 app_check_failed`.
    Refuse,
    /// App Check's keys or API cannot be reached and the group enforces: `503`.
    Unavailable,
}

fn index(group: RouteGroup) -> usize {
    RouteGroup::ALL
        .iter()
        .position(|g| *g == group)
        .unwrap_or_default()
}

impl Service {
    /// The App Check verifier, when a route group verifies tokens.
    pub fn app_check(&self) -> Option<&AppCheckVerifier> {
        self.app_check.as_ref().map(|a| &a.verifier)
    }

    /// Requests of `group` refused by App Check, or that would have been in `monitor`.
    pub fn app_check_refusals(&self, group: RouteGroup) -> u64 {
        self.app_check
            .as_ref()
            .map_or(0, |a| a.refused[index(group)].load(Ordering::Relaxed))
    }

    /// Checks a request of `group` carrying `token` (the `X-Firebase-AppCheck` header) at
    /// `now` (seconds since the epoch). Logs name the group and the failed check, never the
    /// token.
    pub async fn check_app_check(
        &self,
        group: RouteGroup,
        token: Option<&str>,
        now: i64,
    ) -> AppCheckVerdict {
        let Some(app_check) = &self.app_check else {
            return AppCheckVerdict::Pass;
        };
        let verifier = &app_check.verifier;
        let mode = verifier.options().mode(group);
        if mode == AppCheckMode::Off {
            return AppCheckVerdict::Pass;
        }
        let result = match token {
            None => Err(AppCheckError::Invalid(
                "no App Check token (X-Firebase-AppCheck)".into(),
            )),
            Some(token) => self.verify_app_check(verifier, group, token, now).await,
        };
        let enforce = mode == AppCheckMode::Enforce;
        match result {
            Ok(()) => AppCheckVerdict::Pass,
            Err(AppCheckError::Invalid(why)) => {
                app_check.refused[index(group)].fetch_add(1, Ordering::Relaxed);
                let outcome = if enforce { "refused" } else { "would_refuse" };
                info!(app_check = outcome, group = group.name(), reason = %why, "App Check");
                if enforce {
                    AppCheckVerdict::Refuse
                } else {
                    AppCheckVerdict::Pass
                }
            }
            Err(AppCheckError::Unavailable(why)) => {
                warn!(group = group.name(), error = %why, enforce, "App Check unavailable");
                if enforce {
                    AppCheckVerdict::Unavailable
                } else {
                    AppCheckVerdict::Pass
                }
            }
        }
    }

    async fn verify_app_check(
        &self,
        verifier: &AppCheckVerifier,
        group: RouteGroup,
        token: &str,
        now: i64,
    ) -> Result<(), AppCheckError> {
        verifier.verify(token, now).await?;
        let replay_protected = matches!(group, RouteGroup::Registration | RouteGroup::Reset);
        if verifier.options().consume && replay_protected && verifier.consume(token).await? {
            return Err(AppCheckError::Invalid(
                "the App Check token was used before (a limited-use token is good for one \
                 request)"
                    .into(),
            ));
        }
        Ok(())
    }
}

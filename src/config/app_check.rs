//! The App Check settings group: which route groups verify `X-Firebase-AppCheck` and how
//! (`off`, `monitor`, `enforce`), the Firebase project and apps the tokens must name, and
//! replay protection for registration and reset.

use std::collections::HashMap;

use clap::Args;

use super::values::non_empty;
use crate::google::{
    APP_CHECK_API_URL, APP_CHECK_JWKS_URL, AppCheckMode, AppCheckOptions, RouteGroup,
};

/// One item of `--app-check`: a mode for every group, or `GROUP=MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppCheckItem {
    group: Option<RouteGroup>,
    mode: AppCheckMode,
}

fn parse_item(text: &str) -> Result<AppCheckItem, String> {
    let groups = || RouteGroup::ALL.map(RouteGroup::name).join(", ");
    let mode = |m: &str| {
        AppCheckMode::parse(m.trim())
            .ok_or_else(|| format!("`{m}` is not a mode; use off, monitor or enforce"))
    };
    match text.split_once('=') {
        None => Ok(AppCheckItem {
            group: None,
            mode: mode(text)?,
        }),
        Some((group, m)) => Ok(AppCheckItem {
            group: Some(RouteGroup::parse(group.trim()).ok_or_else(|| {
                format!("`{group}` is not a route group; use one of {}", groups())
            })?),
            mode: mode(m)?,
        }),
    }
}

/// Firebase App Check on the public routes (book: "Abuse protection").
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "App Check")]
pub struct AppCheckArgs {
    /// Verify the X-Firebase-AppCheck header: `off`, `monitor` or `enforce`, for every route
    /// group or per group (`sign-in=enforce,registration=monitor`).
    ///
    /// Groups: sign-in (sign-in, its second step, password changes), registration, reset
    /// (password reset and email verification), passkeys. `monitor` logs and counts what
    /// would be refused and serves it; `enforce` answers 401 app_check_failed.
    #[arg(long = "app-check", env = "FIREGATE_APP_CHECK", value_name = "MODE",
          value_delimiter = ',', default_value = "off", value_parser = parse_item)]
    pub app_check: Vec<AppCheckItem>,

    /// The Firebase project's number (console: Project settings → "Project number"), which
    /// App Check tokens are issued for.
    #[arg(long, env = "FIREGATE_APP_CHECK_PROJECT_NUMBER", value_name = "NUMBER",
          value_parser = project_number)]
    pub app_check_project_number: Option<String>,

    /// An app id allowed to call (`1:<number>:web:<hex>`, repeatable); none: any app of the
    /// project.
    #[arg(long, env = "FIREGATE_APP_CHECK_APP_ID", value_name = "APP_ID",
          value_delimiter = ',', value_parser = non_empty("--app-check-app-id"))]
    pub app_check_app_id: Vec<String>,

    /// Replay protection for registration and reset: each token is consumed through App
    /// Check's verifyAppCheckToken, so clients must send limited-use tokens
    /// (getLimitedUseToken).
    #[arg(long, env = "FIREGATE_APP_CHECK_CONSUME")]
    pub app_check_consume: bool,

    /// App Check's JWKS.
    #[arg(long, env = "FIREGATE_APP_CHECK_JWKS_URL", value_name = "URL",
          default_value = APP_CHECK_JWKS_URL, value_parser = non_empty("--app-check-jwks-url"))]
    pub app_check_jwks_url: String,

    /// App Check's REST API base (verifyAppCheckToken).
    #[arg(long, env = "FIREGATE_APP_CHECK_API_URL", value_name = "URL",
          default_value = APP_CHECK_API_URL, value_parser = non_empty("--app-check-api-url"))]
    pub app_check_api_url: String,
}

fn project_number(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(
            "a project number is digits only (console: Project settings → \"Project \
             number\"), not the project id"
                .into(),
        )
    }
}

impl AppCheckArgs {
    fn modes(&self) -> HashMap<RouteGroup, AppCheckMode> {
        let mut modes = HashMap::new();
        for item in &self.app_check {
            match item.group {
                Some(group) => {
                    modes.insert(group, item.mode);
                }
                None => {
                    for group in RouteGroup::ALL {
                        modes.insert(group, item.mode);
                    }
                }
            }
        }
        modes
    }

    /// Settings that only make sense together.
    pub fn check(&self) -> Result<(), String> {
        let on = self.modes().values().any(|m| *m != AppCheckMode::Off);
        if on && self.app_check_project_number.is_none() {
            return Err(
                "--app-check needs --app-check-project-number, the Firebase project's \
                        number (console: Project settings → \"Project number\")"
                    .into(),
            );
        }
        Ok(())
    }

    /// App Check's options, `None` when every group is off. `project_id` is the Firebase
    /// project's id, which a token's audience may name instead of the number.
    pub fn options(&self, project_id: Option<&str>) -> Option<AppCheckOptions> {
        let options = AppCheckOptions {
            modes: self.modes(),
            project_number: self.app_check_project_number.clone()?,
            project_id: project_id.map(str::to_string),
            app_ids: self.app_check_app_id.clone(),
            consume: self.app_check_consume,
            jwks_url: self.app_check_jwks_url.clone(),
            api_url: with_slash(&self.app_check_api_url),
        };
        options.on().then_some(options)
    }
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

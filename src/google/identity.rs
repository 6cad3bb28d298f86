//! Firebase Auth's admin REST API (Identity Toolkit v1), the calls the Admin SDKs make:
//! create, update, delete and look up a user, import users with their hashes
//! (`accounts:batchCreate`), and check a password (`accounts:signInWithPassword`, with the
//! project's web API key). Admin calls carry an access token from Application Default
//! Credentials; against the Auth emulator (`FIREBASE_AUTH_EMULATOR_HOST`, the variable the
//! Admin SDKs read) they carry `Bearer owner`, as the SDKs do.
//!
//! Every call has a deadline (transient answers are retried within it) and at most
//! [`MAX_IN_FLIGHT`] run at once; passwords, tokens and the API key never appear in errors.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::credentials::AccessTokens;
use super::{ErrorBody, quote};
use crate::error::{BridgeError, GoogleCallError};

/// Identity Toolkit's endpoint.
pub const IDENTITY_TOOLKIT_URL: &str = "https://identitytoolkit.googleapis.com";

/// Most uids one `accounts:lookup` call takes (the Admin SDKs' `getUsers` limit).
pub const MAX_LOOKUP: usize = 100;

/// Calls in flight at once per instance.
const MAX_IN_FLIGHT: usize = 16;

/// The longest one attempt may take within a call's deadline.
const MAX_ATTEMPT: Duration = Duration::from_secs(3);

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Where Identity Toolkit is and how to reach it.
#[derive(Clone, Default)]
pub struct IdentityOptions {
    /// The API's base URL; [`IDENTITY_TOOLKIT_URL`] when `None`.
    pub base_url: Option<String>,
    /// `FIREBASE_AUTH_EMULATOR_HOST`: the Auth emulator's `host:port`, which wins over
    /// `base_url` and needs no credentials.
    pub emulator_host: Option<String>,
    /// The project's web API key, for `accounts:signInWithPassword` only.
    pub api_key: Option<SecretString>,
    /// The longest one call may take, retries included.
    pub deadline: Duration,
    /// The Identity Platform tenant whose users these are (`--tenant-id`).
    pub tenant_id: Option<String>,
}

impl std::fmt::Debug for IdentityOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityOptions")
            .field("base_url", &self.base_url)
            .field("emulator_host", &self.emulator_host)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("deadline", &self.deadline)
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

/// A new Firebase user (`accounts`). `password` is the only secret and is never logged.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NewUser<'a> {
    pub local_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
    pub disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'a str>,
}

/// Changes to a Firebase user (`accounts:update`); absent fields stay as they are.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate<'a> {
    pub local_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_user: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'a str>,
    /// Seconds since the epoch: ID and refresh tokens issued before it stop working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_since: Option<String>,
    /// `DISPLAY_NAME` to remove the display name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delete_attribute: Vec<&'static str>,
    /// `password` to remove the password (the user can no longer sign in with one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delete_provider: Vec<&'static str>,
}

/// What firegate reads back of a Firebase user.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FirebaseUser {
    pub local_id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// When the password was last set, in milliseconds since the epoch.
    #[serde(default, deserialize_with = "number_or_text")]
    pub password_updated_at: Option<i64>,
    /// Seconds since the epoch before which tokens are refused.
    #[serde(default, deserialize_with = "number_or_text")]
    pub valid_since: Option<i64>,
}

/// Google writes int64 fields as JSON strings, the emulator sometimes as numbers.
fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        Some(Either::Number(n)) => Some(n),
        Some(Either::Text(t)) => t.parse().ok(),
        None => None,
    })
}

/// One refused user of an `accounts:batchCreate` call.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct BatchError {
    /// Its position in the call's `users`.
    pub index: usize,
    pub message: String,
}

enum Auth {
    /// An access token from Application Default Credentials.
    Adc(AccessTokens),
    /// The Auth emulator's admin credential.
    Owner,
}

/// A client of one project's users in Firebase Auth.
pub struct IdentityToolkit {
    /// Up to and without `/v1`.
    base: String,
    /// `projects/{project}` or `projects/{project}/tenants/{tenant}`.
    project: String,
    tenant_id: Option<String>,
    auth: Auth,
    api_key: Option<SecretString>,
    deadline: Duration,
    in_flight: tokio::sync::Semaphore,
}

impl std::fmt::Debug for IdentityToolkit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToolkit")
            .field("base", &self.base)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Attempt {
    Done(String),
    Transient(GoogleCallError),
    Unauthenticated(String),
    Failed(BridgeError),
}

impl IdentityToolkit {
    /// A client for `project`; nothing is called here.
    pub fn new(project: &str, options: &IdentityOptions) -> Result<IdentityToolkit, BridgeError> {
        let (base, auth) = match options.emulator_host.as_deref().filter(|h| !h.is_empty()) {
            Some(host) => (
                format!("http://{host}/identitytoolkit.googleapis.com"),
                Auth::Owner,
            ),
            None => (
                options
                    .base_url
                    .as_deref()
                    .unwrap_or(IDENTITY_TOOLKIT_URL)
                    .trim_end_matches('/')
                    .to_string(),
                Auth::Adc(AccessTokens::new()),
            ),
        };
        Ok(IdentityToolkit {
            base,
            project: match &options.tenant_id {
                Some(tenant) => format!("projects/{project}/tenants/{tenant}"),
                None => format!("projects/{project}"),
            },
            tenant_id: options.tenant_id.clone(),
            auth,
            api_key: options.api_key.clone(),
            deadline: options.deadline,
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
        })
    }

    /// Creates a user; [`BridgeError::code`] is `DUPLICATE_LOCAL_ID` when the uid exists and
    /// `EMAIL_EXISTS` when another user has the email.
    pub async fn create(&self, user: &NewUser<'_>) -> Result<(), BridgeError> {
        self.admin("creating a user", "accounts", user)
            .await
            .map(drop)
    }

    /// Updates a user; `USER_NOT_FOUND` when there is none.
    pub async fn update(&self, update: &UserUpdate<'_>) -> Result<(), BridgeError> {
        self.admin("updating a user", "accounts:update", update)
            .await
            .map(drop)
    }

    /// Deletes a user; `Ok(false)` when there was none.
    pub async fn delete(&self, uid: &str) -> Result<bool, BridgeError> {
        let body = serde_json::json!({ "localId": uid });
        match self
            .admin("deleting a user", "accounts:delete", &body)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("USER_NOT_FOUND") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The user with `uid`, if any.
    pub async fn lookup(&self, uid: &str) -> Result<Option<FirebaseUser>, BridgeError> {
        Ok(self.lookup_many(&[uid]).await?.into_iter().next())
    }

    /// The users of `uids` that exist (at most [`MAX_LOOKUP`] uids per call).
    pub async fn lookup_many(&self, uids: &[&str]) -> Result<Vec<FirebaseUser>, BridgeError> {
        #[derive(Deserialize)]
        struct Found {
            #[serde(default)]
            users: Vec<FirebaseUser>,
        }
        let body = serde_json::json!({ "localId": uids });
        let text = self
            .admin("looking up users", "accounts:lookup", &body)
            .await?;
        let found: Found = serde_json::from_str(&text).map_err(|e| BridgeError::Malformed {
            what: "looking up users",
            why: super::unreadable(&e),
        })?;
        Ok(found
            .users
            .into_iter()
            .filter(|u| uids.contains(&u.local_id.as_str()))
            .collect())
    }

    /// Imports users with their password hashes: `body` is a whole `UploadAccountRequest`
    /// (the hash algorithm's fields and `users`). Returns the users Firebase refused.
    pub async fn batch_create(
        &self,
        body: &serde_json::Value,
    ) -> Result<Vec<BatchError>, BridgeError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            error: Vec<BatchError>,
        }
        let text = self
            .admin("importing users", "accounts:batchCreate", body)
            .await?;
        let answer: Answer = serde_json::from_str(&text).map_err(|e| BridgeError::Malformed {
            what: "importing users",
            why: super::unreadable(&e),
        })?;
        Ok(answer.error)
    }

    /// Checks `password` for `email` as a client sign-in would: `Some(uid)` when Firebase
    /// accepts it, `None` when it refuses (wrong password, no such user, disabled, or too
    /// many attempts).
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<String>, BridgeError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            local_id: String,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'a> {
            email: &'a str,
            password: &'a str,
            return_secure_token: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            tenant_id: Option<&'a str>,
        }
        let Some(key) = &self.api_key else {
            return Err(BridgeError::NoApiKey);
        };
        let url = format!(
            "{}/v1/accounts:signInWithPassword?key={}",
            self.base,
            key.expose_secret()
        );
        let request = Request {
            email,
            password,
            return_secure_token: false,
            tenant_id: self.tenant_id.as_deref(),
        };
        match self
            .call("checking a password", &url, &request, false)
            .await
        {
            Ok(text) => {
                let answer: Answer =
                    serde_json::from_str(&text).map_err(|e| BridgeError::Malformed {
                        what: "checking a password",
                        why: super::unreadable(&e),
                    })?;
                Ok(Some(answer.local_id))
            }
            Err(e)
                if matches!(
                    e.code(),
                    Some(
                        "INVALID_PASSWORD"
                            | "EMAIL_NOT_FOUND"
                            | "INVALID_LOGIN_CREDENTIALS"
                            | "USER_DISABLED"
                            | "TOO_MANY_ATTEMPTS_TRY_LATER"
                    )
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn admin<T: Serialize>(
        &self,
        what: &'static str,
        method: &str,
        body: &T,
    ) -> Result<String, BridgeError> {
        let url = format!("{}/v1/{}/{method}", self.base, self.project);
        self.call(what, &url, body, true).await
    }

    /// One call with retries of transient failures until the deadline.
    async fn call<T: Serialize>(
        &self,
        what: &'static str,
        url: &str,
        body: &T,
        admin: bool,
    ) -> Result<String, BridgeError> {
        let deadline = Instant::now() + self.deadline;
        let unavailable = |attempts, last| BridgeError::Unavailable {
            what,
            deadline_ms: self.deadline.as_millis(),
            attempts,
            last,
        };
        let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, self.in_flight.acquire()).await
        else {
            return Err(unavailable(0, GoogleCallError::Busy));
        };
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0;
        let mut token_renewed = false;
        loop {
            attempts += 1;
            let cut = deadline.min(Instant::now() + MAX_ATTEMPT);
            let attempt =
                match tokio::time::timeout_at(cut, self.attempt(what, url, body, admin)).await {
                    Ok(attempt) => attempt,
                    Err(_) => Attempt::Transient(GoogleCallError::NoAnswer),
                };
            let last = match attempt {
                Attempt::Done(text) => return Ok(text),
                Attempt::Failed(e) => return Err(e),
                Attempt::Unauthenticated(said) if !token_renewed => {
                    token_renewed = true;
                    if let Auth::Adc(tokens) = &self.auth {
                        tokens.reset();
                    }
                    GoogleCallError::Answered { said }
                }
                Attempt::Unauthenticated(said) => {
                    return Err(BridgeError::Refused {
                        what,
                        status: 401,
                        code: "UNAUTHENTICATED".into(),
                        said,
                        fix: CREDENTIALS_FIX,
                    });
                }
                Attempt::Transient(last) => last,
            };
            if Instant::now() + backoff >= deadline {
                return Err(unavailable(attempts, last));
            }
            super::pause(&mut backoff, MAX_BACKOFF, deadline).await;
        }
    }

    async fn attempt<T: Serialize>(
        &self,
        what: &'static str,
        url: &str,
        body: &T,
        admin: bool,
    ) -> Attempt {
        let http = match super::api_client() {
            Ok(http) => http,
            Err(source) => return Attempt::Failed(BridgeError::Credentials { source }),
        };
        let mut request = http.post(url).json(body);
        if admin {
            request = match &self.auth {
                Auth::Owner => request.bearer_auth("owner"),
                Auth::Adc(tokens) => match tokens.bearer().await {
                    Ok(token) => request.bearer_auth(token.expose_secret()),
                    Err(source) => return Attempt::Failed(BridgeError::Credentials { source }),
                },
            };
        }
        let (status, text) = match super::exchange(request).await {
            Ok(answer) => answer,
            Err(cause) => return Attempt::Transient(cause),
        };
        if status.is_success() {
            return Attempt::Done(text);
        }
        refusal(what, status, &text)
    }
}

const CREDENTIALS_FIX: &str = "; check the Application Default Credentials \
     (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, or the runtime \
     service account)";

const PERMISSION_FIX: &str = "; grant the service account firegate runs as the Firebase \
     Authentication Admin role (roles/firebaseauth.admin) and enable the API with `gcloud \
     services enable identitytoolkit.googleapis.com`";

/// What a refusal means: the API's error code (`USER_NOT_FOUND`, `EMAIL_EXISTS`, …) and, for
/// the refusals users meet first, the fix.
fn refusal(what: &'static str, status: StatusCode, text: &str) -> Attempt {
    let error = serde_json::from_str::<ErrorBody>(text)
        .unwrap_or_default()
        .error;
    // "WEAK_PASSWORD : Password should be at least 6 characters" → WEAK_PASSWORD.
    let code = error
        .message
        .split([' ', ':'])
        .next()
        .unwrap_or("")
        .to_string();
    let said = if error.message.is_empty() {
        format!("HTTP {status}: {}", quote(text))
    } else {
        quote(&error.message)
    };
    match status {
        StatusCode::UNAUTHORIZED => Attempt::Unauthenticated(said),
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT
            if code != "TOO_MANY_ATTEMPTS_TRY_LATER" =>
        {
            Attempt::Transient(GoogleCallError::Answered { said })
        }
        _ => Attempt::Failed(BridgeError::Refused {
            what,
            status: status.as_u16(),
            code,
            said,
            fix: if status == StatusCode::FORBIDDEN {
                PERMISSION_FIX
            } else {
                ""
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(attempt: Attempt) -> BridgeError {
        match attempt {
            Attempt::Failed(e) => e,
            _ => panic!("expected a final failure"),
        }
    }

    #[test]
    fn error_codes_are_read_from_the_message() {
        let body = r#"{"error":{"code":400,"message":"WEAK_PASSWORD : Password should be at least 6 characters","errors":[]}}"#;
        let e = failed(refusal("creating a user", StatusCode::BAD_REQUEST, body));
        assert_eq!(e.code(), Some("WEAK_PASSWORD"));
        let body = r#"{"error":{"code":400,"message":"DUPLICATE_LOCAL_ID"}}"#;
        let e = failed(refusal("creating a user", StatusCode::BAD_REQUEST, body));
        assert_eq!(e.code(), Some("DUPLICATE_LOCAL_ID"));
        let e = failed(refusal("x", StatusCode::FORBIDDEN, "{}"));
        assert!(e.to_string().contains("roles/firebaseauth.admin"), "{e}");
        assert!(matches!(
            refusal("x", StatusCode::SERVICE_UNAVAILABLE, "{}"),
            Attempt::Transient(_)
        ));
        let throttled = r#"{"error":{"code":429,"message":"TOO_MANY_ATTEMPTS_TRY_LATER"}}"#;
        assert!(matches!(
            refusal("x", StatusCode::TOO_MANY_REQUESTS, throttled),
            Attempt::Failed(_)
        ));
    }

    #[test]
    fn int64_fields_read_as_numbers_or_text() {
        let user: FirebaseUser = serde_json::from_str(
            r#"{"localId":"u","passwordUpdatedAt":1700000000123,"validSince":"1700000000"}"#,
        )
        .unwrap();
        assert_eq!(user.password_updated_at, Some(1_700_000_000_123));
        assert_eq!(user.valid_since, Some(1_700_000_000));
    }

    #[test]
    fn requests_hold_only_the_fields_given() {
        let update = UserUpdate {
            local_id: "u1",
            disable_user: Some(true),
            valid_since: Some("17".into()),
            ..UserUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({"localId": "u1", "disableUser": true, "validSince": "17"})
        );
    }

    /// A call that cannot connect fails naming the transport's cause under its own message,
    /// and nothing in the chain repeats the URL's API key or the password.
    #[tokio::test]
    async fn a_failed_call_keeps_its_cause_and_no_secret() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = closed.local_addr().unwrap().to_string();
        drop(closed);
        let options = IdentityOptions {
            base_url: Some(format!("http://{host}")),
            emulator_host: None,
            api_key: Some(SecretString::from("AIzaSy-the-web-api-key")),
            deadline: Duration::from_millis(300),
            tenant_id: None,
        };
        let toolkit = IdentityToolkit::new("proj", &options).unwrap();
        let error = toolkit
            .sign_in_with_password("kim@example.com", "the password itself")
            .await
            .unwrap_err();
        let BridgeError::Unavailable { last, .. } = &error else {
            panic!("expected Unavailable, got {error}");
        };
        assert!(
            matches!(last, GoogleCallError::Transport { .. }),
            "{last:?}"
        );
        let chain = crate::error::chain(&error);
        assert!(chain.contains("cannot connect"), "{chain}");
        assert!(
            chain.contains("\n  caused by: "),
            "the transport's cause: {chain}"
        );
        for secret in [
            "AIzaSy-the-web-api-key",
            "the password itself",
            "key=",
            &host,
        ] {
            assert!(!chain.contains(secret), "{secret} in {chain}");
        }
    }
}

//! The metadata server of Google Cloud runtimes (Cloud Run, GCE, GKE): the default service
//! account's email and the project id. Its address is `$GCE_METADATA_HOST`, the variable
//! Google's client libraries honour, defaulting to `metadata.google.internal`.

use std::time::Duration;

use crate::error::{GoogleCallError, SignerError};

/// The metadata server's host when `GCE_METADATA_HOST` is not set.
pub const METADATA_HOST: &str = "metadata.google.internal";

/// Off Google Cloud the name does not resolve; fail in seconds rather than the request
/// deadline.
const TIMEOUT: Duration = Duration::from_secs(3);

/// A client of one metadata server.
#[derive(Debug, Clone)]
pub struct Metadata {
    host: String,
    http: reqwest::Client,
}

impl Metadata {
    /// The server at `host` (`host:port` or a name).
    pub fn new(host: &str) -> Metadata {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_default();
        Metadata {
            host: host.to_string(),
            http,
        }
    }

    /// The email of the runtime's default service account.
    pub async fn service_account_email(&self) -> Result<String, SignerError> {
        self.get(
            "instance/service-accounts/default/email",
            "the default service account",
            "off Google Cloud, name the account with --service-account",
        )
        .await
    }

    /// The id of the project the runtime belongs to.
    pub async fn project_id(&self) -> Result<String, SignerError> {
        self.get(
            "project/project-id",
            "the project id",
            "off Google Cloud, give --project-id",
        )
        .await
    }

    async fn get(
        &self,
        path: &str,
        what: &'static str,
        fix: &'static str,
    ) -> Result<String, SignerError> {
        let failed = |source: GoogleCallError| SignerError::Metadata {
            host: self.host.clone(),
            what,
            source,
            fix,
        };
        let url = format!("http://{}/computeMetadata/v1/{path}", self.host);
        let response = self
            .http
            .get(&url)
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .map_err(|e| failed(GoogleCallError::transport(e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| failed(GoogleCallError::transport(e)))?;
        if !status.is_success() {
            let said = format!("HTTP {status}: {}", super::quote(&text));
            return Err(failed(GoogleCallError::Answered { said }));
        }
        let value = text.trim();
        if value.is_empty() {
            return Err(failed(GoogleCallError::Empty));
        }
        Ok(value.to_string())
    }
}

//! Access tokens for Google APIs from Application Default Credentials: on Google Cloud the
//! metadata server, elsewhere `GOOGLE_APPLICATION_CREDENTIALS` or the file `gcloud auth
//! application-default login` writes. `google-cloud-auth` finds them, caches each token and
//! refreshes it in the background before it expires; a token an API refuses is dropped with
//! its cache ([`AccessTokens::reset`]).

use std::sync::RwLock;

use google_cloud_auth::credentials::{AccessTokenCredentials, Builder};
use secrecy::SecretString;

use crate::error::GoogleCallError;

/// The scope every firegate call needs (IAM Credentials, Identity Toolkit).
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Application Default Credentials, found once and rebuilt after a refused token.
#[derive(Debug, Default)]
pub struct AccessTokens {
    credentials: RwLock<Option<AccessTokenCredentials>>,
}

impl AccessTokens {
    /// Credentials are looked up at the first [`bearer`](Self::bearer), not here.
    pub fn new() -> AccessTokens {
        AccessTokens::default()
    }

    /// A current access token (from the cache when it is not about to expire).
    pub async fn bearer(&self) -> Result<SecretString, GoogleCallError> {
        let credentials = self.credentials()?;
        let token = credentials.access_token().await?;
        Ok(SecretString::from(token.token))
    }

    /// Forgets the credentials and their cached token: the next [`bearer`](Self::bearer)
    /// fetches a new one.
    pub fn reset(&self) {
        *self.credentials.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn credentials(&self) -> Result<AccessTokenCredentials, GoogleCallError> {
        if let Some(found) = &*self.credentials.read().unwrap_or_else(|e| e.into_inner()) {
            return Ok(found.clone());
        }
        let mut slot = self.credentials.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = &*slot {
            return Ok(found.clone());
        }
        let built = Builder::default()
            .with_scopes([CLOUD_PLATFORM])
            .build_access_token_credentials()
            .map_err(|e| GoogleCallError::Setup(std::sync::Arc::new(e)))?;
        *slot = Some(built.clone());
        Ok(built)
    }
}

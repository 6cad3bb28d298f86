//! Whether Google publishes a key: the service account's certificates at
//! `<base>/<client_email>` (a JSON map of key id to PEM certificate), which is what Firebase
//! verifies custom tokens against. A key that is not there must not sign.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::ServiceAccountKey;
use super::certificate::{certificate_spki_der, public_key_spki_der};

/// Google's endpoint for service-account certificates.
pub const GOOGLE_X509_BASE: &str = "https://www.googleapis.com/robot/v1/metadata/x509";

/// A client of the certificate endpoint.
#[derive(Debug, Clone)]
pub struct Publication {
    base_url: String,
    /// Built on first use: building it reads the system's CA certificates, which would
    /// otherwise delay every cold start for a check only key activation needs.
    http: Arc<OnceLock<reqwest::Client>>,
}

impl Publication {
    /// A client of `base_url` (Google's, or a local stand-in in tests).
    pub fn new(base_url: &str) -> Publication {
        Publication {
            base_url: base_url.trim_end_matches('/').to_string(),
            http: Arc::default(),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot set up an HTTPS client for {}: {e}", self.base_url))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// Ok when the endpoint lists `key`'s id with a certificate of exactly its public key;
    /// otherwise why not, in words an admin can act on.
    pub async fn check(&self, key: &ServiceAccountKey) -> Result<(), String> {
        let url = format!("{}/{}", self.base_url, key.client_email);
        let response = self
            .http()?
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let certificates: HashMap<String, String> = response
            .json()
            .await
            .map_err(|e| format!("{url} did not return a JSON map of certificates: {e}"))?;
        let Some(pem) = certificates.get(&key.kid) else {
            return Err(format!(
                "Google does not publish key {} for {} yet (published: {}); upload its \
                 certificate, wait a minute, or pass --force if you know better",
                key.kid,
                key.client_email,
                sorted(certificates.keys())
            ));
        };
        let published = certificate_spki_der(pem)?;
        if published != public_key_spki_der(key.signer.public_key_der()) {
            return Err(format!(
                "Google publishes key {} with a different public key than {}",
                key.kid,
                key.file.display()
            ));
        }
        Ok(())
    }
}

fn sorted<'a>(kids: impl Iterator<Item = &'a String>) -> String {
    let mut kids: Vec<&str> = kids.map(String::as_str).collect();
    kids.sort_unstable();
    if kids.is_empty() {
        "none".into()
    } else {
        kids.join(", ")
    }
}

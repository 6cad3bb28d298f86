//! Whether Google publishes a key: the service account's certificates at
//! `<base>/<client_email>` (a JSON map of key id to PEM certificate), which is what Firebase
//! verifies custom tokens against. A key that is not there must not sign.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::ServiceAccountKey;
use super::certificate::{CertificateError, certificate_spki_der, public_key_spki_der};

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

    fn http(&self) -> Result<&reqwest::Client, PublicationError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PublicationError::Client {
                base: self.base_url.clone(),
                source: e.without_url(),
            })?;
        Ok(self.http.get_or_init(|| client))
    }

    /// Ok when the endpoint lists `key`'s id with a certificate of exactly its public key;
    /// otherwise why not, in words an admin can act on.
    pub async fn check(&self, key: &ServiceAccountKey) -> Result<(), PublicationError> {
        let certificates = self.certificates(&key.client_email).await.map_err(|e| {
            PublicationError::Unconfirmed {
                source: Box::new(e),
            }
        })?;
        let Some(pem) = certificates.get(&key.kid) else {
            return Err(PublicationError::NotYetPublished {
                kid: key.kid.clone(),
                email: key.client_email.clone(),
                published: sorted(certificates.keys()),
            });
        };
        let published =
            certificate_spki_der(pem).map_err(|source| PublicationError::BadCertificate {
                kid: key.kid.clone(),
                source,
            })?;
        if published != public_key_spki_der(key.signer.public_key_der()) {
            return Err(PublicationError::OtherPublicKey {
                kid: key.kid.clone(),
                file: key.file.clone(),
            });
        }
        Ok(())
    }

    /// Ok when `signature` over `message` verifies with the certificate Google publishes for
    /// `email` under `kid`: a token signed so is accepted by Firebase Auth.
    pub async fn verify(
        &self,
        email: &str,
        kid: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), PublicationError> {
        let certificates = self.certificates(email).await?;
        let pem = certificates
            .get(kid)
            .ok_or_else(|| PublicationError::NotPublished {
                kid: kid.to_string(),
                email: email.to_string(),
                published: sorted(certificates.keys()),
            })?;
        let public_key = super::certificate::certificate_rsa_public_key(pem).map_err(|source| {
            PublicationError::BadCertificate {
                kid: kid.to_string(),
                source,
            }
        })?;
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            public_key,
        )
        .verify(message, signature)
        .map_err(|_| PublicationError::SignatureMismatch {
            kid: kid.to_string(),
            email: email.to_string(),
        })
    }

    /// The certificates Google publishes for `email`, by key id. Transport errors are kept
    /// without reqwest's URL; the error names the URL itself.
    async fn certificates(&self, email: &str) -> Result<HashMap<String, String>, PublicationError> {
        let url = format!("{}/{}", self.base_url, email);
        let response =
            self.http()?
                .get(&url)
                .send()
                .await
                .map_err(|e| PublicationError::Fetch {
                    url: url.clone(),
                    source: e.without_url(),
                })?;
        if !response.status().is_success() {
            return Err(PublicationError::Status {
                url,
                status: response.status(),
            });
        }
        response
            .json()
            .await
            .map_err(|e| PublicationError::NotJson {
                url,
                source: e.without_url(),
            })
    }
}

/// Why Google's publication of a key could not be confirmed. Messages name the key, the
/// service account and the fix; causes are the transport's or the certificate parser's.
#[derive(Debug, thiserror::Error)]
pub enum PublicationError {
    #[error("cannot set up an HTTPS client for {base}")]
    Client {
        base: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot fetch {url}")]
    Fetch {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("{url} did not return a JSON map of certificates")]
    NotJson {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The certificates could not be read; activation may be retried or forced.
    #[error(
        "{source}; Google publishes an uploaded certificate within a few minutes, so retry \
         shortly, or pass --force if you know the key is published"
    )]
    Unconfirmed {
        #[source]
        source: Box<PublicationError>,
    },
    #[error(
        "Google does not publish key {kid} for {email} yet (published: {published}); upload \
         its certificate, wait a minute, or pass --force if you know better"
    )]
    NotYetPublished {
        kid: String,
        email: String,
        published: String,
    },
    #[error("Google does not publish key {kid} for {email} (published: {published})")]
    NotPublished {
        kid: String,
        email: String,
        published: String,
    },
    #[error("the certificate Google publishes for key {kid} cannot be read")]
    BadCertificate {
        kid: String,
        #[source]
        source: CertificateError,
    },
    #[error("Google publishes key {kid} with a different public key than {}", file.display())]
    OtherPublicKey { kid: String, file: PathBuf },
    #[error("the signature does not verify with published key {kid} of {email}")]
    SignatureMismatch { kid: String, email: String },
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Answers one request with `body` and hands back its request line.
    async fn answer_once(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "http://{}/robot/v1/metadata/x509",
            listener.local_addr().unwrap()
        );
        let served = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let n = stream.read(&mut request).await.unwrap();
            let text = String::from_utf8_lossy(&request[..n]).to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await.unwrap();
            text.lines().next().unwrap_or_default().to_string()
        });
        (base, served)
    }

    #[tokio::test]
    async fn certificates_are_read_at_base_slash_client_email() {
        let dir = tempfile::tempdir().unwrap();
        let file = crate::keys::keygen::write_dev_key(dir.path(), "demo-published").unwrap();
        let key = crate::keys::load_file(&file, false).unwrap();
        let (base, served) = answer_once("{}").await;
        let checked = Publication::new(&format!("{base}/")).check(&key).await;
        let request_line = served.await.unwrap();
        assert_eq!(
            request_line,
            format!("GET /robot/v1/metadata/x509/{} HTTP/1.1", key.client_email)
        );
        let why = checked.unwrap_err().to_string();
        assert!(why.contains(&key.kid), "{why}");
    }
}

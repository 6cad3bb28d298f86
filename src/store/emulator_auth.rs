//! Credentials for the Firestore emulator: the conventional `Bearer owner` token, so a client
//! can be pointed at an emulator by configuration rather than by the process environment.

use firestore::gcloud_sdk::google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use firestore::gcloud_sdk::google_cloud_auth::errors::CredentialsError;
use http::Extensions;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};

#[derive(Debug)]
struct EmulatorOwner {
    tag: EntityTag,
}

impl CredentialsProvider for EmulatorOwner {
    async fn headers(
        &self,
        extensions: Extensions,
    ) -> Result<CacheableResource<HeaderMap>, CredentialsError> {
        if extensions.get::<EntityTag>() == Some(&self.tag) {
            return Ok(CacheableResource::NotModified);
        }
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer owner"));
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// Credentials the emulator accepts.
pub fn credentials() -> Credentials {
    Credentials::from(EmulatorOwner {
        tag: EntityTag::new(),
    })
}

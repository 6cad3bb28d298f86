//! Key rotation use cases: activating and retiring keys — with every check that keeps a
//! rotation from failing logins done before anything changes — and the objects
//! `firegate keys …` works on, which need no active key.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use jiff::Timestamp;
use tracing::info;

use crate::keys::{
    KeyInfo, KeyOptions, KeyRing, KeyState, Publication, RecordedState, ServiceAccountKey, load_dir,
};
use crate::store::{Store, StoreOptions};
use crate::{Error, Result};

/// What `firegate keys list|activate|retire` work on: the keys directory as an inspecting
/// ring, the recorded state, the store and the certificate endpoint. Opening it reads
/// Firestore but never writes, and works without an active key — so `keys activate` can
/// repair a deployment that has none, or whose active key is not in this directory.
pub struct KeyAdmin {
    pub ring: KeyRing,
    pub store: Store,
    pub publication: Publication,
    /// The recorded key state when opened (`None` before the first record).
    pub recorded: Option<RecordedState>,
}

impl KeyAdmin {
    /// Loads the keys directory (files that do not load are listed, not fatal), connects to
    /// Firestore and reads the recorded key state.
    pub async fn open(
        keys: &KeyOptions,
        project_id: Option<&str>,
        store: StoreOptions,
    ) -> Result<KeyAdmin> {
        let dir = &keys.dir;
        let allow_insecure = keys.allow_insecure_permissions;
        let loaded = load_dir(dir, allow_insecure)?;
        let project_id = loaded.project(dir, project_id)?;
        let store = Store::connect(project_id, store).await?;
        let recorded = store.recorded_key_state().await?.map(|(state, _)| state);
        Ok(KeyAdmin {
            ring: KeyRing::inspect(dir, allow_insecure, loaded, recorded.as_ref()),
            store,
            publication: Publication::new(&keys.x509_base_url),
            recorded,
        })
    }

    /// Rotation over these keys.
    pub fn rotation(&self) -> Rotation<'_> {
        Rotation {
            ring: &self.ring,
            store: &self.store,
            publication: &self.publication,
        }
    }
}

/// Activation and retirement over the ring, the recorded state and Google's certificates.
pub struct Rotation<'a> {
    pub ring: &'a KeyRing,
    pub store: &'a Store,
    pub publication: &'a Publication,
}

impl Rotation<'_> {
    /// The key id `key` names: itself, or the id of the key whose file is `key.json` (the
    /// `--name` given to `keys generate`), so the CLI and the admin API take either.
    fn kid_of(&self, key: &str) -> String {
        let keys = self.ring.list();
        if keys.iter().any(|k| k.kid == key) {
            return key.to_string();
        }
        keys.into_iter()
            .find(|k| k.file.file_stem().and_then(|s| s.to_str()) == Some(key) && !k.kid.is_empty())
            .map_or_else(|| key.to_string(), |k| k.kid)
    }

    /// Every key with its state, after a rescan of the keys directory.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.ring.refresh(None);
        self.ring.list()
    }

    /// Makes `kid` the signing key for every instance. Refused, changing nothing, when the key
    /// is unknown, its file has a problem, it is pending, retired, of another project than the
    /// signing key (where that is not loaded: the recorded project, or with nothing recorded
    /// the other keys' project), cannot sign, or (unless `force`) is not published by Google
    /// yet.
    pub async fn activate(&self, kid: &str, force: bool, actor: &str) -> Result<KeyInfo> {
        self.ring.refresh(None);
        let kid = self.kid_of(kid);
        let kid = kid.as_str();
        // The ring keeps the last good copy of a file that broke; what the file holds now is
        // what a restarted instance would load, so it must be sound too.
        if let Some(problem) = self.ring.problem(kid) {
            return Err(refused(format!(
                "key {kid} cannot be activated while its file has a problem: {problem}"
            )));
        }
        let key = self
            .ring
            .get(kid)
            .ok_or_else(|| Error::UnknownKey(kid.to_string()))?;
        let (recorded, version) = self.recorded().await?;
        if key.is_pending() {
            return Err(refused(format!(
                "key {kid} has no Google key id yet: upload its certificate, then run \
                 `firegate keys import-id {kid} <KEY_ID>`"
            )));
        }
        if recorded.retired.contains(kid) {
            return Err(refused(format!(
                "key {kid} is retired and never signs again; generate a new key"
            )));
        }
        // Firebase accepts tokens only from service accounts of its own project.
        let project = match (self.ring.try_active(), &recorded.project) {
            (Some(active), _) => Some((active.project_id.clone(), "the signing key's project")),
            (None, Some(project)) => Some((project.clone(), "the recorded signing project")),
            // Nothing signs and nothing is recorded: the other keys here must agree.
            (None, None) => self
                .ring
                .list()
                .into_iter()
                .filter(|k| k.kid != kid && matches!(k.state, KeyState::Next | KeyState::Retired))
                .find(|k| k.project_id != key.project_id)
                .map(|k| (k.project_id, "the project of the other keys here")),
        };
        if let Some((project, whose)) = project
            && key.project_id != project
        {
            return Err(refused(format!(
                "key {kid} belongs to project `{}`, but {whose} is `{project}`",
                key.project_id
            )));
        }
        can_sign(&key)?;
        if !force {
            self.publication
                .check(&key)
                .await
                .map_err(|why| refused(why.to_string()).caused_by(why))?;
        }
        let mut next = recorded;
        next.active = Some(kid.to_string());
        next.project = Some(key.project_id.clone());
        self.save(next, version, actor, "activate", kid).await
    }

    /// Retires `kid`: it never signs again. The active key cannot be retired.
    pub async fn retire(&self, kid: &str, actor: &str) -> Result<KeyInfo> {
        self.ring.refresh(None);
        let kid = self.kid_of(kid);
        let kid = kid.as_str();
        self.ring
            .get(kid)
            .ok_or_else(|| Error::UnknownKey(kid.to_string()))?;
        let (recorded, version) = self.recorded().await?;
        let implicit = self.ring.try_active();
        let Some(active) = recorded
            .active
            .clone()
            .or_else(|| implicit.as_ref().map(|k| k.kid.clone()))
        else {
            return Err(refused(format!(
                "no key is active yet, so {kid} cannot be retired; activate a key first \
                 (`firegate keys activate <kid>`)"
            )));
        };
        if active == kid {
            return Err(refused(format!(
                "key {kid} is the active key; activate another key first, then retire this one"
            )));
        }
        let mut next = recorded;
        if next.active.is_none() {
            // Record the implicit active key too, so no instance ever falls back to another.
            next.active = Some(active);
            next.project = implicit.map(|k| k.project_id.clone());
        }
        next.retired.insert(kid.to_string());
        self.save(next, version, actor, "retire", kid).await
    }

    async fn recorded(&self) -> Result<(RecordedState, Option<crate::store::Version>)> {
        Ok(match self.store.recorded_key_state().await? {
            Some((state, version)) => (state, Some(version)),
            None => (RecordedState::default(), None),
        })
    }

    async fn save(
        &self,
        mut next: RecordedState,
        version: Option<crate::store::Version>,
        actor: &str,
        action: &str,
        kid: &str,
    ) -> Result<KeyInfo> {
        next.changed_by = actor.to_string();
        next.changed_at = Some(Timestamp::now());
        if !self.store.record_key_state(&next, version).await? {
            return Err(Error::Conflict);
        }
        info!(actor, action, kid, "key state changed");
        self.ring.refresh(Some(&next));
        self.list()
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| Error::UnknownKey(kid.to_string()))
    }
}

/// Signs a probe and verifies it with the key's own public key.
fn can_sign(key: &ServiceAccountKey) -> Result<()> {
    let uid = crate::accounts::Uid::parse("probe")?;
    let token = key
        .signer
        .mint(crate::custom_token::TokenRequest {
            uid: &uid,
            claims: &Default::default(),
            tenant_id: None,
            issued_at: Timestamp::now(),
            lifetime_secs: 60,
        })
        .map_err(|e| refused(format!("key {} cannot sign", key.kid)).caused_by(e))?;
    let (message, signature) = crate::custom_token::split_signature(&token).ok_or_else(|| {
        refused(format!(
            "key {} signed a token without a signature part",
            key.kid
        ))
    })?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.signer.public_key_der())
        .verify(message.as_bytes(), &signature)
        .map_err(|_| {
            refused(format!(
                "key {} produced a signature its public key rejects",
                key.kid
            ))
        })
}

fn refused(why: String) -> Error {
    Error::invalid("key_refused", why)
}

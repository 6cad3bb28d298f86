//! The language an account keeps for the mails no request causes (an admin's change, the
//! CLI's): set at registration from the language the client named, and changed by the
//! account's owner ([`Service::set_language`], `PATCH /account/`).

use tracing::info;

use super::{Caller, Service};
use crate::messages::Lang;
use crate::{Error, Result};

impl Service {
    /// Keeps `lang` (a loaded catalog) as the caller's preferred language, or, with `None`,
    /// keeps none (its mails then follow `--default-language`). Returns the tag kept.
    pub async fn set_language(
        &self,
        caller: &Caller,
        lang: Option<Lang>,
    ) -> Result<Option<String>> {
        let tag = lang.map(|lang| self.messages().tag(lang).to_string());
        let uid = &caller.account.account.uid;
        if !self.store.write_language(uid, tag.as_deref()).await? {
            return Err(Error::Unauthenticated(
                "the ID token's account cannot sign in".into(),
            ));
        }
        info!(uid = %uid, language = tag.as_deref().unwrap_or("default"), "preferred language set");
        Ok(tag)
    }
}

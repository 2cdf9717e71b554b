//! The consent step: due when the request says `prompt=consent` (OIDC Core §3.1.2.1: even when
//! nothing new is asked) and this interaction has not asked yet, or when a client that requires
//! consent asks for a scope the user has not allowed it.

use super::{Situation, Step};
use crate::oauth::error::OAuthError;
use crate::store;

pub async fn due(situation: &Situation<'_>) -> Result<bool, OAuthError> {
    if situation.has_done(Step::Consent) {
        return Ok(false);
    }
    if situation.prompted("consent") {
        return Ok(true);
    }
    let request = situation.request;
    if !request.client.require_consent {
        return Ok(false);
    }
    let Some(sign_in) = situation.sign_in else {
        return Ok(true);
    };
    let granted = store::consents::granted(
        &situation.state.caches.store.db,
        &sign_in.user_id,
        &request.client.client_id,
    )
    .await?;
    Ok(!request.scopes.iter().all(|s| granted.contains(s)))
}

pub fn when_prompt_none() -> OAuthError {
    OAuthError::consent_required("the user must consent")
}

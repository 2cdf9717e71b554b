//! The consent step: due when the request says `prompt=consent` (OIDC Core §3.1.2.1: even when
//! nothing new is asked) and this interaction has not asked yet, or when a client that requires
//! consent asks for a scope the user has not allowed it.

use super::{Interaction, Situation, Step};
use crate::oauth::authorize::AuthorizeRequest;
use crate::oauth::error::OAuthError;
use crate::state::{AppState, RealmCtx};
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

/// The step done: `user_id` allowed what `request` asks. Remembered per user, client and scopes
/// and recorded in `interaction`.
pub async fn allowed(
    state: &AppState,
    realm: &RealmCtx,
    interaction: &mut Interaction,
    request: &AuthorizeRequest,
    user_id: &str,
) -> Result<(), OAuthError> {
    store::consents::grant(
        &state.caches.store.db,
        &realm.realm.id,
        user_id,
        &request.client.client_id,
        &request.scopes,
        state.now(),
    )
    .await?;
    interaction.complete(state, Step::Consent, user_id).await
}

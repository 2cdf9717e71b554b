//! The verify-email step: due after the sign-in when an administrator asked the user to verify
//! their address (required action `verify_email`). Its page mails a link and waits; the link,
//! opened anywhere, verifies the address and clears the action.

use super::Situation;
use crate::domain::required_action::VERIFY_EMAIL;
use crate::oauth::error::OAuthError;
use crate::state::AppState;
use crate::store;

/// Whether the user has the action pending.
pub async fn pending(state: &AppState, user_id: &str) -> Result<bool, OAuthError> {
    let Some(user) = store::users::find(&state.caches.store.db, user_id).await? else {
        return Ok(false);
    };
    Ok(store::users::required_actions(&user)?
        .iter()
        .any(|a| a == VERIFY_EMAIL))
}

pub async fn due(situation: &Situation<'_>) -> Result<bool, OAuthError> {
    let Some(sign_in) = situation.sign_in else {
        return Ok(false);
    };
    // Never "done" by visiting the page: only the opened link clears the action.
    pending(situation.state, &sign_in.user_id).await
}

pub fn when_prompt_none() -> OAuthError {
    OAuthError::interaction_required("the user must verify their email address")
}

//! The update-password step: due after the sign-in (and its second factor) when an
//! administrator asked the user to set a new password (required action `update_password`).
//! The new password follows the usual rules; setting it revokes the user's refresh tokens and
//! clears the action.

use chrono::{DateTime, Utc};

use super::{Interaction, Situation, Step};
use crate::domain::required_action::UPDATE_PASSWORD;
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
        .any(|a| a == UPDATE_PASSWORD))
}

pub async fn due(situation: &Situation<'_>) -> Result<bool, OAuthError> {
    let Some(sign_in) = situation.sign_in else {
        return Ok(false);
    };
    if situation.has_done(Step::UpdatePassword) {
        return Ok(false);
    }
    pending(situation.state, &sign_in.user_id).await
}

pub fn when_prompt_none() -> OAuthError {
    OAuthError::interaction_required("the user must set a new password")
}

/// Why a new password was not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// It breaks a rule (the message says which).
    Rule(String),
    /// The two entries differ.
    Mismatch,
    /// A directory's user: the password is changed there.
    ManagedByDirectory,
}

/// The step done: `user_id` set `new_password` (typed twice) at `now`.
pub async fn set(
    state: &AppState,
    interaction: &mut Interaction,
    user_id: &str,
    new_password: &str,
    repeated: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), Refused>, OAuthError> {
    if new_password != repeated {
        return Ok(Err(Refused::Mismatch));
    }
    if let Err(rule) = crate::validation::password(new_password) {
        return Ok(Err(Refused::Rule(rule)));
    }
    match state
        .accounts
        .set_password(user_id, new_password, crate::accounts::SELF_ACTOR, now)
        .await
    {
        Ok(()) => {}
        Err(crate::accounts::AccountError::ManagedByDirectory) => {
            return Ok(Err(Refused::ManagedByDirectory))
        }
        Err(e) => return Err(OAuthError::server_error(e)),
    }
    store::users::complete_required_action(&state.caches.store.db, user_id, UPDATE_PASSWORD, now)
        .await?;
    interaction
        .complete(state, Step::UpdatePassword, user_id)
        .await?;
    Ok(Ok(()))
}

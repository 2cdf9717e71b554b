//! What users may do to their own account from the account console (CONTRACT §8): change their
//! password (proving the current one, which counts toward the lockout like any sign-in), see
//! their sessions and end them all. Second factors are managed through `factors`.

use chrono::{DateTime, Utc};

use crate::accounts::AccountError;
use crate::oauth::error::OAuthError;
use crate::state::{AppState, RealmCtx};
use crate::store::sessions::StoredSession;
use crate::store::users::StoredUser;
use crate::store::{self, StoreError};

pub use crate::accounts::SELF_ACTOR as SELF;

/// What a password change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    Changed,
    /// The current password was wrong (or the account is locked).
    WrongCurrent,
    /// The new password breaks a rule.
    Refused(String),
}

/// Sets a new password after checking the current one. Every refresh-token family of the user
/// is revoked with it (as when an administrator sets one).
pub async fn change_password(
    state: &AppState,
    user: &StoredUser,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<PasswordChange, AccountError> {
    if let Err(rule) = crate::validation::password(new) {
        return Ok(PasswordChange::Refused(format!(
            "The new password needs {rule}."
        )));
    }
    let checked = state
        .accounts
        .authenticate(&user.realm_id, &user.username, current, now)
        .await?;
    if checked.is_err() {
        return Ok(PasswordChange::WrongCurrent);
    }
    state
        .accounts
        .set_password(&user.id, new, SELF, now)
        .await?;
    Ok(PasswordChange::Changed)
}

/// The user just proved a second factor in session `sid` (confirming a new authenticator app or
/// registering a passkey, whose methods `amr` names): the session is at level 2 from now on, as
/// after a second-factor step.
pub async fn second_factor_proved(
    state: &AppState,
    sid: &str,
    amr: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store::sessions::raise_level(
        &state.caches.store.db,
        sid,
        crate::tokens::id_token::ACR_TWO_FACTORS,
        amr,
        now,
    )
    .await?;
    Ok(())
}

/// The user's live sessions.
pub async fn sessions(
    state: &AppState,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<StoredSession>, StoreError> {
    store::sessions::live_of_user(&state.caches.store.db, user_id, now).await
}

/// Ends every live session of the user ("sign out everywhere"): their refresh tokens are
/// revoked and their clients told over back-channel logout. Returns how many ended.
pub async fn sign_out_everywhere(
    state: &AppState,
    realm: &RealmCtx,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, OAuthError> {
    let db = &state.caches.store.db;
    let mut ended = 0;
    for session in store::sessions::live_of_user(db, user_id, now).await? {
        let Some(ended_session) = store::sessions::end(db, &session.id, now).await? else {
            continue;
        };
        store::refresh::revoke_session_families(db, &session.id, now).await?;
        let clients = store::sessions::client_ids(&ended_session)?;
        crate::oauth::logout::notify_clients(state, realm, user_id, &session.id, clients).await;
        ended += 1;
    }
    store::audit::record(
        db,
        store::audit::NewEvent {
            realm_id: Some(&realm.realm.id),
            kind: "user.signed_out_everywhere",
            actor: SELF,
            target: Some(user_id),
            detail: serde_json::json!({"sessions": ended}),
        },
        now,
    )
    .await?;
    Ok(ended)
}

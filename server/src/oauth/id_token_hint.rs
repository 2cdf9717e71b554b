//! `id_token_hint` (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token this realm issued,
//! expired or not, naming the user the client expects.

use serde_json::{Map, Value};

use super::error::OAuthError;
use crate::state::{AppState, RealmCtx};
use crate::tokens::id_token;

/// The claims of `hint` if it is an ID token of this realm, else `None`.
pub async fn claims(
    state: &AppState,
    realm: &RealmCtx,
    hint: &str,
) -> Result<Option<Map<String, Value>>, OAuthError> {
    let now = state.now();
    let keys = state
        .caches
        .keys
        .realm_keys(&realm.realm.id, now)
        .await
        .map_err(OAuthError::server_error)?;
    Ok(id_token::hint_claims(
        &keys,
        &realm.issuer,
        hint,
        now.timestamp(),
    ))
}

/// The subject `hint` names, if it is an ID token of this realm.
pub async fn subject(
    state: &AppState,
    realm: &RealmCtx,
    hint: &str,
) -> Result<Option<String>, OAuthError> {
    Ok(claims(state, realm, hint)
        .await?
        .and_then(|c| c.get("sub").and_then(Value::as_str).map(str::to_string)))
}

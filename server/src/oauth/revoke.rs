//! Token revocation (RFC 7009). "The authorization server responds with HTTP status code 200
//! if the token has been revoked successfully or if the client submitted an invalid token"
//! (§2.2). A revoked access token's `jti` goes on the realm's revocation list until the token
//! would have expired anyway.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::DateTime;

use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::introspect::active_access_token;
use crate::app::{AppState, RealmCtx};
use crate::changes::Change;
use crate::store::{self, revocations::NewRevocation};

/// `POST /realms/{realm}/connect/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let caller = client_auth::authenticate(&state, &realm, &form.headers, &form.params).await?;
    let token = form.params.require("token")?;
    let Some(verified) = active_access_token(&state, &realm, token).await? else {
        // Unknown, expired or already revoked: nothing to do, and nothing to reveal.
        return Ok(StatusCode::OK.into_response());
    };
    if verified.str_claim("client_id") != Some(caller.client.client_id.as_str()) {
        // §2.1: the server verifies the token was issued to the client making the request.
        return Err(OAuthError::unauthorized_client(
            "the token was not issued to this client",
        ));
    }
    let (Some(jti), Some(iat), Some(exp)) = (
        verified.str_claim("jti"),
        verified.int_claim("iat"),
        verified.int_claim("exp"),
    ) else {
        return Ok(StatusCode::OK.into_response());
    };
    let expires_at = DateTime::from_timestamp(exp, 0)
        .ok_or_else(|| OAuthError::server_error("exp out of range"))?;
    let entry = store::revocations::insert(
        &state.caches.store.db,
        &realm.realm.id,
        NewRevocation {
            kind: store::revocations::kind::JTI,
            jti: Some(jti.to_string()),
            // Matches this token (issued at `iat`) and nothing issued later under the same jti.
            issued_before: iat + 1,
            expires_at,
            ..Default::default()
        },
        state.now(),
    )
    .await?;
    state.caches.revocations.insert(entry);
    state.caches.publish(Change::Revocations).await;
    Ok(StatusCode::OK.into_response())
}

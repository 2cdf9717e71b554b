//! Token revocation (RFC 7009). "The authorization server responds with HTTP status code 200
//! if the token has been revoked successfully or if the client submitted an invalid token"
//! (§2.2). A revoked access token goes on the realm's revocation list until it would have
//! expired anyway; a revoked refresh token takes its whole family with it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::DateTime;

use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::introspect::active_access_token;
use crate::changes::Change;
use crate::revocation::salted_hash;
use crate::state::{AppState, RealmCtx};
use crate::store::{self, revocations::NewRevocation};
use crate::tokens::refresh::RevokeOutcome;

fn not_theirs() -> OAuthError {
    // §2.1: the server verifies the token was issued to the client making the request.
    OAuthError::unauthorized_client("the token was not issued to this client")
}

/// `POST /realms/{realm}/connect/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let caller = client_auth::authenticate(
        &state,
        &realm,
        &form.headers,
        &form.params,
        "/connect/revoke",
    )
    .await?;
    let token = form.params.require("token")?;
    let client_id = caller.client.client_id.as_str();
    let now = state.now();

    if let Some(verified) = active_access_token(&state, &realm, token).await? {
        if verified.str_claim("client_id") != Some(client_id) {
            return Err(not_theirs());
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
                // Published in the Plan B lists as a TOKEN entry.
                token_hash: Some(salted_hash(&realm.realm.revocation_salt, token)),
                // Matches this token (issued at `iat`) and nothing issued later under the same jti.
                issued_before: iat + 1,
                expires_at,
                ..Default::default()
            },
            now,
        )
        .await?;
        state.caches.revocations.insert(entry);
        state.caches.publish(Change::Revocations).await;
        return Ok(StatusCode::OK.into_response());
    }

    match state
        .refresh
        .revoke(&realm.realm.id, client_id, token, now)
        .await
        .map_err(OAuthError::server_error)?
    {
        RevokeOutcome::OtherClient => Err(not_theirs()),
        // Unknown, expired or already revoked: nothing to do, and nothing to reveal.
        RevokeOutcome::Revoked | RevokeOutcome::Unknown => Ok(StatusCode::OK.into_response()),
    }
}

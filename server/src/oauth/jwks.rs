//! The realm's public keys (RFC 7517 JWK Set), served from memory.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::OAuthError;
use crate::state::{AppState, RealmCtx};

/// `GET /realms/{realm}/.well-known/jwks.json`
pub async fn jwks(State(state): State<AppState>, realm: RealmCtx) -> Result<Response, OAuthError> {
    let keys = state
        .caches
        .published_keys(&realm.realm.id, state.now())
        .await
        .map_err(OAuthError::server_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            // Short, so verifiers see a rotated key within a minute.
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        keys.jwks().to_string(),
    )
        .into_response())
}

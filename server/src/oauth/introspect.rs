//! Token introspection (RFC 7662). The caller must authenticate as a confidential client or an
//! API resource of the realm. "If the introspection call is properly authorized but the token
//! is not active, does not exist on this server, or the protected resource is not allowed to
//! introspect this particular token, then the authorization server MUST return an
//! introspection response with the `active` field set to `false`" — and nothing else (§2.2).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use super::client_auth::{self, AuthMethod};
use super::error::OAuthError;
use super::form::OAuthForm;
use super::token::no_store_json;
use crate::state::{AppState, RealmCtx};
use crate::tokens::refresh::FamilyAsToken;
use crate::tokens::verify::{self, VerifiedToken};
use crate::tokens::TYP_ACCESS_TOKEN;

/// `POST /realms/{realm}/connect/introspect`
pub async fn introspect(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    authorize_caller(&state, &realm, &form).await?;
    let token = form.params.require("token")?;
    let body = match active_access_token(&state, &realm, token).await? {
        Some(verified) => {
            let mut claims = verified.claims.clone();
            claims.insert("active".into(), Value::Bool(true));
            // RFC 9449 §6.2: a bound token shows its `cnf` (a claim of the token) and type.
            let kind = if claims.contains_key("cnf") {
                "DPoP"
            } else {
                "Bearer"
            };
            claims.insert("token_type".into(), json!(kind));
            Value::Object(claims)
        }
        None => refresh_token_description(&state, &realm, token)
            .await?
            .unwrap_or_else(|| json!({"active": false})),
    };
    Ok(no_store_json(body.to_string().into_bytes()))
}

/// A live refresh token described for introspection.
async fn refresh_token_description(
    state: &AppState,
    realm: &RealmCtx,
    token: &str,
) -> Result<Option<Value>, OAuthError> {
    let now = state.now();
    let Some((family, expires_at)) = state
        .refresh
        .live_family(&realm.realm.id, token, now)
        .await
        .map_err(OAuthError::server_error)?
    else {
        return Ok(None);
    };
    let as_token = family.as_token();
    if state.caches.revocations.is_revoked(
        &realm.realm.id,
        &realm.realm.revocation_salt,
        token,
        &as_token,
    ) {
        return Ok(None);
    }
    Ok(Some(json!({
        "active": true,
        "token_type": "refresh_token",
        "iss": realm.issuer,
        "sub": family.subject,
        "client_id": family.client_id,
        "scope": family.scope,
        "iat": family.created_at.timestamp(),
        "exp": expires_at.timestamp(),
    })))
}

/// Verifies `token` as a live access token of this realm: signature, issuer, expiry, type
/// and the revocation lists.
pub async fn active_access_token(
    state: &AppState,
    realm: &RealmCtx,
    token: &str,
) -> Result<Option<Arc<VerifiedToken>>, OAuthError> {
    let now = state.now();
    let cache = &state.caches.verified_tokens;
    let verified = match cache.get(&realm.realm.id, token, now.timestamp()) {
        Some(verified) => verified,
        None => {
            let keys = state
                .caches
                .keys
                .realm_keys(&realm.realm.id, now)
                .await
                .map_err(OAuthError::server_error)?;
            let Ok(verified) = verify::verify(
                &keys,
                &realm.issuer,
                TYP_ACCESS_TOKEN,
                token,
                now.timestamp(),
            ) else {
                return Ok(None);
            };
            let verified = Arc::new(verified);
            cache.put(&realm.realm.id, token, verified.clone());
            verified
        }
    };
    let revoked = state.caches.revocations.is_revoked(
        &realm.realm.id,
        &realm.realm.revocation_salt,
        token,
        &verified,
    );
    Ok((!revoked).then_some(verified))
}

/// A confidential client, or an API resource authenticating with its own secret.
async fn authorize_caller(
    state: &AppState,
    realm: &RealmCtx,
    form: &OAuthForm,
) -> Result<(), OAuthError> {
    let presented = client_auth::presented(&form.headers, &form.params)?;
    let is_client = state
        .caches
        .directory
        .client(&realm.realm.id, &presented.client_id)
        .await?
        .is_some();
    if is_client {
        let caller = client_auth::authenticate(
            state,
            realm,
            &form.headers,
            &form.params,
            "/connect/introspect",
        )
        .await?;
        if caller.method == AuthMethod::None {
            return Err(OAuthError::invalid_client(
                "introspection requires a confidential client or an API resource",
            ));
        }
        return Ok(());
    }
    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let hash = catalog
        .api_resources
        .iter()
        .find(|r| r.enabled && r.name == presented.client_id)
        .and_then(|r| r.secret_hash.clone());
    if let (Some(hash), Some(secret)) = (hash, presented.secret()) {
        if client_auth::verify_against(state, vec![hash], secret).await? {
            return Ok(());
        }
    }
    Err(OAuthError::invalid_client("client authentication failed"))
}

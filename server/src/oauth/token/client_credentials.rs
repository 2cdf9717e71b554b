//! The client credentials grant (RFC 6749 §4.4): a confidential client obtains an access
//! token for itself. "The client credentials grant type MUST only be used by confidential
//! clients." No refresh token is issued (§4.4.3).

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::{json, Map};

use super::{Grant, GrantRequest, TokenResponse};
use crate::domain::{grant_type, Lifetimes};
use crate::oauth::error::OAuthError;
use crate::oauth::{audience, scope};
use crate::tokens::access_token::{self, AccessTokenClaims, Audience};

pub struct ClientCredentials;

impl Grant for ClientCredentials {
    fn grant_type(&self) -> &'static str {
        grant_type::CLIENT_CREDENTIALS
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

/// Scopes that only make sense with a user and are never granted to a client alone.
const USER_ONLY_SCOPES: [&str; 2] = ["openid", "offline_access"];

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let GrantRequest {
        state,
        realm,
        client,
        params,
    } = request;
    let client = &client.client;
    if client.public {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client credentials",
        ));
    }
    let scopes = match params.get("scope") {
        Some(raw) => {
            let requested = scope::parse(raw)?;
            scope::ensure_allowed(&requested, &client.scopes)?;
            if let Some(s) = requested
                .iter()
                .find(|s| USER_ONLY_SCOPES.contains(&s.as_str()))
            {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{s}` needs a user and cannot be granted to a client alone"
                )));
            }
            requested
        }
        // RFC 6749 §3.3: without a scope parameter the client gets its pre-defined default.
        None => client
            .scopes
            .iter()
            .filter(|s| !USER_ONLY_SCOPES.contains(&s.as_str()))
            .cloned()
            .collect(),
    };

    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let audiences = audience::resolve(params, &scopes, client, &catalog)?;

    let now = state.now().timestamp();
    let lifetimes = Lifetimes::resolve(&client.lifetimes, &realm.realm.lifetimes);
    let keys = state
        .caches
        .keys
        .realm_keys(&realm.realm.id, state.now())
        .await
        .map_err(OAuthError::server_error)?;
    let alg = client
        .access_token_signing_alg
        .unwrap_or(realm.realm.signing_alg);
    let key = keys.active(alg).map_err(OAuthError::server_error)?;

    let mut extra = Map::new();
    if !client.roles.is_empty() {
        extra.insert("roles".into(), json!(client.roles));
    }
    let scope_string = scopes.join(" ");
    let claims = AccessTokenClaims {
        iss: &realm.issuer,
        sub: &client.client_id,
        aud: Audience::from_list(audiences),
        client_id: &client.client_id,
        scope: &scope_string,
        iat: now,
        exp: now + lifetimes.access_token,
        jti: access_token::new_jti(),
        user: None,
        extra,
    };
    let minted = access_token::mint(key, &claims).map_err(OAuthError::server_error)?;
    Ok(TokenResponse::bearer(
        minted.token,
        minted.expires_in,
        &scopes,
    ))
}

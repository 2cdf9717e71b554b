//! The client credentials grant (RFC 6749 §4.4): a confidential client obtains an access
//! token for itself. "The client credentials grant type MUST only be used by confidential
//! clients." No refresh token is issued (§4.4.3).

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::json;

use super::arbitrary;
use super::issue::{self, TokenSubject};
use super::{Grant, GrantRequest, TokenResponse};
use crate::domain::grant_type;
use crate::oauth::audience;
use crate::oauth::error::OAuthError;

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
    let client = &request.client.client;
    if client.public {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client credentials",
        ));
    }
    let content = arbitrary::from_request(&request)?.unwrap_or_default();
    let requested = issue::requested_scopes(&request, &USER_ONLY_SCOPES)?;
    if let Some(s) = requested
        .iter()
        .find(|s| USER_ONLY_SCOPES.contains(&s.as_str()))
    {
        return Err(OAuthError::invalid_scope(format!(
            "scope `{s}` needs a user and cannot be granted to a client alone"
        )));
    }
    let catalog = request
        .state
        .caches
        .directory
        .catalog(&request.realm.realm.id)
        .await?;
    let resources = audience::requested(request.params)?;
    let audiences = audience::resolve_for(&resources, &requested, client, &catalog)?;
    let requested = audience::scopes_for(&resources, &requested, &catalog);
    let scopes = arbitrary::merged_scopes(&requested, &content.scopes);
    // Caller-supplied claims (decentralized mode) first; the client's own roles (with what
    // their composites include) win.
    let mut extra = content.claims;
    if !client.roles.is_empty() {
        extra.insert(
            "roles".into(),
            json!(catalog.effective_roles(&client.roles)),
        );
    }
    let subject = TokenSubject {
        sub: &client.client_id,
        user: None,
        extra,
    };
    let minted = issue::access_token(&request, &scopes, audiences, subject).await?;
    Ok(TokenResponse::bearer(
        minted.token,
        minted.expires_in,
        &scopes,
    ))
}

//! The compatibility grant `public_refresh_token` (CONTRACT §6): a browser app that cannot hold
//! a secret runs as public client `public-X` and refreshes tokens issued to its confidential
//! twin `X`. The answer is the public client's own access token plus `inner_response`, X's
//! refreshed token response with the rotated refresh token.

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::json;

use super::client_auth::{AuthMethod, AuthenticatedClient};
use super::issue::{self, TokenSubject};
use super::{refresh, Grant, GrantRequest, TokenResponse};
use crate::domain::grant_type;
use crate::oauth::audience;
use crate::oauth::error::OAuthError;

pub struct PublicRefresh;

const PREFIX: &str = "public-";

impl Grant for PublicRefresh {
    fn grant_type(&self) -> &'static str {
        grant_type::PUBLIC_REFRESH_TOKEN
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let public = &request.client.client;
    let paired_id = public
        .client_id
        .strip_prefix(PREFIX)
        .filter(|id| public.public && !id.is_empty())
        .ok_or_else(|| {
            OAuthError::unauthorized_client(
                "only a public client named public-<client> may use this grant",
            )
        })?;
    // Anything not belonging to the paired client is simply an invalid grant.
    let paired = request
        .state
        .caches
        .directory
        .client(&request.realm.realm.id, paired_id)
        .await?
        .filter(|c| c.enabled && c.allows_grant(grant_type::REFRESH_TOKEN))
        .ok_or_else(|| {
            OAuthError::invalid_grant("the refresh token is invalid, expired or revoked")
        })?;
    // The tokens are the paired client's: its DPoP policy applies.
    if request.dpop_jkt.is_none() && crate::oauth::dpop::required_for(request.realm, &paired) {
        return Err(OAuthError::invalid_dpop_proof(
            "this client's access tokens are DPoP-bound: send a DPoP proof",
        ));
    }
    let paired = AuthenticatedClient {
        client: paired,
        method: AuthMethod::None,
    };
    let inner = refresh::refresh(&GrantRequest {
        state: request.state,
        realm: request.realm,
        client: &paired,
        params: request.params,
        dpop_jkt: request.dpop_jkt,
        client_ip: request.client_ip,
    })
    .await?;
    let catalog = request
        .state
        .caches
        .directory
        .catalog(&request.realm.realm.id)
        .await?;
    let audiences = audience::resolve(request.params, &inner.scopes, public, &catalog)?;
    let subject = TokenSubject {
        sub: &inner.subject,
        user: inner.user.clone(),
        extra: inner.extra.clone(),
    };
    let minted = issue::access_token(&request, &inner.scopes, audiences, subject).await?;
    let mut response = TokenResponse::bearer(minted.token, minted.expires_in, &inner.scopes);
    let inner_response = serde_json::to_value(&inner.response).map_err(OAuthError::server_error)?;
    response
        .extra
        .insert("inner_response".into(), json!(inner_response));
    Ok(response)
}

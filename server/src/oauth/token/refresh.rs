//! The refresh token grant (RFC 6749 §6) with rotation. "The requested scope MUST NOT include
//! any scope not originally granted by the resource owner, and if omitted is treated as equal to
//! the scope originally granted." Every use rotates the token; reuse of a rotated one revokes
//! the family (see `tokens::refresh`).

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::{json, Map, Value};

use super::issue::{self, TokenSubject};
use super::{Grant, GrantRequest, TokenResponse};
use crate::domain::grant_type;
use crate::oauth::error::OAuthError;
use crate::oauth::{audience, scope};
use crate::store;
use crate::tokens::access_token::UserAuthentication;
use crate::tokens::claims;
use crate::tokens::refresh::{FamilyAsToken, IssuedPair, RefreshError};

pub struct Refresh;

impl Grant for Refresh {
    fn grant_type(&self) -> &'static str {
        grant_type::REFRESH_TOKEN
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

const INVALID: &str = "the refresh token is invalid, expired or revoked";

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    Ok(refresh(&request).await?.response)
}

/// A refresh and what went into its access token (the public refresh grant re-issues it).
pub(super) struct Refreshed {
    pub response: TokenResponse,
    pub subject: String,
    pub scopes: Vec<String>,
    pub user: Option<UserAuthentication>,
    pub extra: Map<String, Value>,
}

/// Rotates the refresh token of `request` and mints the new access token, and a new ID token
/// when `openid` is granted to a user (OIDC Core §12.2: same `sub`, `auth_time`, `acr`, `amr`,
/// no `nonce`). A retry within the client's reuse grace answers the same pair again.
pub(super) async fn refresh(request: &GrantRequest<'_>) -> Result<Refreshed, OAuthError> {
    let GrantRequest {
        state,
        realm,
        params,
        ..
    } = request;
    let client = &request.client.client;
    let raw = params.require("refresh_token")?;
    let now = state.now();
    let lifetimes = issue::lifetimes(request);
    if params.contains("scope") || params.contains("resource") {
        // A request that would widen the grant is refused before the token rotates, so the
        // client's token survives its mistake. (One extra read, only for narrowing requests.)
        if let Some((family, _)) = state
            .refresh
            .live_family(&realm.realm.id, raw, now)
            .await
            .map_err(OAuthError::server_error)?
        {
            narrowed(&family, params)?;
        }
    }
    let rotation = match state
        .refresh
        .rotate(
            &realm.realm.id,
            &client.client_id,
            raw,
            request.dpop_jkt,
            &lifetimes,
            now,
        )
        .await
    {
        Ok(rotation) => rotation,
        Err(RefreshError::Invalid) => return Err(OAuthError::invalid_grant(INVALID)),
        Err(RefreshError::KeyMismatch) => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is bound to a DPoP key; prove possession of that key",
            ))
        }
        Err(RefreshError::Reused { family_id }) => {
            audit_reuse(request, &family_id).await?;
            return Err(OAuthError::invalid_grant(INVALID));
        }
        Err(RefreshError::Store(e)) => return Err(e.into()),
    };
    let family = &rotation.family;
    let (scopes, resources) = narrowed(family, params)?;
    if state.caches.revocations.is_revoked(
        &realm.realm.id,
        &realm.realm.revocation_salt,
        raw,
        &family.as_token(),
    ) {
        return Err(OAuthError::invalid_grant(INVALID));
    }

    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let audiences = audience::resolve_for(&resources, &scopes, client, &catalog)?;
    let scopes = audience::scopes_for(&resources, &scopes, &catalog);
    let mut extra = match &family.claims {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut identity = None;
    if let Some(user_id) = &family.user_id {
        let user = rotation
            .user
            .clone()
            .filter(|u| u.enabled && &u.id == user_id)
            .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
        // One more read only when a granted scope releases the user's roles.
        let roles = if claims::releases_roles(&catalog, &scopes) {
            store::users::role_names(&state.caches.store.db, user_id).await?
        } else {
            Vec::new()
        };
        // Claims come from the user's record as it is now, not as it was at sign-in.
        extra.extend(claims::access_token_claims(
            &catalog, &scopes, &user, &roles,
        ));
        if scopes.iter().any(|s| s == "openid") {
            let mut claims = claims::identity_claims(&catalog, &scopes, &user, &roles);
            if let Some(idp) = family.claims.get(issue::IDP_CLAIM) {
                claims.insert(issue::IDP_CLAIM.to_string(), idp.clone());
            }
            identity = Some(claims);
        }
    }
    let amr = match &family.amr {
        Some(amr) => store::string_list(amr, "refresh_token_families.amr")?,
        None => vec!["pwd".to_string()],
    };
    let user = family.auth_time.map(|t| UserAuthentication {
        auth_time: t.timestamp(),
        acr: Some(
            family
                .acr
                .clone()
                .unwrap_or_else(|| crate::tokens::id_token::ACR_ONE_FACTOR.to_string()),
        ),
        amr: amr.clone(),
    });
    let scope_string = (!scopes.is_empty()).then(|| scopes.join(" "));
    let repeated = rotation
        .repeated
        .clone()
        // Only a plain retry: a pair minted without this proof's key or for other resources
        // is not the answer to this request.
        .filter(|pair| pair.scope == scope_string && pair.expires_at > now.timestamp())
        .filter(|_| request.dpop_jkt.is_none() && !params.contains("resource"));
    let mut response = match repeated {
        // An idempotent retry: the very pair the first answer carried.
        Some(pair) => {
            let mut response = TokenResponse::bearer(
                pair.access_token,
                pair.expires_at - now.timestamp(),
                &scopes,
            );
            response.id_token = pair.id_token;
            response
        }
        None => {
            let subject = TokenSubject {
                sub: &family.subject,
                user: user.clone(),
                extra: extra.clone(),
            };
            let minted = issue::access_token(request, &scopes, audiences, subject).await?;
            let mut response =
                TokenResponse::bearer(minted.token.clone(), minted.expires_in, &scopes);
            if let (Some(identity), Some(auth_time)) = (identity, family.auth_time) {
                let facts = issue::IdTokenFacts {
                    sub: &family.subject,
                    nonce: None,
                    auth_time: auth_time.timestamp(),
                    acr: family.acr.as_deref(),
                    amr: &amr,
                    sid: family.session_id.as_deref(),
                    access_token: &minted.token,
                    claims: identity,
                };
                response.id_token = Some(issue::id_token(request, facts).await?);
            }
            let pair = IssuedPair {
                access_token: minted.token,
                expires_at: now.timestamp() + minted.expires_in,
                scope: scope_string,
                id_token: response.id_token.clone(),
            };
            state
                .refresh
                .keep_pair(&rotation, &pair)
                .await
                .map_err(|e| match e {
                    RefreshError::Store(e) => OAuthError::from(e),
                    other => OAuthError::server_error(other),
                })?;
            response
        }
    };
    response.refresh_token = Some(rotation.successor.clone());
    Ok(Refreshed {
        response,
        subject: rotation.family.subject,
        scopes,
        user,
        extra,
    })
}

/// The scopes and resources a refresh asks for: the family's, or fewer (RFC 6749 §6, RFC 8707
/// §2.2); more is `invalid_scope` / `invalid_target`.
fn narrowed(
    family: &crate::store::refresh::Family,
    params: &crate::oauth::form::Params,
) -> Result<(Vec<String>, Vec<String>), OAuthError> {
    let granted = scope::split(&family.scope);
    let scopes = match params.get("scope") {
        Some(raw_scope) => {
            let requested = scope::parse(raw_scope)?;
            if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{extra}` was not granted originally; a refresh may only narrow"
                )));
            }
            requested
        }
        None => granted,
    };
    let authorized = store::read_optional_list(
        family.resources.as_deref(),
        "refresh_token_families.resources",
    )?;
    Ok((scopes, audience::chosen(params, &authorized)?))
}

async fn audit_reuse(request: &GrantRequest<'_>, family_id: &str) -> Result<(), OAuthError> {
    tracing::warn!(family = family_id, client = %request.client.client.client_id, "refresh token reuse: family revoked");
    request
        .state
        .metrics
        .refresh_reuse(&request.realm.realm.name);
    store::audit::record(
        &request.state.caches.store.db,
        store::audit::NewEvent {
            realm_id: Some(&request.realm.realm.id),
            kind: "refresh_token.reuse_detected",
            actor: &request.client.client.client_id,
            target: Some(family_id),
            detail: json!({"family_id": family_id, "action": "family revoked"}),
        },
        request.state.now(),
    )
    .await?;
    Ok(())
}

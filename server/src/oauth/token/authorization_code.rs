//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3). A code is
//! single use: "If an authorization code is used more than once, the authorization server MUST
//! deny the request and SHOULD revoke (when possible) all tokens previously issued based on that
//! authorization code."

use chrono::DateTime;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::json;

use super::issue::{self, UserGrant};
use super::{Grant, GrantRequest, TokenResponse};
use crate::changes::Change;
use crate::crypto::{b64url, constant_time_eq, sha256};
use crate::domain::grant_type;
use crate::oauth::authorize::code_hash;
use crate::oauth::error::OAuthError;
use crate::store::{self, codes::StoredCode, revocations::NewRevocation};

pub struct AuthorizationCode;

impl Grant for AuthorizationCode {
    fn grant_type(&self) -> &'static str {
        grant_type::AUTHORIZATION_CODE
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

const INVALID: &str = "the authorization code is invalid, expired or already used";

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let GrantRequest {
        state,
        realm,
        params,
        ..
    } = request;
    let client = &request.client.client;
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let db = &state.caches.store.db;
    let now = state.now();
    let stored = store::codes::find_code(db, &code_hash(code))
        .await?
        .filter(|c| c.realm_id == realm.realm.id && c.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
    if let Some(bound) = &stored.dpop_jkt {
        // RFC 9449 §10: checked before the code is used up, so a thief without the key
        // cannot burn it.
        if request.dpop_jkt != Some(bound.as_str()) {
            return Err(OAuthError::invalid_grant(
                "the code is bound to a DPoP key (dpop_jkt); prove possession of that key",
            ));
        }
    }
    // The resources asked for are checked before the code is used up (RFC 8707 §2.2): a
    // mistaken request leaves the code to redeem correctly.
    let resources =
        store::read_optional_list(stored.resources.as_deref(), "authorization_codes.resources")?;
    let chosen = crate::oauth::audience::chosen(params, &resources)?;
    if resources.is_empty() && !chosen.is_empty() {
        let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
        let scopes = crate::oauth::scope::split(&stored.scope);
        crate::oauth::audience::ensure_allowed(&chosen, &scopes, client, &catalog)?;
    }
    if stored.consumed_at.is_some() || !store::codes::consume_code(db, &stored.id, now).await? {
        revoke_issued(&request, &stored).await?;
        return Err(OAuthError::invalid_grant(INVALID));
    }
    if now >= stored.expires_at {
        return Err(OAuthError::invalid_grant(INVALID));
    }
    if stored.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&stored.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let computed = b64url(sha256(verifier.as_bytes()));
            if !valid_verifier(verifier)
                || !constant_time_eq(computed.as_bytes(), challenge.as_bytes())
            {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "a code_verifier was sent but the authorization request had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    if let Some(sid) = &stored.session_id {
        if store::sessions::live(db, sid, now).await?.is_none() {
            return Err(OAuthError::invalid_grant(
                "the session that issued the code has ended",
            ));
        }
    }
    let user = store::users::find(db, &stored.user_id)
        .await?
        .filter(|u| u.enabled)
        .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
    let scopes = crate::oauth::scope::split(&stored.scope);
    let amr: Vec<String> = store::string_list(&stored.amr, "authorization_codes.amr")?;
    let issued = issue::for_user(
        &request,
        UserGrant {
            user: &user,
            scopes: &scopes,
            auth_time: stored.auth_time,
            acr: stored.acr.as_deref(),
            amr: &amr,
            nonce: stored.nonce.as_deref(),
            session_id: stored.session_id.as_deref(),
            code_id: Some(&stored.id),
            openid: true,
            idp: stored.idp.as_deref(),
            resources: &resources,
        },
    )
    .await?;
    // The issuance stands only if no replay marked the code meanwhile; a replay after this claim
    // finds the access token's jti and the family, and revokes both (RFC 9700 §4.2.4).
    if !store::codes::claim_issuance(db, &stored.id, &issued.jti).await? {
        store::refresh::revoke_code_families(db, &stored.id, state.now()).await?;
        return Err(OAuthError::invalid_grant(INVALID));
    }
    Ok(issued.response)
}

/// A replayed code: mark it, then revoke the refresh tokens and the access token it produced. The
/// mark comes first, so a redemption still in flight either sees it and hands nothing out, or
/// has claimed the code already and is visible here.
async fn revoke_issued(request: &GrantRequest<'_>, stored: &StoredCode) -> Result<(), OAuthError> {
    let state = request.state;
    let db = &state.caches.store.db;
    let now = state.now();
    let current = store::codes::mark_replayed(db, &stored.id, now).await?;
    let stored = current.as_ref().unwrap_or(stored);
    let families = store::refresh::revoke_code_families(db, &stored.id, now).await?;
    if let Some(jti) = &stored.issued_jti {
        let lifetime = issue::lifetimes(request).access_token;
        let entry = store::revocations::insert(
            db,
            &request.realm.realm.id,
            NewRevocation {
                kind: store::revocations::kind::JTI,
                jti: Some(jti.clone()),
                // Covers the token whatever second it was issued in after the code.
                issued_before: now.timestamp() + 1,
                expires_at: DateTime::from_timestamp(now.timestamp() + lifetime, 0).unwrap_or(now),
                ..Default::default()
            },
            now,
        )
        .await?;
        state.caches.revocations.insert(entry);
        state.caches.publish(Change::Revocations).await;
    }
    store::audit::record(
        db,
        store::audit::NewEvent {
            realm_id: Some(&request.realm.realm.id),
            kind: "authorization_code.replayed",
            actor: &request.client.client.client_id,
            target: Some(&stored.user_id),
            detail: json!({"revoked_families": families, "revoked_access_token": stored.issued_jti.is_some()}),
        },
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_follow_rfc7636() {
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(valid_verifier(&"A-._~".repeat(20)));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}

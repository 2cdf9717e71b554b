//! Bearer-token authorization of the Plan B revocation service: a token of the realm carrying
//! the needed scope, or the admin role (of the realm, or of realm `master`, which administers
//! every realm).

use axum::http::HeaderMap;
use serde_json::Value;

use super::problem::Problem;
use crate::oauth::bearer::access_token;
use crate::oauth::dpop::{bound_key, check_presentation, Presentation};
use crate::oauth::introspect::active_access_token;
use crate::seeding::{ADMIN_ROLE, MASTER_REALM};
use crate::state::{AppState, RealmCtx};
use crate::tokens::verify::VerifiedToken;

/// The parts of the request that authorization looks at.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a axum::http::Method,
    /// The whole path (the original URI's), for DPoP proofs.
    pub path: &'a str,
    pub headers: &'a HeaderMap,
}

fn has_scope(token: &VerifiedToken, wanted: &str) -> bool {
    token
        .str_claim("scope")
        .is_some_and(|s| s.split(' ').any(|s| s == wanted))
}

fn is_admin(token: &VerifiedToken) -> bool {
    token
        .claims
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|roles| roles.iter().any(|r| r == ADMIN_ROLE))
}

/// Admits the caller if its bearer token may use `scope` on `realm`.
pub async fn authorize(
    state: &AppState,
    realm: &RealmCtx,
    request: Request<'_>,
    scope: &str,
) -> Result<(), Problem> {
    let Request {
        method,
        path,
        headers,
    } = request;
    let (scheme, token) =
        access_token(headers).ok_or_else(|| Problem::unauthorized("a bearer token is required"))?;
    let inactive = || Problem::unauthorized("the bearer token is invalid, expired or revoked");
    // A DPoP-bound token counts only with a proof of its key (RFC 9449 §7).
    let presented = |verified: &VerifiedToken, realm: &RealmCtx| {
        let presentation = Presentation {
            scheme,
            method: method.as_str(),
            path,
            headers,
        };
        check_presentation(
            state,
            realm.realm.security.use_dpop_nonce,
            token,
            bound_key(&verified.claims),
            &presentation,
        )
        .map_err(|refusal| {
            Problem::unauthorized(format!("{}: {}", refusal.code(), refusal.description()))
        })
    };
    if let Some(verified) = active_access_token(state, realm, token)
        .await
        .map_err(|e| Problem::internal(e.description))?
    {
        presented(&verified, realm)?;
        if has_scope(&verified, scope) || is_admin(&verified) {
            return Ok(());
        }
        return Err(Problem::forbidden(format!(
            "the token needs scope `{scope}` or the admin role"
        )));
    }
    if realm.realm.name != MASTER_REALM {
        let master = state
            .caches
            .directory
            .realm(MASTER_REALM)
            .await?
            .ok_or_else(inactive)?;
        let master = RealmCtx {
            issuer: state.issuer(&master.name),
            realm: master,
        };
        if let Some(verified) = active_access_token(state, &master, token)
            .await
            .map_err(|e| Problem::internal(e.description))?
        {
            presented(&verified, &master)?;
            return if is_admin(&verified) {
                Ok(())
            } else {
                Err(Problem::forbidden(
                    "a token of realm master needs the admin role",
                ))
            };
        }
    }
    Err(inactive())
}

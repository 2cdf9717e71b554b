//! Bearer-token authorization of the Plan B revocation service: a token of the realm carrying
//! the needed scope, or the admin role (of the realm, or of realm `master`, which administers
//! every realm).

use axum::http::HeaderMap;
use serde_json::Value;

use super::problem::Problem;
use crate::oauth::bearer::bearer_token;
use crate::oauth::introspect::active_access_token;
use crate::seeding::{ADMIN_ROLE, MASTER_REALM};
use crate::state::{AppState, RealmCtx};
use crate::tokens::verify::VerifiedToken;

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
    headers: &HeaderMap,
    scope: &str,
) -> Result<(), Problem> {
    let token =
        bearer_token(headers).ok_or_else(|| Problem::unauthorized("a bearer token is required"))?;
    let inactive = || Problem::unauthorized("the bearer token is invalid, expired or revoked");
    if let Some(verified) = active_access_token(state, realm, token)
        .await
        .map_err(|e| Problem::internal(e.description))?
    {
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

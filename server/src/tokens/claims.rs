//! Claims released by granted scopes (from a user's record) and the `roles` claim (the user's
//! roles with the roles their composites include).

use serde_json::{json, Map, Value};

use crate::domain::Catalog;
use crate::store::users::StoredUser;

/// Registered claims a user's record can never supply (they come from the protocol).
pub const PROTOCOL_CLAIMS: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "client_id",
    "scope",
    "cnf",
    "act",
    "auth_time",
    "acr",
    "amr",
    "azp",
];

/// Whether `granted` releases the user's roles (the `roles` scope, or a scope listing the
/// `roles` claim): only then does a token need them read.
pub fn releases_roles(catalog: &Catalog, granted: &[String]) -> bool {
    granted.iter().any(|s| s == "roles")
        || granted
            .iter()
            .filter_map(|s| catalog.scope(s))
            .any(|scope| scope.claims.iter().any(|c| c == "roles"))
}

/// The value of claim `name` for `user`: first the record's own fields, then its free-form claims.
pub fn user_claim(user: &StoredUser, roles: &[String], name: &str) -> Option<Value> {
    match name {
        "sub" => None,
        "preferred_username" => Some(json!(user.username)),
        "email" => user.email.as_ref().map(|e| json!(e)),
        "email_verified" => user.email.as_ref().map(|_| json!(user.email_verified)),
        "roles" => Some(json!(roles)),
        "updated_at" => Some(json!(user.updated_at.timestamp())),
        other => user.claims.get(other).cloned(),
    }
}

/// Claims for an access token: `roles` when granted, plus every claim of granted scopes that
/// are marked for the access token.
pub fn access_token_claims(
    catalog: &Catalog,
    granted: &[String],
    user: &StoredUser,
    roles: &[String],
) -> Map<String, Value> {
    let roles = &catalog.effective_roles(roles);
    let mut claims = Map::new();
    if granted.iter().any(|s| s == "roles") {
        claims.insert("roles".into(), json!(roles));
    }
    for scope in granted.iter().filter_map(|s| catalog.scope(s)) {
        if !scope.include_in_access_token {
            continue;
        }
        for name in &scope.claims {
            if PROTOCOL_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            if let Some(value) = user_claim(user, roles, name) {
                claims.insert(name.clone(), value);
            }
        }
    }
    claims
}

/// Claims for an ID token or userinfo: every claim of every granted scope.
pub fn identity_claims(
    catalog: &Catalog,
    granted: &[String],
    user: &StoredUser,
    roles: &[String],
) -> Map<String, Value> {
    let roles = &catalog.effective_roles(roles);
    let mut claims = Map::new();
    for scope in granted.iter().filter_map(|s| catalog.scope(s)) {
        for name in &scope.claims {
            if PROTOCOL_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            if let Some(value) = user_claim(user, roles, name) {
                claims.insert(name.clone(), value);
            }
        }
    }
    claims
}

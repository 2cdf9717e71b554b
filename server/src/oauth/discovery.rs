//! Server metadata: OpenID Connect Discovery 1.0 and RFC 8414, listing only what is implemented.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::OAuthError;
use super::token::supported_grant_types;
use crate::domain::SigningAlg;
use crate::state::{AppState, RealmCtx};

const CLIENT_AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];
const SECRET_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

fn algs() -> Vec<&'static str> {
    SigningAlg::ALL.iter().map(|a| a.as_str()).collect()
}

async fn metadata(state: &AppState, realm: &RealmCtx) -> Result<Value, OAuthError> {
    // From the cached catalogue, so discovery is still served while the database is down.
    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let scopes: Vec<&str> = catalog.scopes.iter().map(|s| s.name.as_str()).collect();
    Ok(json!({
        "issuer": realm.issuer,
        "authorization_endpoint": realm.endpoint("/connect/authorize"),
        "token_endpoint": realm.endpoint("/connect/token"),
        "jwks_uri": realm.endpoint("/.well-known/jwks.json"),
        "introspection_endpoint": realm.endpoint("/connect/introspect"),
        "revocation_endpoint": realm.endpoint("/connect/revoke"),
        "userinfo_endpoint": realm.endpoint("/connect/userinfo"),
        "end_session_endpoint": realm.endpoint("/connect/logout"),
        "device_authorization_endpoint": realm.endpoint("/connect/device_authorization"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "claims_supported": claims_supported(),
        "acr_values_supported": crate::oauth::interaction::second_factor::ACR_VALUES_SUPPORTED,
        "grant_types_supported": supported_grant_types(),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs(),
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": SECRET_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "access_token_signing_alg_values_supported": algs(),
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
}

/// The protocol claims plus every claim a standard scope releases.
fn claims_supported() -> Vec<&'static str> {
    let mut claims = vec![
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "sid",
    ];
    claims.extend(
        seed::STANDARD_CLAIM_TYPES
            .iter()
            .map(|(name, _)| *name)
            .filter(|n| *n != "sub"),
    );
    claims
}

fn cacheable(body: Value) -> Response {
    ([(header::CACHE_CONTROL, "public, max-age=60")], Json(body)).into_response()
}

/// `GET /realms/{realm}/.well-known/openid-configuration`
pub async fn openid_configuration(
    State(state): State<AppState>,
    realm: RealmCtx,
) -> Result<Response, OAuthError> {
    Ok(cacheable(metadata(&state, &realm).await?))
}

/// `GET /realms/{realm}/.well-known/oauth-authorization-server` (RFC 8414 §3).
pub async fn authorization_server_metadata(
    State(state): State<AppState>,
    realm: RealmCtx,
) -> Result<Response, OAuthError> {
    let mut document = metadata(&state, &realm).await?;
    if let Value::Object(map) = &mut document {
        // OIDC-only members have no meaning in RFC 8414 metadata.
        map.remove("subject_types_supported");
        map.remove("id_token_signing_alg_values_supported");
        map.remove("claims_parameter_supported");
        map.remove("request_parameter_supported");
        map.remove("request_uri_parameter_supported");
    }
    Ok(cacheable(document))
}

/// `GET /realms/{realm}`: the issuer's identity card.
pub async fn realm_info(realm: RealmCtx) -> Json<Value> {
    Json(json!({
        "realm": realm.realm.name,
        "display_name": realm.realm.display_name,
        "issuer": realm.issuer,
        "openid_configuration": realm.endpoint("/.well-known/openid-configuration"),
        "jwks_uri": realm.endpoint("/.well-known/jwks.json"),
    }))
}

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

const CLIENT_AUTH_METHODS: [&str; 5] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];
/// Introspection needs a confidential caller.
const CONFIDENTIAL_AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
];
/// Algorithms of `client_secret_jwt` assertions besides the asymmetric ones.
const HMAC_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];

fn algs() -> Vec<&'static str> {
    SigningAlg::ALL.iter().map(|a| a.as_str()).collect()
}

async fn metadata(state: &AppState, realm: &RealmCtx) -> Result<Value, OAuthError> {
    // From the cached catalogue, so discovery is still served while the database is down.
    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let scopes: Vec<&str> = catalog.scopes.iter().map(|s| s.name.as_str()).collect();
    let security = &realm.realm.security;
    let assertion_algs: Vec<&str> = crate::jose::ASYMMETRIC_NAMES
        .iter()
        .chain(HMAC_ALGS.iter())
        .copied()
        .collect();
    let auth_methods: Vec<&str> = if security.fapi2() {
        vec!["private_key_jwt"]
    } else {
        CLIENT_AUTH_METHODS.to_vec()
    };
    let mut document = json!({
        "issuer": realm.issuer,
        "authorization_endpoint": realm.endpoint("/connect/authorize"),
        "token_endpoint": realm.endpoint("/connect/token"),
        "jwks_uri": realm.endpoint("/.well-known/jwks.json"),
        "introspection_endpoint": realm.endpoint("/connect/introspect"),
        "revocation_endpoint": realm.endpoint("/connect/revoke"),
        "userinfo_endpoint": realm.endpoint("/connect/userinfo"),
        "end_session_endpoint": realm.endpoint("/connect/logout"),
        "device_authorization_endpoint": realm.endpoint("/connect/device_authorization"),
        "pushed_authorization_request_endpoint": realm.endpoint("/connect/par"),
        "registration_endpoint": (security.registration != crate::domain::RegistrationPolicy::Off)
            .then(|| realm.endpoint("/connect/register")),
        "client_id_metadata_document_supported": security.client_id_metadata_documents.then_some(true),
        "require_pushed_authorization_requests": security.require_par || security.fapi2(),
        "dpop_signing_alg_values_supported": crate::jose::ASYMMETRIC_NAMES,
        "request_object_signing_alg_values_supported": crate::jose::ASYMMETRIC_NAMES,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
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
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "access_token_signing_alg_values_supported": algs(),
        "claims_parameter_supported": false,
        // Request objects by value; request_uri only as PAR hands them out.
        "request_parameter_supported": true,
        "request_uri_parameter_supported": false,
    });
    // Members that do not apply are left out, not null.
    if let Value::Object(members) = &mut document {
        members.retain(|_, value| !value.is_null());
    }
    Ok(document)
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

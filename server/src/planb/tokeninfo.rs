//! Plan B token info (CONTRACT §5): validates an access token and describes it the way the Plan B
//! tokeninfo service did, so its resource servers keep working unchanged.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::oauth::bearer::bearer_token;
use crate::oauth::introspect::active_access_token;
use crate::state::{AppState, RealmCtx};
use crate::tokens::verify::VerifiedToken;

/// Claims that describe the token itself rather than its holder; everything else is a
/// private claim and is passed through.
const REGISTERED: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "auth_time",
    "acr",
    "amr",
    "cnf",
    "act",
];

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": code, "error_description": description}).to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

/// `GET /realms/{realm}/oauth2/tokeninfo?access_token=…` (or with a bearer header).
pub async fn tokeninfo(
    State(state): State<AppState>,
    realm: RealmCtx,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let from_query = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    });
    let Some(token) = from_query.or_else(|| bearer_token(&headers).map(str::to_string)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "no access token given",
        );
    };
    let verified = match active_access_token(&state, &realm, &token).await {
        Ok(Some(verified)) => verified,
        Ok(None) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is invalid, expired or revoked",
            )
        }
        Err(e) => return e.into_response(),
    };
    let body = describe(
        &verified,
        &token,
        &realm.realm.name,
        state.now().timestamp(),
    );
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Value::Object(body).to_string(),
    )
        .into_response()
}

/// The Plan B description of a verified token.
fn describe(token: &VerifiedToken, raw: &str, realm: &str, now: i64) -> Map<String, Value> {
    let mut body: Map<String, Value> = token
        .claims
        .iter()
        .filter(|(name, _)| !REGISTERED.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let scopes: Vec<&str> = token
        .str_claim("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    for scope in &scopes {
        body.insert((*scope).to_string(), Value::Bool(true));
    }
    body.insert("access_token".into(), json!(raw));
    body.insert("uid".into(), json!(token.str_claim("sub")));
    body.insert("scope".into(), json!(scopes));
    body.insert("realm".into(), json!(format!("/{realm}")));
    body.insert("client_id".into(), json!(token.str_claim("client_id")));
    body.insert("grant_type".into(), json!(grant_type_of(token)));
    // A DPoP-bound token (RFC 9449 §6): its key's thumbprint, so the resource server can
    // check the proof that came with it.
    let kind = match token.claims.get("cnf") {
        Some(cnf) => {
            body.insert("cnf".into(), cnf.clone());
            "DPoP"
        }
        None => "Bearer",
    };
    body.insert("token_type".into(), json!(kind));
    body.insert(
        "expires_in".into(),
        json!((token.int_claim("exp").unwrap_or(now) - now).max(0)),
    );
    body
}

/// Plan B reports the grant that produced the token; a token without a user is a client's own.
fn grant_type_of(token: &VerifiedToken) -> &'static str {
    if token.claims.contains_key("auth_time") {
        "password"
    } else {
        "client_credentials"
    }
}

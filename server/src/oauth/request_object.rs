//! Signed authorization requests (JAR, RFC 9101): a `request` JWT signed with the client's
//! key, whose claims are the request's parameters. Only the object's parameters count
//! (§6.3); unsigned (`alg=none`) and HMAC objects are refused, and the object must name the
//! client (`iss`, `client_id`) and this server (`aud`), and expire.

use serde_json::{Map, Value};

use super::error::OAuthError;
use super::form::Params;
use crate::domain::Client;
use crate::state::{AppState, RealmCtx};

/// The longest a request object may still be valid for (FAPI 2.0 Message Signing: 60 minutes).
const MAX_REMAINING: i64 = 3600;
const SKEW: i64 = 60;
/// JWT claims that are not authorization request parameters.
const NOT_PARAMETERS: [&str; 7] = ["iss", "aud", "exp", "iat", "nbf", "jti", "sub"];

/// The parameters of the request object `jwt` of `client`, verified.
pub async fn parameters(
    state: &AppState,
    realm: &RealmCtx,
    client: &Client,
    jwt: &str,
) -> Result<Params, OAuthError> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| {
        OAuthError::invalid_request_object(
            "the request object must be a JWT signed with one of the client's keys (alg=none is refused)",
        )
    })?;
    if header
        .typ
        .as_deref()
        .is_some_and(|t| !matches!(t, "oauth-authz-req+jwt" | "JWT" | "jwt"))
    {
        return Err(OAuthError::invalid_request_object(
            "the request object's typ must be oauth-authz-req+jwt",
        ));
    }
    let claims = state
        .client_keys
        .verify_signed(
            client,
            realm.realm.security.allow_private_fetch,
            jwt,
            &header,
        )
        .await
        .map_err(|problem| {
            OAuthError::invalid_request_object(format!("request object: {problem}"))
        })?;
    check_claims(&claims, client, realm, state.now().timestamp())
        .map_err(|why| OAuthError::invalid_request_object(format!("request object: {why}")))?;
    to_params(&claims, &client.client_id)
}

fn check_claims(
    claims: &Map<String, Value>,
    client: &Client,
    realm: &RealmCtx,
    now: i64,
) -> Result<(), &'static str> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss").is_some_and(|iss| iss != client.client_id) {
        return Err("`iss` must be the client id");
    }
    if text("client_id") != Some(client.client_id.as_str()) {
        return Err("`client_id` must be the client's id");
    }
    let names_us = |v: &Value| v.as_str() == Some(realm.issuer.as_str());
    let aud_ok = match claims.get("aud") {
        Some(Value::Array(items)) => items.iter().any(names_us),
        Some(aud) => names_us(aud),
        None => false,
    };
    if !aud_ok {
        return Err("`aud` must be the issuer");
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("`exp` is required")?;
    if exp <= now {
        return Err("it has expired");
    }
    if exp > now + MAX_REMAINING {
        return Err("`exp` is too far ahead: request objects live at most an hour");
    }
    if claims
        .get("nbf")
        .is_some_and(|nbf| nbf.as_i64().is_none_or(|nbf| nbf > now + SKEW))
    {
        return Err("it is not valid yet (nbf)");
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err("it may not hold request or request_uri");
    }
    Ok(())
}

/// The object's claims as request parameters: strings as they are, numbers as text, string
/// arrays (`resource`) repeated, objects (`claims`) as JSON text.
fn to_params(claims: &Map<String, Value>, client_id: &str) -> Result<Params, OAuthError> {
    let mut params = Params::default();
    for (name, value) in claims {
        if NOT_PARAMETERS.contains(&name.as_str()) {
            continue;
        }
        match value {
            Value::String(s) => params.push(name, s),
            Value::Number(n) => params.push(name, &n.to_string()),
            Value::Bool(b) => params.push(name, &b.to_string()),
            Value::Array(items) if name == "resource" => {
                for item in items {
                    let item = item.as_str().ok_or_else(|| {
                        OAuthError::invalid_request_object("`resource` must hold strings")
                    })?;
                    params.push(name, item);
                }
            }
            Value::Object(_) => params.push(name, &value.to_string()),
            Value::Null => {}
            Value::Array(_) => {
                return Err(OAuthError::invalid_request_object(format!(
                    "parameter `{name}` may not be an array"
                )))
            }
        }
    }
    params.insert("client_id", client_id);
    // The same rules as for a query: control characters and the like.
    Params::parse(params.to_query().as_bytes())
        .map_err(|e| OAuthError::invalid_request_object(e.description))
}

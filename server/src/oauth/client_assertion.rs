//! Client assertions (RFC 7523 §3, OIDC Core §9): a JWT the client signs with its private key
//! (`private_key_jwt`) or its secret (`client_secret_jwt`), naming itself as `iss` and `sub`,
//! this server as `aud`, expiring within minutes, and carrying a `jti` accepted once.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::client_auth::AuthMethod;
use super::error::OAuthError;
use crate::client_keys::KeyProblem;
use crate::crypto::{b64url, sha256};
use crate::domain::Client;
use crate::state::{AppState, RealmCtx};

/// The longest an assertion may still be valid for when it arrives.
const MAX_REMAINING: i64 = 600;
/// Clock difference tolerated for `iat` and `nbf`.
const SKEW: i64 = 60;

/// Checks the assertion `jwt` of `client`, presented at `endpoint`, and marks its `jti` used.
pub async fn verify(
    state: &AppState,
    realm: &RealmCtx,
    client: &Client,
    jwt: &str,
    method: AuthMethod,
    endpoint: &str,
) -> Result<(), OAuthError> {
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|_| OAuthError::invalid_client("client_assertion is not a JWT"))?;
    // Another kind of JWT the client signed (a request object seen in a browser's URL, a DPoP
    // proof) is never an assertion.
    if header
        .typ
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
    {
        return Err(OAuthError::invalid_client(
            "client_assertion: its typ must be JWT (or absent)",
        ));
    }
    let now = state.now();
    let signed = match method {
        AuthMethod::ClientSecretJwt => state.client_keys.verify_hmac(client, now, jwt, &header),
        _ => {
            state
                .client_keys
                .verify_signed(
                    client,
                    realm.realm.security.allow_private_fetch,
                    jwt,
                    &header,
                )
                .await
        }
    };
    let claims = signed.map_err(|problem| match problem {
        KeyProblem::NoKeys if method == AuthMethod::ClientSecretJwt => OAuthError::invalid_client(
            "the client's secret predates client_secret_jwt; rotate it to use assertions",
        ),
        problem => OAuthError::invalid_client(format!("client_assertion: {problem}")),
    })?;
    let expires = check_claims(&claims, &client.client_id, realm, endpoint, now)
        .map_err(|why| OAuthError::invalid_client(format!("client_assertion: {why}")))?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = b64url(sha256(
        format!("{}\u{0}{}\u{0}{jti}", realm.realm.id, client.pk).as_bytes(),
    ));
    if !crate::store::one_time::use_jti(&state.caches.store.db, &id, expires).await? {
        return Err(OAuthError::invalid_client(
            "client_assertion: this assertion (its jti) was already used",
        ));
    }
    Ok(())
}

/// The audiences an assertion may name: the issuer, the token endpoint, the endpoint called
/// (RFC 7523 §3, RFC 9126 §2). Under FAPI 2.0 only the issuer, as a single string (the
/// 2025 private_key_jwt audience advisory: an assertion naming an endpoint URL could be
/// harvested by a server that advertises ours).
fn audience_ok(aud: &Value, realm: &RealmCtx, endpoint: &str) -> bool {
    if realm.realm.security.fapi2() {
        return aud.as_str() == Some(realm.issuer.as_str());
    }
    let accepted = [
        realm.issuer.clone(),
        realm.endpoint("/connect/token"),
        realm.endpoint(endpoint),
    ];
    let names = |v: &Value| v.as_str().is_some_and(|a| accepted.iter().any(|x| x == a));
    match aud {
        Value::String(_) => names(aud),
        Value::Array(items) => items.iter().any(names),
        _ => false,
    }
}

/// Checks what the claims say; returns when the assertion expires.
fn check_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    realm: &RealmCtx,
    endpoint: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, &'static str> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) {
        return Err("`iss` must be the client id");
    }
    if text("sub") != Some(client_id) {
        return Err("`sub` must be the client id");
    }
    if !claims
        .get("aud")
        .is_some_and(|aud| audience_ok(aud, realm, endpoint))
    {
        return Err("`aud` must be the issuer or the endpoint's URL");
    }
    let jti = text("jti").ok_or("`jti` is required")?;
    if jti.is_empty() || jti.len() > 256 {
        return Err("`jti` must be 1 to 256 characters");
    }
    let now_s = now.timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("`exp` is required")?;
    if exp <= now_s {
        return Err("the assertion has expired");
    }
    if exp > now_s + MAX_REMAINING {
        return Err("`exp` is too far ahead: assertions live at most ten minutes");
    }
    for (name, late) in [
        ("iat", "`iat` is in the future"),
        ("nbf", "the assertion is not valid yet"),
    ] {
        match claims.get(name) {
            None => {}
            Some(v) => match v.as_i64() {
                Some(t) if t <= now_s + SKEW => {}
                Some(_) => return Err(late),
                None => return Err("`iat` and `nbf` must be numbers"),
            },
        }
    }
    Ok(now + Duration::seconds(exp - now_s))
}

//! The UserInfo endpoint (OIDC Core §5.3), GET and POST, with bearer tokens as in RFC 6750:
//! a missing token gets a bare challenge, a bad one `invalid_token`, a token without `openid`
//! `insufficient_scope`.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::bearer::{access_token, Scheme};
use super::dpop::Presentation;
use super::form::Params;
use super::introspect::active_access_token;
use crate::state::{AppState, RealmCtx};
use crate::store;
use crate::tokens::claims;

fn challenge(status: StatusCode, error: Option<(&str, &str)>) -> Response {
    challenge_as(Scheme::Bearer, status, error)
}

/// An RFC 6750 (or, for DPoP, RFC 9449 §7.1) challenge with an optional error.
fn challenge_as(scheme: Scheme, status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let name = match scheme {
        Scheme::Bearer => r#"Bearer realm="tessera""#.to_string(),
        Scheme::Dpop => format!(
            r#"DPoP realm="tessera", algs="{}""#,
            crate::jose::ASYMMETRIC_NAMES.join(" ")
        ),
    };
    let value = match error {
        Some((code, description)) => {
            format!(r#"{name}, error="{code}", error_description="{description}""#)
        }
        None => name,
    };
    let body = error
        .map(|(code, description)| {
            json!({"error": code, "error_description": description}).to_string()
        })
        .unwrap_or_default();
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    if error.is_some() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}

/// `GET /realms/{realm}/connect/userinfo`
pub async fn userinfo_get(
    State(state): State<AppState>,
    realm: RealmCtx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    match access_token(&headers) {
        Some((scheme, token)) => {
            let presented = Presentation {
                scheme,
                method: "GET",
                path: uri.path(),
                headers: &headers,
            };
            describe(&state, &realm, token, presented).await
        }
        None => challenge(StatusCode::UNAUTHORIZED, None),
    }
}

/// `POST /realms/{realm}/connect/userinfo`: the token in the header or, form-encoded, in the body
/// (RFC 6750 §2.2) — never both.
pub async fn userinfo_post(
    State(state): State<AppState>,
    realm: RealmCtx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let from_body = Params::parse(&body)
        .ok()
        .and_then(|p| p.get("access_token").map(str::to_string));
    let presented = |scheme| Presentation {
        scheme,
        method: "POST",
        path: uri.path(),
        headers: &headers,
    };
    match (access_token(&headers), from_body) {
        (Some(_), Some(_)) => challenge(
            StatusCode::BAD_REQUEST,
            Some(("invalid_request", "send the token in one place only")),
        ),
        (Some((scheme, token)), None) => describe(&state, &realm, token, presented(scheme)).await,
        (None, Some(token)) => describe(&state, &realm, &token, presented(Scheme::Bearer)).await,
        (None, None) => challenge(StatusCode::UNAUTHORIZED, None),
    }
}

/// The refusal of a token presented the wrong way, as a challenge.
fn refusal(refusal: &super::dpop::Refusal) -> Response {
    let mut response = challenge_as(
        Scheme::Dpop,
        StatusCode::UNAUTHORIZED,
        Some((refusal.code(), refusal.description())),
    );
    if let super::dpop::Refusal::Nonce(nonce) = refusal {
        if let Ok(nonce) = HeaderValue::from_str(nonce) {
            response.headers_mut().insert("dpop-nonce", nonce);
        }
    }
    response
}

async fn describe(
    state: &AppState,
    realm: &RealmCtx,
    token: &str,
    presented: Presentation<'_>,
) -> Response {
    let invalid = || {
        challenge(
            StatusCode::UNAUTHORIZED,
            Some((
                "invalid_token",
                "the access token is invalid, expired or revoked",
            )),
        )
    };
    let verified = match active_access_token(state, realm, token).await {
        Ok(Some(verified)) => verified,
        Ok(None) => return invalid(),
        Err(e) => return e.into_response(),
    };
    let bound_to = super::dpop::bound_key(&verified.claims);
    let use_nonce = realm.realm.security.use_dpop_nonce;
    if let Err(refused) =
        super::dpop::check_presentation(state, use_nonce, token, bound_to, &presented)
    {
        return refusal(&refused);
    }
    let scopes: Vec<String> = verified
        .str_claim("scope")
        .map(super::scope::split)
        .unwrap_or_default();
    if !scopes.iter().any(|s| s == "openid") || !verified.claims.contains_key("auth_time") {
        return challenge(
            StatusCode::FORBIDDEN,
            Some((
                "insufficient_scope",
                "the token was not granted the openid scope for a user",
            )),
        );
    }
    let Some(sub) = verified.str_claim("sub") else {
        return invalid();
    };
    let db = &state.caches.store.db;
    let user = match store::users::find(db, sub).await {
        Ok(Some(user)) if user.enabled && user.realm_id == realm.realm.id => user,
        Ok(_) => return invalid(),
        Err(e) => return crate::oauth::error::OAuthError::from(e).into_response(),
    };
    let roles = match store::users::role_names(db, &user.id).await {
        Ok(roles) => roles,
        Err(e) => return crate::oauth::error::OAuthError::from(e).into_response(),
    };
    let catalog = match state.caches.directory.catalog(&realm.realm.id).await {
        Ok(catalog) => catalog,
        Err(e) => return crate::oauth::error::OAuthError::from(e).into_response(),
    };
    let mut body = claims::identity_claims(&catalog, &scopes, &user, &roles);
    body.insert("sub".into(), json!(user.id));
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Value::Object(body).to_string(),
    )
        .into_response()
}

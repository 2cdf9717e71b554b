//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0): end the browser's session in the realm, revoke the
//! refresh tokens born in it, tell every client that took part, and return to the client's
//! registered `post_logout_redirect_uri` (exact match) with its `state`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::authorize::{realm_error_page, realm_label};
use super::form::Params;
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};
use crate::store;
use crate::tokens::access_token::new_jti;
use crate::web::html::{self, hidden};

/// JWS `typ` of logout tokens.
const TYP_LOGOUT_TOKEN: &str = "logout+jwt";
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// `GET /realms/{realm}/connect/logout`
pub async fn logout_get(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    logout(
        &state,
        &realm,
        &headers,
        query.unwrap_or_default().as_bytes(),
    )
    .await
}

/// `POST /realms/{realm}/connect/logout`
pub async fn logout_post(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    logout(&state, &realm, &headers, &body).await
}

async fn logout(state: &AppState, realm: &RealmCtx, headers: &HeaderMap, raw: &[u8]) -> Response {
    let bad = |message: &str| realm_error_page(realm, StatusCode::BAD_REQUEST, message);
    let Ok(params) = Params::parse(raw) else {
        return bad("The logout request is malformed.");
    };
    let hint = match params.get("id_token_hint") {
        Some(hint) => match super::id_token_hint::claims(state, realm, hint).await {
            Ok(Some(claims)) => Some(claims),
            Ok(None) => return bad("The id_token_hint is not an ID token of this realm."),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(aud)) => Some(aud.clone()),
        Some(Value::Array(auds)) => auds.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    });
    let client_id = match (hinted_client, params.get("client_id")) {
        (Some(a), Some(b)) if a != b => return bad("client_id does not match the id_token_hint."),
        (Some(a), _) => Some(a),
        (None, b) => b.map(str::to_string),
    };
    let client = match &client_id {
        Some(id) => match state.caches.directory.client(&realm.realm.id, id).await {
            Ok(Some(client)) => Some(client),
            Ok(None) => return bad("The client is unknown."),
            Err(e) => return crate::oauth::error::OAuthError::from(e).into_response(),
        },
        None => None,
    };
    let return_to = match params.get("post_logout_redirect_uri") {
        Some(uri) => match &client {
            Some(c) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                Some(uri.to_string())
            }
            Some(_) => {
                return bad("The post_logout_redirect_uri is not registered for this client.")
            }
            None => return bad("A post_logout_redirect_uri needs an id_token_hint or client_id."),
        },
        None => None,
    };
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, client_id.as_deref()),
        state.secure_cookies(),
    );
    // Without an ID token proving the client asked, the user confirms (no forced logouts by a
    // third-party page); the confirmation form carries a CSRF token.
    if hint.is_none() {
        let confirmed =
            params.get("confirm") == Some("yes") && browser.csrf_matches(params.get("csrf")).await;
        if !confirmed {
            return confirmation_page(realm, &browser, &params).await;
        }
    }
    if let Err(response) = end_session(state, realm, &browser).await {
        return response;
    }
    match return_to {
        Some(uri) => {
            let mut location = uri;
            if let Some(state_param) = params.get("state") {
                location.push(if location.contains('?') { '&' } else { '?' });
                location.push_str(
                    &form_urlencoded::Serializer::new(String::new())
                        .append_pair("state", state_param)
                        .finish(),
                );
            }
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        None => html::page(
            StatusCode::OK,
            realm_label(realm),
            "You are signed out",
            "<p>You can close this window.</p>",
        ),
    }
}

async fn confirmation_page(
    realm: &RealmCtx,
    browser: &BrowserSession,
    params: &Params,
) -> Response {
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return crate::oauth::error::OAuthError::server_error(e).into_response(),
    };
    let carried: String = ["client_id", "post_logout_redirect_uri", "state"]
        .iter()
        .filter_map(|name| params.get(name).map(|v| hidden(name, v)))
        .collect();
    let body = format!(
        r#"<p>Do you want to sign out?</p>
<form method="post" action="/realms/{realm}/connect/logout">
{csrf}{carried}<input type="hidden" name="confirm" value="yes">
<button type="submit">Sign out</button>
</form>"#,
        realm = html::escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
    );
    let mut response = html::page(StatusCode::OK, realm_label(realm), "Sign out", &body);
    if let Some(cookie) = browser.set_cookie() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Ends the browser's sign-in to the realm and everything that hangs off it.
async fn end_session(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
) -> Result<(), Response> {
    let Some(sign_in) = browser.sign_in(&realm.realm).await else {
        return Ok(());
    };
    let db = &state.caches.store.db;
    let now = state.now();
    let internal = |e: store::StoreError| crate::oauth::error::OAuthError::from(e).into_response();
    let ended = store::sessions::end(db, &sign_in.sid, now)
        .await
        .map_err(internal)?;
    store::refresh::revoke_session_families(db, &sign_in.sid, now)
        .await
        .map_err(internal)?;
    browser
        .clear_sign_in(&realm.realm)
        .await
        .map_err(|e| crate::oauth::error::OAuthError::server_error(e).into_response())?;
    if let Some(session) = ended {
        let clients = store::sessions::client_ids(&session).map_err(internal)?;
        notify_clients(state, realm, &session.user_id, &session.id, clients).await;
    }
    Ok(())
}

/// Sends a signed logout token to every client of the session with a back-channel URI.
pub(crate) async fn notify_clients(
    state: &AppState,
    realm: &RealmCtx,
    user_id: &str,
    sid: &str,
    clients: Vec<String>,
) {
    let now = state.now();
    let keys = match state.caches.keys.realm_keys(&realm.realm.id, now).await {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "back-channel logout skipped: no keys");
            return;
        }
    };
    for client_id in clients {
        let client = match state
            .caches
            .directory
            .client(&realm.realm.id, &client_id)
            .await
        {
            Ok(Some(client)) => client,
            _ => continue,
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let alg = client
            .id_token_signing_alg
            .unwrap_or(realm.realm.id_token_signing_alg);
        let Ok(key) = keys.active(alg) else {
            continue;
        };
        let claims = json!({
            "iss": realm.issuer,
            "aud": client.client_id,
            "iat": now.timestamp(),
            "exp": now.timestamp() + 120,
            "jti": new_jti(),
            "sub": user_id,
            "sid": sid,
            "events": { BACKCHANNEL_EVENT: {} },
        });
        let Ok(token) = key.sign_jwt(TYP_LOGOUT_TOKEN, &claims) else {
            continue;
        };
        let http = state.http_client.clone();
        // Delivery must not hold the user's browser hostage to a slow client.
        tokio::spawn(async move {
            match http
                .post(&uri)
                .form(&[("logout_token", token)])
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), client = %client_id, "back-channel logout refused")
                }
                Err(e) => {
                    tracing::warn!(error = %e, client = %client_id, "back-channel logout failed")
                }
            }
        });
    }
}

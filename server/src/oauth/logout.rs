//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0), the protocol part: validate the request (the
//! `id_token_hint`, the client, its registered `post_logout_redirect_uri`, exact match), end the
//! browser's session in the realm, revoke the refresh tokens born in it and tell every client
//! that took part. `web::logout` asks the user to confirm when needed and answers in HTML.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::error::OAuthError;
use super::form::Params;
use crate::sessions::BrowserSession;
use crate::state::{AppState, RealmCtx};
use crate::store;
use crate::tokens::access_token::new_jti;

/// JWS `typ` of logout tokens.
const TYP_LOGOUT_TOKEN: &str = "logout+jwt";
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A valid logout request.
#[derive(Debug)]
pub struct LogoutRequest {
    /// The claims of the `id_token_hint`, when one came: proof that the client asked.
    pub hint: Option<Map<String, Value>>,
    pub client_id: Option<String>,
    /// Where to send the browser afterwards (registered for the client), with `state`.
    pub return_to: Option<String>,
}

/// Why a logout request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Shown on an error page.
    Page(&'static str),
    /// The server could not check the request.
    Failed(OAuthError),
}

impl From<OAuthError> for Refusal {
    fn from(error: OAuthError) -> Self {
        Refusal::Failed(error)
    }
}

impl LogoutRequest {
    /// Whether the user must confirm: without an ID token proving the client asked, a
    /// third-party page must not be able to sign people out.
    pub fn needs_confirmation(&self) -> bool {
        self.hint.is_none()
    }
}

/// Validates the parameters of a logout request.
pub async fn validate(
    state: &AppState,
    realm: &RealmCtx,
    params: &Params,
) -> Result<LogoutRequest, Refusal> {
    let hint = match params.get("id_token_hint") {
        Some(hint) => Some(
            super::id_token_hint::claims(state, realm, hint)
                .await?
                .ok_or(Refusal::Page(
                    "The id_token_hint is not an ID token of this realm.",
                ))?,
        ),
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(aud)) => Some(aud.clone()),
        Some(Value::Array(auds)) => auds.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    });
    let client_id = match (hinted_client, params.get("client_id")) {
        (Some(a), Some(b)) if a != b => {
            return Err(Refusal::Page("client_id does not match the id_token_hint."))
        }
        (Some(a), _) => Some(a),
        (None, b) => b.map(str::to_string),
    };
    let client = match &client_id {
        Some(id) => Some(
            state
                .caches
                .directory
                .client(&realm.realm.id, id)
                .await
                .map_err(OAuthError::from)?
                .ok_or(Refusal::Page("The client is unknown."))?,
        ),
        None => None,
    };
    let return_to = match params.get("post_logout_redirect_uri") {
        Some(uri) => match &client {
            Some(c) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                let mut location = uri.to_string();
                if let Some(state_param) = params.get("state") {
                    location.push(if location.contains('?') { '&' } else { '?' });
                    location.push_str(
                        &form_urlencoded::Serializer::new(String::new())
                            .append_pair("state", state_param)
                            .finish(),
                    );
                }
                Some(location)
            }
            Some(_) => {
                return Err(Refusal::Page(
                    "The post_logout_redirect_uri is not registered for this client.",
                ))
            }
            None => {
                return Err(Refusal::Page(
                    "A post_logout_redirect_uri needs an id_token_hint or client_id.",
                ))
            }
        },
        None => None,
    };
    Ok(LogoutRequest {
        hint,
        client_id,
        return_to,
    })
}

/// Ends every live session of the user ("sign out everywhere"): each one's refresh tokens are
/// revoked and its clients told over back-channel logout. Returns how many ended; the caller
/// writes the audit event, which says who asked.
pub async fn end_all_sessions(
    state: &AppState,
    realm: &RealmCtx,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, store::StoreError> {
    let db = &state.caches.store.db;
    let mut ended = 0;
    for session in store::sessions::live_of_user(db, user_id, now).await? {
        // Another request may end it first; only the one that ended it notifies.
        let Some(ended_session) = store::sessions::end(db, &session.id, now).await? else {
            continue;
        };
        store::refresh::revoke_session_families(db, &session.id, now).await?;
        let clients = store::sessions::client_ids(&ended_session)?;
        notify_clients(state, realm, user_id, &session.id, clients).await;
        ended += 1;
    }
    Ok(ended)
}

/// Ends the browser's sign-in to the realm and everything that hangs off it.
pub async fn end_session(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
) -> Result<(), OAuthError> {
    let Some(sign_in) = browser.sign_in(&realm.realm).await else {
        return Ok(());
    };
    let db = &state.caches.store.db;
    let now = state.now();
    let ended = store::sessions::end(db, &sign_in.sid, now).await?;
    store::refresh::revoke_session_families(db, &sign_in.sid, now).await?;
    browser
        .clear_sign_in(&realm.realm)
        .await
        .map_err(OAuthError::server_error)?;
    if let Some(session) = ended {
        let clients = store::sessions::client_ids(&session)?;
        notify_clients(state, realm, &session.user_id, &session.id, clients).await;
    }
    Ok(())
}

/// Sends a signed logout token to every client of the session with a back-channel URI.
pub async fn notify_clients(
    state: &AppState,
    realm: &RealmCtx,
    user_id: &str,
    sid: &str,
    clients: Vec<String>,
) {
    let now = state.now();
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
        let key = match state.caches.signing_key(&realm.realm.id, alg, now).await {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!(error = %e, "back-channel logout skipped: no signing key");
                continue;
            }
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
        // Delivery must not hold the user's browser hostage to a slow client; it stays in the
        // logout's trace.
        let delivery = async move {
            let request = http.post(&uri).form(&[("logout_token", token)]);
            match crate::telemetry::send(request, crate::telemetry::Propagation::Withhold).await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), client = %client_id, "back-channel logout refused")
                }
                Err(e) => {
                    tracing::warn!(error = %e, client = %client_id, "back-channel logout failed")
                }
            }
        };
        let span = crate::telemetry::detached_span("back-channel logout");
        tokio::spawn(tracing::Instrument::instrument(delivery, span));
    }
}

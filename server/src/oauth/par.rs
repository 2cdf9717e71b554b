//! Pushed authorization requests (RFC 9126): the client posts its authorization request to
//! `/connect/par`, authenticated, and gets a `request_uri` the authorization endpoint accepts
//! once, within a minute. The request is validated here in full, so a bad one fails at the
//! client's back end instead of in the user's browser; a DPoP proof sent along binds the code
//! to its key (RFC 9449 §10.1).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde_json::json;

use super::authorize::{self, Rejection};
use super::client_auth;
use super::error::OAuthError;
use super::form::{OAuthForm, Params};
use crate::crypto::{b64url, random, sha256};
use crate::domain::Client;
use crate::state::{AppState, RealmCtx};
use crate::store;

/// The prefix RFC 9126 §2.2 gives request URIs.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request waits for the browser.
pub const LIFETIME_SECONDS: i64 = 60;
/// Client authentication parameters: they authenticate the push, they are not the request.
const CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

fn id_of(request_uri: &str) -> String {
    b64url(sha256(request_uri.as_bytes()))
}

/// `POST /realms/{realm}/connect/par`.
pub async fn push(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    // The proof first (optional here: it binds the code to its key, RFC 9449 §10.1), so a
    // nonce retry can resend the same client assertion.
    let proof = super::dpop::check_post(&state, &realm, &form)?;
    let caller =
        client_auth::authenticate(&state, &realm, &form.headers, &form.params, "/connect/par")
            .await?;
    let client = &caller.client;
    if form.params.contains("request_uri") {
        return Err(OAuthError::invalid_request(
            "request_uri cannot be pushed (RFC 9126 §2.1)",
        ));
    }
    let mut params = match form.params.get("request") {
        Some(jwt) => super::request_object::parameters(&state, &realm, client, jwt).await?,
        None if client.security.require_signed_request_object => {
            return Err(OAuthError::invalid_request(
                "this client must send its authorization requests as a signed request object",
            ))
        }
        None => without_client_auth(&form.params)?,
    };
    if params.get("client_id") != Some(client.client_id.as_str()) {
        return Err(OAuthError::invalid_request(
            "client_id must name the authenticated client",
        ));
    }
    if let Some(proof) = proof {
        match params.get("dpop_jkt") {
            Some(jkt) if jkt != proof.jkt => {
                return Err(OAuthError::invalid_dpop_proof(
                    "dpop_jkt differs from the key of the DPoP proof",
                ))
            }
            _ => params.insert("dpop_jkt", &proof.jkt),
        }
    }
    // Everything the authorization endpoint would check, checked now.
    authorize::parse_request(&state, &realm, &params)
        .await
        .map_err(|rejection| match rejection {
            Rejection::Page(message) => OAuthError::invalid_request(message),
            Rejection::Redirect(_, error) => error,
        })?;
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random::opaque_token());
    let now = state.now();
    store::one_time::insert_pushed(
        &state.caches.store.db,
        store::one_time::PushedRequestRow {
            id: id_of(&request_uri),
            realm_id: realm.realm.id.clone(),
            client_id: client.client_id.clone(),
            params: params.to_query(),
            expires_at: now + Duration::seconds(LIFETIME_SECONDS),
        },
    )
    .await?;
    let body = json!({"request_uri": request_uri, "expires_in": LIFETIME_SECONDS});
    let mut response = super::token::no_store_json(body.to_string().into_bytes());
    *response.status_mut() = StatusCode::CREATED;
    Ok(response.into_response())
}

/// The pushed parameters without the client's credentials.
fn without_client_auth(params: &Params) -> Result<Params, OAuthError> {
    let mut copy = Params::parse(params.to_query().as_bytes())?;
    for name in CLIENT_AUTH {
        copy.remove(name);
    }
    Ok(copy)
}

/// Takes the pushed request `request_uri` of `client`, once: its parameters.
pub async fn take(
    state: &AppState,
    realm: &RealmCtx,
    client: &Client,
    request_uri: &str,
) -> Result<Params, OAuthError> {
    if !request_uri.starts_with(REQUEST_URI_PREFIX) {
        return Err(OAuthError::invalid_request_uri(
            "request_uri must come from this server's pushed authorization request endpoint",
        ));
    }
    let row = store::one_time::take_pushed(
        &state.caches.store.db,
        &realm.realm.id,
        &client.client_id,
        &id_of(request_uri),
        state.now(),
    )
    .await?
    .ok_or_else(|| {
        OAuthError::invalid_request_uri(
            "the request_uri is unknown, expired, already used or another client's",
        )
    })?;
    Params::parse(row.params.as_bytes())
}

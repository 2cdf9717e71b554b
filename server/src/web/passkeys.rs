//! Signing in with a passkey from the login page (CONTRACT §8): the page's script asks for
//! options (`POST /realms/{r}/passkey/options`, form fields `csrf` and `interaction`), lets the
//! authenticator answer, and sends the answer (`POST /realms/{r}/passkey`, JSON with `csrf`,
//! `interaction` and `credential`). A verified, user-verified passkey signs the user in at level
//! 2 and the answer names where the browser goes next. Errors are JSON `{"error", "message"}`.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential};

use super::html::{realm_label, see_other, with_cookie};
use super::interaction::after_step;
use crate::factors::passkeys;
use crate::oauth::form::Params;
use crate::oauth::interaction::login::{self, Proof};
use crate::sessions::BrowserSession;
use crate::state::{AppState, RealmCtx};
use crate::tokens::id_token::ACR_TWO_FACTORS;

/// Where a sign-in ceremony's challenge waits between the two requests.
const SIGN_IN_STATE: &str = "passkey_sign_in";

/// A JSON error answer.
pub fn refusal(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "message": message})),
    )
        .into_response()
}

fn internal(cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "passkey request failed");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "Something went wrong. Please try again.",
    )
}

fn forged() -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The page has expired or did not come from this site. Reload it and try again.",
    )
}

/// `POST /realms/{realm}/passkey/options`
pub async fn sign_in_options(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return refusal(StatusCode::BAD_REQUEST, "invalid_request", "malformed form");
    };
    let (_, browser) = match super::login::context(&state, &realm, &headers, &params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !browser.csrf_matches(params.get("csrf")).await {
        return forged();
    }
    let webauthn = match passkeys::relying_party(&state.public_url, realm_label(&realm)) {
        Ok(webauthn) => webauthn,
        Err(e) => return internal(e),
    };
    let (options, ceremony) = match state.factors.start_passkey_sign_in(&webauthn) {
        Ok(started) => started,
        Err(e) => return internal(e),
    };
    if let Err(e) = browser.put_state(SIGN_IN_STATE, &ceremony).await {
        return internal(e);
    }
    with_cookie(axum::Json(options).into_response(), &browser)
}

#[derive(Deserialize)]
struct SignInAnswer {
    csrf: String,
    #[serde(default)]
    interaction: Option<String>,
    credential: PublicKeyCredential,
}

/// `POST /realms/{realm}/passkey`
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = state.client_ip(Some(peer.ip()), &headers);
    if let Err(limited) = state.limit_ip(&realm.realm, crate::rate_limit::Group::Login, ip) {
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many sign-in attempts from this network; try again later",
        );
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(limited.retry_after_secs()),
        );
        return response;
    }
    let Ok(answer) = serde_json::from_slice::<SignInAnswer>(&body) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The answer is not a WebAuthn assertion.",
        );
    };
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(handle) = &answer.interaction {
            query.append_pair("interaction", handle);
        }
        query.finish()
    };
    let Ok(params) = Params::parse(query.as_bytes()) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "malformed interaction",
        );
    };
    let (mut interaction, browser) =
        match super::login::context(&state, &realm, &headers, &params).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    if !browser.csrf_matches(Some(&answer.csrf)).await {
        return forged();
    }
    let Some(ceremony) = browser
        .take_state::<DiscoverableAuthentication>(SIGN_IN_STATE)
        .await
    else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No passkey sign-in was started here, or it was already used. Try again.",
        );
    };
    let webauthn = match passkeys::relying_party(&state.public_url, realm_label(&realm)) {
        Ok(webauthn) => webauthn,
        Err(e) => return internal(e),
    };
    let now = state.now();
    let signed = state
        .factors
        .finish_passkey_sign_in(
            &webauthn,
            &realm.realm.id,
            &answer.credential,
            ceremony,
            now,
        )
        .await;
    let signed = match signed {
        Ok(Ok(signed)) => signed,
        Ok(Err(why)) => {
            tracing::info!(realm = %realm.realm.name, why, "passkey sign-in refused");
            return refusal(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "That passkey cannot sign in here.",
            );
        }
        Err(e) => return internal(e),
    };
    // A user-verified passkey is two factors in one: something held, and a PIN or biometric.
    let key = if signed.synced { "swk" } else { "hwk" };
    let proof = Proof {
        acr: Some(ACR_TWO_FACTORS),
        amr: [key, "user", "mfa"].map(String::from).to_vec(),
        idp: None,
    };
    if let Err(e) = login::signed_in(
        &state,
        &realm,
        &browser,
        interaction.as_mut(),
        &signed.user.id,
        &proof,
        &super::device_of(&state, peer, &headers),
    )
    .await
    {
        return internal(e);
    }
    let next = match &interaction {
        Some(interaction) => after_step(&state, &realm, interaction).await,
        None => see_other(&format!("/realms/{}/login", realm.realm.name)),
    };
    location_answer(next, &browser)
}

/// The script's answer once a ceremony moved the sign-in on: where the redirect `next` points,
/// as JSON `{"location"}`. Anything else `next` is (an error page) goes back as it is, so the
/// script shows a failure instead of following a made-up location.
pub fn location_answer(next: Response, browser: &BrowserSession) -> Response {
    let location = next
        .status()
        .is_redirection()
        .then(|| next.headers().get(header::LOCATION))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match location {
        Some(location) => with_cookie(
            axum::Json(json!({"location": location})).into_response(),
            browser,
        ),
        None => next,
    }
}

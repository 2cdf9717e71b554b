//! The device verification page (RFC 8628 §3.3): the user types the code shown on the device,
//! signs in to the realm, and approves or denies with the consent form. Wrong codes are counted
//! per client address and limited, so codes cannot be guessed by brute force.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{self, escape, hidden, realm_error_page, realm_label, see_other, with_cookie};
use crate::oauth::authorize::current_sign_in;
use crate::oauth::device::{display_user_code, normalize_user_code};
use crate::oauth::error::OAuthError;
use crate::oauth::form::Params;
use crate::oauth::interaction::{due_outside_authorize, Interaction, Purpose, Step};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, codes::StoredDeviceCode};

fn code_form(realm: &RealmCtx, csrf: &str, typed: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    format!(
        r#"{error}<p>Enter the code shown on your device.</p>
<form method="post" action="/realms/{realm}/device">
{csrf}
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" value="{typed}" autocomplete="off" autocapitalize="characters" required autofocus>
<button type="submit">Continue</button>
</form>"#,
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", csrf),
        typed = escape(typed),
    )
}

fn param(query: &Option<String>, name: &str) -> Option<String> {
    query
        .as_deref()
        .and_then(|q| Params::parse(q.as_bytes()).ok())
        .and_then(|p| p.get(name).map(str::to_string))
}

async fn show_code_form(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    status: StatusCode,
    typed: &str,
    error: Option<&str>,
) -> Response {
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, None),
        state.secure_cookies(),
    );
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return OAuthError::server_error(e).into_response(),
    };
    let body = code_form(realm, &csrf, typed, error);
    with_cookie(
        html::page(status, realm_label(realm), "Connect a device", &body),
        &browser,
    )
}

/// Looks up a typed code, counting misses against the caller's address.
async fn lookup(
    state: &AppState,
    realm: &RealmCtx,
    ip: IpAddr,
    typed: &str,
) -> Result<Result<StoredDeviceCode, Response>, OAuthError> {
    if let Err(limited) = state.limit_ip(&realm.realm, crate::rate_limit::Group::Device, ip) {
        return Ok(Err(super::html::too_many_page(realm, limited)));
    }
    if state.device_limiter.blocked(ip) {
        return Ok(Err(realm_error_page(
            realm,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong codes. Wait a few minutes and try again.",
        )));
    }
    let code = normalize_user_code(typed);
    match store::codes::pending_by_user_code(
        &state.caches.store.db,
        &realm.realm.id,
        &code,
        state.now(),
    )
    .await?
    {
        Some(found) => Ok(Ok(found)),
        None => {
            state.device_limiter.record(ip);
            Ok(Err(Response::default()))
        }
    }
}

/// `GET /realms/{realm}/device[?user_code=…]`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(result) = param(&query, "result") {
        let message = if result == "approved" {
            "Your device is connected. You can return to it now."
        } else {
            "The request was denied. Nothing was shared with the device."
        };
        return html::page(
            StatusCode::OK,
            realm_label(&realm),
            "Done",
            &format!("<p>{}</p>", escape(message)),
        );
    }
    let Some(typed) = param(&query, "user_code") else {
        return show_code_form(&state, &realm, &headers, StatusCode::OK, "", None).await;
    };
    let found = match lookup(
        &state,
        &realm,
        state.client_ip(Some(peer.ip()), &headers),
        &typed,
    )
    .await
    {
        Ok(Ok(found)) => found,
        Ok(Err(response)) if response.status() == StatusCode::TOO_MANY_REQUESTS => return response,
        Ok(Err(_)) => {
            return show_code_form(
                &state,
                &realm,
                &headers,
                StatusCode::BAD_REQUEST,
                &typed,
                Some("That code is not valid or has expired."),
            )
            .await
        }
        Err(e) => return e.into_response(),
    };
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        &headers,
        cookie_name(&realm.realm, Some(&found.client_id)),
        state.secure_cookies(),
    );
    let (sign_in, session) = match current_sign_in(&state, &realm, &browser).await {
        Ok(Some(found)) => found,
        Ok(None) => return sign_in_first(&state, &realm, &browser, &found, Step::Login).await,
        Err(e) => return e.into_response(),
    };
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return OAuthError::server_error(e).into_response(),
    };
    let client = match state
        .caches
        .directory
        .client(&realm.realm.id, &found.client_id)
        .await
    {
        Ok(Some(client)) => client,
        Ok(None) => {
            return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The client is gone.")
        }
        Err(e) => return OAuthError::from(e).into_response(),
    };
    match due_outside_authorize(
        &state,
        &realm.realm,
        Some(&client),
        &sign_in.user_id,
        session.acr.as_deref(),
        &[],
    )
    .await
    {
        Ok(Some(step)) => return sign_in_first(&state, &realm, &browser, &found, step).await,
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    let scopes: String = found
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect();
    let body = format!(
        r#"<p><strong>{client}</strong> on your device (code <code>{code}</code>) would like to:</p>
<ul>{scopes}</ul>
<form method="post" action="/realms/{realm}/device">
{csrf}{user_code}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>"#,
        client = escape(client.display_name.as_deref().unwrap_or(&client.client_id)),
        code = escape(&display_user_code(&found.user_code)),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
        user_code = hidden("user_code", &found.user_code),
    );
    with_cookie(
        html::page(StatusCode::OK, realm_label(&realm), "Allow access?", &body),
        &browser,
    )
}

/// Starts a login that takes `step` (signing in, or a second factor) and returns here with the
/// code.
async fn sign_in_first(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
    found: &StoredDeviceCode,
    step: Step,
) -> Response {
    let purpose = Purpose::Device {
        user_code: display_user_code(&found.user_code),
    };
    let interaction =
        match Interaction::start(state, realm, &found.client_id, purpose, browser).await {
            Ok(interaction) => interaction,
            Err(e) => return e.into_response(),
        };
    with_cookie(
        super::interaction::step_page(realm, &interaction, step),
        browser,
    )
}

/// `POST /realms/{realm}/device`: a typed code (→ 303 to the confirmation) or a decision.
pub async fn submit(
    State(state): State<AppState>,
    realm: RealmCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let typed = params.get("user_code").unwrap_or_default().to_string();
    let expired = || {
        realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "The form has expired or did not come from this site. Go back and try again.",
        )
    };
    let Some(decision) = params.get("decision") else {
        let browser = BrowserSession::from_request(
            &state.browser_sessions,
            &headers,
            cookie_name(&realm.realm, None),
            state.secure_cookies(),
        );
        if !browser.csrf_matches(params.get("csrf")).await {
            return expired();
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("user_code", &typed)
            .finish();
        return see_other(&format!("/realms/{}/device?{query}", realm.realm.name));
    };
    let found = match lookup(
        &state,
        &realm,
        state.client_ip(Some(peer.ip()), &headers),
        &typed,
    )
    .await
    {
        Ok(Ok(found)) => found,
        Ok(Err(response)) if response.status() == StatusCode::TOO_MANY_REQUESTS => return response,
        Ok(Err(_)) => {
            return realm_error_page(
                &realm,
                StatusCode::BAD_REQUEST,
                "That code is not valid or has expired.",
            )
        }
        Err(e) => return e.into_response(),
    };
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        &headers,
        cookie_name(&realm.realm, Some(&found.client_id)),
        state.secure_cookies(),
    );
    if !browser.csrf_matches(params.get("csrf")).await {
        return expired();
    }
    let (sign_in, session) = match current_sign_in(&state, &realm, &browser).await {
        Ok(Some(found)) => found,
        Ok(None) => return realm_error_page(&realm, StatusCode::BAD_REQUEST, "Sign in first."),
        Err(e) => return e.into_response(),
    };
    let approved = decision == "allow";
    if approved {
        // Approving hands the device tokens: the same second-factor rule as a browser login.
        let client = match state
            .caches
            .directory
            .client(&realm.realm.id, &found.client_id)
            .await
        {
            Ok(Some(client)) => client,
            Ok(None) => {
                return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The client is gone.")
            }
            Err(e) => return OAuthError::from(e).into_response(),
        };
        let due = due_outside_authorize(
            &state,
            &realm.realm,
            Some(&client),
            &sign_in.user_id,
            session.acr.as_deref(),
            &[],
        );
        match due.await {
            Ok(Some(_)) => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("user_code", &found.user_code)
                    .finish();
                return see_other(&format!("/realms/{}/device?{query}", realm.realm.name));
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
    }
    let decided = store::codes::decide_device_code(
        &state.caches.store.db,
        &found.id,
        approved.then_some((
            sign_in.user_id.as_str(),
            sign_in.sid.as_str(),
            sign_in.auth_time,
        )),
    )
    .await;
    match decided {
        Ok(_) => {
            let result = if approved { "approved" } else { "denied" };
            see_other(&format!(
                "/realms/{}/device?result={result}",
                realm.realm.name
            ))
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}

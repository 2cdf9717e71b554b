//! The logout endpoint over HTTP (`/connect/logout`, GET or POST): a confirmation form when the
//! request does not prove the client asked, then the signed-out page or a 303 to the client's
//! registered `post_logout_redirect_uri`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{self, hidden, realm_error_page, realm_label, see_other, with_cookie};
use crate::oauth::form::Params;
use crate::oauth::logout::{self, Refusal};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};

/// `GET /realms/{realm}/connect/logout`
pub async fn logout_get(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    run(
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
    run(&state, &realm, &headers, &body).await
}

async fn run(state: &AppState, realm: &RealmCtx, headers: &HeaderMap, raw: &[u8]) -> Response {
    let bad = |message: &str| realm_error_page(realm, StatusCode::BAD_REQUEST, message);
    let Ok(params) = Params::parse(raw) else {
        return bad("The logout request is malformed.");
    };
    let request = match logout::validate(state, realm, &params).await {
        Ok(request) => request,
        Err(Refusal::Page(message)) => return bad(message),
        Err(Refusal::Failed(error)) => return error.into_response(),
    };
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, request.client_id.as_deref()),
        state.secure_cookies(),
    );
    if request.needs_confirmation() {
        let confirmed =
            params.get("confirm") == Some("yes") && browser.csrf_matches(params.get("csrf")).await;
        if !confirmed {
            return confirmation_page(realm, &browser, &params).await;
        }
    }
    if let Err(error) = logout::end_session(state, realm, &browser).await {
        return error.into_response();
    }
    match request.return_to {
        Some(location) => see_other(&location),
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
    with_cookie(
        html::page(StatusCode::OK, realm_label(realm), "Sign out", &body),
        browser,
    )
}

//! The consent page: what the client asks for, with `decision=allow` and `decision=deny`
//! buttons. Allowing is remembered per user, client and scopes; denying sends `access_denied`
//! back to the client.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{self, escape, hidden};
use crate::oauth::authorize::{
    self, current_sign_in, realm_error_page, realm_label, reject, respond,
};
use crate::oauth::error::OAuthError;
use crate::oauth::form::Params;
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};
use crate::store;

async fn request_and_browser(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    authorize_query: &str,
) -> Result<(authorize::AuthorizeRequest, BrowserSession), Response> {
    let params = Params::parse(authorize_query.as_bytes())
        .map_err(|e| realm_error_page(realm, StatusCode::BAD_REQUEST, &e.description))?;
    let request = authorize::parse_request(state, realm, &params)
        .await
        .map_err(|r| reject(realm, r))?;
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, Some(&request.client.client_id)),
        state.secure_cookies(),
    );
    Ok((request, browser))
}

fn back_to_authorize(realm: &RealmCtx, authorize_query: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let location = format!(
        "/realms/{}/connect/authorize?{authorize_query}",
        realm.realm.name
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `GET /realms/{realm}/consent?<authorization request>`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let (request, browser) = match request_and_browser(&state, &realm, &headers, &query).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match current_sign_in(&state, &realm, &browser).await {
        Ok(Some(_)) => {}
        Ok(None) => return back_to_authorize(&realm, &query),
        Err(e) => return e.into_response(),
    }
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return OAuthError::server_error(e).into_response(),
    };
    let items: String = request
        .scopes
        .iter()
        .map(|name| {
            let description = standard_description(name).unwrap_or(name.as_str());
            format!(
                "<li><strong>{}</strong> <span class=\"muted\">{}</span></li>",
                escape(description),
                escape(name)
            )
        })
        .collect();
    let client = request
        .client
        .display_name
        .as_deref()
        .unwrap_or(&request.client.client_id);
    let body = format!(
        r#"<p><strong>{client}</strong> would like to:</p>
<ul>{items}</ul>
<form method="post" action="/realms/{realm}/consent">
{csrf}{authorize}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>"#,
        client = escape(client),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
        authorize = hidden("authorize", &query),
    );
    let mut response = html::page(StatusCode::OK, realm_label(&realm), "Allow access?", &body);
    if let Some(cookie) = browser.set_cookie() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Human wording for the standard scopes.
fn standard_description(name: &str) -> Option<&'static str> {
    seed::STANDARD_SCOPES
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.description)
}

/// `POST /realms/{realm}/consent`
pub async fn submit(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let query = params.get("authorize").unwrap_or_default().to_string();
    let (request, browser) = match request_and_browser(&state, &realm, &headers, &query).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !browser.csrf_matches(params.get("csrf")).await {
        return realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "The form has expired or did not come from this site. Go back and try again.",
        );
    }
    let sign_in = match current_sign_in(&state, &realm, &browser).await {
        Ok(Some((sign_in, _))) => sign_in,
        Ok(None) => return back_to_authorize(&realm, &query),
        Err(e) => return e.into_response(),
    };
    match params.get("decision") {
        Some("allow") => {
            if let Err(e) = store::consents::grant(
                &state.caches.store.db,
                &realm.realm.id,
                &sign_in.user_id,
                &request.client.client_id,
                &request.scopes,
                state.now(),
            )
            .await
            {
                return OAuthError::from(e).into_response();
            }
            back_to_authorize(&realm, &query)
        }
        Some("deny") => respond(
            &realm,
            &request.redirect(),
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ],
        ),
        _ => realm_error_page(&realm, StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
}

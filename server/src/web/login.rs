//! The login page: a plain `<form method="post">` with `username` and `password`, a CSRF token,
//! and the authorization request it continues. Wrong credentials re-render the form (401); a
//! successful sign-in answers 303 back to the authorization endpoint.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;

use super::html::{self, escape, hidden};
use crate::oauth::authorize::{realm_error_page, realm_label};
use crate::oauth::form::Params;
use crate::sessions::{cookie_name, BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};
use crate::store;

/// Lifetime of an SSO session; the browser cookie also lapses after `IDLE_LIFETIME` unused.
const SESSION_LIFETIME: Duration = Duration::hours(10);

fn client_of(authorize_query: &str) -> Option<String> {
    Params::parse(authorize_query.as_bytes())
        .ok()
        .and_then(|p| p.get("client_id").map(str::to_string))
}

fn browser(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    authorize_query: &str,
) -> BrowserSession {
    BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, client_of(authorize_query).as_deref()),
        state.secure_cookies(),
    )
}

fn with_cookie(mut response: Response, browser: &BrowserSession) -> Response {
    if let Some(cookie) = browser.set_cookie() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn form(
    realm: &RealmCtx,
    authorize_query: &str,
    csrf: &str,
    username: &str,
    error: Option<&str>,
) -> String {
    let error = error
        .map(|e| {
            format!(
                r#"<p class="error" role="alert" id="login-error">{}</p>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        r#"{error}<form method="post" action="/realms/{realm}/login">
{csrf}{authorize}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{username}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"#,
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", csrf),
        authorize = hidden("authorize", authorize_query),
        username = escape(username),
    )
}

/// `GET /realms/{realm}/login?<authorization request>`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let browser = browser(&state, &realm, &headers, &query);
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(&realm, e),
    };
    let hint = Params::parse(query.as_bytes())
        .ok()
        .and_then(|p| p.get("login_hint").map(str::to_string))
        .unwrap_or_default();
    let body = form(&realm, &query, &csrf, &hint, None);
    with_cookie(
        html::page(StatusCode::OK, realm_label(&realm), "Sign in", &body),
        &browser,
    )
}

fn internal(realm: &RealmCtx, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "login page failed");
    realm_error_page(
        realm,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
}

/// `POST /realms/{realm}/login`
pub async fn submit(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let authorize_query = params.get("authorize").unwrap_or_default().to_string();
    let browser = browser(&state, &realm, &headers, &authorize_query);
    if !browser.csrf_matches(params.get("csrf")).await {
        return realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "The form has expired or did not come from this site. Go back and try again.",
        );
    }
    let username = params.get("username").unwrap_or_default();
    let password = params.get("password").unwrap_or_default();
    let now = state.now();
    let outcome = match state
        .accounts
        .authenticate(&realm.realm.id, username, password, now)
        .await
    {
        Ok(outcome) => outcome,
        Err(e) => return internal(&realm, e),
    };
    let Ok(user) = outcome else {
        let csrf = browser.csrf_token().await.unwrap_or_default();
        let body = form(
            &realm,
            &authorize_query,
            &csrf,
            username,
            Some("Invalid username or password."),
        );
        return with_cookie(
            html::page(
                StatusCode::UNAUTHORIZED,
                realm_label(&realm),
                "Sign in",
                &body,
            ),
            &browser,
        );
    };
    let amr = vec!["pwd".to_string()];
    let session = match store::sessions::create(
        &state.caches.store.db,
        store::sessions::NewSession {
            realm_id: &realm.realm.id,
            user_id: &user.id,
            cookie_scope: &browser.cookie,
            auth_time: now,
            amr: &amr,
            expires_at: now + SESSION_LIFETIME,
        },
        now,
    )
    .await
    {
        Ok(session) => session,
        Err(e) => return internal(&realm, e),
    };
    let sign_in = SignIn {
        user_id: user.id.clone(),
        sid: session.id,
        auth_time: now,
    };
    if let Err(e) = browser.set_sign_in(&realm.realm, &sign_in).await {
        return internal(&realm, e);
    }
    // The device page sends people here too; they go back where they came from.
    let back_to_device = Params::parse(authorize_query.as_bytes())
        .ok()
        .is_some_and(|p| p.get("continue") == Some("device"));
    let location = if back_to_device {
        format!("/realms/{}/device?{authorize_query}", realm.realm.name)
    } else {
        format!(
            "/realms/{}/connect/authorize?{authorize_query}",
            realm.realm.name
        )
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    with_cookie(response, &browser)
}

//! "Forgot your password?" (CONTRACT §8): `/realms/{r}/forgot-password` takes a username or an
//! email address and always answers the same page, whether or not it names an account (a mail
//! goes out only when it does, on its own task); `/realms/{r}/reset-password?token=…` sets a new
//! password with the single-use link from that mail, valid 15 minutes.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::html::{self, escape, hidden, realm_error_page, realm_label, with_cookie};
use crate::oauth::form::Params;
use crate::self_service::{self, Reset};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};

fn browser_of(state: &AppState, realm: &RealmCtx, headers: &HeaderMap) -> BrowserSession {
    BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, None),
        state.secure_cookies(),
    )
}

fn internal(realm: &RealmCtx, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "password reset failed");
    realm_error_page(
        realm,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
}

fn expired(realm: &RealmCtx) -> Response {
    realm_error_page(
        realm,
        StatusCode::BAD_REQUEST,
        "The form has expired or did not come from this site. Go back and try again.",
    )
}

/// `GET /realms/{realm}/forgot-password`
pub async fn show_forgot(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
) -> Response {
    let browser = browser_of(&state, &realm, &headers);
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(&realm, e),
    };
    let body = format!(
        r#"<p>Enter your username or email address. If it belongs to an account with an email address, we send a link to set a new password.</p>
<form method="post" action="/realms/{realm}/forgot-password">
{csrf}
<label for="identifier">Username or email</label>
<input type="text" id="identifier" name="identifier" autocomplete="username" required autofocus>
<button type="submit">Send the link</button>
</form>"#,
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
    );
    with_cookie(
        html::page(
            StatusCode::OK,
            realm_label(&realm),
            "Forgot your password?",
            &body,
        ),
        &browser,
    )
}

/// `POST /realms/{realm}/forgot-password`: the same answer for every address.
pub async fn submit_forgot(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let browser = browser_of(&state, &realm, &headers);
    if !browser.csrf_matches(params.get("csrf")).await {
        return expired(&realm);
    }
    let identifier = params.get("identifier").unwrap_or_default();
    if let Err(e) =
        self_service::request_password_reset(&state, &realm, identifier, state.now()).await
    {
        return internal(&realm, e);
    }
    let body = r#"<p id="reset-requested">If that is the username or email address of an account here, a link to set a new password is on its way. It works once, within 15 minutes.</p>"#;
    with_cookie(
        html::page(
            StatusCode::OK,
            realm_label(&realm),
            "Check your email",
            body,
        ),
        &browser,
    )
}

async fn reset_form(
    realm: &RealmCtx,
    browser: &BrowserSession,
    token: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(realm, e),
    };
    let error = error
        .map(|e| {
            format!(
                r#"<p class="error" role="alert" id="reset-error">{}</p>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/realms/{realm}/reset-password">
{csrf}{token}
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" required autofocus>
<label for="confirm_password">New password again</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>"#,
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
        token = hidden("token", token),
    );
    with_cookie(
        html::page(status, realm_label(realm), "Set a new password", &body),
        browser,
    )
}

fn link_invalid(realm: &RealmCtx) -> Response {
    realm_error_page(
        realm,
        StatusCode::BAD_REQUEST,
        "This link has expired or was already used. Ask for a new one.",
    )
}

/// `GET /realms/{realm}/reset-password?token=…`
pub async fn show_reset(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let token = params.get("token").unwrap_or_default();
    match self_service::reset_link_valid(&state, &realm, token, state.now()).await {
        Ok(true) => {}
        Ok(false) => return link_invalid(&realm),
        Err(e) => return internal(&realm, e),
    }
    let browser = browser_of(&state, &realm, &headers);
    reset_form(&realm, &browser, token, StatusCode::OK, None).await
}

/// `POST /realms/{realm}/reset-password`
pub async fn submit_reset(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let browser = browser_of(&state, &realm, &headers);
    if !browser.csrf_matches(params.get("csrf")).await {
        return expired(&realm);
    }
    let token = params.get("token").unwrap_or_default();
    let reset = self_service::reset_password(
        &state,
        &realm,
        token,
        params.get("new_password").unwrap_or_default(),
        params.get("confirm_password").unwrap_or_default(),
        state.now(),
    )
    .await;
    match reset {
        Ok(Reset::Done) => {
            let body = format!(
                r#"<p id="reset-done">Your password was changed. <a href="/realms/{}/account">Sign in</a>.</p>"#,
                escape(&realm.realm.name)
            );
            with_cookie(
                html::page(
                    StatusCode::OK,
                    realm_label(&realm),
                    "Password changed",
                    &body,
                ),
                &browser,
            )
        }
        Ok(Reset::LinkInvalid) => link_invalid(&realm),
        Ok(Reset::Mismatch) => {
            let message = "The two passwords differ.";
            reset_form(
                &realm,
                &browser,
                token,
                StatusCode::BAD_REQUEST,
                Some(message),
            )
            .await
        }
        Ok(Reset::ManagedByDirectory) => {
            reset_form(
                &realm,
                &browser,
                token,
                StatusCode::BAD_REQUEST,
                Some(crate::accounts::MANAGED_BY_DIRECTORY),
            )
            .await
        }
        Ok(Reset::Rule(rule)) => {
            let message = format!("The new password needs {rule}.");
            reset_form(
                &realm,
                &browser,
                token,
                StatusCode::BAD_REQUEST,
                Some(&message),
            )
            .await
        }
        Err(e) => internal(&realm, e),
    }
}

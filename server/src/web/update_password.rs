//! The update-password page, the step of a pending login that sets a new password an
//! administrator asked for: `new_password` typed twice (`confirm_password`). A refused password
//! re-renders the form (400).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{self, escape, hidden, realm_error_page, realm_label, with_cookie};
use super::interaction::{after_step, bound, handle_in, step_page};
use crate::oauth::authorize::current_sign_in;
use crate::oauth::form::Params;
use crate::oauth::interaction::update_password::{self, Refused};
use crate::oauth::interaction::{Interaction, Step};
use crate::sessions::{BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};

const TITLE: &str = "Set a new password";

async fn context(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(Interaction, BrowserSession, SignIn), Response> {
    let Some(handle) = handle_in(params) else {
        return Err(realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "There is no sign-in to continue.",
        ));
    };
    let (interaction, browser) = bound(state, realm, headers, handle).await?;
    match current_sign_in(state, realm, &browser).await {
        Ok(Some((sign_in, _))) => Ok((interaction, browser, sign_in)),
        Ok(None) => Err(step_page(realm, &interaction, Step::Login)),
        Err(e) => Err(e.into_response()),
    }
}

async fn form(
    realm: &RealmCtx,
    interaction: &Interaction,
    browser: &BrowserSession,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let csrf = browser.csrf_token().await.unwrap_or_default();
    let error = error
        .map(|e| {
            format!(
                r#"<p class="error" role="alert" id="password-error">{}</p>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"{error}<p>Your administrator asks you to set a new password before you continue.</p>
<form method="post" action="/realms/{realm}/update-password">
{csrf}{interaction}
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" required autofocus>
<label for="confirm_password">New password again</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>"#,
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
        interaction = hidden("interaction", &interaction.handle),
    );
    with_cookie(
        html::page(status, realm_label(realm), TITLE, &body),
        browser,
    )
}

/// `GET /realms/{realm}/update-password?interaction=…`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let (interaction, browser, sign_in) = match context(&state, &realm, &headers, &params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match update_password::pending(&state, &sign_in.user_id).await {
        Ok(true) => form(&realm, &interaction, &browser, StatusCode::OK, None).await,
        Ok(false) => after_step(&state, &realm, &interaction).await,
        Err(e) => e.into_response(),
    }
}

/// `POST /realms/{realm}/update-password`
pub async fn submit(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let (mut interaction, browser, sign_in) = match context(&state, &realm, &headers, &params).await
    {
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
    match update_password::pending(&state, &sign_in.user_id).await {
        Ok(true) => {}
        Ok(false) => return after_step(&state, &realm, &interaction).await,
        Err(e) => return e.into_response(),
    }
    let set = update_password::set(
        &state,
        &mut interaction,
        &sign_in.user_id,
        params.get("new_password").unwrap_or_default(),
        params.get("confirm_password").unwrap_or_default(),
        state.now(),
    )
    .await;
    match set {
        Ok(Ok(())) => with_cookie(after_step(&state, &realm, &interaction).await, &browser),
        Ok(Err(Refused::Mismatch)) => {
            let message = "The two passwords differ.";
            form(
                &realm,
                &interaction,
                &browser,
                StatusCode::BAD_REQUEST,
                Some(message),
            )
            .await
        }
        Ok(Err(Refused::ManagedByDirectory)) => {
            form(
                &realm,
                &interaction,
                &browser,
                StatusCode::BAD_REQUEST,
                Some(crate::accounts::MANAGED_BY_DIRECTORY),
            )
            .await
        }
        Ok(Err(Refused::Rule(rule))) => {
            let message = format!("The new password needs {rule}.");
            form(
                &realm,
                &interaction,
                &browser,
                StatusCode::BAD_REQUEST,
                Some(&message),
            )
            .await
        }
        Err(e) => e.into_response(),
    }
}

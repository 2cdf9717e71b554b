//! The login page, the password step of a pending login: a plain `<form method="post">` with
//! `username` and `password`, a CSRF token and the handle of the login it continues. Wrong
//! credentials re-render the form (401); a successful sign-in answers 303 to what comes next.
//! Without a pending login the page signs the browser in to the realm alone.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};

use crate::rate_limit::Group;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::html::{self, escape, hidden, realm_error_page, realm_label, see_other, with_cookie};
use super::interaction::{after_step, bound, handle_in};
use crate::accounts::LoginFailure;
use crate::oauth::form::Params;
use crate::oauth::interaction::{login, Interaction};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};

/// The pending login a page continues (if any) and the browser session to use.
pub(super) async fn context(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(Option<Interaction>, BrowserSession), Response> {
    match handle_in(params) {
        Some(handle) => {
            let (interaction, browser) = bound(state, realm, headers, handle).await?;
            Ok((Some(interaction), browser))
        }
        None => Ok((
            None,
            BrowserSession::from_request(
                &state.browser_sessions,
                headers,
                cookie_name(&realm.realm, None),
                state.secure_cookies(),
            ),
        )),
    }
}

/// One link per enabled upstream provider (only within a pending login: the broker returns to
/// it).
fn provider_links(
    realm: &RealmCtx,
    interaction: Option<&Interaction>,
    providers: &[(String, String)],
) -> String {
    let Some(interaction) = interaction else {
        return String::new();
    };
    if providers.is_empty() {
        return String::new();
    }
    let links: String = providers
        .iter()
        .map(|(alias, display_name)| {
            format!(
                r#"<li><a class="button secondary" id="idp-{id}" href="{href}">Sign in with {name}</a></li>"#,
                id = escape(alias),
                href = escape(&super::broker::start_url(realm, interaction, alias)),
                name = escape(display_name),
            )
        })
        .collect();
    format!(r#"<ul class="identity-providers">{links}</ul>"#)
}

fn form(
    realm: &RealmCtx,
    interaction: Option<&Interaction>,
    csrf: &str,
    username: &str,
    error: Option<&str>,
    providers: &[(String, String)],
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
{csrf}{interaction}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{username}" autocomplete="username webauthn" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p><a href="/realms/{realm}/forgot-password" id="forgot-password">Forgot your password?</a></p>
<form method="post" class="passkey-sign-in" action="/realms/{realm}/passkey" data-options="/realms/{realm}/passkey/options">
{csrf}{interaction}
<button type="submit" id="passkey-sign-in" class="secondary">Sign in with a passkey</button>
</form>
{providers}<script src="/assets/passkeys.js" defer></script>"#,
        providers = provider_links(realm, interaction, providers),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", csrf),
        interaction = interaction
            .map(|i| hidden("interaction", &i.handle))
            .unwrap_or_default(),
        username = escape(username),
    )
}

/// The `login_hint` of the authorization request a login is for.
fn login_hint(interaction: Option<&Interaction>) -> String {
    interaction
        .and_then(Interaction::request_params)
        .and_then(|p| p.get("login_hint").map(str::to_string))
        .unwrap_or_default()
}

/// `GET /realms/{realm}/login[?interaction=…]`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let (interaction, browser) = match context(&state, &realm, &headers, &params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let hint = login_hint(interaction.as_ref());
    login_page(
        &state,
        &realm,
        interaction.as_ref(),
        &browser,
        (StatusCode::OK, None),
        &hint,
    )
    .await
}

/// The login page, with `outcome`'s status and message (a failed sign-in, an upstream's
/// refusal).
pub(super) async fn login_page(
    state: &AppState,
    realm: &RealmCtx,
    interaction: Option<&Interaction>,
    browser: &BrowserSession,
    outcome: (StatusCode, Option<&str>),
    username: &str,
) -> Response {
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(realm, e),
    };
    let providers =
        match crate::store::identity_providers::enabled(&state.caches.store.db, &realm.realm.id)
            .await
        {
            Ok(rows) => rows
                .into_iter()
                .map(|p| (p.alias, p.display_name))
                .collect::<Vec<_>>(),
            Err(e) => return internal(realm, e),
        };
    let (status, error) = outcome;
    let body = form(realm, interaction, &csrf, username, error, &providers);
    with_cookie(
        html::page(status, realm_label(realm), "Sign in", &body),
        browser,
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = state.client_ip(Some(peer.ip()), &headers);
    if let Err(limited) = state.limit_ip(&realm.realm, Group::Login, ip) {
        return super::html::too_many_page(&realm, limited);
    }
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let (mut interaction, browser) = match context(&state, &realm, &headers, &params).await {
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
    state
        .metrics
        .login(&realm.realm.name, crate::accounts::login_result(&outcome));
    let user = match outcome {
        Ok(user) => user,
        Err(failure) => {
            let refusal = match failure {
                LoginFailure::DirectoryUnavailable => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The user directory is unavailable. Please try again later.",
                ),
                _ => (StatusCode::UNAUTHORIZED, "Invalid username or password."),
            };
            return login_page(
                &state,
                &realm,
                interaction.as_ref(),
                &browser,
                (refusal.0, Some(refusal.1)),
                username,
            )
            .await;
        }
    };
    if let Err(e) = login::signed_in(
        &state,
        &realm,
        &browser,
        interaction.as_mut(),
        &user.id,
        &login::Proof::password(),
        &super::device_of(&state, peer, &headers),
    )
    .await
    {
        return internal(&realm, e);
    }
    let next = match &interaction {
        Some(interaction) => after_step(&state, &realm, interaction).await,
        // Signed in to the realm alone (no application asked): back to the login page.
        None => see_other(&format!("/realms/{}/login", realm.realm.name)),
    };
    with_cookie(next, &browser)
}

//! Signing in through an upstream provider (CONTRACT §9), one step of a pending login:
//! `…/broker/{alias}/login?interaction=…` sends the browser to the upstream with a fresh `state`
//! (kept hashed, with the login's handle, nonce and PKCE verifier sealed beside it, ten minutes,
//! taken once); `…/broker/{alias}/callback` takes that record back, checks the login is this
//! browser's, redeems the code and validates what the upstream says, then signs the local
//! account in. When a local account holds the upstream's address and may not be linked unasked,
//! `…/broker/{alias}/link` takes its password first. Every failure returns to the login page
//! with a sentence, never a 500, and changes nothing.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::html::{self, escape, hidden, realm_error_page, realm_label, see_other, with_cookie};
use super::interaction::{after_step, bound, handle_in};
use super::login::login_page;
use crate::federation::{self, Outcome};
use crate::oauth::form::Params;
use crate::oauth::interaction::{login, Interaction};
use crate::sessions::BrowserSession;
use crate::state::{AppState, RealmCtx};
use crate::store;
use crate::store::broker_logins::BrokerLoginRow;
use crate::upstream::{self, Provider, UpstreamIdentity};

/// How long the browser may stay at the upstream (and then prove an existing account).
const PENDING_LIFETIME: Duration = Duration::minutes(10);

/// The `amr` value of a sign-in an upstream vouched for (as Microsoft Entra uses it).
const AMR_FEDERATED: &str = "fed";

/// Where the login page's provider link points.
pub fn start_url(realm: &RealmCtx, interaction: &Interaction, alias: &str) -> String {
    format!(
        "/realms/{}/broker/{}/login?{}",
        realm.realm.name,
        form_urlencoded::byte_serialize(alias.as_bytes()).collect::<String>(),
        form_urlencoded::Serializer::new(String::new())
            .append_pair("interaction", &interaction.handle)
            .finish()
    )
}

/// The redirect to a provider's start, for an `idp_hint`.
pub fn start_page(realm: &RealmCtx, interaction: &Interaction, alias: &str) -> Response {
    see_other(&start_url(realm, interaction, alias))
}

/// Whether the realm has an enabled provider of this alias.
pub async fn is_enabled(state: &AppState, realm: &RealmCtx, alias: &str) -> bool {
    matches!(
        store::identity_providers::find(&state.caches.store.db, &realm.realm.id, alias).await,
        Ok(Some(row)) if row.enabled
    )
}

/// The redirect URI registered at the upstream.
fn callback_url(state: &AppState, realm: &RealmCtx, alias: &str) -> String {
    format!(
        "{}/realms/{}/broker/{alias}/callback",
        state.public_url, realm.realm.name
    )
}

fn alias_in(path: &RawPathParams) -> Option<String> {
    path.iter()
        .find(|(name, _)| *name == "alias")
        .map(|(_, value)| value.to_string())
}

async fn enabled_provider(state: &AppState, realm: &RealmCtx, alias: &str) -> Option<Provider> {
    let row = store::identity_providers::find(&state.caches.store.db, &realm.realm.id, alias)
        .await
        .ok()??;
    Provider::from_row(&row).filter(|p| p.enabled)
}

fn unknown_provider(realm: &RealmCtx) -> Response {
    realm_error_page(
        realm,
        StatusCode::NOT_FOUND,
        "This sign-in option does not exist or is turned off.",
    )
}

fn internal(realm: &RealmCtx, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "upstream sign-in failed");
    realm_error_page(
        realm,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
}

/// Back to the login page of `interaction`, saying why.
async fn refused(
    state: &AppState,
    realm: &RealmCtx,
    interaction: &Interaction,
    browser: &BrowserSession,
    message: &str,
) -> Response {
    login_page(
        state,
        realm,
        Some(interaction),
        browser,
        (StatusCode::BAD_REQUEST, Some(message)),
        "",
    )
    .await
}

/// Back to the login page after the upstream failed: 503 when it could not be reached (as for
/// a directory), 400 when it refused or its answer did not check out.
async fn upstream_failed(
    state: &AppState,
    realm: &RealmCtx,
    interaction: &Interaction,
    browser: &BrowserSession,
    provider: &Provider,
    error: &upstream::UpstreamError,
) -> Response {
    let status = match error {
        upstream::UpstreamError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = error.user_message(&provider.display_name);
    login_page(
        state,
        realm,
        Some(interaction),
        browser,
        (status, Some(&message)),
        "",
    )
    .await
}

/// What the authorization request a login is for asks of the sign-in, passed on upstream: a
/// fresh sign-in (`prompt=login`, `max_age`) asked of Tessera is asked of the upstream too, or
/// the upstream's single sign-on would stand in for it.
fn hints(interaction: &Interaction) -> upstream::Hints {
    let Some(params) = interaction.request_params() else {
        return upstream::Hints::default();
    };
    upstream::Hints {
        login_hint: params.get("login_hint").map(str::to_string),
        prompt_login: params
            .get("prompt")
            .is_some_and(|p| p.split(' ').any(|v| v == "login")),
        max_age: params.get("max_age").and_then(|m| m.parse().ok()),
    }
}

/// `GET /realms/{realm}/broker/{alias}/login?interaction=…`
pub async fn start(
    State(state): State<AppState>,
    realm: RealmCtx,
    path: RawPathParams,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let Some(handle) = handle_in(&params) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "Nothing to continue.");
    };
    let (interaction, browser) = match bound(&state, &realm, &headers, handle).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(provider) = alias_in(&path) else {
        return unknown_provider(&realm);
    };
    let Some(provider) = enabled_provider(&state, &realm, &provider).await else {
        return unknown_provider(&realm);
    };
    let redirect_uri = callback_url(&state, &realm, &provider.alias);
    let redirect = match state
        .upstreams
        .begin(
            &provider,
            &redirect_uri,
            &interaction.handle,
            &hints(&interaction),
        )
        .await
    {
        Ok(redirect) => redirect,
        Err(error) => {
            tracing::warn!(provider = %provider.alias, %error, "starting an upstream sign-in failed");
            return upstream_failed(&state, &realm, &interaction, &browser, &provider, &error)
                .await;
        }
    };
    let now = state.now();
    let row = BrokerLoginRow {
        id: upstream::state_id(&redirect.state),
        realm_id: realm.realm.id.clone(),
        provider_id: provider.id.clone(),
        interaction_id: interaction.id().to_string(),
        sealed: state.upstreams.seal_pending(&redirect.pending),
        created_at: now,
        expires_at: now + PENDING_LIFETIME,
    };
    if let Err(e) = store::broker_logins::insert(&state.caches.store.db, row).await {
        return internal(&realm, e);
    }
    with_cookie(see_other(&redirect.url), &browser)
}

/// What the upstream said, in words for the person signing in.
fn upstream_refusal(provider: &Provider, error: &str) -> String {
    match error {
        "access_denied" => format!("The sign-in at {} was cancelled.", provider.display_name),
        "login_required" | "interaction_required" | "consent_required" => format!(
            "{} needs you to sign in there first.",
            provider.display_name
        ),
        _ => format!("{} did not sign you in.", provider.display_name),
    }
}

/// `GET /realms/{realm}/broker/{alias}/callback?code=…&state=…`
pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    realm: RealmCtx,
    path: RawPathParams,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(params) = Params::parse(query.unwrap_or_default().as_bytes()) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The answer is malformed.");
    };
    let gone = || {
        realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was already used. Go back to the application and sign \
             in again.",
        )
    };
    let Some(state_param) = params.get("state").filter(|s| !s.is_empty()) else {
        return gone();
    };
    let now = state.now();
    let db = &state.caches.store.db;
    // Taken once: a replayed or forged `state` finds nothing.
    let row = match store::broker_logins::take(
        db,
        &realm.realm.id,
        &upstream::state_id(state_param),
        now,
    )
    .await
    {
        Ok(Some(row)) => row,
        Ok(None) => return gone(),
        Err(e) => return internal(&realm, e),
    };
    let provider = match store::identity_providers::find_by_id(db, &row.provider_id).await {
        Ok(Some(row)) => Provider::from_row(&row),
        Ok(None) => None,
        Err(e) => return internal(&realm, e),
    };
    let Some(provider) =
        provider.filter(|p| p.enabled && Some(&p.alias) == alias_in(&path).as_ref())
    else {
        return unknown_provider(&realm);
    };
    let Some(pending) = state
        .upstreams
        .open_pending::<upstream::Pending>(&row.sealed)
    else {
        return gone();
    };
    // The login must be this browser's: an answer carried into another browser (login CSRF)
    // finds nothing to continue.
    let (mut interaction, browser) = match bound(&state, &realm, &headers, &pending.handle).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(error) = params.get("error") {
        tracing::info!(provider = %provider.alias, error, "the upstream refused the sign-in");
        let message = upstream_refusal(&provider, error);
        return refused(&state, &realm, &interaction, &browser, &message).await;
    }
    let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
        let message = format!("{} did not sign you in.", provider.display_name);
        return refused(&state, &realm, &interaction, &browser, &message).await;
    };
    let redirect_uri = callback_url(&state, &realm, &provider.alias);
    let answer = upstream::Answer {
        code,
        iss: params.get("iss"),
    };
    let identity = match state
        .upstreams
        .finish(&provider, &redirect_uri, &answer, &pending, now.timestamp())
        .await
    {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(provider = %provider.alias, %error, "an upstream sign-in failed");
            return upstream_failed(&state, &realm, &interaction, &browser, &provider, &error)
                .await;
        }
    };
    let outcome = match federation::account_for(&state, &provider, &identity).await {
        Ok(outcome) => outcome,
        Err(e) => return internal(&realm, e),
    };
    let device = super::device_of(&state, peer, &headers);
    match outcome {
        Outcome::User { user, .. } => {
            let proof = proof_of(&provider, &identity, false);
            sign_in(
                &state,
                &realm,
                &browser,
                &mut interaction,
                &user.id,
                &proof,
                &device,
            )
            .await
        }
        Outcome::Disabled => {
            refused(
                &state,
                &realm,
                &interaction,
                &browser,
                "This account is disabled.",
            )
            .await
        }
        Outcome::LinkedElsewhere => {
            let message = format!(
                "The account with this email address is linked to another {} account.",
                provider.display_name
            );
            refused(&state, &realm, &interaction, &browser, &message).await
        }
        Outcome::NoAccount => {
            let message = format!(
                "No account here is linked to your {} account. Ask an administrator for one.",
                provider.display_name
            );
            refused(&state, &realm, &interaction, &browser, &message).await
        }
        Outcome::ProveExisting { user } => {
            ask_for_password(
                &state,
                &realm,
                &interaction,
                &browser,
                &provider,
                identity,
                &user.id,
            )
            .await
        }
    }
}

/// How the upstream sign-in is recorded: the upstream's `amr` plus `fed` (and `pwd` when the
/// local password was given too), with the provider's alias as `idp`.
fn proof_of(provider: &Provider, identity: &UpstreamIdentity, with_password: bool) -> login::Proof {
    let mut amr: Vec<String> = identity.amr.clone();
    for extra in [Some(AMR_FEDERATED), with_password.then_some("pwd")]
        .into_iter()
        .flatten()
    {
        if !amr.iter().any(|a| a == extra) {
            amr.push(extra.to_string());
        }
    }
    login::Proof {
        acr: None,
        amr,
        idp: Some(provider.alias.clone()),
    }
}

async fn sign_in(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
    interaction: &mut Interaction,
    user_id: &str,
    proof: &login::Proof,
    device: &store::sessions::Device,
) -> Response {
    if let Err(e) = login::signed_in(
        state,
        realm,
        browser,
        Some(interaction),
        user_id,
        proof,
        device,
    )
    .await
    {
        return internal(realm, e);
    }
    with_cookie(after_step(state, realm, interaction).await, browser)
}

/// An upstream account waiting for the local account's password before it is linked to it.
#[derive(Serialize, Deserialize)]
struct PendingLink {
    handle: String,
    user_id: String,
    identity: UpstreamIdentity,
}

async fn ask_for_password(
    state: &AppState,
    realm: &RealmCtx,
    interaction: &Interaction,
    browser: &BrowserSession,
    provider: &Provider,
    identity: UpstreamIdentity,
    user_id: &str,
) -> Response {
    let token = crate::crypto::random::opaque_token();
    let now = state.now();
    let pending = PendingLink {
        handle: interaction.handle.clone(),
        user_id: user_id.to_string(),
        identity,
    };
    let row = BrokerLoginRow {
        id: upstream::state_id(&token),
        realm_id: realm.realm.id.clone(),
        provider_id: provider.id.clone(),
        interaction_id: interaction.id().to_string(),
        sealed: state.upstreams.seal_pending(&pending),
        created_at: now,
        expires_at: now + PENDING_LIFETIME,
    };
    if let Err(e) = store::broker_logins::insert(&state.caches.store.db, row).await {
        return internal(realm, e);
    }
    link_form(realm, interaction, browser, provider, &token, None).await
}

async fn link_form(
    realm: &RealmCtx,
    interaction: &Interaction,
    browser: &BrowserSession,
    provider: &Provider,
    token: &str,
    error: Option<&str>,
) -> Response {
    let csrf = match browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(realm, e),
    };
    let error_html = error
        .map(|e| {
            format!(
                r#"<p class="error" role="alert" id="link-error">{}</p>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"{error_html}<p id="link-explanation">An account with the email address {provider} gave already exists here. Enter that account's password to link your {provider} sign-in to it.</p>
<form method="post" action="/realms/{realm}/broker/{alias}/link">
{csrf}{interaction}{link}
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required autofocus>
<button type="submit">Link and sign in</button>
</form>"#,
        provider = escape(&provider.display_name),
        realm = escape(&realm.realm.name),
        alias = escape(&provider.alias),
        csrf = hidden("csrf", &csrf),
        interaction = hidden("interaction", &interaction.handle),
        link = hidden("link", token),
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    with_cookie(
        html::page(status, realm_label(realm), "Link your account", &body),
        browser,
    )
}

/// `POST /realms/{realm}/broker/{alias}/link`: the password of the local account an upstream
/// sign-in would be linked to.
pub async fn link(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    realm: RealmCtx,
    path: RawPathParams,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let Some(handle) = handle_in(&params) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "Nothing to continue.");
    };
    let (mut interaction, browser) = match bound(&state, &realm, &headers, handle).await {
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
    let Some(alias) = alias_in(&path) else {
        return unknown_provider(&realm);
    };
    let Some(provider) = enabled_provider(&state, &realm, &alias).await else {
        return unknown_provider(&realm);
    };
    let token = params.get("link").unwrap_or_default();
    let id = upstream::state_id(token);
    let now = state.now();
    let db = &state.caches.store.db;
    let gone = || {
        realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "This sign-in has expired. Go back to the application and sign in again.",
        )
    };
    let row = match store::broker_logins::live(db, &realm.realm.id, &id, now).await {
        Ok(Some(row))
            if row.provider_id == provider.id && row.interaction_id == interaction.id() =>
        {
            row
        }
        Ok(_) => return gone(),
        Err(e) => return internal(&realm, e),
    };
    let Some(pending) = state.upstreams.open_pending::<PendingLink>(&row.sealed) else {
        return gone();
    };
    let user = match store::users::find(db, &pending.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return gone(),
        Err(e) => return internal(&realm, e),
    };
    let password = params.get("password").unwrap_or_default();
    // The password counts toward the account's lockout like any sign-in (a directory's
    // user's too).
    let checked = match state
        .accounts
        .authenticate(&realm.realm.id, &user.username, password, now)
        .await
    {
        Ok(checked) => checked,
        Err(e) => return internal(&realm, e),
    };
    if !checked.as_ref().is_ok_and(|u| u.id == user.id) {
        let message = match checked {
            Err(crate::accounts::LoginFailure::DirectoryUnavailable) => {
                "The user directory is unavailable. Please try again later."
            }
            _ => "That password is not right.",
        };
        return link_form(
            &realm,
            &interaction,
            &browser,
            &provider,
            token,
            Some(message),
        )
        .await;
    }
    // One link per proof, however many submissions race.
    match store::broker_logins::take(db, &realm.realm.id, &id, now).await {
        Ok(Some(_)) => {}
        Ok(None) => return gone(),
        Err(e) => return internal(&realm, e),
    }
    let outcome = match federation::link_proven(&state, &provider, &pending.identity, user).await {
        Ok(outcome) => outcome,
        Err(e) => return internal(&realm, e),
    };
    match outcome {
        Outcome::User { user, .. } => {
            let proof = proof_of(&provider, &pending.identity, true);
            let device = super::device_of(&state, peer, &headers);
            sign_in(
                &state,
                &realm,
                &browser,
                &mut interaction,
                &user.id,
                &proof,
                &device,
            )
            .await
        }
        Outcome::Disabled => {
            refused(
                &state,
                &realm,
                &interaction,
                &browser,
                "This account is disabled.",
            )
            .await
        }
        Outcome::LinkedElsewhere | Outcome::ProveExisting { .. } | Outcome::NoAccount => {
            let message = format!(
                "This account is linked to another {} account.",
                provider.display_name
            );
            refused(&state, &realm, &interaction, &browser, &message).await
        }
    }
}

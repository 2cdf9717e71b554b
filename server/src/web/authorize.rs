//! The authorization endpoint over HTTP: parse, let `oauth::authorize` decide, and render the
//! decision — a redirect (or form post) to the client with `state` and `iss` (RFC 9207), an
//! error page, or the page of the login step the browser must take first, in a pending login
//! the browser is bound to. `…/connect/authorize/resume` continues that login after a step.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{self, escape, realm_error_page, realm_label, see_other, with_cookie};
use super::interaction::{bound, handle_in, step_page};
use crate::oauth::authorize::{self, AuthorizeRequest, Decision, Redirect, ResponseMode};
use crate::oauth::form::Params;
use crate::oauth::interaction::{Interaction, Purpose, Step};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};

/// `GET /realms/{realm}/connect/authorize`
pub async fn authorize_get(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    start(&state, &realm, &headers, query.unwrap_or_default()).await
}

/// `POST /realms/{realm}/connect/authorize` (form-encoded parameters).
pub async fn authorize_post(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match String::from_utf8(body.to_vec()) {
        Ok(query) => start(&state, &realm, &headers, query).await,
        Err(_) => realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "The request is not valid form data.",
        ),
    }
}

/// `GET /realms/{realm}/connect/authorize/resume?interaction=…`: a login step is done.
pub async fn resume(
    State(state): State<AppState>,
    realm: RealmCtx,
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
    let Purpose::Authorize { query } = &interaction.purpose else {
        return super::interaction::after_step(&state, &realm, &interaction).await;
    };
    let request = match authorize::parse(&state, &realm, query).await {
        Ok(request) => request,
        Err(decision) => return render(&realm, decision),
    };
    let decision = authorize::decide(&state, &realm, &request, &browser, Some(&interaction)).await;
    match decision {
        Decision::Interact(step) => with_cookie(
            next_page(&state, &realm, &request, &interaction, step).await,
            &browser,
        ),
        decision => render(&realm, decision),
    }
}

/// A new authorization request.
async fn start(state: &AppState, realm: &RealmCtx, headers: &HeaderMap, query: String) -> Response {
    // A pushed or signed request continues with the parameters it stood for.
    let (request, query) = match authorize::arrive(state, realm, &query).await {
        Ok(arrived) => arrived,
        Err(decision) => return render(realm, decision),
    };
    let browser = browser_for(state, realm, headers, &request);
    match authorize::decide(state, realm, &request, &browser, None).await {
        Decision::Interact(step) => {
            let interaction = match Interaction::start(
                state,
                realm,
                &request.client.client_id,
                Purpose::Authorize { query },
                &browser,
            )
            .await
            {
                Ok(interaction) => interaction,
                Err(error) => return render(realm, Decision::refusal(request.redirect(), &error)),
            };
            with_cookie(
                next_page(state, realm, &request, &interaction, step).await,
                &browser,
            )
        }
        decision => render(realm, decision),
    }
}

/// The page of `step`; for the login step of a request with an `idp_hint` naming one of the
/// realm's enabled providers, that provider (an unknown hint shows the login page).
async fn next_page(
    state: &AppState,
    realm: &RealmCtx,
    request: &AuthorizeRequest,
    interaction: &Interaction,
    step: Step,
) -> Response {
    if let (Step::Login, Some(alias)) = (step, request.idp_hint.as_deref()) {
        if super::broker::is_enabled(state, realm, alias).await {
            return super::broker::start_page(realm, interaction, alias);
        }
    }
    step_page(realm, interaction, step)
}

fn browser_for(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    request: &AuthorizeRequest,
) -> BrowserSession {
    BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, Some(&request.client.client_id)),
        state.secure_cookies(),
    )
}

/// A decision that needs no pending login, as HTTP.
pub fn render(realm: &RealmCtx, decision: Decision) -> Response {
    match decision {
        Decision::Respond { to, params } => to_client(realm, &to, &params),
        Decision::ErrorPage(message) => realm_error_page(realm, StatusCode::BAD_REQUEST, &message),
        Decision::Interact(_) => {
            crate::oauth::error::OAuthError::server_error("a login step outside a pending login")
                .into_response()
        }
    }
}

/// Sends response parameters to the client with `state` and `iss` (RFC 9207).
pub fn to_client(realm: &RealmCtx, to: &Redirect, pairs: &[(&str, String)]) -> Response {
    let mut all: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(state) = &to.state {
        all.push(("state", state));
    }
    all.push(("iss", &realm.issuer));
    match to.mode {
        ResponseMode::Query => {
            let mut url = to.uri.clone();
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(all)
                .finish();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encoded);
            see_other(&url)
        }
        ResponseMode::FormPost => {
            let fields: String = all.iter().map(|(k, v)| html::hidden(k, v)).collect();
            let body = format!(
                r#"<form method="post" action="{}">{fields}<noscript><button type="submit">Continue</button></noscript></form>
<script>document.forms[0].submit()</script>"#,
                escape(&to.uri)
            );
            html::page(StatusCode::OK, realm_label(realm), "Signing you in…", &body)
        }
    }
}

//! The consent page, the consent step of a pending login: what the client asks for, with
//! `decision=allow` and `decision=deny` buttons. Allowing is remembered per user, client and
//! scopes; denying sends `access_denied` back to the client.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::authorize::{render, to_client};
use super::html::{self, escape, hidden, realm_error_page, realm_label, with_cookie};
use super::interaction::{after_step, bound, handle_in};
use crate::oauth::authorize::{self, current_sign_in, AuthorizeRequest};
use crate::oauth::error::OAuthError;
use crate::oauth::form::Params;
use crate::oauth::interaction::{consent, Interaction, Purpose};
use crate::sessions::BrowserSession;
use crate::state::{AppState, RealmCtx};

/// The pending login named by `params`, its authorization request and the browser session.
async fn context(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(Interaction, AuthorizeRequest, BrowserSession), Response> {
    let Some(handle) = handle_in(params) else {
        return Err(realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "Nothing to consent to.",
        ));
    };
    let (interaction, browser) = bound(state, realm, headers, handle).await?;
    let Purpose::Authorize { query } = &interaction.purpose else {
        return Err(realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "Nothing to consent to.",
        ));
    };
    let request = authorize::parse(state, realm, query)
        .await
        .map_err(|decision| render(realm, decision))?;
    Ok((interaction, request, browser))
}

/// `GET /realms/{realm}/consent?interaction=…`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let (interaction, request, browser) = match context(&state, &realm, &headers, &params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match current_sign_in(&state, &realm, &browser).await {
        Ok(Some(_)) => {}
        Ok(None) => return after_step(&state, &realm, &interaction).await,
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
{csrf}{interaction}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>"#,
        client = escape(client),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
        interaction = hidden("interaction", &interaction.handle),
    );
    with_cookie(
        html::page(StatusCode::OK, realm_label(&realm), "Allow access?", &body),
        &browser,
    )
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
    let (mut interaction, request, browser) = match context(&state, &realm, &headers, &params).await
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
    let sign_in = match current_sign_in(&state, &realm, &browser).await {
        Ok(Some((sign_in, _))) => sign_in,
        Ok(None) => return after_step(&state, &realm, &interaction).await,
        Err(e) => return e.into_response(),
    };
    match params.get("decision") {
        Some("allow") => {
            let allowed =
                consent::allowed(&state, &realm, &mut interaction, &request, &sign_in.user_id);
            if let Err(e) = allowed.await {
                return e.into_response();
            }
            after_step(&state, &realm, &interaction).await
        }
        // The login stays open until it expires: the user may go back and allow after all.
        Some("deny") => to_client(
            &realm,
            &request.redirect(),
            &[
                ("error", "access_denied".to_string()),
                (
                    "error_description",
                    "the user denied the request".to_string(),
                ),
            ],
        ),
        _ => realm_error_page(&realm, StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
}

//! The browser side of a pending login (`oauth::interaction`): finding the one a page is asked
//! to continue, bound to the browser that started it, and moving between its steps.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{realm_error_page, see_other};
use crate::oauth::form::Params;
use crate::oauth::interaction::{Interaction, Purpose, Step};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};

/// The handle a page's query or form names (`interaction=`).
pub fn handle_in(params: &Params) -> Option<&str> {
    params.get("interaction").filter(|h| !h.is_empty())
}

/// The pending login `handle` names with the browser session that started it, or the page
/// that says it is gone: expired, finished, or started in another browser.
pub async fn bound(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    handle: &str,
) -> Result<(Interaction, BrowserSession), Response> {
    let gone = || {
        realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was started in another browser. Go back to the \
             application and sign in again.",
        )
    };
    let interaction = match Interaction::find(state, realm, handle).await {
        Ok(Some(interaction)) => interaction,
        Ok(None) => return Err(gone()),
        Err(error) => return Err(error.into_response()),
    };
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, Some(&interaction.client_id)),
        state.secure_cookies(),
    );
    if !interaction.started_by(&browser).await {
        return Err(gone());
    }
    Ok((interaction, browser))
}

/// The page of `step` in `interaction`.
pub fn step_page(realm: &RealmCtx, interaction: &Interaction, step: Step) -> Response {
    see_other(&format!(
        "/realms/{}/{}?{}",
        realm.realm.name,
        step.name(),
        query_of(interaction)
    ))
}

/// Where the browser goes once a step is done: the authorization endpoint resumes the request
/// (and sends it to the next step due, or back to the client); a device approval returns to
/// the device page and a sign-in to the account console to the console, which both ask for
/// what the session still lacks (a second factor, a new password).
pub async fn after_step(state: &AppState, realm: &RealmCtx, interaction: &Interaction) -> Response {
    match &interaction.purpose {
        // The console itself sends the browser on to whatever the session still lacks.
        Purpose::Account => {
            if let Err(error) = interaction.finish(&state.caches.store.db).await {
                return error.into_response();
            }
            see_other(&format!("/realms/{}/account", realm.realm.name))
        }
        Purpose::Authorize { .. } => see_other(&format!(
            "/realms/{}/connect/authorize/resume?{}",
            realm.realm.name,
            query_of(interaction)
        )),
        Purpose::Device { user_code } => {
            if let Err(error) = interaction.finish(&state.caches.store.db).await {
                return error.into_response();
            }
            see_other(&format!(
                "/realms/{}/device?{}",
                realm.realm.name,
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("user_code", user_code)
                    .finish()
            ))
        }
    }
}

fn query_of(interaction: &Interaction) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("interaction", &interaction.handle)
        .finish()
}

//! The verify-email step's page and the link it mails (CONTRACT §8). In a pending login,
//! `/realms/{r}/verify-email?interaction=…` mails a link (once while it is live; `resend` sends
//! another) and waits with a "Continue" button; `/realms/{r}/verify-email?token=…` is the link:
//! it verifies the address once, in whatever browser it is opened.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{self, escape, hidden, realm_error_page, realm_label, with_cookie};
use super::interaction::{after_step, bound, handle_in, step_page};
use crate::oauth::authorize::current_sign_in;
use crate::oauth::form::Params;
use crate::oauth::interaction::{verify_email, Interaction, Step};
use crate::self_service::{self, VerificationMail};
use crate::sessions::BrowserSession;
use crate::state::{AppState, RealmCtx};
use crate::store::{self, users::StoredUser};

fn internal(realm: &RealmCtx, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "email verification failed");
    realm_error_page(
        realm,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
}

async fn context(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    handle: &str,
) -> Result<(Interaction, BrowserSession, StoredUser), Response> {
    let (interaction, browser) = bound(state, realm, headers, handle).await?;
    let user_id = match current_sign_in(state, realm, &browser).await {
        Ok(Some((sign_in, _))) => sign_in.user_id,
        Ok(None) => return Err(step_page(realm, &interaction, Step::Login)),
        Err(e) => return Err(e.into_response()),
    };
    match store::users::find(&state.caches.store.db, &user_id).await {
        Ok(Some(user)) => Ok((interaction, browser, user)),
        Ok(None) => Err(step_page(realm, &interaction, Step::Login)),
        Err(e) => Err(internal(realm, e)),
    }
}

async fn waiting(
    realm: &RealmCtx,
    interaction: &Interaction,
    browser: &BrowserSession,
    user: &StoredUser,
    sent: VerificationMail,
    status: StatusCode,
    note: Option<&str>,
) -> Response {
    if sent == VerificationMail::Impossible {
        return realm_error_page(
            realm,
            StatusCode::SERVICE_UNAVAILABLE,
            "This sign-in needs a verified email address, but no mail can be sent to it here. \
             Ask your administrator.",
        );
    }
    let csrf = browser.csrf_token().await.unwrap_or_default();
    let note = note
        .map(|n| {
            format!(
                r#"<p class="error" role="alert" id="verify-note">{}</p>"#,
                escape(n)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"{note}<p>We sent a link to <strong id="verify-address">{address}</strong>. Open it to verify your address, then continue here.</p>
<form method="post" action="/realms/{realm}/verify-email">
{csrf}{interaction}
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="resend" class="secondary">Send the link again</button>
</form>"#,
        address = escape(user.email.as_deref().unwrap_or_default()),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", &csrf),
        interaction = hidden("interaction", &interaction.handle),
    );
    with_cookie(
        html::page(
            status,
            realm_label(realm),
            "Verify your email address",
            &body,
        ),
        browser,
    )
}

/// `GET /realms/{realm}/verify-email?interaction=…` (the waiting page) or `?token=…` (the link).
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let now = state.now();
    if let Some(token) = params.get("token") {
        return match self_service::verify_email(&state, &realm, token, now).await {
            Ok(true) => html::page(
                StatusCode::OK,
                realm_label(&realm),
                "Email address verified",
                r#"<p id="verified">Your email address is verified. Go back to the sign-in and continue.</p>"#,
            ),
            Ok(false) => realm_error_page(
                &realm,
                StatusCode::BAD_REQUEST,
                "This link has expired or was already used. Sign in again to get a new one.",
            ),
            Err(e) => internal(&realm, e),
        };
    }
    let Some(handle) = handle_in(&params) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "Nothing to verify.");
    };
    let (interaction, browser, user) = match context(&state, &realm, &headers, handle).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match verify_email::pending(&state, &user.id).await {
        Ok(true) => {}
        Ok(false) => return after_step(&state, &realm, &interaction).await,
        Err(e) => return e.into_response(),
    }
    let sent = match self_service::send_verification(&state, &realm, &user, false, now).await {
        Ok(sent) => sent,
        Err(e) => return internal(&realm, e),
    };
    waiting(
        &realm,
        &interaction,
        &browser,
        &user,
        sent,
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /realms/{realm}/verify-email`: `action=continue` or `action=resend`.
pub async fn submit(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let Some(handle) = handle_in(&params) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "Nothing to verify.");
    };
    let (interaction, browser, user) = match context(&state, &realm, &headers, handle).await {
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
    match verify_email::pending(&state, &user.id).await {
        Ok(true) => {}
        Ok(false) => return with_cookie(after_step(&state, &realm, &interaction).await, &browser),
        Err(e) => return e.into_response(),
    }
    let now = state.now();
    if params.get("action") == Some("resend") {
        let sent = match self_service::send_verification(&state, &realm, &user, true, now).await {
            Ok(sent) => sent,
            Err(e) => return internal(&realm, e),
        };
        let note = "A new link is on its way.";
        return waiting(
            &realm,
            &interaction,
            &browser,
            &user,
            sent,
            StatusCode::OK,
            Some(note),
        )
        .await;
    }
    let note = "The address is not verified yet: open the link in the mail first.";
    waiting(
        &realm,
        &interaction,
        &browser,
        &user,
        VerificationMail::AlreadySent,
        StatusCode::CONFLICT,
        Some(note),
    )
    .await
}

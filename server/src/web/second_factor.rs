//! The second-factor page, the second-factor step of a pending login (CONTRACT §8): a plain
//! `<form method="post">` with one input, `code`, which takes a TOTP code or a recovery code.
//! A user who has no TOTP yet gets the enrolment form instead: the secret as text, its
//! `otpauth://` URI as a QR code rendered on the server (no script needed), and the same `code`
//! input to confirm it; the recovery codes are then shown once. Wrong codes re-render the form
//! (401); a locked account gets 429.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

use super::html::{self, escape, hidden, realm_error_page, realm_label, with_cookie};
use super::interaction::{after_step, bound, handle_in, step_page};
use super::passkeys::{location_answer, refusal};
use crate::factors::{passkeys, Enrolled, Enrolment, TotpOffer, Verdict};
use crate::oauth::authorize::current_sign_in;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Params;
use crate::oauth::interaction::{second_factor, Interaction, Step};
use crate::sessions::{BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, users::StoredUser};
use crate::tokens::id_token::ACR_TWO_FACTORS;

const TITLE: &str = "Second factor";
const ENROL_TITLE: &str = "Set up an authenticator app";

/// The pending login, the browser and the user signed in to it; or where to go instead.
struct Context {
    interaction: Interaction,
    browser: BrowserSession,
    sign_in: SignIn,
    /// The session's level: 2 once a second factor was given in it.
    session_acr: Option<String>,
    user: StoredUser,
}

async fn context(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Context, Response> {
    let Some(handle) = handle_in(params) else {
        return Err(realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "There is no sign-in to continue.",
        ));
    };
    let (interaction, browser) = bound(state, realm, headers, handle).await?;
    let (sign_in, session) = match current_sign_in(state, realm, &browser).await {
        Ok(Some(found)) => found,
        // Signed out meanwhile: the login step is due again.
        Ok(None) => return Err(step_page(realm, &interaction, Step::Login)),
        Err(e) => return Err(e.into_response()),
    };
    let user = match store::users::find(&state.caches.store.db, &sign_in.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(step_page(realm, &interaction, Step::Login)),
        Err(e) => return Err(OAuthError::from(e).into_response()),
    };
    Ok(Context {
        interaction,
        browser,
        sign_in,
        session_acr: session.acr,
        user,
    })
}

/// What the page does for the signed-in user now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Ask for a code of the user's app (or a recovery code).
    Verify,
    /// Set up an app: the user has none, or an administrator asked for a new one and the old
    /// one was given first (so a password alone never replaces a second factor).
    Enrol,
    /// Nothing left: on to the next step.
    Done,
}

async fn mode(state: &AppState, context: &Context) -> Result<Mode, Response> {
    let enrolled = state
        .factors
        .enrolled(&context.user.id)
        .await
        .map_err(|e| OAuthError::server_error(e).into_response())?;
    if !enrolled.any() {
        return Ok(Mode::Enrol);
    }
    let asked = second_factor::enrolment_asked(state, &context.user.id)
        .await
        .map_err(IntoResponse::into_response)?;
    let proved = context.session_acr.as_deref() == Some(ACR_TWO_FACTORS);
    let done_here = context.interaction.user_id.as_deref()
        == Some(context.sign_in.user_id.as_str())
        && context.interaction.done.contains(&Step::SecondFactor);
    Ok(match (asked, proved || done_here) {
        (true, true) => Mode::Enrol,
        (true, false) | (false, false) => Mode::Verify,
        (false, true) if done_here => Mode::Done,
        (false, true) => Mode::Verify,
    })
}

fn error_line(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                r#"<p class="error" role="alert" id="code-error">{}</p>"#,
                escape(e)
            )
        })
        .unwrap_or_default()
}

fn code_form(
    realm: &RealmCtx,
    context: &Context,
    enrolled: &Enrolled,
    csrf: &str,
    error: Option<&str>,
) -> String {
    let passkey = if enrolled.passkeys > 0 {
        format!(
            r#"<form method="post" class="passkey-sign-in" action="/realms/{realm}/second-factor/passkey" data-options="/realms/{realm}/second-factor/passkey/options">
{csrf}{interaction}
<button type="submit" id="passkey-second-factor" class="secondary">Use a passkey</button>
</form>
<script src="/assets/passkeys.js" defer></script>"#,
            realm = escape(&realm.realm.name),
            csrf = hidden("csrf", csrf),
            interaction = hidden("interaction", &context.interaction.handle),
        )
    } else {
        String::new()
    };
    let prompt = if enrolled.totp {
        "Enter the six-digit code from your authenticator app, or one of your recovery codes."
    } else {
        "Use your passkey, or enter one of your recovery codes."
    };
    format!(
        r#"{error}<p>{prompt}</p>
<form method="post" action="/realms/{realm}/second-factor">
{csrf}{interaction}
<label for="code">Code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit">Verify</button>
</form>
{passkey}"#,
        error = error_line(error),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", csrf),
        interaction = hidden("interaction", &context.interaction.handle),
    )
}

fn enrol_form(
    realm: &RealmCtx,
    context: &Context,
    offer: &TotpOffer,
    csrf: &str,
    error: Option<&str>,
) -> String {
    // The SVG is generated from our own URI by the QR encoder: markup, not user text.
    let qr = offer
        .qr_svg
        .as_deref()
        .map(|svg| format!(r#"<figure class="qr" aria-label="QR code">{svg}</figure>"#))
        .unwrap_or_default();
    format!(
        r#"{error}<p>This sign-in needs a second factor. Scan the QR code with an authenticator app, or enter the key by hand, then type the code the app shows.</p>
{qr}
<p>Key: <code id="totp-secret">{secret}</code></p>
<p class="muted"><a id="totp-uri" href="{uri}">Open in an authenticator app on this device</a></p>
<form method="post" action="/realms/{realm}/second-factor">
{csrf}{interaction}
<label for="code">Code from the app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit">Confirm</button>
</form>"#,
        error = error_line(error),
        secret = escape(&offer.secret_base32),
        uri = escape(&offer.uri),
        realm = escape(&realm.realm.name),
        csrf = hidden("csrf", csrf),
        interaction = hidden("interaction", &context.interaction.handle),
    )
}

fn recovery_page(realm: &RealmCtx, context: &Context, codes: &[String]) -> String {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", escape(c)))
        .collect();
    format!(
        r#"<p>Your authenticator app is set up. Keep these recovery codes somewhere safe: each one signs you in once if you lose the app. They are shown only now.</p>
<ul id="recovery-codes">{items}</ul>
<form method="get" action="/realms/{realm}/second-factor">
{interaction}
<button type="submit">Continue</button>
</form>"#,
        realm = escape(&realm.realm.name),
        interaction = hidden("interaction", &context.interaction.handle),
    )
}

fn internal(realm: &RealmCtx, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "second-factor page failed");
    realm_error_page(
        realm,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
}

/// The form the user needs now: the code form, or enrolment when they have no TOTP yet.
async fn render(
    state: &AppState,
    realm: &RealmCtx,
    context: &Context,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let csrf = match context.browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(realm, e),
    };
    let mode = match mode(state, context).await {
        Ok(mode) => mode,
        Err(response) => return response,
    };
    let page = if mode != Mode::Enrol {
        let enrolled = match state.factors.enrolled(&context.user.id).await {
            Ok(enrolled) => enrolled,
            Err(e) => return internal(realm, e),
        };
        html::page(
            status,
            realm_label(realm),
            TITLE,
            &code_form(realm, context, &enrolled, &csrf, error),
        )
    } else {
        let offer = match state
            .factors
            .offer_totp(&context.user, realm_label(realm), state.now())
            .await
        {
            Ok(offer) => offer,
            Err(e) => return internal(realm, e),
        };
        html::page(
            status,
            realm_label(realm),
            ENROL_TITLE,
            &enrol_form(realm, context, &offer, &csrf, error),
        )
    };
    with_cookie(page, &context.browser)
}

/// `GET /realms/{realm}/second-factor?interaction=…`
pub async fn show(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let context = match context(&state, &realm, &headers, &params).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    match mode(&state, &context).await {
        Ok(Mode::Done) => after_step(&state, &realm, &context.interaction).await,
        Ok(_) => render(&state, &realm, &context, StatusCode::OK, None).await,
        Err(response) => response,
    }
}

/// `POST /realms/{realm}/second-factor`
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = state.client_ip(Some(peer.ip()), &headers);
    if let Err(limited) = state.limit_ip(&realm.realm, crate::rate_limit::Group::Login, ip) {
        return super::html::too_many_page(&realm, limited);
    }
    let Ok(params) = Params::parse(&body) else {
        return realm_error_page(&realm, StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let mut context = match context(&state, &realm, &headers, &params).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    if !context.browser.csrf_matches(params.get("csrf")).await {
        return realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "The form has expired or did not come from this site. Go back and try again.",
        );
    }
    let mode = match mode(&state, &context).await {
        Ok(Mode::Done) => return after_step(&state, &realm, &context.interaction).await,
        Ok(mode) => mode,
        Err(response) => return response,
    };
    let code = params.get("code").unwrap_or_default();
    let now = state.now();
    if mode == Mode::Enrol {
        let outcome = state
            .factors
            .confirm_totp(&state.accounts, &context.user, code, now)
            .await;
        return match outcome {
            Ok(Enrolment::Confirmed { recovery_codes }) => {
                if let Err(e) = second_factor::proved(
                    &state,
                    &mut context.interaction,
                    &context.sign_in,
                    None,
                    now,
                )
                .await
                {
                    return internal(&realm, e);
                }
                let body = recovery_page(&realm, &context, &recovery_codes);
                with_cookie(
                    html::page(
                        StatusCode::OK,
                        realm_label(&realm),
                        "Save your recovery codes",
                        &body,
                    ),
                    &context.browser,
                )
            }
            Ok(Enrolment::Wrong) => {
                let message = "That code is not right. Check the app and try again.";
                render(
                    &state,
                    &realm,
                    &context,
                    StatusCode::UNAUTHORIZED,
                    Some(message),
                )
                .await
            }
            Ok(Enrolment::Locked) => locked(&state, &realm, &context).await,
            Ok(Enrolment::NothingPending) => {
                render(&state, &realm, &context, StatusCode::OK, None).await
            }
            Err(e) => internal(&realm, e),
        };
    }
    match state
        .factors
        .verify(&state.accounts, &context.user, code, now)
        .await
    {
        Ok(Verdict::Totp | Verdict::RecoveryCode) => {
            if let Err(e) = second_factor::proved(
                &state,
                &mut context.interaction,
                &context.sign_in,
                None,
                now,
            )
            .await
            {
                return internal(&realm, e);
            }
            with_cookie(
                after_step(&state, &realm, &context.interaction).await,
                &context.browser,
            )
        }
        Ok(Verdict::Wrong) => {
            render(
                &state,
                &realm,
                &context,
                StatusCode::UNAUTHORIZED,
                Some("That code is not valid or was already used."),
            )
            .await
        }
        Ok(Verdict::Locked) => locked(&state, &realm, &context).await,
        Err(e) => internal(&realm, e),
    }
}

async fn locked(state: &AppState, realm: &RealmCtx, context: &Context) -> Response {
    render(
        state,
        realm,
        context,
        StatusCode::TOO_MANY_REQUESTS,
        Some("Too many wrong codes: the account is locked for a while. Try again later."),
    )
    .await
}

/// Where a second-factor passkey ceremony's challenge waits between the two requests.
const PASSKEY_STATE: &str = "passkey_second_factor";

/// `POST /realms/{realm}/second-factor/passkey/options` (form fields `csrf`, `interaction`).
pub async fn passkey_options(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return refusal(StatusCode::BAD_REQUEST, "invalid_request", "malformed form");
    };
    let context = match context(&state, &realm, &headers, &params).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    if !context.browser.csrf_matches(params.get("csrf")).await {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Reload the page and try again.",
        );
    }
    let webauthn = match passkeys::relying_party(&state.public_url, realm_label(&realm)) {
        Ok(webauthn) => webauthn,
        Err(e) => return internal(&realm, e),
    };
    let started = state
        .factors
        .start_passkey_second_factor(&webauthn, &context.user)
        .await;
    let (options, ceremony) = match started {
        Ok(started) => started,
        Err(e) => return internal(&realm, e),
    };
    if let Err(e) = context.browser.put_state(PASSKEY_STATE, &ceremony).await {
        return internal(&realm, e);
    }
    with_cookie(axum::Json(options).into_response(), &context.browser)
}

#[derive(serde::Deserialize)]
struct PasskeyAnswer {
    csrf: String,
    interaction: String,
    credential: PublicKeyCredential,
}

/// `POST /realms/{realm}/second-factor/passkey` (JSON `csrf`, `interaction`, `credential`).
pub async fn passkey(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(answer) = serde_json::from_slice::<PasskeyAnswer>(&body) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The answer is not a WebAuthn assertion.",
        );
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("interaction", &answer.interaction)
        .finish();
    let Ok(params) = Params::parse(query.as_bytes()) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "malformed interaction",
        );
    };
    let mut context = match context(&state, &realm, &headers, &params).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    if !context.browser.csrf_matches(Some(&answer.csrf)).await {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Reload the page and try again.",
        );
    }
    let Some(ceremony) = context
        .browser
        .take_state::<PasskeyAuthentication>(PASSKEY_STATE)
        .await
    else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No passkey check was started here, or it was already used. Try again.",
        );
    };
    let webauthn = match passkeys::relying_party(&state.public_url, realm_label(&realm)) {
        Ok(webauthn) => webauthn,
        Err(e) => return internal(&realm, e),
    };
    let now = state.now();
    let checked = state
        .factors
        .finish_passkey_second_factor(&webauthn, &context.user, &answer.credential, &ceremony, now)
        .await;
    let synced = match checked {
        Ok(Ok(synced)) => synced,
        Ok(Err(why)) => {
            tracing::info!(realm = %realm.realm.name, why, "passkey second factor refused");
            return refusal(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "That passkey cannot be used here.",
            );
        }
        Err(e) => return internal(&realm, e),
    };
    let amr = Some(crate::factors::amr_with_passkey(synced));
    if let Err(e) =
        second_factor::proved(&state, &mut context.interaction, &context.sign_in, amr, now).await
    {
        return internal(&realm, e);
    }
    let next = after_step(&state, &realm, &context.interaction).await;
    location_answer(next, &context.browser)
}

//! The account console at `/realms/{realm}/account` (CONTRACT §8): the user's own pages, signed in
//! through the realm like any application (a pending login of purpose `Account`, with the second
//! factor the realm asks for). Plain forms, each with a CSRF token: password change, an
//! authenticator app (set up, replace, remove), passkeys (add, remove; adding one needs the
//! page's script), recovery codes (new set, shown once), and the live sessions with "sign out
//! everywhere".

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::html::{self, escape, hidden, realm_error_page, realm_label, see_other, with_cookie};
use super::interaction::step_page;
use super::passkeys::refusal;
use crate::domain::RealmMfa;
use crate::factors::{passkeys, Enrolment, TotpOffer};
use crate::oauth::authorize::current_sign_in;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Params;
use crate::oauth::interaction::{
    due_outside_authorize, Interaction, Purpose, Step, ACCOUNT_CONSOLE,
};
use crate::self_service::{self, PasswordChange, ProfileChange, SELF};
use crate::sessions::{cookie_name, BrowserSession};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, users::StoredUser};

/// The signed-in user of the console, or the page that signs them in first.
struct Console {
    browser: BrowserSession,
    user: StoredUser,
    sid: String,
}

fn browser_of(state: &AppState, realm: &RealmCtx, headers: &HeaderMap) -> BrowserSession {
    BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, Some(ACCOUNT_CONSOLE)),
        state.secure_cookies(),
    )
}

/// Starts a sign-in to the console at `step`.
async fn sign_in_at(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
    step: Step,
) -> Response {
    match Interaction::start(state, realm, ACCOUNT_CONSOLE, Purpose::Account, browser).await {
        Ok(interaction) => with_cookie(step_page(realm, &interaction, step), browser),
        Err(e) => e.into_response(),
    }
}

async fn console(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
) -> Result<Console, Response> {
    if realm.realm.decentralized {
        return Err(realm_error_page(
            realm,
            StatusCode::NOT_FOUND,
            "This realm holds no user accounts.",
        ));
    }
    let browser = browser_of(state, realm, headers);
    let (sign_in, session) = match current_sign_in(state, realm, &browser).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(sign_in_at(state, realm, &browser, Step::Login).await),
        Err(e) => return Err(e.into_response()),
    };
    // What the realm asks of this user's sign-in (a second factor, a new password) comes
    // before the console too.
    match due_outside_authorize(
        state,
        &realm.realm,
        None,
        &sign_in.user_id,
        session.acr.as_deref(),
        &[],
    )
    .await
    {
        Ok(Some(step)) => return Err(sign_in_at(state, realm, &browser, step).await),
        Ok(None) => {}
        Err(e) => return Err(e.into_response()),
    }
    let user = match store::users::find(&state.caches.store.db, &sign_in.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(sign_in_at(state, realm, &browser, Step::Login).await),
        Err(e) => return Err(OAuthError::from(e).into_response()),
    };
    Ok(Console {
        browser,
        user,
        sid: sign_in.sid,
    })
}

/// The same console with the user as stored now (after a change to their record).
async fn console_reloaded(
    state: &AppState,
    realm: &RealmCtx,
    console: Console,
) -> Result<Console, Response> {
    match store::users::find(&state.caches.store.db, &console.user.id).await {
        Ok(Some(user)) => Ok(Console { user, ..console }),
        Ok(None) => Err(sign_in_at(state, realm, &console.browser, Step::Login).await),
        Err(e) => Err(OAuthError::from(e).into_response()),
    }
}

/// The console for a form post: signed in, with a matching CSRF token.
async fn console_for_post(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Console, Params), Response> {
    let Ok(params) = Params::parse(body) else {
        return Err(realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "The form is malformed.",
        ));
    };
    let console = console(state, realm, headers).await?;
    if !console.browser.csrf_matches(params.get("csrf")).await {
        return Err(realm_error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "The form has expired or did not come from this site. Go back and try again.",
        ));
    }
    Ok((console, params))
}

fn internal(realm: &RealmCtx, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "account console failed");
    realm_error_page(
        realm,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
}

fn notice(class: &str, text: Option<&str>) -> String {
    text.map(|t| {
        format!(
            r#"<p class="{class}" role="alert" id="account-{class}">{}</p>"#,
            escape(t)
        )
    })
    .unwrap_or_default()
}

fn page(
    realm: &RealmCtx,
    console: &Console,
    status: StatusCode,
    title: &str,
    body: &str,
) -> Response {
    with_cookie(
        html::page(status, realm_label(realm), title, body),
        &console.browser,
    )
}

fn path(realm: &RealmCtx, rest: &str) -> String {
    format!("/realms/{}/account{rest}", escape(&realm.realm.name))
}

/// The console's main page, with an optional message (`ok` or `error`).
async fn overview(
    state: &AppState,
    realm: &RealmCtx,
    console: &Console,
    status: StatusCode,
    message: Option<(&str, &str)>,
) -> Response {
    let csrf = match console.browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(realm, e),
    };
    let now = state.now();
    let (enrolled, sessions, passkeys) = match (
        state.factors.enrolled(&console.user.id).await,
        self_service::sessions(state, &console.user.id, now).await,
        state.factors.passkeys(&console.user.id).await,
    ) {
        (Ok(enrolled), Ok(sessions), Ok(passkeys)) => (enrolled, sessions, passkeys),
        (Err(e), _, _) | (_, _, Err(e)) => return internal(realm, e),
        (_, Err(e), _) => return internal(realm, e),
    };
    let links = match self_service::links(state, &console.user.id).await {
        Ok(links) => links,
        Err(e) => return internal(realm, e),
    };
    let user = &console.user;
    let name = user
        .claims
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let csrf_field = hidden("csrf", &csrf);
    let authenticator = if enrolled.totp {
        let remove = if realm.realm.mfa == RealmMfa::Required {
            String::new()
        } else {
            format!(
                r#"<form method="post" action="{action}">{csrf_field}<button type="submit" class="secondary">Remove</button></form>"#,
                action = path(realm, "/totp/remove"),
            )
        };
        format!(
            r#"<p id="totp-status">An authenticator app is set up.</p>
<p><a href="{setup}">Replace it with another app</a></p>{remove}"#,
            setup = path(realm, "/totp"),
        )
    } else {
        format!(
            r#"<p id="totp-status">No authenticator app is set up.</p><p><a href="{setup}">Set up an authenticator app</a></p>"#,
            setup = path(realm, "/totp"),
        )
    };
    let recovery = format!(
        r#"<p id="recovery-status">{count} unused recovery codes.</p>
<form method="post" action="{action}">{csrf_field}<button type="submit" class="secondary">Generate new recovery codes</button></form>"#,
        count = enrolled.recovery_codes,
        action = path(realm, "/recovery-codes"),
    );
    let passkey_rows: String = passkeys
        .iter()
        .map(|p| {
            format!(
                r#"<li><span class="passkey-name">{name}</span> · added {added}{used}
<form method="post" action="{rename}">{csrf_field}{id}<label>New name <input type="text" name="name" value="{name}" maxlength="64" required></label><button type="submit" class="secondary">Rename</button></form>
<form method="post" action="{action}">{csrf_field}{id}<button type="submit" class="secondary">Remove</button></form></li>"#,
                rename = path(realm, "/passkeys/rename"),
                name = escape(p.label.as_deref().unwrap_or("Passkey")),
                added = p.created_at.format("%Y-%m-%d"),
                used = p
                    .last_used_at
                    .map(|t| format!(" · last used {}", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default(),
                action = path(realm, "/passkeys/remove"),
                id = hidden("id", &p.id),
            )
        })
        .collect();
    let session_rows: String = sessions
        .iter()
        .map(|s| {
            let clients = store::sessions::client_ids(s)
                .unwrap_or_default()
                .join(", ");
            format!(
                "<li>Signed in {started} · last active {seen}{this}{clients}</li>",
                started = s.auth_time.format("%Y-%m-%d %H:%M UTC"),
                seen = s.last_seen_at.format("%Y-%m-%d %H:%M UTC"),
                this = if s.id == console.sid {
                    " · <strong>this browser</strong>"
                } else {
                    ""
                },
                clients = if clients.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", escape(&clients))
                },
            )
        })
        .collect();
    let link_rows: String = links
        .iter()
        .map(|l| {
            format!(
                r#"<li><span class="link-provider">{provider}</span>{upstream} · since {since}
<form method="post" action="{action}">{csrf_field}{alias}<button type="submit" class="secondary">Remove</button></form></li>"#,
                provider = escape(&l.display_name),
                upstream = l
                    .link
                    .upstream_username
                    .as_deref()
                    .map(|u| format!(" as {}", escape(u)))
                    .unwrap_or_default(),
                since = l.link.created_at.format("%Y-%m-%d"),
                action = path(realm, "/links/remove"),
                alias = hidden("provider", &l.alias),
            )
        })
        .collect();
    let links_section = if links.is_empty() {
        String::new()
    } else {
        format!(
            r#"<h2>Linked accounts</h2>
<ul id="links">{link_rows}</ul>
"#
        )
    };
    let (ok, error) = match message {
        Some(("ok", text)) => (Some(text), None),
        Some((_, text)) => (None, Some(text)),
        None => (None, None),
    };
    let body = format!(
        r#"{ok}{error}
<h2>Profile</h2>
<dl><dt>Username</dt><dd id="profile-username">{username}</dd><dt>Email</dt><dd id="profile-email">{email}{verified}</dd></dl>
<form method="post" action="{profile_action}" id="profile">
{csrf_field}
<label for="profile-name">Name</label>
<input type="text" id="profile-name" name="name" value="{name}" maxlength="200" autocomplete="name">
<label for="profile-new-email">Email</label>
<input type="email" id="profile-new-email" name="email" value="{email}" maxlength="254" autocomplete="email">
<label for="profile-password">Current password <span class="hint">(only to change the email address)</span></label>
<input type="password" id="profile-password" name="current_password" autocomplete="current-password">
<button type="submit">Save profile</button>
</form>
<h2>Password</h2>
<form method="post" action="{password_action}">
{csrf_field}
<label for="current_password">Current password</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" required>
<button type="submit">Change password</button>
</form>
<h2>Authenticator app</h2>
{authenticator}
<h2>Passkeys</h2>
<ul id="passkeys">{passkey_rows}</ul>
<form method="post" class="passkey-register" action="{passkey_action}" data-options="{passkey_options}">
{csrf_field}
<label for="passkey-name">Name of the new passkey</label>
<input type="text" id="passkey-name" name="name" value="Passkey" maxlength="64" required>
<button type="submit" id="passkey-register">Add a passkey</button>
</form>
<script src="/assets/passkeys.js" defer></script>
<h2>Recovery codes</h2>
{recovery}
{links_section}<h2>Sessions</h2>
<ul id="sessions">{session_rows}</ul>
<form method="post" action="{sessions_action}">{csrf_field}<button type="submit" class="secondary">Sign out everywhere</button></form>"#,
        ok = notice("ok", ok),
        error = notice("error", error),
        username = escape(&user.username),
        email = escape(user.email.as_deref().unwrap_or("")),
        name = escape(name),
        verified = match (&user.email, user.email_verified) {
            (Some(_), true) => " (verified)",
            (Some(_), false) => " (not verified)",
            (None, _) => "",
        },
        profile_action = path(realm, "/profile"),
        password_action = path(realm, "/password"),
        passkey_action = path(realm, "/passkeys"),
        passkey_options = path(realm, "/passkeys/options"),
        sessions_action = path(realm, "/sessions/end"),
    );
    page(realm, console, status, "Your account", &body)
}

/// `GET /realms/{realm}/account`
pub async fn show(State(state): State<AppState>, realm: RealmCtx, headers: HeaderMap) -> Response {
    match console(&state, &realm, &headers).await {
        Ok(console) => overview(&state, &realm, &console, StatusCode::OK, None).await,
        Err(response) => response,
    }
}

/// `POST /realms/{realm}/account/profile`: `name`, `email`, and `current_password` when the
/// email address changes.
pub async fn update_profile(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, params) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let updated = self_service::update_profile(
        &state,
        &console.user,
        params.get("name").unwrap_or_default(),
        params.get("email").unwrap_or_default(),
        params.get("current_password").unwrap_or_default(),
        state.now(),
    )
    .await;
    let (status, message) = match updated {
        Ok(ProfileChange::Updated) => (StatusCode::OK, ("ok", "Your profile was saved.".into())),
        Ok(ProfileChange::Unchanged) => (StatusCode::OK, ("ok", "Nothing to change.".into())),
        Ok(ProfileChange::WrongCurrent) => (
            StatusCode::UNAUTHORIZED,
            (
                "error",
                "To change the email address, enter your current password.".to_string(),
            ),
        ),
        Ok(ProfileChange::Refused(rule)) => (StatusCode::BAD_REQUEST, ("error", rule)),
        Err(e) => return internal(&realm, e),
    };
    // Show what is stored now, not what the console loaded before the change.
    let console = match console_reloaded(&state, &realm, console).await {
        Ok(console) => console,
        Err(response) => return response,
    };
    overview(
        &state,
        &realm,
        &console,
        status,
        Some((message.0, &message.1)),
    )
    .await
}

/// `POST /realms/{realm}/account/password`: `current_password`, `new_password`.
pub async fn change_password(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, params) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let current = params.get("current_password").unwrap_or_default();
    let new = params.get("new_password").unwrap_or_default();
    let changed =
        self_service::change_password(&state, &console.user, current, new, state.now()).await;
    let (status, message) = match changed {
        Ok(PasswordChange::Changed) => (StatusCode::OK, ("ok", "Your password was changed.")),
        Ok(PasswordChange::WrongCurrent) => (
            StatusCode::UNAUTHORIZED,
            ("error", "The current password is not right."),
        ),
        Ok(PasswordChange::Refused(rule)) => {
            return overview(
                &state,
                &realm,
                &console,
                StatusCode::BAD_REQUEST,
                Some(("error", &rule)),
            )
            .await
        }
        Err(e) => return internal(&realm, e),
    };
    overview(&state, &realm, &console, status, Some(message)).await
}

fn totp_form(realm: &RealmCtx, offer: &TotpOffer, csrf: &str, error: Option<&str>) -> String {
    let qr = offer
        .qr_svg
        .as_deref()
        .map(|svg| format!(r#"<figure class="qr" aria-label="QR code">{svg}</figure>"#))
        .unwrap_or_default();
    format!(
        r#"{error}<p>Scan the QR code with an authenticator app, or enter the key by hand, then type the code the app shows.</p>
{qr}
<p>Key: <code id="totp-secret">{secret}</code></p>
<form method="post" action="{action}">
{csrf}
<label for="code">Code from the app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit">Confirm</button>
</form>
<p><a href="{back}">Back to your account</a></p>"#,
        error = notice("error", error),
        secret = escape(&offer.secret_base32),
        action = path(realm, "/totp"),
        csrf = hidden("csrf", csrf),
        back = path(realm, ""),
    )
}

async fn totp_page(
    state: &AppState,
    realm: &RealmCtx,
    console: &Console,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let csrf = match console.browser.csrf_token().await {
        Ok(csrf) => csrf,
        Err(e) => return internal(realm, e),
    };
    let offer = match state
        .factors
        .offer_totp(&console.user, realm_label(realm), state.now())
        .await
    {
        Ok(offer) => offer,
        Err(e) => return internal(realm, e),
    };
    page(
        realm,
        console,
        status,
        "Set up an authenticator app",
        &totp_form(realm, &offer, &csrf, error),
    )
}

/// `GET /realms/{realm}/account/totp`: a secret to add to an app (the same until confirmed).
pub async fn show_totp(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
) -> Response {
    match console(&state, &realm, &headers).await {
        Ok(console) => totp_page(&state, &realm, &console, StatusCode::OK, None).await,
        Err(response) => response,
    }
}

fn recovery_codes_page(
    realm: &RealmCtx,
    console: &Console,
    intro: &str,
    codes: &[String],
) -> Response {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", escape(c)))
        .collect();
    let body = format!(
        r#"<p>{intro} Keep these recovery codes somewhere safe: each one signs you in once if you lose your authenticator app. They are shown only now.</p>
<ul id="recovery-codes">{items}</ul>
<p><a href="{back}">Back to your account</a></p>"#,
        intro = escape(intro),
        back = path(realm, ""),
    );
    page(
        realm,
        console,
        StatusCode::OK,
        "Save your recovery codes",
        &body,
    )
}

/// `POST /realms/{realm}/account/totp`: confirms the offered secret with a `code`.
pub async fn confirm_totp(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, params) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let code = params.get("code").unwrap_or_default();
    let now = state.now();
    match state
        .factors
        .confirm_totp(&state.accounts, &console.user, code, now)
        .await
    {
        Ok(Enrolment::Confirmed { recovery_codes }) => {
            // The code just given proves the new factor: this session is at level 2.
            let amr = crate::factors::AMR_WITH_SECOND_FACTOR.map(String::from);
            if let Err(e) =
                self_service::second_factor_proved(&state, &console.sid, &amr, now).await
            {
                return internal(&realm, e);
            }
            recovery_codes_page(
                &realm,
                &console,
                "Your authenticator app is set up.",
                &recovery_codes,
            )
        }
        Ok(Enrolment::Wrong) => {
            let message = "That code is not right. Check the app and try again.";
            totp_page(
                &state,
                &realm,
                &console,
                StatusCode::UNAUTHORIZED,
                Some(message),
            )
            .await
        }
        Ok(Enrolment::Locked) => {
            let message = "Too many wrong codes: the account is locked for a while.";
            totp_page(
                &state,
                &realm,
                &console,
                StatusCode::TOO_MANY_REQUESTS,
                Some(message),
            )
            .await
        }
        Ok(Enrolment::NothingPending) => see_other(&path(&realm, "/totp")),
        Err(e) => internal(&realm, e),
    }
}

/// `POST /realms/{realm}/account/totp/remove`: not where the realm requires a second factor
/// (a user there replaces their app instead).
pub async fn remove_totp(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, _) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if realm.realm.mfa == RealmMfa::Required {
        let message = "A second factor is required here: set up another app instead.";
        return overview(
            &state,
            &realm,
            &console,
            StatusCode::BAD_REQUEST,
            Some(("error", message)),
        )
        .await;
    }
    let now = state.now();
    let credentials =
        match store::credentials::confirmed_totp(&state.caches.store.db, &console.user.id).await {
            Ok(found) => found,
            Err(e) => return internal(&realm, e),
        };
    if let Some(credential) = credentials {
        if let Err(e) = state
            .factors
            .remove(&console.user, &credential.id, SELF, now)
            .await
        {
            return internal(&realm, e);
        }
    }
    let message = ("ok", "The authenticator app was removed.");
    overview(&state, &realm, &console, StatusCode::OK, Some(message)).await
}

/// `POST /realms/{realm}/account/recovery-codes`: a new set, replacing the old one.
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, _) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match state
        .factors
        .regenerate_recovery_codes(&console.user, SELF, state.now())
        .await
    {
        Ok(codes) => recovery_codes_page(
            &realm,
            &console,
            "Your old recovery codes no longer work.",
            &codes,
        ),
        Err(e) => internal(&realm, e),
    }
}

/// `POST /realms/{realm}/account/sessions/end`: signs out everywhere, this browser included.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, _) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let now = state.now();
    if let Err(e) = self_service::sign_out_everywhere(&state, &realm, &console.user.id, now).await {
        return e.into_response();
    }
    if let Err(e) = console.browser.clear_sign_in(&realm.realm).await {
        return internal(&realm, e);
    }
    let body = format!(
        r#"<p id="account-ok">You are signed out everywhere.</p><p><a href="{back}">Sign in again</a></p>"#,
        back = path(&realm, ""),
    );
    page(&realm, &console, StatusCode::OK, "Signed out", &body)
}

/// Where a registration ceremony's challenge waits between the two requests.
const REGISTRATION_STATE: &str = "passkey_registration";

/// `POST /realms/{realm}/account/passkeys/options` (form field `csrf`): options for the
/// browser to create a passkey.
pub async fn passkey_options(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, _) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let webauthn = match passkeys::relying_party(&state.public_url, realm_label(&realm)) {
        Ok(webauthn) => webauthn,
        Err(e) => return internal(&realm, e),
    };
    let started = state
        .factors
        .start_passkey_registration(&webauthn, &console.user)
        .await;
    let (options, ceremony) = match started {
        Ok(started) => started,
        Err(e) => return internal(&realm, e),
    };
    if let Err(e) = console
        .browser
        .put_state(REGISTRATION_STATE, &ceremony)
        .await
    {
        return internal(&realm, e);
    }
    with_cookie(axum::Json(options).into_response(), &console.browser)
}

#[derive(serde::Deserialize)]
struct Registration {
    csrf: String,
    name: String,
    credential: RegisterPublicKeyCredential,
}

/// `POST /realms/{realm}/account/passkeys` (JSON `csrf`, `name`, `credential`): stores the
/// passkey the browser created; answers where to go next.
pub async fn register_passkey(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(answer) = serde_json::from_slice::<Registration>(&body) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The answer is not a WebAuthn registration.",
        );
    };
    let console = match console(&state, &realm, &headers).await {
        Ok(console) => console,
        Err(response) => return response,
    };
    if !console.browser.csrf_matches(Some(&answer.csrf)).await {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The page has expired or did not come from this site. Reload it and try again.",
        );
    }
    let name = answer.name.trim();
    if !crate::factors::SecondFactors::valid_name(name) {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Give the passkey a name of at most 64 characters.",
        );
    }
    let Some(ceremony) = console
        .browser
        .take_state::<PasskeyRegistration>(REGISTRATION_STATE)
        .await
    else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No passkey registration was started here, or it was already used. Try again.",
        );
    };
    let webauthn = match passkeys::relying_party(&state.public_url, realm_label(&realm)) {
        Ok(webauthn) => webauthn,
        Err(e) => return internal(&realm, e),
    };
    let now = state.now();
    let finished = state
        .factors
        .finish_passkey_registration(
            &webauthn,
            &console.user,
            name,
            &answer.credential,
            &ceremony,
            now,
        )
        .await;
    match finished {
        Ok(Ok(_)) => {
            // Creating the passkey (with user verification) proved it: this session is at level
            // 2, so the console does not ask for the factor just added.
            let amr = crate::factors::amr_with_passkey(false);
            if let Err(e) =
                self_service::second_factor_proved(&state, &console.sid, &amr, now).await
            {
                return internal(&realm, e);
            }
            with_cookie(
                axum::Json(serde_json::json!({"location": path(&realm, "")})).into_response(),
                &console.browser,
            )
        }
        Ok(Err(why)) => refusal(StatusCode::BAD_REQUEST, "invalid_request", &why),
        Err(e) => internal(&realm, e),
    }
}

/// `POST /realms/{realm}/account/passkeys/remove` (form fields `csrf`, `id`).
pub async fn remove_passkey(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, params) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let id = params.get("id").unwrap_or_default();
    let owned = match state.factors.passkeys(&console.user.id).await {
        Ok(passkeys) => passkeys.iter().any(|p| p.id == id),
        Err(e) => return internal(&realm, e),
    };
    if !owned {
        let message = ("error", "There is no such passkey.");
        return overview(
            &state,
            &realm,
            &console,
            StatusCode::NOT_FOUND,
            Some(message),
        )
        .await;
    }
    if let Err(e) = state
        .factors
        .remove(&console.user, id, SELF, state.now())
        .await
    {
        return internal(&realm, e);
    }
    let message = ("ok", "The passkey was removed.");
    overview(&state, &realm, &console, StatusCode::OK, Some(message)).await
}

/// `POST /realms/{realm}/account/links/remove` (form fields `csrf`, `provider`).
pub async fn remove_link(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, params) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let alias = params.get("provider").unwrap_or_default();
    let removed = match self_service::remove_link(&state, &console.user, alias, state.now()).await {
        Ok(removed) => removed,
        Err(e) => return internal(&realm, e),
    };
    let (status, message) = match removed {
        self_service::LinkRemoval::Removed => (StatusCode::OK, ("ok", "The link was removed.")),
        self_service::LinkRemoval::NotLinked => (
            StatusCode::NOT_FOUND,
            ("error", "Your account is not linked there."),
        ),
        self_service::LinkRemoval::LastWayIn => (
            StatusCode::CONFLICT,
            (
                "error",
                "This link is how you sign in: your account has no password to sign in with instead.",
            ),
        ),
    };
    overview(&state, &realm, &console, status, Some(message)).await
}

/// `POST /realms/{realm}/account/passkeys/rename` (form fields `csrf`, `id`, `name`).
pub async fn rename_passkey(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (console, params) = match console_for_post(&state, &realm, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let name = params.get("name").unwrap_or_default().trim();
    if !crate::factors::SecondFactors::valid_name(name) {
        let message = ("error", "Give the passkey a name of at most 64 characters.");
        return overview(
            &state,
            &realm,
            &console,
            StatusCode::BAD_REQUEST,
            Some(message),
        )
        .await;
    }
    let id = params.get("id").unwrap_or_default();
    match state
        .factors
        .rename_passkey(&console.user, id, name, state.now())
        .await
    {
        Ok(true) => {
            let message = ("ok", "The passkey was renamed.");
            overview(&state, &realm, &console, StatusCode::OK, Some(message)).await
        }
        Ok(false) => {
            let message = ("error", "There is no such passkey.");
            overview(
                &state,
                &realm,
                &console,
                StatusCode::NOT_FOUND,
                Some(message),
            )
            .await
        }
        Err(e) => internal(&realm, e),
    }
}

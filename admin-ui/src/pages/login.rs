//! Signing in and out of the console: realm `master` users holding the role `admin`, checked
//! by the port. A wrong password re-renders the form with 401 and signs nobody in.

use admin_model::AdminError;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;
use serde::Deserialize;

use crate::auth::{broken, Admin};
use crate::csrf;
use crate::form_data::FormData;
use crate::layout::{problem_page, Confirm, Document, Problem, Section};
use crate::paths;
use crate::render::{self, see_other, with_cookie};
use crate::session::AdminSession;
use crate::Ctx;

#[derive(Debug, Clone, Default)]
pub struct LoginData {
    username: String,
    next: Option<String>,
    csrf: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

fn safe(next: Option<String>) -> Option<String> {
    next.filter(|n| paths::safe_next(n))
}

/// The sign-in form; an admin already signed in goes straight on.
pub async fn show(State(ctx): State<Ctx>, head: Parts, Query(q): Query<Next>) -> Response {
    let session = AdminSession::from_headers(&ctx.store, &head.headers, ctx.secure_cookies);
    let next = safe(q.next);
    if let Ok(Some(actor)) = session.actor().await {
        if matches!(ctx.port.still_admin(&actor).await, Ok(true)) {
            return see_other(next.as_deref().unwrap_or(paths::HOME));
        }
        if session.sign_out().await.is_err() {
            return broken(&head).await;
        }
    }
    sign_in_form(&head, &session, StatusCode::OK, String::new(), next, None).await
}

async fn sign_in_form(
    head: &Parts,
    session: &AdminSession,
    status: StatusCode,
    username: String,
    next: Option<String>,
    error: Option<String>,
) -> Response {
    let Ok(csrf) = session.csrf_token().await else {
        return broken(head).await;
    };
    let data = LoginData {
        username,
        next,
        csrf,
        error,
    };
    with_cookie(
        render::page(head, status, None, data, login_page).await,
        session.set_cookie(),
    )
}

pub async fn submit(State(ctx): State<Ctx>, head: Parts, body: Bytes) -> Response {
    let session = AdminSession::from_headers(&ctx.store, &head.headers, ctx.secure_cookies);
    let form = FormData::parse(&body);
    let next = safe(form.opt("next"));
    if !session.csrf_matches(form.get(csrf::FIELD)).await {
        let problem = Problem {
            title: "Sign-in form expired".into(),
            message: "The sign-in form was not sent from this browser session. Reload the sign-in page and try again.".into(),
        };
        return render::page(&head, StatusCode::FORBIDDEN, None, problem, problem_page).await;
    }
    let username = form.text("username");
    let password = form.value("password");
    if username.is_empty() || password.is_empty() {
        let error = "Enter your username and password.".to_string();
        return refused(&head, &session, username, next, error).await;
    }
    let code = form.opt("code");
    match ctx
        .port
        .authenticate_password(&username, &password, code.as_deref())
        .await
    {
        Ok(actor) => {
            if session.sign_in(&actor).await.is_err() {
                return broken(&head).await;
            }
            tracing::info!(admin = %actor.name, "console sign-in");
            with_cookie(
                see_other(next.as_deref().unwrap_or(paths::HOME)),
                session.set_cookie(),
            )
        }
        Err(AdminError::Forbidden(_)) => {
            let error = "This account may not administer Tessera.".to_string();
            refused(&head, &session, username, next, error).await
        }
        Err(AdminError::Internal) => broken(&head).await,
        Err(_) => {
            let error = "The username, password or authentication code is wrong.".to_string();
            refused(&head, &session, username, next, error).await
        }
    }
}

/// The sign-in form again, with what went wrong: 401, and nobody signed in.
async fn refused(
    head: &Parts,
    session: &AdminSession,
    username: String,
    next: Option<String>,
    error: String,
) -> Response {
    sign_in_form(
        head,
        session,
        StatusCode::UNAUTHORIZED,
        username,
        next,
        Some(error),
    )
    .await
}

/// `GET /admin/logout` (a typed or bookmarked address): asks, since only a form may sign out.
pub async fn confirm_logout(admin: Admin) -> Response {
    let confirm = Confirm {
        title: "Sign out".into(),
        verb: "Sign out".into(),
        key: admin.actor.name.clone(),
        consequence: "You can sign in again at any time.".into(),
        action: paths::LOGOUT.to_string(),
        button: "Sign out".into(),
        danger: false,
        cancel: paths::HOME.to_string(),
    };
    admin.confirm(None, Section::Dashboard, confirm).await
}

/// `POST /admin/logout`: ends the session whatever its state, then shows the sign-in page.
pub async fn logout(State(ctx): State<Ctx>, head: Parts, body: Bytes) -> Response {
    let session = AdminSession::from_headers(&ctx.store, &head.headers, ctx.secure_cookies);
    let form = FormData::parse(&body);
    // A forged sign-out would only be a nuisance, but it still needs the session's token.
    if !session.csrf_matches(form.get(csrf::FIELD)).await {
        return see_other(paths::HOME);
    }
    if session.sign_out().await.is_err() {
        return broken(&head).await;
    }
    with_cookie(see_other(paths::LOGIN), session.clear_cookie())
}

fn login_page(data: LoginData) -> impl IntoView {
    let invalid = data.error.as_ref().map(|_| "true");
    view! {
        <Document title="Sign in" body_class="bare">
            <main class="card login">
                <p class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Tessera"
                </p>
                <h1>"Sign in to the admin console"</h1>
                <p class="muted">"Administrators of realm " <code>"master"</code> " only."</p>
                {data.error.clone().map(|e| view! { <p class="form-error" id="login-error" role="alert">{e}</p> })}
                <form method="post" action=paths::LOGIN>
                    <input type="hidden" name="csrf" value=data.csrf.clone()/>
                    {data.next.clone().map(|n| view! { <input type="hidden" name="next" value=n/> })}
                    <label for="username">"Username"</label>
                    <input
                        type="text"
                        id="username"
                        name="username"
                        value=data.username.clone()
                        autocomplete="username"
                        autofocus=data.username.is_empty()
                        required=true
                        aria-invalid=invalid
                    />
                    <label for="password">"Password"</label>
                    <input
                        type="password"
                        id="password"
                        name="password"
                        autocomplete="current-password"
                        autofocus=!data.username.is_empty()
                        required=true
                        aria-invalid=invalid
                    />
                    <label for="code">"Authentication code"</label>
                    <input
                        type="text"
                        id="code"
                        name="code"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        aria-describedby="code-hint"
                    />
                    <p class="hint" id="code-hint">"From your authenticator app, or a recovery code; only if you set up a second factor."</p>
                    <button type="submit" class="wide">"Sign in"</button>
                </form>
            </main>
        </Document>
    }
}

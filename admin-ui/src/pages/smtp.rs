//! A realm's outgoing mail server (`/admin/realms/{realm}/smtp`): the settings form (the password
//! write-only: left empty it stays; "clear" removes it) and removing the settings behind a
//! confirmation-free button. Mail goes out for password reset and verification links.

use admin_model::{AdminError, SmtpInput, SmtpView};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;

use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData};
use crate::forms::{Check, Csrf, FormError, FormState, Group, Select, Submit, Text};
use crate::layout::{Layout, Section};
use crate::paths;
use crate::Ctx;

const FIELDS: &[&str] = &["host", "port", "security", "username", "password", "from"];

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    router
        .route("/admin/realms/{realm}/smtp", get(show).post(save))
        .route("/admin/realms/{realm}/smtp/remove", post(remove))
}

fn href(realm: &str) -> String {
    paths::section(realm, "smtp")
}

#[derive(Clone)]
struct SmtpPage {
    realm: String,
    stored: Option<SmtpView>,
    state: FormState,
}

fn values(view: &SmtpView) -> FormData {
    let mut f = FormData::default();
    f.set("host", view.host.clone())
        .set("port", view.port.to_string())
        .set("security", view.security.clone())
        .set_opt("username", view.username.clone())
        .set("from", view.from.clone());
    f
}

async fn show(admin: Admin, Path(realm): Path<String>) -> Response {
    let stored = match admin.ctx.port.get_smtp(&realm).await {
        Ok(view) => Some(view),
        Err(AdminError::NotFound(_)) => None,
        Err(e) => return admin.fail(Some(&realm), Section::Realms, e).await,
    };
    let mut defaults = FormData::default();
    defaults.set("port", "587").set("security", "starttls");
    let state = FormState::new(stored.as_ref().map(values).unwrap_or(defaults));
    let data = SmtpPage {
        realm: realm.clone(),
        stored,
        state,
    };
    admin
        .page(StatusCode::OK, Some(&realm), Section::Realms, data, page)
        .await
}

fn read(form: &FormData) -> Result<SmtpInput, Errors> {
    let mut errors = Errors::new();
    let port = match form.value("port").trim().parse::<u16>() {
        Ok(port) => port,
        Err(_) => {
            errors.add("port", "A port number from 1 to 65535.");
            0
        }
    };
    let password = if form.checked("clear_password") {
        Some(None)
    } else {
        form.opt("password").map(Some)
    };
    let input = SmtpInput {
        host: form.value("host").trim().to_string(),
        port,
        security: form.value("security"),
        username: form.opt("username"),
        password,
        from: form.value("from").trim().to_string(),
    };
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

async fn save(Path(realm): Path<String>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let again = |errors: Errors, form: FormData| {
        let admin = &admin;
        let realm = realm.clone();
        async move {
            let stored = admin.ctx.port.get_smtp(&realm).await.ok();
            let status =
                StatusCode::from_u16(errors.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let data = SmtpPage {
                realm: realm.clone(),
                stored,
                state: FormState::with_errors(form, errors),
            };
            admin
                .page(status, Some(&realm), Section::Realms, data, page)
                .await
        }
    };
    let input = match read(&form) {
        Ok(input) => input,
        Err(errors) => return again(errors, form).await,
    };
    match admin.ctx.port.put_smtp(&admin.actor, &realm, input).await {
        Ok(_) => {
            let flash = format!("Saved the mail settings of realm {realm}.");
            admin.redirect(&href(&realm), Some(flash)).await
        }
        Err(e @ (AdminError::Invalid { .. } | AdminError::BadRequest(_))) => {
            again(Errors::from_admin(&e, FIELDS), form).await
        }
        Err(e) => admin.fail(Some(&realm), Section::Realms, e).await,
    }
}

async fn remove(Path(realm): Path<String>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin.ctx.port.delete_smtp(&admin.actor, &realm).await {
        Ok(()) | Err(AdminError::NotFound(_)) => {
            let flash = format!("Realm {realm} sends no mail now.");
            admin.redirect(&href(&realm), Some(flash)).await
        }
        Err(e) => admin.fail(Some(&realm), Section::Realms, e).await,
    }
}

fn page(d: SmtpPage) -> impl IntoView {
    provide_context(d.state.clone());
    let securities = vec![
        ("starttls".to_string(), "STARTTLS (port 587)".to_string()),
        (
            "tls".to_string(),
            "TLS from the start (port 465)".to_string(),
        ),
        (
            "none".to_string(),
            "None (a relay on a trusted network)".to_string(),
        ),
    ];
    let password_hint = match &d.stored {
        Some(view) if view.has_password => "A password is set. Leave empty to keep it.",
        _ => "Leave empty for a server without authentication.",
    };
    let remove = d.stored.as_ref().map(|_| {
        let action = format!("{}/remove", href(&d.realm));
        view! {
            <form method="post" action=action>
                <Csrf/>
                <button type="submit" class="danger-outline" id="remove-smtp">"Remove mail settings"</button>
            </form>
        }
    });
    view! {
        <Layout title="Mail" back=(paths::realm(&d.realm), "Dashboard".to_string())>
            <p class="lead muted">"The server this realm sends mail through: password reset and email verification links."</p>
            <form method="post" class="panel form" novalidate=true>
                <Csrf/>
                <FormError/>
                <Group title="SMTP server">
                    <Text name="host" label="Host" required=true/>
                    <div class="grid-2">
                        <Text name="port" label="Port" kind="number" required=true/>
                        <Select name="security" label="Security" options=securities/>
                    </div>
                    <Text name="username" label="Username" autocomplete="off"/>
                    <Text name="password" label="Password" kind="password" autocomplete="new-password" hint=password_hint/>
                    <Check name="clear_password" label="Clear the stored password"/>
                    <Text name="from" label="From" required=true hint="An address, or Name <address>."/>
                </Group>
                <Submit label="Save mail settings"/>
            </form>
            {remove}
        </Layout>
    }
}

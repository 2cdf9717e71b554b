//! Initial access tokens (RFC 7591 §3) of a realm whose registration policy is
//! `initial_token`: the list, a form to make one (its token shown this once), and revoking one
//! behind a confirmation.

use admin_model::{AdminError, InitialAccessTokenInput, InitialAccessTokenView};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;

use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{Csrf, FormError, FormState, Group, Submit, Text};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::Time;
use crate::Ctx;

const SLUG: &str = "initial-access-tokens";
const FIELDS: &[&str] = &["count", "expires_in", "description"];

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    router
        .route(
            "/admin/realms/{realm}/initial-access-tokens",
            get(list).post(create),
        )
        .route(
            "/admin/realms/{realm}/initial-access-tokens/{id}/delete",
            get(confirm_delete).post(delete),
        )
}

#[derive(Clone)]
struct TokensPage {
    realm: String,
    tokens: Vec<InitialAccessTokenView>,
    state: FormState,
    /// A token just made, shown this once.
    made: Option<String>,
}

fn defaults() -> FormData {
    let mut form = FormData::default();
    form.set("count", "1").set("expires_in", "86400");
    form
}

async fn show(
    admin: &Admin,
    realm: &str,
    state: FormState,
    made: Option<String>,
    status: StatusCode,
) -> Response {
    match admin.ctx.port.list_initial_access_tokens(realm).await {
        Ok(tokens) => {
            let data = TokensPage {
                realm: realm.to_string(),
                tokens,
                state,
                made,
            };
            admin
                .page(status, Some(realm), Section::Clients, data, page)
                .await
        }
        Err(e) => admin.fail(Some(realm), Section::Clients, e).await,
    }
}

async fn list(admin: Admin, Path(realm): Path<String>) -> Response {
    show(
        &admin,
        &realm,
        FormState::new(defaults()),
        None,
        StatusCode::OK,
    )
    .await
}

fn read(form: &FormData) -> Result<InitialAccessTokenInput, Errors> {
    let mut r = Reader::new(form);
    let count = r.number("count").flatten();
    let expires_in = r.seconds("expires_in").flatten();
    let input = InitialAccessTokenInput {
        count: count.map(|c| i32::try_from(c).unwrap_or(i32::MAX)),
        expires_in,
        description: form.opt("description"),
    };
    r.finish(input)
}

async fn create(Path(realm): Path<String>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let input = match read(&form) {
        Ok(input) => input,
        Err(errors) => {
            let state = FormState::with_errors(form, errors);
            return show(
                &admin,
                &realm,
                state,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match admin
        .ctx
        .port
        .create_initial_access_token(&admin.actor, &realm, input)
        .await
    {
        Ok(made) => {
            show(
                &admin,
                &realm,
                FormState::new(defaults()),
                Some(made.token),
                StatusCode::OK,
            )
            .await
        }
        Err(e @ AdminError::Invalid { .. }) => {
            let state = FormState::with_errors(form, Errors::from_admin(&e, FIELDS));
            show(
                &admin,
                &realm,
                state,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Clients, e).await,
    }
}

fn page(d: TokensPage) -> impl IntoView {
    provide_context(d.state.clone());
    let made = d.made.map(|token| {
        view! {
            <section class="panel secret">
                <h2>"New initial access token"</h2>
                <p>"Give it to the software that registers; it is shown this once."</p>
                <code id="new-token">{token}</code>
                <button type="button" class="button secondary" data-copy="new-token" hidden=true>"Copy"</button>
            </section>
        }
    });
    let rows = d
        .tokens
        .iter()
        .map(|t| {
            let delete = paths::section(&d.realm, &format!("{SLUG}/{}/delete", t.id));
            view! {
                <tr class="token-row" data-key=t.id.clone()>
                    <td><code>{t.id.clone()}</code></td>
                    <td>{t.description.clone().unwrap_or_default()}</td>
                    <td>{t.remaining_uses}</td>
                    <td><Time at=t.expires_at short=true/></td>
                    <td><a class="button danger-outline" href=delete>"Revoke"</a></td>
                </tr>
            }
        })
        .collect_view();
    let action = paths::section(&d.realm, SLUG);
    let cancel = action.clone();
    view! {
        <Layout title="Initial access tokens">
            <p class="lead muted">
                "With the realm's dynamic registration set to \"with an initial access token\", software registers clients (RFC 7591) by presenting one of these. Each allows a number of registrations until it expires."
            </p>
            {made}
            <div class="table-wrap">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"ID"</th>
                            <th scope="col">"Description"</th>
                            <th scope="col">"Registrations left"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col"></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <form method="post" action=action class="panel form" novalidate=true>
                <Csrf/>
                <FormError/>
                <Group title="Make a token">
                    <Text name="count" label="Registrations" kind="number" hint="1 to 1000."/>
                    <Text name="expires_in" label="Valid for (seconds)" kind="number" hint="60 seconds to a year."/>
                    <Text name="description" label="Description" hint="Who it is for."/>
                </Group>
                <Submit label="Make token" cancel=cancel/>
            </form>
        </Layout>
    }
}

async fn confirm_delete(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Response {
    let confirm = Confirm {
        title: "Revoke initial access token".into(),
        verb: "Revoke initial access token".into(),
        key: id.clone(),
        consequence:
            "Software holding it can no longer register clients; clients it registered stay.".into(),
        action: paths::section(&realm, &format!("{SLUG}/{id}/delete")),
        button: "Revoke".into(),
        danger: true,
        cancel: paths::section(&realm, SLUG),
    };
    admin.confirm(Some(&realm), Section::Clients, confirm).await
}

async fn delete(Path((realm, id)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin
        .ctx
        .port
        .delete_initial_access_token(&admin.actor, &realm, &id)
        .await
    {
        Ok(()) => {
            admin
                .redirect(
                    &paths::section(&realm, SLUG),
                    Some("Initial access token revoked.".into()),
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Clients, e).await,
    }
}

//! A realm's revocation entries (Plan B kinds TOKEN, CLAIM and GLOBAL, and JTI from RFC 7009):
//! the list, a form to add one, and deleting one behind a confirmation.

use admin_model::{AdminError, PageRequest, RevocationInput, RevocationView};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{TimeZone, Utc};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData};
use crate::forms::{Check, Csrf, FormError, FormState, Group, Radios, Submit, Text, TextArea};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::{or_dash, Badge, Empty, Pager, Time};
use crate::Ctx;

const FIELDS: &[&str] = &[
    "type",
    "token",
    "claim_name",
    "claim_value",
    "confirm_global",
    "issued_before",
];

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    router
        .route("/admin/realms/{realm}/revocations", get(list))
        .route(
            "/admin/realms/{realm}/new/revocations",
            get(new).post(create),
        )
        .route(
            "/admin/realms/{realm}/revocations/{id}/delete",
            get(confirm_delete).post(delete),
        )
}

fn base(realm: &str) -> String {
    paths::section(realm, "revocations")
}

#[derive(Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

#[derive(Clone)]
struct ListData {
    realm: String,
    items: Vec<RevocationView>,
    next: Option<String>,
    paged: bool,
}

async fn list(admin: Admin, Path(realm): Path<String>, Query(q): Query<ListQuery>) -> Response {
    let page = PageRequest {
        limit: None,
        cursor: q.cursor.clone(),
    };
    match admin.ctx.port.list_revocations(&realm, page).await {
        Ok(page) => {
            let data = ListData {
                realm: realm.clone(),
                items: page.items,
                next: page.next_cursor,
                paged: q.cursor.is_some(),
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Revocations,
                    data,
                    list_page,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Revocations, e).await,
    }
}

fn list_page(d: ListData) -> impl IntoView {
    let base = base(&d.realm);
    let new_href = paths::new_item(&d.realm, "revocations");
    let next = d
        .next
        .as_deref()
        .map(|c| format!("{base}?cursor={}", paths::enc(c)));
    let body = if d.items.is_empty() {
        view! { <Empty what="revocations" create=(new_href.clone(), "Revoke tokens".to_string())/> }
            .into_any()
    } else {
        let rows = d
            .items
            .into_iter()
            .map(|r| {
                let delete = format!("{base}/{}/delete", paths::enc(&r.id));
                let matches = match r.kind.as_str() {
                    "JTI" => or_dash(r.jti.clone()),
                    "CLAIM" => or_dash(r.claim_names.clone().map(|n| format!("claims {n}"))),
                    "GLOBAL" => "every token".into_any(),
                    _ => "one token".into_any(),
                };
                let before = Utc
                    .timestamp_opt(r.issued_before, 0)
                    .single()
                    .map(|t| view! { <Time at=t/> }.into_any())
                    .unwrap_or_else(|| r.issued_before.to_string().into_any());
                view! {
                    <tr data-key=r.id.clone()>
                        <td><Badge kind="warn" text=r.kind.clone()/></td>
                        <td class="wrap">{matches}</td>
                        <td>{before}</td>
                        <td><Time at=r.revoked_at/></td>
                        <td><Time at=r.expires_at/></td>
                        <td class="row-actions"><a class="danger" href=delete>"Delete"</a></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Matches"</th>
                            <th scope="col">"Issued before"</th>
                            <th scope="col">"Revoked"</th>
                            <th scope="col">"Kept until"</th>
                            <th><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let actions = view! { <a class="button" href=new_href.clone()>"New revocation"</a> }.into_any();
    view! {
        <Layout title="Revocations" actions=Some(actions)>
            <p class="lead muted">
                "Tokens matching an entry are refused by introspection and tokeninfo. An entry is dropped once no token it could match is still valid."
            </p>
            {body}
            <Pager first=base next=next paged=d.paged/>
        </Layout>
    }
}

#[derive(Clone)]
struct FormPage {
    realm: String,
    state: FormState,
}

async fn new(admin: Admin, Path(realm): Path<String>) -> Response {
    if let Err(e) = admin.ctx.port.get_realm(&realm).await {
        return admin.fail(Some(&realm), Section::Revocations, e).await;
    }
    let mut values = FormData::default();
    values.set("type", "TOKEN");
    let data = FormPage {
        realm: realm.clone(),
        state: FormState::new(values),
    };
    admin
        .page(
            StatusCode::OK,
            Some(&realm),
            Section::Revocations,
            data,
            form_page,
        )
        .await
}

/// The Plan B body for the submitted form, or what is missing.
fn read(form: &FormData) -> Result<RevocationInput, Errors> {
    let mut errors = Errors::new();
    let kind = form.text("type");
    let mut data = Map::new();
    match kind.as_str() {
        "TOKEN" => match form.opt("token") {
            Some(token) => {
                data.insert("token".into(), Value::String(token));
            }
            None => errors.add("token", "Paste the token to revoke."),
        },
        "CLAIM" => {
            let name = form.opt("claim_name");
            let value = form.opt("claim_value");
            if name.is_none() {
                errors.add("claim_name", "Name the claim, such as sub.");
            }
            if value.is_none() {
                errors.add("claim_value", "Give the claim's value.");
            }
            if let (Some(name), Some(value)) = (name, value) {
                data.insert("claims".into(), json!({ name: value }));
            }
        }
        // Signing out a whole realm takes a second, deliberate tick.
        "GLOBAL" if !form.checked("confirm_global") => errors.add(
            "confirm_global",
            "Tick this to revoke every token of the realm.",
        ),
        "GLOBAL" => {}
        _ => errors.add("type", "Choose TOKEN, CLAIM or GLOBAL."),
    }
    if let Some(before) = form.opt("issued_before") {
        match before.parse::<i64>() {
            Ok(n) => {
                data.insert("issued_before".into(), Value::from(n));
            }
            Err(_) => errors.add("issued_before", "must be Unix seconds, such as 1767225600"),
        }
    }
    if errors.is_empty() {
        Ok(RevocationInput {
            kind,
            data: Value::Object(data),
        })
    } else {
        Err(errors)
    }
}

/// The service names `data` for anything wrong inside it; point at the input that holds it.
fn place(error: AdminError, kind: &str) -> AdminError {
    match error {
        AdminError::Invalid { message, fields } => {
            let fields = fields
                .into_iter()
                .map(|(field, msg)| {
                    let field = if field == "data" || field.starts_with("data.") {
                        if msg.contains("issued_before") {
                            "issued_before".to_string()
                        } else {
                            match kind {
                                "TOKEN" => "token".to_string(),
                                "CLAIM" => "claim_name".to_string(),
                                _ => field,
                            }
                        }
                    } else {
                        field
                    };
                    (field, msg)
                })
                .collect();
            AdminError::Invalid { message, fields }
        }
        other => other,
    }
}

async fn create(Path(realm): Path<String>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let result = match read(&form) {
        Ok(input) => {
            let kind = input.kind.clone();
            admin
                .ctx
                .port
                .create_revocation(&admin.actor, &realm, input)
                .await
                .map_err(|e| place(e, &kind))
        }
        Err(errors) => return form_again(&admin, &realm, form, errors).await,
    };
    match result {
        Ok(r) => {
            let flash = format!("{} revocation added.", r.kind);
            admin.redirect(&base(&realm), Some(flash)).await
        }
        Err(
            e @ (AdminError::Invalid { .. } | AdminError::BadRequest(_) | AdminError::Conflict(_)),
        ) => {
            let errors = Errors::from_admin(&e, FIELDS);
            form_again(&admin, &realm, form, errors).await
        }
        Err(e) => admin.fail(Some(&realm), Section::Revocations, e).await,
    }
}

async fn form_again(admin: &Admin, realm: &str, form: FormData, errors: Errors) -> Response {
    let status = StatusCode::from_u16(errors.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let data = FormPage {
        realm: realm.to_string(),
        state: FormState::with_errors(form, errors),
    };
    admin
        .page(status, Some(realm), Section::Revocations, data, form_page)
        .await
}

fn form_page(d: FormPage) -> impl IntoView {
    provide_context(d.state.clone());
    let list = base(&d.realm);
    let kinds = vec![
        ("TOKEN".to_string(), "One token (TOKEN)".to_string()),
        (
            "CLAIM".to_string(),
            "Every token carrying a claim value (CLAIM)".to_string(),
        ),
        (
            "GLOBAL".to_string(),
            "Every token of the realm (GLOBAL)".to_string(),
        ),
    ];
    view! {
        <Layout title="New revocation" back=(list.clone(), "Revocations".to_string())>
            <form method="post" class="panel form" novalidate=true>
                <Csrf/>
                <FormError/>
                <Group title="What to revoke">
                    <Radios name="type" label="Type" options=kinds/>
                </Group>
                <Group title="Token" note="For type TOKEN." when="type=TOKEN">
                    <TextArea name="token" label="Token" rows=4 mono=true
                        hint="The access or refresh token, as issued."/>
                </Group>
                <Group title="Claim" note="For type CLAIM." when="type=CLAIM">
                    <div class="grid-2">
                        <Text name="claim_name" label="Claim name" placeholder="sub"/>
                        <Text name="claim_value" label="Claim value"/>
                    </div>
                </Group>
                <Group title="Every token" note="For type GLOBAL." when="type=GLOBAL">
                    <Check name="confirm_global"
                        label="Revoke every token of this realm issued before the cut-off"
                        hint="Every application loses its tokens and every user has to sign in again."/>
                </Group>
                <Group title="When">
                    <Text name="issued_before" label="Issued before (Unix seconds)" kind="number"
                        hint="Tokens issued before this instant are revoked; empty means now."/>
                </Group>
                <Submit label="Revoke" cancel=list/>
            </form>
        </Layout>
    }
}

async fn confirm_delete(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Response {
    if let Err(e) = admin.ctx.port.get_realm(&realm).await {
        return admin.fail(Some(&realm), Section::Revocations, e).await;
    }
    let list = base(&realm);
    let mut confirm = Confirm::delete(
        "revocation",
        &id,
        format!("{list}/{}/delete", paths::enc(&id)),
        list,
    );
    confirm.consequence = "Tokens it matched become valid again. This cannot be undone.".into();
    admin
        .confirm(Some(&realm), Section::Revocations, confirm)
        .await
}

async fn delete(Path((realm, id)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin
        .ctx
        .port
        .delete_revocation(&admin.actor, &realm, &id)
        .await
    {
        Ok(()) => {
            admin
                .redirect(&base(&realm), Some("Revocation deleted.".to_string()))
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Revocations, e).await,
    }
}

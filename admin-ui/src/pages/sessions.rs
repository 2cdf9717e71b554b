//! A realm's live single sign-on sessions, and ending one behind a confirmation.

use admin_model::{PageRequest, SessionView};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use serde::Deserialize;

use crate::auth::{Admin, AdminForm};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::{Chips, Empty, Pager, Time};
use crate::Ctx;

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    router
        .route("/admin/realms/{realm}/sessions", get(list))
        .route(
            "/admin/realms/{realm}/sessions/{id}/end",
            get(confirm_end).post(end),
        )
}

#[derive(Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

#[derive(Clone)]
struct SessionsData {
    realm: String,
    sessions: Vec<SessionView>,
    next: Option<String>,
    paged: bool,
}

async fn list(admin: Admin, Path(realm): Path<String>, Query(q): Query<ListQuery>) -> Response {
    let page = PageRequest {
        limit: None,
        cursor: q.cursor.clone(),
    };
    match admin.ctx.port.list_sessions(&realm, page).await {
        Ok(page) => {
            let data = SessionsData {
                realm: realm.clone(),
                sessions: page.items,
                next: page.next_cursor,
                paged: q.cursor.is_some(),
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Sessions,
                    data,
                    page_view,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Sessions, e).await,
    }
}

fn page_view(d: SessionsData) -> impl IntoView {
    let base = paths::section(&d.realm, "sessions");
    let next = d
        .next
        .as_deref()
        .map(|c| format!("{base}?cursor={}", paths::enc(c)));
    let body = if d.sessions.is_empty() {
        view! { <Empty what="active sessions"/> }.into_any()
    } else {
        let rows = d
            .sessions
            .into_iter()
            .map(|s| {
                let end = format!("{base}/{}/end", paths::enc(&s.id));
                let user = paths::item(&d.realm, "users", &s.user_id);
                let name = s.username.clone().unwrap_or_else(|| s.user_id.clone());
                view! {
                    <tr data-key=s.id.clone()>
                        <td class="name"><a href=user>{name}</a></td>
                        <td><Chips values=s.client_ids.clone()/></td>
                        <td><Time at=s.auth_time/></td>
                        <td><Time at=s.last_seen_at/></td>
                        <td><Time at=s.expires_at/></td>
                        <td class="row-actions"><a class="danger" href=end>"End"</a></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"User"</th>
                            <th scope="col">"Clients"</th>
                            <th scope="col">"Signed in"</th>
                            <th scope="col">"Last seen"</th>
                            <th scope="col">"Expires"</th>
                            <th><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <Layout title="Sessions">
            <p class="lead muted">"Single sign-on sessions of this realm's users, newest first."</p>
            {body}
            <Pager first=base next=next paged=d.paged/>
        </Layout>
    }
}

async fn confirm_end(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Response {
    if let Err(e) = admin.ctx.port.get_realm(&realm).await {
        return admin.fail(Some(&realm), Section::Sessions, e).await;
    }
    let base = paths::section(&realm, "sessions");
    let confirm = Confirm {
        title: "End session".into(),
        verb: "End session".into(),
        key: id.clone(),
        consequence: "The user is signed out, the session's refresh tokens stop working and its clients are told. This cannot be undone.".into(),
        action: format!("{base}/{}/end", paths::enc(&id)),
        button: "End session".into(),
        danger: true,
        cancel: base,
    };
    admin
        .confirm(Some(&realm), Section::Sessions, confirm)
        .await
}

async fn end(Path((realm, id)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin.ctx.port.end_session(&admin.actor, &realm, &id).await {
        Ok(()) => {
            admin
                .redirect(
                    &paths::section(&realm, "sessions"),
                    Some("Session ended.".to_string()),
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Sessions, e).await,
    }
}

//! A realm's live single sign-on sessions and one user's, ending one (or all of a user's)
//! behind a confirmation.

use admin_model::{PageRequest, SessionView, UserView};
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
        .route("/admin/realms/{realm}/users/{key}/sessions", get(of_user))
        .route(
            "/admin/realms/{realm}/users/{key}/sessions/end",
            get(confirm_end_all).post(end_all),
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

/// Where a session came from: its address and browser, as far as known.
fn origin(s: &SessionView) -> String {
    match (&s.ip_address, &s.user_agent) {
        (Some(ip), Some(agent)) => format!("{ip} · {agent}"),
        (Some(ip), None) => ip.clone(),
        (None, Some(agent)) => agent.clone(),
        (None, None) => "—".to_string(),
    }
}

/// The sessions as a table; `with_user` adds the user column (the realm-wide list).
fn sessions_table(realm: &str, sessions: Vec<SessionView>, with_user: bool) -> AnyView {
    if sessions.is_empty() {
        return view! { <Empty what="active sessions"/> }.into_any();
    }
    let base = paths::section(realm, "sessions");
    let rows = sessions
        .into_iter()
        .map(|s| {
            let end = format!("{base}/{}/end", paths::enc(&s.id));
            let user = with_user.then(|| {
                let href = paths::item(realm, "users", &s.user_id);
                let name = s.username.clone().unwrap_or_else(|| s.user_id.clone());
                view! { <td class="name"><a href=href>{name}</a></td> }
            });
            let level = if s.acr == "2" {
                "Two factors"
            } else {
                "One factor"
            };
            view! {
                <tr data-key=s.id.clone()>
                    {user}
                    <td><Chips values=s.client_ids.clone()/></td>
                    <td class="origin">{origin(&s)}</td>
                    <td>{level}</td>
                    <td><Time at=s.auth_time/></td>
                    <td><Time at=s.last_seen_at/></td>
                    <td><Time at=s.expires_at/></td>
                    <td class="row-actions"><a class="danger" href=end>"End"</a></td>
                </tr>
            }
        })
        .collect_view();
    let user_header = with_user.then(|| view! { <th scope="col">"User"</th> });
    view! {
        <div class="table-wrap">
            <table class="list">
                <thead>
                    <tr>
                        {user_header}
                        <th scope="col">"Clients"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"Level"</th>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn page_view(d: SessionsData) -> impl IntoView {
    let base = paths::section(&d.realm, "sessions");
    let next = d
        .next
        .as_deref()
        .map(|c| format!("{base}?cursor={}", paths::enc(c)));
    let body = sessions_table(&d.realm, d.sessions, true);
    view! {
        <Layout title="Sessions">
            <p class="lead muted">"Single sign-on sessions of this realm's users, newest first."</p>
            {body}
            <Pager first=base next=next paged=d.paged/>
        </Layout>
    }
}

#[derive(Clone)]
struct UserSessionsData {
    realm: String,
    user: UserView,
    sessions: Vec<SessionView>,
}

/// `GET …/users/{key}/sessions`: one user's live sessions.
async fn of_user(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    let port = admin.ctx.port.clone();
    let found = match port.get_user(&realm, &key).await {
        Ok(user) => port
            .list_user_sessions(&realm, &key)
            .await
            .map(|sessions| (user, sessions)),
        Err(e) => Err(e),
    };
    match found {
        Ok((user, sessions)) => {
            let data = UserSessionsData {
                realm: realm.clone(),
                user,
                sessions,
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Users,
                    data,
                    user_sessions_view,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Users, e).await,
    }
}

fn user_sessions_view(d: UserSessionsData) -> impl IntoView {
    let user_href = paths::item(&d.realm, "users", &d.user.id);
    let end_all = (!d.sessions.is_empty()).then(|| {
        view! {
            <p><a class="button danger" href=format!("{user_href}/sessions/end") id="end-all-sessions">"Sign out everywhere"</a></p>
        }
    });
    let body = sessions_table(&d.realm, d.sessions, false);
    view! {
        <Layout title=format!("Sessions of {}", d.user.username) back=(user_href.clone(), d.user.username.clone())>
            <p class="lead muted">"Where the user is signed in, newest first. The address and browser are as the server saw them at sign-in."</p>
            {body}
            {end_all}
        </Layout>
    }
}

async fn confirm_end_all(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    let user = match admin.ctx.port.get_user(&realm, &key).await {
        Ok(user) => user,
        Err(e) => return admin.fail(Some(&realm), Section::Users, e).await,
    };
    let sessions = format!("{}/sessions", paths::item(&realm, "users", &key));
    let confirm = Confirm {
        title: "Sign out everywhere".into(),
        verb: "Sign out".into(),
        key: user.username,
        consequence: "Every session of the user ends: their refresh tokens stop working and their clients are told. They can sign in again.".into(),
        action: format!("{sessions}/end"),
        button: "Sign out everywhere".into(),
        danger: true,
        cancel: sessions,
    };
    admin.confirm(Some(&realm), Section::Users, confirm).await
}

async fn end_all(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin
        .ctx
        .port
        .end_user_sessions(&admin.actor, &realm, &key)
        .await
    {
        Ok(ended) => {
            let flash = match ended {
                1 => "1 session ended.".to_string(),
                n => format!("{n} sessions ended."),
            };
            admin
                .redirect(
                    &format!("{}/sessions", paths::item(&realm, "users", &key)),
                    Some(flash),
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Users, e).await,
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

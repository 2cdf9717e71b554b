//! A realm's dashboard: how many of everything it holds, its issuer and discovery URL, its
//! settings at a glance, and the latest audit events.

use admin_model::{EventView, RealmSummary};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;

use crate::auth::Admin;
use crate::layout::{Layout, Section};
use crate::paths;
use crate::widgets::{lifetime, Badge, Enabled, Facts, Time};

pub async fn show(admin: Admin, Path(realm): Path<String>) -> Response {
    match admin.ctx.port.realm_summary(&realm).await {
        Ok(summary) => {
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Dashboard,
                    summary,
                    page,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Dashboard, e).await,
    }
}

fn page(s: RealmSummary) -> impl IntoView {
    let r = &s.realm;
    let name = r.name.clone();
    let title = r.display_name.clone().unwrap_or_else(|| r.name.clone());
    let discovery = format!("{}/.well-known/openid-configuration", r.issuer);
    let jwks = format!("{}/.well-known/jwks.json", r.issuer);
    let counts = [
        ("Clients", s.clients, Section::Clients),
        ("Users", s.users, Section::Users),
        ("Scopes", s.scopes, Section::Scopes),
        ("API resources", s.api_resources, Section::ApiResources),
        ("Active sessions", s.active_sessions, Section::Sessions),
        ("Published keys", s.published_keys, Section::Keys),
    ]
    .into_iter()
    .map(|(label, count, section)| {
        view! {
            <a class="stat" href=paths::section(&name, section.slug()) data-stat=section.slug()>
                <span class="stat-value">{count}</span>
                <span class="stat-label">{label}</span>
            </a>
        }
    })
    .collect_view();
    let mode = if r.decentralized {
        view! { <Badge kind="info" text="Decentralized"/> }.into_any()
    } else {
        view! { <span>"Standard"</span> }.into_any()
    };
    let endpoints = vec![
        ("Issuer", view! { <code id="issuer" class="wrap">{r.issuer.clone()}</code> }.into_any()),
        (
            "Discovery",
            view! { <a id="discovery" class="wrap mono" href=discovery.clone()>{discovery.clone()}</a> }.into_any(),
        ),
        ("JWKS", view! { <a class="wrap mono" href=jwks.clone()>{jwks.clone()}</a> }.into_any()),
    ];
    let settings = vec![
        ("Status", view! { <Enabled on=r.enabled/> }.into_any()),
        ("Mode", mode),
        (
            "Algorithms",
            format!(
                "{} access · {} ID tokens",
                r.signing_alg, r.id_token_signing_alg
            )
            .into_any(),
        ),
        (
            "Sign-in cookie",
            format!("per {}", r.cookie_mode).into_any(),
        ),
        (
            "Access tokens",
            lifetime(r.access_token_lifetime, "server default").into_any(),
        ),
        (
            "Refresh tokens",
            lifetime(r.refresh_token_lifetime, "server default").into_any(),
        ),
    ];
    let events_href = paths::section(&name, "events");
    let actions = view! {
        <a class="button secondary" href=paths::section(&name, "settings")>"Settings"</a>
    }
    .into_any();
    view! {
        <Layout title=title actions=Some(actions)>
            <div class="stats">{counts}</div>
            <div class="columns">
                <section class="panel">
                    <h2>"Endpoints"</h2>
                    <Facts rows=endpoints/>
                </section>
                <section class="panel">
                    <h2>"Settings"</h2>
                    <Facts rows=settings/>
                </section>
            </div>
            <section class="panel">
                <div class="panel-head">
                    <h2>"Recent events"</h2>
                    <a href=events_href>"Open the audit log →"</a>
                </div>
                <EventTable events=s.recent_events.clone()/>
            </section>
        </Layout>
    }
}

/// A table of audit events (the dashboard's recent ones, a page of the audit log).
#[component]
pub fn EventTable(events: Vec<EventView>) -> impl IntoView {
    if events.is_empty() {
        return view! { <div class="empty"><p>"No events yet"</p></div> }.into_any();
    }
    let rows = events
        .into_iter()
        .map(|e| {
            let detail = serde_json::to_string_pretty(&e.detail).unwrap_or_default();
            let has_detail =
                !(e.detail.is_null() || e.detail.as_object().is_some_and(|o| o.is_empty()));
            view! {
                <tr data-key=e.id.clone()>
                    <td class="nowrap"><Time at=e.created_at/></td>
                    <td><code>{e.kind.clone()}</code></td>
                    <td>{e.actor.clone()}</td>
                    <td class="wrap">{e.target.clone().unwrap_or_default()}</td>
                    <td>
                        {has_detail.then(|| view! {
                            <details>
                                <summary>"Details"</summary>
                                <pre>{detail}</pre>
                            </details>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="list events">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

//! The audit log of a realm: filters by type, actor and time (a GET form, so a filtered view
//! is a link) and paging to older events.

use admin_model::{AdminError, EventFilter, EventView};
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime};
use leptos::prelude::*;

use super::dashboard::EventTable;
use crate::auth::Admin;
use crate::form_data::{Errors, FormData};
use crate::forms::{FormError, FormState, Text};
use crate::layout::{Layout, Section};
use crate::paths;

const FIELDS: &[&str] = &["type", "actor", "since", "until"];

/// Which end of a day a bare date (`2026-11-23`) stands for.
#[derive(Clone, Copy)]
enum DayEnd {
    /// Its first instant, for `since`.
    Start,
    /// The first instant after it, for `until` (exclusive), so the day itself is included.
    After,
}

/// Accepts RFC 3339 and the shorter forms people type (`2026-11-23`, `2026-11-23 10:00`),
/// read as UTC.
fn instant(text: &str, day: DayEnd) -> String {
    let text = text.trim();
    if chrono::DateTime::parse_from_rfc3339(text).is_ok() {
        return text.to_string();
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return t.and_utc().to_rfc3339();
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let d = match day {
            DayEnd::Start => Some(d),
            DayEnd::After => d.succ_opt(),
        };
        if let Some(t) = d.and_then(|d| d.and_hms_opt(0, 0, 0)) {
            return t.and_utc().to_rfc3339();
        }
    }
    text.to_string()
}

#[derive(Clone)]
struct EventsData {
    realm: String,
    events: Vec<EventView>,
    /// The "Older events" link.
    older: Option<String>,
    /// The first page with the same filters, when this is a later page.
    newest: Option<String>,
    filtered: bool,
    state: FormState,
}

pub async fn show(admin: Admin, Path(realm): Path<String>, RawQuery(query): RawQuery) -> Response {
    let form = FormData::parse(query.unwrap_or_default().as_bytes());
    let filter = EventFilter {
        kind: form.opt("type"),
        actor: form.opt("actor"),
        since: form.opt("since").map(|s| instant(&s, DayEnd::Start)),
        until: form.opt("until").map(|s| instant(&s, DayEnd::After)),
        limit: None,
        cursor: form.opt("cursor"),
    };
    let base = paths::section(&realm, "events");
    // The filters as a query string, for the paging links.
    let filters = FIELDS
        .iter()
        .filter_map(|name| form.opt(name).map(|v| format!("{name}={}", paths::enc(&v))))
        .collect::<Vec<_>>()
        .join("&");
    let filtered = !filters.is_empty();
    let paged = filter.cursor.is_some();
    match admin.ctx.port.list_events(&realm, filter).await {
        Ok(page) => {
            let older = page.next_cursor.map(|c| {
                let sep = if filtered { "&" } else { "" };
                format!("{base}?{filters}{sep}cursor={}", paths::enc(&c))
            });
            let newest = paged.then(|| {
                if filtered {
                    format!("{base}?{filters}")
                } else {
                    base.clone()
                }
            });
            let data = EventsData {
                realm: realm.clone(),
                events: page.items,
                older,
                newest,
                filtered,
                state: FormState::new(form),
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Events,
                    data,
                    page_view,
                )
                .await
        }
        Err(e @ AdminError::Invalid { .. }) => {
            let errors = Errors::from_admin(&e, FIELDS);
            let data = EventsData {
                realm: realm.clone(),
                events: Vec::new(),
                older: None,
                newest: None,
                filtered,
                state: FormState::with_errors(form, errors),
            };
            admin
                .page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&realm),
                    Section::Events,
                    data,
                    page_view,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Events, e).await,
    }
}

fn page_view(d: EventsData) -> impl IntoView {
    provide_context(d.state.clone());
    let base = paths::section(&d.realm, "events");
    let failed = !d.state.errors.is_empty();
    let results = if failed {
        ().into_any()
    } else if d.events.is_empty() && d.filtered {
        view! { <div class="empty"><p>"No events match these filters"</p></div> }.into_any()
    } else {
        view! { <EventTable events=d.events.clone()/> }.into_any()
    };
    let pager = (d.older.is_some() || d.newest.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {d.newest.clone().map(|href| view! { <a class="button secondary" href=href>"← Newest events"</a> })}
                {d.older.clone().map(|href| view! { <a class="button secondary" id="older" rel="next" href=href>"Older events →"</a> })}
            </nav>
        }
    });
    view! {
        <Layout title="Audit log">
            <form method="get" action=base.clone() class="panel filters" role="search">
                <FormError/>
                <div class="filter-row">
                    <Text name="type" label="Type" placeholder="client. or user.locked"
                        hint="Exact type, or a prefix ending in a dot."/>
                    <Text name="actor" label="Actor" placeholder="admin"/>
                    <Text name="since" label="Since (UTC)" placeholder="2026-11-23 10:00"/>
                    <Text name="until" label="Until (UTC)" placeholder="2026-11-24"/>
                </div>
                <div class="form-actions">
                    <button type="submit">"Filter"</button>
                    {d.filtered.then(|| view! { <a class="button secondary" href=base.clone()>"Clear"</a> })}
                </div>
            </form>
            {results}
            {pager}
        </Layout>
    }
}

#[cfg(test)]
mod tests {
    use super::instant;

    #[test]
    fn short_instants_become_rfc3339() {
        use super::DayEnd::{After, Start};
        assert_eq!(instant("2026-11-23", Start), "2026-11-23T00:00:00+00:00");
        assert_eq!(instant("2026-11-23", After), "2026-11-24T00:00:00+00:00");
        assert_eq!(instant("2026-12-31", After), "2027-01-01T00:00:00+00:00");
        assert_eq!(
            instant("2026-11-23 10:30", After),
            "2026-11-23T10:30:00+00:00"
        );
        assert_eq!(
            instant("2026-11-23T10:30:00Z", Start),
            "2026-11-23T10:30:00Z"
        );
        assert_eq!(instant("yesterday", Start), "yesterday");
    }
}

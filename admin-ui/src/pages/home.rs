//! `/admin` and the realm switcher: both only redirect to a realm's dashboard.

use axum::extract::Query;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::auth::{broken, Admin};
use crate::layout::{problem_page, Problem};
use crate::paths;
use crate::render;
use crate::render::see_other;

/// Any other page under `/admin` (the REST API keeps its own JSON 404): a console page.
pub async fn not_found(head: &Parts) -> Response {
    let problem = Problem {
        title: "Page not found".into(),
        message: "There is no console page at this address.".into(),
    };
    render::page(head, StatusCode::NOT_FOUND, None, problem, problem_page).await
}

/// The dashboard of the last realm visited while it still exists, else of `master`.
pub async fn home(admin: Admin) -> Response {
    let last = match admin.session.last_realm().await {
        Ok(last) => last,
        Err(_) => return broken(&admin.head).await,
    };
    let realm = match last {
        Some(realm) if admin.ctx.port.get_realm(&realm).await.is_ok() => realm,
        _ => "master".to_string(),
    };
    see_other(&paths::realm(&realm))
}

#[derive(Deserialize)]
pub struct Switch {
    realm: Option<String>,
}

/// `GET /admin/switch?realm=…` from the sidebar's realm picker.
pub async fn switch(admin: Admin, Query(q): Query<Switch>) -> Response {
    match q.realm.filter(|r| !r.is_empty()) {
        Some(realm) => see_other(&paths::realm(&realm)),
        None => home(admin).await,
    }
}

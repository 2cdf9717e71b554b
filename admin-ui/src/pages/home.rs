//! `/admin` and the realm switcher: both only redirect to a realm's dashboard.

use axum::extract::Query;
use axum::response::Response;
use serde::Deserialize;

use crate::auth::{broken, Admin};
use crate::paths;
use crate::render::see_other;

/// The dashboard of the last realm visited, else of `master`.
pub async fn home(admin: Admin) -> Response {
    match admin.session.last_realm().await {
        Ok(realm) => see_other(&paths::realm(realm.as_deref().unwrap_or("master"))),
        Err(_) => broken(),
    }
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

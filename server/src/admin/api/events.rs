//! A realm's audit trail.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::response::IntoResponse;

use super::extract::{Admin, Path, Query};
use super::paths::RealmPath;
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/events",
    tag = "events",
    summary = "The audit trail, newest first",
    params(
        ("realm" = String, Path, description = "Realm name"),
        EventFilter,
    ),
    responses(
        (status = 200, body = Page<EventView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_events(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<EventFilter>,
) -> Answer {
    Ok(axum::Json(s.list_events(&p.realm, q).await?).into_response())
}

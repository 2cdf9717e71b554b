//! A realm's live sign-in sessions.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Path, Query};
use super::paths::{IdPath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/sessions",
    tag = "sessions",
    summary = "List live sign-in sessions, newest first",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<SessionView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_sessions(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_sessions(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/sessions/{id}",
    tag = "sessions",
    summary = "End a session: its refresh tokens end and its clients get back-channel logout",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "Session id"),
    ),
    responses(
        (status = 204, description = "Done"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn end_session(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<IdPath>,
) -> Answer {
    s.end_session(&a, &p.realm, &p.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! Scopes of a realm's catalogue.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{NamePath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/scopes",
    tag = "scopes",
    summary = "List scopes",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<ScopeView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_scopes(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_scopes(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/scopes",
    tag = "scopes",
    summary = "Create a scope",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = ScopeInput,
    responses(
        (status = 201, body = ScopeView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_scope(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<ScopeInput>,
) -> Answer {
    let r = s.create_scope(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/scopes/{}", p.realm, r.name),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/scopes/{name}",
    tag = "scopes",
    summary = "Get a scope",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 200, body = ScopeView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_scope(Admin { service: s, .. }: Admin, Path(p): Path<NamePath>) -> Answer {
    Ok(axum::Json(s.get_scope(&p.realm, &p.name).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/scopes/{name}",
    tag = "scopes",
    summary = "Change a scope",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    request_body = ScopeInput,
    responses(
        (status = 200, body = ScopeView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_scope(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
    Json(b): Json<ScopeInput>,
) -> Answer {
    Ok(axum::Json(s.update_scope(&a, &p.realm, &p.name, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/scopes/{name}",
    tag = "scopes",
    summary = "Delete a scope",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
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
pub async fn delete_scope(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
) -> Answer {
    s.delete_scope(&a, &p.realm, &p.name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

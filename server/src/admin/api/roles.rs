//! A realm's roles (a managed collection, with composites).
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{NamePath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/roles",
    tag = "roles",
    summary = "List roles",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<RoleView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_roles(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_roles(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/roles",
    tag = "roles",
    summary = "Create a role",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = RoleInput,
    responses(
        (status = 201, body = RoleView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_role(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<RoleInput>,
) -> Answer {
    let r = s.create_role(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/roles/{}", p.realm, r.name),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/roles/{name}",
    tag = "roles",
    summary = "Get a role",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 200, body = RoleView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_role(Admin { service: s, .. }: Admin, Path(p): Path<NamePath>) -> Answer {
    Ok(axum::Json(s.get_role(&p.realm, &p.name).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/roles/{name}",
    tag = "roles",
    summary = "Change a role",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    request_body = RoleInput,
    responses(
        (status = 200, body = RoleView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_role(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
    Json(b): Json<RoleInput>,
) -> Answer {
    Ok(axum::Json(s.update_role(&a, &p.realm, &p.name, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/roles/{name}",
    tag = "roles",
    summary = "Delete a role: its holders lose it and roles including it drop it; refused while a client holds it",
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
pub async fn delete_role(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
) -> Answer {
    s.delete_role(&a, &p.realm, &p.name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

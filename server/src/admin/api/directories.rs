//! A realm's LDAP / Active Directory directories.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{NamePath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/directories",
    tag = "directories",
    summary = "List LDAP directories",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<DirectoryView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_directories(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_directories(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/directories",
    tag = "directories",
    summary = "Add an LDAP / Active Directory directory",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = DirectoryInput,
    responses(
        (status = 201, body = DirectoryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_directory(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<DirectoryInput>,
) -> Answer {
    let r = s.create_directory(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/directories/{}", p.realm, r.name),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/directories/{name}",
    tag = "directories",
    summary = "Get a directory",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 200, body = DirectoryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_directory(Admin { service: s, .. }: Admin, Path(p): Path<NamePath>) -> Answer {
    Ok(axum::Json(s.get_directory(&p.realm, &p.name).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/directories/{name}",
    tag = "directories",
    summary = "Change a directory",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    request_body = DirectoryInput,
    responses(
        (status = 200, body = DirectoryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_directory(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
    Json(b): Json<DirectoryInput>,
) -> Answer {
    Ok(axum::Json(s.update_directory(&a, &p.realm, &p.name, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/directories/{name}",
    tag = "directories",
    summary = "Remove a directory and its links (its users stay, without a password)",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 204, description = "Done"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn delete_directory(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
) -> Answer {
    s.delete_directory(&a, &p.realm, &p.name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/directories/{name}/test",
    tag = "directories",
    summary = "Test the connection: bind as the service account and read the user base",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 200, body = DirectoryCheck),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn test_directory(Admin { service: s, .. }: Admin, Path(p): Path<NamePath>) -> Answer {
    Ok(axum::Json(s.test_directory(&p.realm, &p.name).await?).into_response())
}

//! API resources of a realm's catalogue.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{NamePath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/api-resources",
    tag = "api-resources",
    summary = "List API resources",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<ApiResourceView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_api_resources(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_api_resources(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/api-resources",
    tag = "api-resources",
    summary = "Create a API resource",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = ApiResourceInput,
    responses(
        (status = 201, body = ApiResourceView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_api_resource(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<ApiResourceInput>,
) -> Answer {
    let r = s.create_api_resource(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/api-resources/{}", p.realm, r.name),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/api-resources/{name}",
    tag = "api-resources",
    summary = "Get a API resource",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 200, body = ApiResourceView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_api_resource(Admin { service: s, .. }: Admin, Path(p): Path<NamePath>) -> Answer {
    Ok(axum::Json(s.get_api_resource(&p.realm, &p.name).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/api-resources/{name}",
    tag = "api-resources",
    summary = "Change a API resource",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    request_body = ApiResourceInput,
    responses(
        (status = 200, body = ApiResourceView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_api_resource(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
    Json(b): Json<ApiResourceInput>,
) -> Answer {
    Ok(axum::Json(s.update_api_resource(&a, &p.realm, &p.name, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/api-resources/{name}",
    tag = "api-resources",
    summary = "Delete a API resource",
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
pub async fn delete_api_resource(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
) -> Answer {
    s.delete_api_resource(&a, &p.realm, &p.name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

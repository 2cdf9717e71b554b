//! Claim types of a realm's catalogue.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{NamePath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/claim-types",
    tag = "claim-types",
    summary = "List claim types",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<ClaimTypeView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_claim_types(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_claim_types(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/claim-types",
    tag = "claim-types",
    summary = "Create a claim type",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = ClaimTypeInput,
    responses(
        (status = 201, body = ClaimTypeView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_claim_type(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<ClaimTypeInput>,
) -> Answer {
    let r = s.create_claim_type(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/claim-types/{}", p.realm, r.name),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/claim-types/{name}",
    tag = "claim-types",
    summary = "Get a claim type",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    responses(
        (status = 200, body = ClaimTypeView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_claim_type(Admin { service: s, .. }: Admin, Path(p): Path<NamePath>) -> Answer {
    Ok(axum::Json(s.get_claim_type(&p.realm, &p.name).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/claim-types/{name}",
    tag = "claim-types",
    summary = "Change a claim type",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("name" = String, Path, description = "Name"),
    ),
    request_body = ClaimTypeInput,
    responses(
        (status = 200, body = ClaimTypeView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_claim_type(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
    Json(b): Json<ClaimTypeInput>,
) -> Answer {
    Ok(axum::Json(s.update_claim_type(&a, &p.realm, &p.name, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/claim-types/{name}",
    tag = "claim-types",
    summary = "Delete a claim type",
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
pub async fn delete_claim_type(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<NamePath>,
) -> Answer {
    s.delete_claim_type(&a, &p.realm, &p.name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

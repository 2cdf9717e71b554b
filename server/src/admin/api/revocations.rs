//! A realm's revocation entries.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{IdPath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/revocations",
    tag = "revocations",
    summary = "List live revocations, newest first",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<RevocationView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_revocations(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_revocations(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/revocations",
    tag = "revocations",
    summary = "Revoke a token, every token with a claim value, or every token of the realm",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = RevocationInput,
    responses(
        (status = 201, body = RevocationView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_revocation(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<RevocationInput>,
) -> Answer {
    let r = s.create_revocation(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/revocations/{}", p.realm, r.id),
        r,
    ))
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/revocations/{id}",
    tag = "revocations",
    summary = "Withdraw a revocation",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "Revocation id"),
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
pub async fn delete_revocation(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<IdPath>,
) -> Answer {
    s.delete_revocation(&a, &p.realm, &p.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

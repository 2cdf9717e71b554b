//! A realm's published signing keys, and their rotation.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::response::IntoResponse;

use super::extract::{Admin, Path};
use super::paths::RealmPath;
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/keys",
    tag = "keys",
    summary = "List published signing keys, active first",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    responses(
        (status = 200, body = Page<KeyView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_keys(Admin { service: s, .. }: Admin, Path(p): Path<RealmPath>) -> Answer {
    Ok(axum::Json(s.list_keys(&p.realm).await.map(Page::all)?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/keys/rotate",
    tag = "keys",
    summary = "Publish new signing keys; old keys stay in the JWKS until their tokens expire",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    responses(
        (status = 200, body = Page<KeyView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn rotate_keys(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
) -> Answer {
    Ok(axum::Json(s.rotate_keys(&a, &p.realm).await.map(Page::all)?).into_response())
}

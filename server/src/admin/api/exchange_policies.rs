//! Token-exchange policies of a realm, keyed by the client they govern.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{ClientPath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/exchange-policies",
    tag = "exchange-policies",
    summary = "List exchange policies",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<ExchangePolicyView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_exchange_policies(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_exchange_policies(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/exchange-policies",
    tag = "exchange-policies",
    summary = "Create a exchange policy",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = ExchangePolicyInput,
    responses(
        (status = 201, body = ExchangePolicyView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_exchange_policy(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<ExchangePolicyInput>,
) -> Answer {
    let r = s.create_exchange_policy(&a, &p.realm, b).await?;
    Ok(super::created(
        format!(
            "/admin/api/realms/{}/exchange-policies/{}",
            p.realm, r.client_id
        ),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/exchange-policies/{client_id}",
    tag = "exchange-policies",
    summary = "Get a exchange policy",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id of the policy"),
    ),
    responses(
        (status = 200, body = ExchangePolicyView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_exchange_policy(
    Admin { service: s, .. }: Admin,
    Path(p): Path<ClientPath>,
) -> Answer {
    Ok(axum::Json(s.get_exchange_policy(&p.realm, &p.client_id).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/exchange-policies/{client_id}",
    tag = "exchange-policies",
    summary = "Change a exchange policy",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id of the policy"),
    ),
    request_body = ExchangePolicyInput,
    responses(
        (status = 200, body = ExchangePolicyView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_exchange_policy(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<ClientPath>,
    Json(b): Json<ExchangePolicyInput>,
) -> Answer {
    Ok(axum::Json(
        s.update_exchange_policy(&a, &p.realm, &p.client_id, b)
            .await?,
    )
    .into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/exchange-policies/{client_id}",
    tag = "exchange-policies",
    summary = "Delete a exchange policy",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id of the policy"),
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
pub async fn delete_exchange_policy(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<ClientPath>,
) -> Answer {
    s.delete_exchange_policy(&a, &p.realm, &p.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

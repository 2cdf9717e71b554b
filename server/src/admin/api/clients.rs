//! Clients of a realm, and the rotation of a client's secret.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{ClientPath, IdPath, RealmPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/clients",
    tag = "clients",
    summary = "List clients",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<ClientView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_clients(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_clients(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/clients",
    tag = "clients",
    summary = "Create a client; a confidential client's secret is returned this once",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = ClientInput,
    responses(
        (status = 201, body = ClientCreated),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_client(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<ClientInput>,
) -> Answer {
    let r = s.create_client(&a, &p.realm, b).await?;
    Ok(super::created(
        format!(
            "/admin/api/realms/{}/clients/{}",
            p.realm, r.client.client_id
        ),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/clients/{client_id}",
    tag = "clients",
    summary = "Get a client",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id"),
    ),
    responses(
        (status = 200, body = ClientView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_client(Admin { service: s, .. }: Admin, Path(p): Path<ClientPath>) -> Answer {
    Ok(axum::Json(s.get_client(&p.realm, &p.client_id).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/clients/{client_id}",
    tag = "clients",
    summary = "Change a client",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id"),
    ),
    request_body = ClientInput,
    responses(
        (status = 200, body = ClientView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_client(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<ClientPath>,
    Json(b): Json<ClientInput>,
) -> Answer {
    Ok(axum::Json(s.update_client(&a, &p.realm, &p.client_id, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/clients/{client_id}",
    tag = "clients",
    summary = "Delete a client",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id"),
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
pub async fn delete_client(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<ClientPath>,
) -> Answer {
    s.delete_client(&a, &p.realm, &p.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/clients/{client_id}/secret",
    tag = "clients",
    summary = "Generate a new client secret (returned this once); the old one stops working",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("client_id" = String, Path, description = "Client id"),
    ),
    responses(
        (status = 200, body = ClientSecret),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn rotate_client_secret(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<ClientPath>,
) -> Answer {
    Ok(axum::Json(s.rotate_client_secret(&a, &p.realm, &p.client_id).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/initial-access-tokens",
    tag = "clients",
    summary = "List initial access tokens (RFC 7591) of the realm",
    params(("realm" = String, Path, description = "Realm name")),
    responses(
        (status = 200, body = Vec<InitialAccessTokenView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_initial_access_tokens(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
) -> Answer {
    Ok(axum::Json(s.list_initial_access_tokens(&p.realm).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/initial-access-tokens",
    tag = "clients",
    summary = "Make an initial access token for dynamic registration; the token is returned this once",
    params(("realm" = String, Path, description = "Realm name")),
    request_body = InitialAccessTokenInput,
    responses(
        (status = 201, body = InitialAccessTokenCreated),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_initial_access_token(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<InitialAccessTokenInput>,
) -> Answer {
    let r = s.create_initial_access_token(&a, &p.realm, b).await?;
    Ok(super::created(
        format!(
            "/admin/api/realms/{}/initial-access-tokens/{}",
            p.realm, r.view.id
        ),
        r,
    ))
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/initial-access-tokens/{id}",
    tag = "clients",
    summary = "Revoke an initial access token",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "The token's id"),
    ),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn delete_initial_access_token(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<IdPath>,
) -> Answer {
    s.delete_initial_access_token(&a, &p.realm, &p.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

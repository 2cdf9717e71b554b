//! The admin REST handlers: extract, call the admin service, answer. Each carries its OpenAPI
//! description; `super::openapi` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::extract::{Admin, Json, Keys, Query, UserQuery};
use super::ApiError;

type Answer = Result<Response, ApiError>;

#[utoipa::path(
    get,
    path = "/admin/api/realms",
    tag = "realms",
    summary = "List realms",
    params(
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<RealmView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_realms(Admin { service: s, .. }: Admin, Query(q): Query<PageRequest>) -> Answer {
    Ok(axum::Json(s.list_realms(q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms",
    tag = "realms",
    summary = "Create a realm with the standard scopes and fresh signing keys",
    request_body = RealmInput,
    responses(
        (status = 201, body = RealmView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_realm(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Json(b): Json<RealmInput>,
) -> Answer {
    let r = s.create_realm(&a, b).await?;
    Ok(super::created(format!("/admin/api/realms/{}", r.name), r))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}",
    tag = "realms",
    summary = "Get a realm",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    responses(
        (status = 200, body = RealmView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_realm(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_realm(&k[0]).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}",
    tag = "realms",
    summary = "Change a realm's settings",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = RealmInput,
    responses(
        (status = 200, body = RealmView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_realm(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
    Json(b): Json<RealmInput>,
) -> Answer {
    Ok(axum::Json(s.update_realm(&a, &k[0], b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}",
    tag = "realms",
    summary = "Delete a realm and everything in it",
    params(
        ("realm" = String, Path, description = "Realm name"),
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
pub async fn delete_realm(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
) -> Answer {
    s.delete_realm(&a, &k[0]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/summary",
    tag = "realms",
    summary = "Counts and recent events of a realm",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    responses(
        (status = 200, body = RealmSummary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn realm_summary(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.realm_summary(&k[0]).await?).into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_clients(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ClientInput>,
) -> Answer {
    let r = s.create_client(&a, &k[0], b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/clients/{}", k[0], r.client.client_id),
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
pub async fn get_client(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_client(&k[0], &k[1]).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ClientInput>,
) -> Answer {
    Ok(axum::Json(s.update_client(&a, &k[0], &k[1], b).await?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    s.delete_client(&a, &k[0], &k[1]).await?;
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
    Keys(k): Keys,
) -> Answer {
    Ok(axum::Json(s.rotate_client_secret(&a, &k[0], &k[1]).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/users",
    tag = "users",
    summary = "List users",
    params(
        ("realm" = String, Path, description = "Realm name"),
        UserQuery,
    ),
    responses(
        (status = 200, body = Page<UserView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_users(
    Admin { service: s, .. }: Admin,
    Keys(k): Keys,
    Query(q): Query<UserQuery>,
) -> Answer {
    Ok(axum::Json(s.list_users(&k[0], q.username.as_deref(), q.page()).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/users",
    tag = "users",
    summary = "Create a user",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = UserInput,
    responses(
        (status = 201, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_user(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
    Json(b): Json<UserInput>,
) -> Answer {
    let r = s.create_user(&a, &k[0], b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/users/{}", k[0], r.id),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/users/{id}",
    tag = "users",
    summary = "Get a user",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id (returned at creation)"),
    ),
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_user(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_user(&k[0], &k[1]).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/users/{id}",
    tag = "users",
    summary = "Change a user",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id (returned at creation)"),
    ),
    request_body = UserInput,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_user(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
    Json(b): Json<UserInput>,
) -> Answer {
    Ok(axum::Json(s.update_user(&a, &k[0], &k[1], b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/users/{id}",
    tag = "users",
    summary = "Delete a user",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id (returned at creation)"),
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
pub async fn delete_user(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
) -> Answer {
    s.delete_user(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/users/{id}/password",
    tag = "users",
    summary = "Set a user's password; their refresh tokens end",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    request_body = PasswordInput,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn set_user_password(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
    Json(b): Json<PasswordInput>,
) -> Answer {
    Ok(axum::Json(s.set_user_password(&a, &k[0], &k[1], &b.password).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/users/{id}/unlock",
    tag = "users",
    summary = "Lift a lockout after failed sign-ins",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn unlock_user(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Keys(k): Keys,
) -> Answer {
    Ok(axum::Json(s.unlock_user(&a, &k[0], &k[1]).await?).into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_scopes(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ScopeInput>,
) -> Answer {
    let r = s.create_scope(&a, &k[0], b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/scopes/{}", k[0], r.name),
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
pub async fn get_scope(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_scope(&k[0], &k[1]).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ScopeInput>,
) -> Answer {
    Ok(axum::Json(s.update_scope(&a, &k[0], &k[1], b).await?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    s.delete_scope(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_api_resources(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ApiResourceInput>,
) -> Answer {
    let r = s.create_api_resource(&a, &k[0], b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/api-resources/{}", k[0], r.name),
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
pub async fn get_api_resource(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_api_resource(&k[0], &k[1]).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ApiResourceInput>,
) -> Answer {
    Ok(axum::Json(s.update_api_resource(&a, &k[0], &k[1], b).await?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    s.delete_api_resource(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_claim_types(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ClaimTypeInput>,
) -> Answer {
    let r = s.create_claim_type(&a, &k[0], b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/claim-types/{}", k[0], r.name),
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
pub async fn get_claim_type(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_claim_type(&k[0], &k[1]).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ClaimTypeInput>,
) -> Answer {
    Ok(axum::Json(s.update_claim_type(&a, &k[0], &k[1], b).await?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    s.delete_claim_type(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_exchange_policies(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ExchangePolicyInput>,
) -> Answer {
    let r = s.create_exchange_policy(&a, &k[0], b).await?;
    Ok(super::created(
        format!(
            "/admin/api/realms/{}/exchange-policies/{}",
            k[0], r.client_id
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
pub async fn get_exchange_policy(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.get_exchange_policy(&k[0], &k[1]).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<ExchangePolicyInput>,
) -> Answer {
    Ok(axum::Json(s.update_exchange_policy(&a, &k[0], &k[1], b).await?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    s.delete_exchange_policy(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
pub async fn list_keys(Admin { service: s, .. }: Admin, Keys(k): Keys) -> Answer {
    Ok(axum::Json(s.list_keys(&k[0]).await.map(Page::all)?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    Ok(axum::Json(s.rotate_keys(&a, &k[0]).await.map(Page::all)?).into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_revocations(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
    Json(b): Json<RevocationInput>,
) -> Answer {
    let r = s.create_revocation(&a, &k[0], b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/revocations/{}", k[0], r.id),
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
    Keys(k): Keys,
) -> Answer {
    s.delete_revocation(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
    Keys(k): Keys,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_sessions(&k[0], q).await?).into_response())
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
    Keys(k): Keys,
) -> Answer {
    s.end_session(&a, &k[0], &k[1]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/events",
    tag = "events",
    summary = "The audit trail, newest first",
    params(
        ("realm" = String, Path, description = "Realm name"),
        EventFilter,
    ),
    responses(
        (status = 200, body = Page<EventView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_events(
    Admin { service: s, .. }: Admin,
    Keys(k): Keys,
    Query(q): Query<EventFilter>,
) -> Answer {
    Ok(axum::Json(s.list_events(&k[0], q).await?).into_response())
}

/// Every handler, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_realms,
    create_realm,
    get_realm,
    update_realm,
    delete_realm,
    realm_summary,
    list_clients,
    create_client,
    get_client,
    update_client,
    delete_client,
    rotate_client_secret,
    list_users,
    create_user,
    get_user,
    update_user,
    delete_user,
    set_user_password,
    unlock_user,
    list_scopes,
    create_scope,
    get_scope,
    update_scope,
    delete_scope,
    list_api_resources,
    create_api_resource,
    get_api_resource,
    update_api_resource,
    delete_api_resource,
    list_claim_types,
    create_claim_type,
    get_claim_type,
    update_claim_type,
    delete_claim_type,
    list_exchange_policies,
    create_exchange_policy,
    get_exchange_policy,
    update_exchange_policy,
    delete_exchange_policy,
    list_keys,
    rotate_keys,
    list_revocations,
    create_revocation,
    delete_revocation,
    list_sessions,
    end_session,
    list_events
))]
pub struct Paths;

/// The routes, relative to `/admin/api`.
pub fn routes() -> axum::Router<crate::app::AppState> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route("/realms", get(list_realms).post(create_realm))
        .route(
            "/realms/{realm}",
            get(get_realm).patch(update_realm).delete(delete_realm),
        )
        .route("/realms/{realm}/summary", get(realm_summary))
        .route(
            "/realms/{realm}/clients",
            get(list_clients).post(create_client),
        )
        .route(
            "/realms/{realm}/clients/{client_id}",
            get(get_client).patch(update_client).delete(delete_client),
        )
        .route(
            "/realms/{realm}/clients/{client_id}/secret",
            post(rotate_client_secret),
        )
        .route("/realms/{realm}/users", get(list_users).post(create_user))
        .route(
            "/realms/{realm}/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route(
            "/realms/{realm}/users/{id}/password",
            post(set_user_password),
        )
        .route("/realms/{realm}/users/{id}/unlock", post(unlock_user))
        .route(
            "/realms/{realm}/scopes",
            get(list_scopes).post(create_scope),
        )
        .route(
            "/realms/{realm}/scopes/{name}",
            get(get_scope).patch(update_scope).delete(delete_scope),
        )
        .route(
            "/realms/{realm}/api-resources",
            get(list_api_resources).post(create_api_resource),
        )
        .route(
            "/realms/{realm}/api-resources/{name}",
            get(get_api_resource)
                .patch(update_api_resource)
                .delete(delete_api_resource),
        )
        .route(
            "/realms/{realm}/claim-types",
            get(list_claim_types).post(create_claim_type),
        )
        .route(
            "/realms/{realm}/claim-types/{name}",
            get(get_claim_type)
                .patch(update_claim_type)
                .delete(delete_claim_type),
        )
        .route(
            "/realms/{realm}/exchange-policies",
            get(list_exchange_policies).post(create_exchange_policy),
        )
        .route(
            "/realms/{realm}/exchange-policies/{client_id}",
            get(get_exchange_policy)
                .patch(update_exchange_policy)
                .delete(delete_exchange_policy),
        )
        .route("/realms/{realm}/keys", get(list_keys))
        .route("/realms/{realm}/keys/rotate", post(rotate_keys))
        .route(
            "/realms/{realm}/revocations",
            get(list_revocations).post(create_revocation),
        )
        .route(
            "/realms/{realm}/revocations/{id}",
            delete(delete_revocation),
        )
        .route("/realms/{realm}/sessions", get(list_sessions))
        .route("/realms/{realm}/sessions/{id}", delete(end_session))
        .route("/realms/{realm}/events", get(list_events))
}

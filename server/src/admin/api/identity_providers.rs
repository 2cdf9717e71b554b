//! A realm's upstream identity providers (federation), and users' links to upstream accounts.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, Path, Query};
use super::paths::{AliasPath, IdPath, RealmPath, UserLinkPath};
use super::Answer;

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/identity-providers",
    tag = "identity-providers",
    summary = "List upstream identity providers",
    params(
        ("realm" = String, Path, description = "Realm name"),
        PageRequest,
    ),
    responses(
        (status = 200, body = Page<IdentityProviderView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_identity_providers(
    Admin { service: s, .. }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<PageRequest>,
) -> Answer {
    Ok(axum::Json(s.list_identity_providers(&p.realm, q).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/identity-providers",
    tag = "identity-providers",
    summary = "Add an upstream identity provider (a template prefills well-known ones)",
    params(
        ("realm" = String, Path, description = "Realm name"),
    ),
    request_body = IdentityProviderInput,
    responses(
        (status = 201, body = IdentityProviderView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create_identity_provider(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<IdentityProviderInput>,
) -> Answer {
    let r = s.create_identity_provider(&a, &p.realm, b).await?;
    Ok(super::created(
        format!(
            "/admin/api/realms/{}/identity-providers/{}",
            p.realm, r.alias
        ),
        r,
    ))
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/identity-providers/{alias}",
    tag = "identity-providers",
    summary = "Get an upstream identity provider",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("alias" = String, Path, description = "Alias"),
    ),
    responses(
        (status = 200, body = IdentityProviderView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_identity_provider(
    Admin { service: s, .. }: Admin,
    Path(p): Path<AliasPath>,
) -> Answer {
    Ok(axum::Json(s.get_identity_provider(&p.realm, &p.alias).await?).into_response())
}

#[utoipa::path(
    patch,
    path = "/admin/api/realms/{realm}/identity-providers/{alias}",
    tag = "identity-providers",
    summary = "Change an upstream identity provider",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("alias" = String, Path, description = "Alias"),
    ),
    request_body = IdentityProviderInput,
    responses(
        (status = 200, body = IdentityProviderView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn update_identity_provider(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<AliasPath>,
    Json(b): Json<IdentityProviderInput>,
) -> Answer {
    Ok(axum::Json(
        s.update_identity_provider(&a, &p.realm, &p.alias, b)
            .await?,
    )
    .into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/identity-providers/{alias}",
    tag = "identity-providers",
    summary = "Remove an upstream identity provider and every link to it (users stay)",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("alias" = String, Path, description = "Alias"),
    ),
    responses(
        (status = 204, description = "Done"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn delete_identity_provider(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<AliasPath>,
) -> Answer {
    s.delete_identity_provider(&a, &p.realm, &p.alias).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/identity-providers/{alias}/test",
    tag = "identity-providers",
    summary = "Test the connection: fetch the provider's discovery document and signing keys",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("alias" = String, Path, description = "Alias"),
    ),
    responses(
        (status = 200, body = ConnectionCheck),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn test_identity_provider(
    Admin { service: s, .. }: Admin,
    Path(p): Path<AliasPath>,
) -> Answer {
    Ok(axum::Json(s.test_identity_provider(&p.realm, &p.alias).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/users/{id}/links",
    tag = "users",
    summary = "List a user's links to upstream accounts",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    responses(
        (status = 200, body = Vec<FederatedLinkView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_user_links(Admin { service: s, .. }: Admin, Path(p): Path<IdPath>) -> Answer {
    Ok(axum::Json(s.list_user_links(&p.realm, &p.id).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/users/{id}/links/{alias}",
    tag = "users",
    summary = "Remove a user's link to an upstream account",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
        ("alias" = String, Path, description = "Provider alias"),
    ),
    responses(
        (status = 204, description = "Done"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn delete_user_link(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<UserLinkPath>,
) -> Answer {
    s.delete_user_link(&a, &p.realm, &p.id, &p.alias).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! Users of a realm: list, create, read, change, delete, password, unlock, second factors.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Json, JsonList, Path, Query, UserQuery};
use super::paths::{CredentialPath, IdPath, RealmPath};
use super::Answer;

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
    Path(p): Path<RealmPath>,
    Query(q): Query<UserQuery>,
) -> Answer {
    Ok(axum::Json(
        s.list_users(&p.realm, q.username.as_deref(), q.page())
            .await?,
    )
    .into_response())
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
    Path(p): Path<RealmPath>,
    Json(b): Json<UserInput>,
) -> Answer {
    let r = s.create_user(&a, &p.realm, b).await?;
    Ok(super::created(
        format!("/admin/api/realms/{}/users/{}", p.realm, r.id),
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
pub async fn get_user(Admin { service: s, .. }: Admin, Path(p): Path<IdPath>) -> Answer {
    Ok(axum::Json(s.get_user(&p.realm, &p.id).await?).into_response())
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
    Path(p): Path<IdPath>,
    Json(b): Json<UserInput>,
) -> Answer {
    Ok(axum::Json(s.update_user(&a, &p.realm, &p.id, b).await?).into_response())
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
    Path(p): Path<IdPath>,
) -> Answer {
    s.delete_user(&a, &p.realm, &p.id).await?;
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
    Path(p): Path<IdPath>,
    Json(b): Json<PasswordInput>,
) -> Answer {
    Ok(axum::Json(
        s.set_user_password(&a, &p.realm, &p.id, &b.password)
            .await?,
    )
    .into_response())
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
    Path(p): Path<IdPath>,
) -> Answer {
    Ok(axum::Json(s.unlock_user(&a, &p.realm, &p.id).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/users/{id}/sessions",
    tag = "users",
    summary = "List a user's live sessions, newest first (client, address, start, last use)",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    responses(
        (status = 200, body = Vec<SessionView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_user_sessions(Admin { service: s, .. }: Admin, Path(p): Path<IdPath>) -> Answer {
    Ok(axum::Json(s.list_user_sessions(&p.realm, &p.id).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/users/{id}/sessions",
    tag = "users",
    summary = "End every live session of a user: refresh tokens revoked, back-channel logout sent",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    responses(
        (status = 200, body = SessionsEnded),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn end_user_sessions(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<IdPath>,
) -> Answer {
    let ended = s.end_user_sessions(&a, &p.realm, &p.id).await?;
    Ok(axum::Json(SessionsEnded { ended }).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/users/{id}/credentials",
    tag = "users",
    summary = "List a user's second factors",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    responses(
        (status = 200, body = Vec<CredentialView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list_credentials(Admin { service: s, .. }: Admin, Path(p): Path<IdPath>) -> Answer {
    Ok(axum::Json(s.list_credentials(&p.realm, &p.id).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/users/{id}/credentials/{credential}",
    tag = "users",
    summary = "Remove a second factor (reset)",
    description = "Removes a TOTP credential, or every recovery code with `recovery-codes`. \
        Where a second factor is required the user enrols again at the next sign-in.",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
        ("credential" = String, Path, description = "Credential id, or `recovery-codes`"),
    ),
    responses(
        (status = 204, description = "Done"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn delete_credential(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<CredentialPath>,
) -> Answer {
    s.delete_credential(&a, &p.realm, &p.id, &p.credential)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/users/{id}/credentials/totp",
    tag = "users",
    summary = "Set a user's TOTP secret (import or generate)",
    description = "Imports the base32 `secret` of another system, or generates one when it is \
        left out, replacing any TOTP the user had. The secret is returned this once.",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    request_body = TotpInput,
    responses(
        (status = 201, body = TotpCreated),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn set_totp(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<IdPath>,
    Json(b): Json<TotpInput>,
) -> Answer {
    let created = s.set_totp(&a, &p.realm, &p.id, b).await?;
    Ok(super::created(
        format!(
            "/admin/api/realms/{}/users/{}/credentials/{}",
            p.realm, p.id, created.credential.id
        ),
        created,
    ))
}

#[utoipa::path(
    post,
    path = "/admin/api/realms/{realm}/users/{id}/required-actions",
    tag = "users",
    summary = "Set the actions a user takes at their next sign-in",
    description = "Replaces the list: `update_password` (a new password is set right after the \
        sign-in), `configure_totp` (an authenticator app is set up, after the current one is \
        given), `verify_email` (a link is mailed; needs an address and the realm's SMTP \
        settings).",
    params(
        ("realm" = String, Path, description = "Realm name"),
        ("id" = String, Path, description = "User id"),
    ),
    request_body = Vec<String>,
    responses(
        (status = 200, body = UserView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn set_required_actions(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<IdPath>,
    JsonList(b): JsonList<String>,
) -> Answer {
    Ok(axum::Json(s.set_required_actions(&a, &p.realm, &p.id, b).await?).into_response())
}

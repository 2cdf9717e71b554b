//! Realms: list, create, read, change, delete, and a realm's summary.
//! Handlers with their OpenAPI descriptions; `super::Paths` collects them.

use admin_model::*;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::extract::{Admin, Document, Json, Path, Query};
use super::paths::RealmPath;
use super::Answer;

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
pub async fn get_realm(Admin { service: s, .. }: Admin, Path(p): Path<RealmPath>) -> Answer {
    Ok(axum::Json(s.get_realm(&p.realm).await?).into_response())
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
    Path(p): Path<RealmPath>,
    Json(b): Json<RealmInput>,
) -> Answer {
    Ok(axum::Json(s.update_realm(&a, &p.realm, b).await?).into_response())
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
    Path(p): Path<RealmPath>,
) -> Answer {
    s.delete_realm(&a, &p.realm).await?;
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
pub async fn realm_summary(Admin { service: s, .. }: Admin, Path(p): Path<RealmPath>) -> Answer {
    Ok(axum::Json(s.realm_summary(&p.realm).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/smtp",
    tag = "realms",
    summary = "A realm's SMTP settings (the password never shown)",
    params(("realm" = String, Path, description = "Realm name")),
    responses(
        (status = 200, body = SmtpView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn get_smtp(Admin { service: s, .. }: Admin, Path(p): Path<RealmPath>) -> Answer {
    Ok(axum::Json(s.get_smtp(&p.realm).await?).into_response())
}

#[utoipa::path(
    put,
    path = "/admin/api/realms/{realm}/smtp",
    tag = "realms",
    summary = "Set a realm's SMTP settings",
    description = "Replaces the settings. `password` is write-only: left out it stays, `null` \
        clears it. Mail goes out for password reset links.",
    params(("realm" = String, Path, description = "Realm name")),
    request_body = SmtpInput,
    responses(
        (status = 200, body = SmtpView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn put_smtp(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Json(b): Json<SmtpInput>,
) -> Answer {
    Ok(axum::Json(s.put_smtp(&a, &p.realm, b).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/admin/api/realms/{realm}/smtp",
    tag = "realms",
    summary = "Remove a realm's SMTP settings",
    params(("realm" = String, Path, description = "Realm name")),
    responses(
        (status = 204, description = "Done"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn delete_smtp(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
) -> Answer {
    s.delete_smtp(&a, &p.realm).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/revocation-salt",
    tag = "realms",
    summary = "The salt of the realm's revocation lists",
    description = "Resource servers that poll `GET /realms/{realm}/revocations` and match \
        tokens themselves (`tessera-resource`) need it: TOKEN and CLAIM entries carry \
        base64url(SHA-256(salt + value)). Reading it is audited \
        (`realm.revocation_salt_read`).",
    params(("realm" = String, Path, description = "Realm name")),
    responses(
        (status = 200, body = RevocationSaltView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn revocation_salt(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
) -> Answer {
    let view = s.revocation_salt(&a, &p.realm).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(view),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/admin/api/realms/{realm}/export",
    tag = "realms",
    summary = "The realm as one JSON document (realms as code)",
    description = "Clients, scopes, API resources, claim types, roles, users (password hashes, \
        never passwords), identity providers, directories, exchange policies and settings, \
        each without the ids that tie it to one database. Secrets appear only as hashes. With \
        `include_keys=true` the document also carries the signing keys and sealed secrets, \
        still encrypted with the master key (only a server with the same \
        `TESSERA_MASTER_KEY` can use them); such an export is audited (`realm.exported`).",
    params(("realm" = String, Path, description = "Realm name"), ExportQuery),
    responses(
        (status = 200, body = Object, description = "The realm document (`format` \
            `tessera.realm/v1`)"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn export_realm(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Path(p): Path<RealmPath>,
    Query(q): Query<ExportQuery>,
) -> Answer {
    let document = s.export_realm(&a, &p.realm, q.include_keys).await?;
    Ok(axum::Json(document).into_response())
}

#[utoipa::path(
    post,
    path = "/admin/api/realm-imports",
    tag = "realms",
    summary = "Bring a realm in line with a realm document, creating it if need be",
    description = "Items are matched by their natural keys (`client_id`, `username`, a \
        scope's `name`, …): missing ones are created, differing ones rewritten, and items the \
        document does not list are left alone. Nested lists a document carries (a client's \
        `secrets`, a user's `roles`) are made to match it exactly. All in one transaction: an \
        invalid document changes nothing (422 naming the item). Importing the same document \
        twice changes nothing and records no audit event. `dry_run=true` reports the changes \
        and makes none.",
    params(ImportQuery),
    request_body(content = Object, description = "A realm document from an export"),
    responses(
        (status = 200, body = ImportReport),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn import_realm(
    Admin {
        actor: a,
        service: s,
    }: Admin,
    Query(q): Query<ImportQuery>,
    Document(document): Document,
) -> Answer {
    let report = s.import_realm(&a, document, q.dry_run).await?;
    Ok(axum::Json(report).into_response())
}

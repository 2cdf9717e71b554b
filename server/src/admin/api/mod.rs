//! The admin REST API at `/admin/api` (CONTRACT §4): JSON in and out, bearer tokens of realm
//! `master` holding the role `admin`, errors as `{"error", "message", "fields"}`.

mod api_resources;
mod claim_types;
mod clients;
mod directories;
mod events;
mod exchange_policies;
mod extract;
mod identity_providers;
mod keys;
mod paths;
mod realms;
mod revocations;
mod roles;
mod scopes;
mod sessions;
mod users;

use admin_model::{AdminError, ErrorBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// An admin API refusal as an HTTP response.
#[derive(Debug)]
pub enum ApiError {
    /// An admin operation refused (or failed), in the service's own terms.
    Admin(AdminError),
    /// The HTTP exchange itself is refused before any operation runs: 405, 413, 415.
    Http {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl ApiError {
    fn http(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Http {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        Self::Admin(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Admin(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                e.body(),
            ),
            Self::Http {
                status,
                code,
                message,
            } => (
                status,
                ErrorBody {
                    error: code.to_string(),
                    message,
                    fields: None,
                },
            ),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="tessera-admin""#),
            );
        }
        response
    }
}

/// What every handler answers.
type Answer = Result<Response, ApiError>;

/// `201 Created` with the new item's address.
fn created(location: String, body: impl Serialize) -> Response {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `/admin/api/…`: the handlers, the OpenAPI document, JSON 404/405 for anything else.
/// Answers are never cached: some carry secrets.
pub fn router() -> Router<AppState> {
    let api = routes()
        .route(
            "/openapi.json",
            axum::routing::get(super::openapi::document),
        )
        .fallback(|| async { ApiError::from(AdminError::not_found("endpoint")) })
        .method_not_allowed_fallback(|| async {
            ApiError::http(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed on this resource",
            )
        })
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new().nest("/admin/api", api)
}

/// Every handler, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    realms::list_realms,
    realms::create_realm,
    realms::get_realm,
    realms::update_realm,
    realms::delete_realm,
    realms::realm_summary,
    realms::get_smtp,
    realms::put_smtp,
    realms::delete_smtp,
    realms::revocation_salt,
    realms::export_realm,
    realms::import_realm,
    clients::list_clients,
    clients::create_client,
    clients::get_client,
    clients::update_client,
    clients::delete_client,
    clients::rotate_client_secret,
    clients::list_initial_access_tokens,
    clients::create_initial_access_token,
    clients::delete_initial_access_token,
    users::list_users,
    users::create_user,
    users::get_user,
    users::update_user,
    users::delete_user,
    users::set_user_password,
    users::unlock_user,
    users::list_credentials,
    users::delete_credential,
    users::set_totp,
    users::set_required_actions,
    users::list_user_sessions,
    users::end_user_sessions,
    roles::list_roles,
    roles::create_role,
    roles::get_role,
    roles::update_role,
    roles::delete_role,
    identity_providers::list_identity_providers,
    identity_providers::create_identity_provider,
    identity_providers::get_identity_provider,
    identity_providers::update_identity_provider,
    identity_providers::delete_identity_provider,
    identity_providers::test_identity_provider,
    identity_providers::list_user_links,
    identity_providers::delete_user_link,
    directories::list_directories,
    directories::create_directory,
    directories::get_directory,
    directories::update_directory,
    directories::delete_directory,
    directories::test_directory,
    scopes::list_scopes,
    scopes::create_scope,
    scopes::get_scope,
    scopes::update_scope,
    scopes::delete_scope,
    api_resources::list_api_resources,
    api_resources::create_api_resource,
    api_resources::get_api_resource,
    api_resources::update_api_resource,
    api_resources::delete_api_resource,
    claim_types::list_claim_types,
    claim_types::create_claim_type,
    claim_types::get_claim_type,
    claim_types::update_claim_type,
    claim_types::delete_claim_type,
    exchange_policies::list_exchange_policies,
    exchange_policies::create_exchange_policy,
    exchange_policies::get_exchange_policy,
    exchange_policies::update_exchange_policy,
    exchange_policies::delete_exchange_policy,
    keys::list_keys,
    keys::rotate_keys,
    revocations::list_revocations,
    revocations::create_revocation,
    revocations::delete_revocation,
    sessions::list_sessions,
    sessions::end_session,
    events::list_events
))]
pub struct Paths;

/// The routes, relative to `/admin/api`.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route(
            "/realms",
            get(realms::list_realms).post(realms::create_realm),
        )
        .route(
            "/realms/{realm}",
            get(realms::get_realm)
                .patch(realms::update_realm)
                .delete(realms::delete_realm),
        )
        .route("/realms/{realm}/summary", get(realms::realm_summary))
        .route("/realms/{realm}/export", get(realms::export_realm))
        .route("/realm-imports", post(realms::import_realm))
        .route(
            "/realms/{realm}/smtp",
            get(realms::get_smtp)
                .put(realms::put_smtp)
                .delete(realms::delete_smtp),
        )
        .route(
            "/realms/{realm}/revocation-salt",
            get(realms::revocation_salt),
        )
        .route(
            "/realms/{realm}/clients",
            get(clients::list_clients).post(clients::create_client),
        )
        .route(
            "/realms/{realm}/clients/{client_id}",
            get(clients::get_client)
                .patch(clients::update_client)
                .delete(clients::delete_client),
        )
        .route(
            "/realms/{realm}/clients/{client_id}/secret",
            post(clients::rotate_client_secret),
        )
        .route(
            "/realms/{realm}/initial-access-tokens",
            get(clients::list_initial_access_tokens).post(clients::create_initial_access_token),
        )
        .route(
            "/realms/{realm}/initial-access-tokens/{id}",
            axum::routing::delete(clients::delete_initial_access_token),
        )
        .route(
            "/realms/{realm}/users",
            get(users::list_users).post(users::create_user),
        )
        .route(
            "/realms/{realm}/users/{id}",
            get(users::get_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route(
            "/realms/{realm}/users/{id}/password",
            post(users::set_user_password),
        )
        .route(
            "/realms/{realm}/users/{id}/unlock",
            post(users::unlock_user),
        )
        .route(
            "/realms/{realm}/users/{id}/credentials",
            get(users::list_credentials),
        )
        .route(
            "/realms/{realm}/users/{id}/required-actions",
            post(users::set_required_actions),
        )
        .route(
            "/realms/{realm}/users/{id}/credentials/totp",
            post(users::set_totp),
        )
        .route(
            "/realms/{realm}/users/{id}/credentials/{credential}",
            delete(users::delete_credential),
        )
        .route(
            "/realms/{realm}/scopes",
            get(scopes::list_scopes).post(scopes::create_scope),
        )
        .route(
            "/realms/{realm}/scopes/{name}",
            get(scopes::get_scope)
                .patch(scopes::update_scope)
                .delete(scopes::delete_scope),
        )
        .route(
            "/realms/{realm}/api-resources",
            get(api_resources::list_api_resources).post(api_resources::create_api_resource),
        )
        .route(
            "/realms/{realm}/api-resources/{name}",
            get(api_resources::get_api_resource)
                .patch(api_resources::update_api_resource)
                .delete(api_resources::delete_api_resource),
        )
        .route(
            "/realms/{realm}/claim-types",
            get(claim_types::list_claim_types).post(claim_types::create_claim_type),
        )
        .route(
            "/realms/{realm}/claim-types/{name}",
            get(claim_types::get_claim_type)
                .patch(claim_types::update_claim_type)
                .delete(claim_types::delete_claim_type),
        )
        .route(
            "/realms/{realm}/exchange-policies",
            get(exchange_policies::list_exchange_policies)
                .post(exchange_policies::create_exchange_policy),
        )
        .route(
            "/realms/{realm}/exchange-policies/{client_id}",
            get(exchange_policies::get_exchange_policy)
                .patch(exchange_policies::update_exchange_policy)
                .delete(exchange_policies::delete_exchange_policy),
        )
        .route(
            "/realms/{realm}/users/{id}/sessions",
            get(users::list_user_sessions).delete(users::end_user_sessions),
        )
        .route(
            "/realms/{realm}/roles",
            get(roles::list_roles).post(roles::create_role),
        )
        .route(
            "/realms/{realm}/roles/{name}",
            get(roles::get_role)
                .patch(roles::update_role)
                .delete(roles::delete_role),
        )
        .route(
            "/realms/{realm}/identity-providers",
            get(identity_providers::list_identity_providers)
                .post(identity_providers::create_identity_provider),
        )
        .route(
            "/realms/{realm}/identity-providers/{alias}",
            get(identity_providers::get_identity_provider)
                .patch(identity_providers::update_identity_provider)
                .delete(identity_providers::delete_identity_provider),
        )
        .route(
            "/realms/{realm}/identity-providers/{alias}/test",
            post(identity_providers::test_identity_provider),
        )
        .route(
            "/realms/{realm}/users/{id}/links",
            get(identity_providers::list_user_links),
        )
        .route(
            "/realms/{realm}/users/{id}/links/{alias}",
            delete(identity_providers::delete_user_link),
        )
        .route(
            "/realms/{realm}/directories",
            get(directories::list_directories).post(directories::create_directory),
        )
        .route(
            "/realms/{realm}/directories/{name}",
            get(directories::get_directory)
                .patch(directories::update_directory)
                .delete(directories::delete_directory),
        )
        .route(
            "/realms/{realm}/directories/{name}/test",
            post(directories::test_directory),
        )
        .route("/realms/{realm}/keys", get(keys::list_keys))
        .route("/realms/{realm}/keys/rotate", post(keys::rotate_keys))
        .route(
            "/realms/{realm}/revocations",
            get(revocations::list_revocations).post(revocations::create_revocation),
        )
        .route(
            "/realms/{realm}/revocations/{id}",
            delete(revocations::delete_revocation),
        )
        .route("/realms/{realm}/sessions", get(sessions::list_sessions))
        .route(
            "/realms/{realm}/sessions/{id}",
            delete(sessions::end_session),
        )
        .route("/realms/{realm}/events", get(events::list_events))
}

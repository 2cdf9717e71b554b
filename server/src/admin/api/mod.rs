//! The admin REST API at `/admin/api` (CONTRACT §4): JSON in and out, bearer tokens of realm
//! `master` holding the role `admin`, errors as `{"error", "message", "fields"}`.

mod extract;
pub mod handlers;

use admin_model::{AdminError, ErrorBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

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
    let api = handlers::routes()
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

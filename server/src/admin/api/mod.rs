//! The admin REST API at `/admin/api` (CONTRACT §4): JSON in and out, bearer tokens of realm
//! `master` holding the role `admin`, errors as `{"error", "message", "fields"}`.

mod extract;
pub mod handlers;

use admin_model::AdminError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// An admin error as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub AdminError);

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.0.body())).into_response();
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
        .fallback(|| async { ApiError(AdminError::NotFound("no such admin API endpoint".into())) })
        .method_not_allowed_fallback(|| async {
            let mut response = ApiError(AdminError::BadRequest(
                "this method is not allowed on this resource".into(),
            ))
            .into_response();
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
        })
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new().nest("/admin/api", api)
}

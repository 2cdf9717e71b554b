//! Database outages as seen by one request: a flag the store raises when the database is out
//! of reach, and the 503 (with `Retry-After`) that replaces the request's 500 then, in the
//! error format of the endpoint that answered (CONTRACT §1).
//!
//! Errors that know they are outages render 503 themselves (`OAuthError`, `Problem`); this is
//! the net for the many error types that wrap a `StoreError` and end as an opaque 500.

use std::cell::Cell;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

/// Seconds a client is asked to wait before retrying while the database is unreachable.
pub const RETRY_AFTER_SECONDS: u64 = 5;

tokio::task_local! {
    static OUTAGE: Cell<bool>;
}

/// Runs `future` (one request's handling) with its own outage flag, returned beside its output.
pub async fn track<F: std::future::Future>(future: F) -> (F::Output, bool) {
    OUTAGE
        .scope(Cell::new(false), async move {
            let output = future.await;
            (output, OUTAGE.with(Cell::get))
        })
        .await
}

/// Records that the current request met an unreachable database (no-op outside a request).
pub fn note() {
    let _ = OUTAGE.try_with(|flag| flag.set(true));
}

/// The `Retry-After` header value.
pub fn retry_after() -> HeaderValue {
    HeaderValue::from(RETRY_AFTER_SECONDS)
}

/// A 500 of a request that met an outage becomes a 503 in the same family of format: problem
/// details, the admin API's error object, RFC 6749 JSON, or plain text for pages.
pub fn rewrite(admin_api: bool, response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let message = "the database is temporarily unavailable; try again shortly";
    let (content_type, body) = if content_type.starts_with("application/problem+json") {
        let body = json!({
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": message,
        });
        ("application/problem+json", body.to_string())
    } else if admin_api {
        let body = admin_model::ErrorBody {
            error: "temporarily_unavailable".into(),
            message: message.into(),
            fields: None,
        };
        (
            "application/json",
            serde_json::to_string(&body).unwrap_or_default(),
        )
    } else if content_type.starts_with("application/json") {
        let body = json!({"error": "temporarily_unavailable", "error_description": message});
        ("application/json", body.to_string())
    } else {
        ("text/plain; charset=utf-8", message.to_string())
    };
    // The other headers (security headers, say) stay as the router set them.
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::SERVICE_UNAVAILABLE;
    let headers = &mut parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::RETRY_AFTER, retry_after());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(body))
}

//! Turning a page component into an HTTP response.
//!
//! Rendering goes through leptos_axum's `render_app_async_with_context`: each handler loads
//! everything the page needs through the port first, then hands the data to a component that
//! renders synchronously inside a Leptos reactive owner; the status code rides on
//! `leptos_axum::ResponseOptions`. Redirects never render, so handlers answer them directly and
//! keep exact 303 semantics.

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;

/// Renders `view(data)` as a complete HTML document with `status`.
pub async fn page<D, V>(status: StatusCode, data: D, view: fn(D) -> V) -> Response
where
    D: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let app = move || {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(status);
        }
        view(data.clone())
    };
    // leptos_axum wants the request for its router context; the page does not read it.
    let request = match Request::builder().uri("/admin").body(Body::empty()) {
        Ok(request) => request,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let handler = leptos_axum::render_app_async_with_context(|| {}, app);
    let mut response = handler(request).await;
    // Pages carry CSRF tokens and tenant data: never cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

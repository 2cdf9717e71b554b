//! Turning a page component into an HTTP response.
//!
//! A handler loads everything its page needs through the port first, then hands that data to
//! a component, which renders synchronously to a string with tachys' `RenderHtml::to_html`
//! inside a fresh Leptos reactive owner; the page chrome (admin, realms, CSRF token, flash) is
//! provided to every component as context. The handler sets the status itself, so 200, 401,
//! 403, 404, 422 and the 303 redirects (which never render) stay exact.
//!
//! Why not `leptos_axum::render_app_async_with_context`: it was tried and status codes work
//! through its `ResponseOptions`, but it appends hydration scripts (`__RESOLVED_RESOURCES…`)
//! after `</html>` for a wasm client this console does not ship, and it needs a synthetic
//! request. Rendering to a string gives the same components clean, complete documents.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;

use crate::layout::Chrome;

/// Renders `view(data)` as a complete HTML document with `status`; `chrome` is available to
/// every component as context.
pub fn page<D, V>(status: StatusCode, chrome: Option<Chrome>, data: D, view: fn(D) -> V) -> Response
where
    V: IntoView,
{
    let owner = Owner::new();
    let html = owner.with(|| {
        if let Some(chrome) = chrome {
            provide_context(chrome);
        }
        view(data).to_html()
    });
    // Drop the components' reactive state now rather than with the last clone of the owner.
    owner.cleanup();
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Pages carry CSRF tokens and tenant data: never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 303 See Other to `location`.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Adds a `Set-Cookie` header when there is one.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

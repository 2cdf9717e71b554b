//! Turning a page component into an HTTP response, through `leptos_axum`.
//!
//! A handler loads everything its page needs through the port first, then hands that data to
//! a component here. `leptos_axum::render_app_async_with_context` renders it for the request
//! being answered, with the page chrome (admin, realms, CSRF token, flash) provided to every
//! component as context. The status and headers go through leptos_axum's `ResponseOptions`, so
//! 200, 401, 403, 404, 422 stay exact; the 303 redirects never render at all.
//!
//! leptos_axum provides a fresh CSP nonce per response. The console's own script carries it,
//! and so does the small inline script the renderer appends for hydration (inert here: the
//! console ships no WebAssembly). The `Content-Security-Policy` allows scripts with that nonce
//! only, so no injected markup can run script in an administrator's browser.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::layout::Chrome;

/// Renders `view(data)` as a complete HTML document answering the request `head` with
/// `status`; `chrome` is available to every component as context.
pub async fn page<D, V>(
    head: &Parts,
    status: StatusCode,
    chrome: Option<Chrome>,
    data: D,
    view: fn(D) -> V,
) -> Response
where
    D: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let render = leptos_axum::render_app_async_with_context(
        move || {
            if let Some(chrome) = chrome.clone() {
                provide_context(chrome);
            }
        },
        move || {
            if let Some(response) = use_context::<ResponseOptions>() {
                response.set_status(status);
                // Pages carry CSRF tokens and tenant data: never cached.
                response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if let Ok(csp) = HeaderValue::from_str(&content_security_policy(use_nonce())) {
                    response.insert_header(header::CONTENT_SECURITY_POLICY, csp);
                }
            }
            view(data.clone())
        },
    );
    // The body was read by the handler already; components only see the request's head.
    render(Request::from_parts(head.clone(), Body::empty())).await
}

/// Scripts only with this response's nonce; styles, images and form targets from the console's
/// own origin; never framed.
fn content_security_policy(nonce: Option<leptos::nonce::Nonce>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'nonce-{nonce}'"),
        None => "'none'".to_string(),
    };
    format!(
        "default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_need_the_nonce_and_nothing_else_is_allowed_by_default() {
        let csp = content_security_policy(Some(leptos::nonce::Nonce::from_value("abc")));
        assert!(csp.contains("script-src 'nonce-abc';"), "{csp}");
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
        let csp = content_security_policy(None);
        assert!(csp.contains("script-src 'none';"), "{csp}");
    }
}

//! Server-rendered HTML: escaping and the page frame shared by login, consent and error pages.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::sessions::BrowserSession;
use crate::state::RealmCtx;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// A complete page: `title` and `body` (already HTML) inside the realm-branded frame.
pub fn page(status: StatusCode, realm_label: &str, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · {realm}</title>
<link rel="stylesheet" href="/assets/tessera.css">
</head>
<body>
<main class="card" aria-labelledby="page-title">
<p class="muted">{realm}</p>
<h1 id="page-title">{title}</h1>
{body}
</main>
</body>
</html>"#,
        title = escape(title),
        realm = escape(realm_label),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Pages carry CSRF tokens and personal data: never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error page that never redirects (bad client, bad redirect URI, bad form).
pub fn error_page(status: StatusCode, realm_label: &str, message: &str) -> Response {
    page(
        status,
        realm_label,
        "This request cannot be completed",
        &format!(r#"<p class="error" role="alert">{}</p>"#, escape(message)),
    )
}

/// A hidden form field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        escape(name),
        escape(value)
    )
}

/// An error page in the realm's frame.
pub fn realm_error_page(realm: &RealmCtx, status: StatusCode, message: &str) -> Response {
    error_page(status, realm_label(realm), message)
}

/// 429 for a person over a sign-in or device rate limit, with `Retry-After`.
pub fn too_many_page(realm: &RealmCtx, limited: crate::rate_limit::Limited) -> Response {
    let seconds = limited.retry_after_secs();
    let mut response = realm_error_page(
        realm,
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Too many attempts from your network. Try again in {seconds} seconds."),
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(seconds),
    );
    response
}

/// The realm's name as people read it.
pub fn realm_label(realm: &RealmCtx) -> &str {
    realm
        .realm
        .display_name
        .as_deref()
        .unwrap_or(&realm.realm.name)
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `response` with the browser session's cookie, when it has one to set.
pub fn with_cookie(mut response: Response, browser: &BrowserSession) -> Response {
    if let Some(cookie) = browser.set_cookie() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}

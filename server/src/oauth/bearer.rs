//! Access tokens in requests: `Authorization: Bearer` (RFC 6750) and `Authorization: DPoP`
//! (RFC 9449 §7.1).

use axum::http::{header, HeaderMap};

/// How an access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    match access_token(headers) {
        Some((Scheme::Bearer, token)) => Some(token),
        _ => None,
    }
}

/// The token of an `Authorization: Bearer` or `Authorization: DPoP` header, with its scheme.
pub fn access_token(headers: &HeaderMap) -> Option<(Scheme, &str)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    Some((scheme, token.trim())).filter(|(_, t)| !t.is_empty())
}

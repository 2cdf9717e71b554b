//! Strict `application/x-www-form-urlencoded` request parsing for the protocol endpoints.
//!
//! RFC 6749 §3.1: parameters sent without a value are treated as omitted, and request and
//! response parameters MUST NOT be included more than once. Oversized or undecodable bodies are
//! answered with `invalid_request`, never a framework error page.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};

use super::error::OAuthError;
use crate::body::BodyError;

/// The largest form body the protocol endpoints read.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Parameters that may legitimately repeat: RFC 8707 `resource` and RFC 8693 `audience`.
const MULTI_VALUED: [&str; 2] = ["resource", "audience"];

/// Decoded form parameters; only the multi-valued ones may repeat.
#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, Vec<String>>,
}

impl Params {
    /// Parses a urlencoded string, refusing repeated single-valued parameters.
    pub fn parse(raw: &[u8]) -> Result<Self, OAuthError> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (key, value) in form_urlencoded::parse(raw) {
            // No protocol value contains control characters, and Postgres rejects NUL in text.
            if value.chars().any(|c| c.is_control() && c != '\t')
                || key.chars().any(char::is_control)
            {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{}` contains control characters",
                    key.escape_default()
                )));
            }
            let entry = values.entry(key.to_string()).or_default();
            if !entry.is_empty() && !MULTI_VALUED.contains(&key.as_ref()) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{key}` is repeated"
                )));
            }
            // Empty values are kept so a repetition is still caught, but read as absent.
            entry.push(value.into_owned());
        }
        Ok(Self { values })
    }

    /// The parameter's value; empty values count as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of a multi-valued parameter.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.values
            .get(name)
            .map(|v| {
                v.iter()
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter `{name}`")))
    }

    /// Adds one value of `name` (a multi-valued parameter may get several).
    pub fn push(&mut self, name: &str, value: &str) {
        self.values
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }

    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The parameters form-encoded again (empty values left out), sorted by name.
    pub fn to_query(&self) -> String {
        let mut entries: Vec<(&String, &Vec<String>)> = self.values.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, values) in entries {
            for value in values {
                if !value.is_empty() {
                    out.append_pair(name, value);
                }
            }
        }
        out.finish()
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.values
            .insert(name.to_string(), vec![value.to_string()]);
    }
}

/// A form POST: headers (for client authentication) and the parsed parameters.
#[derive(Debug)]
pub struct OAuthForm {
    pub headers: HeaderMap,
    pub params: Params,
    /// The path the request was sent to (DPoP proofs name its URL).
    pub path: String,
    /// The connection's peer (a proxy, perhaps: see `AppInner::client_ip`).
    pub peer: Option<std::net::IpAddr>,
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request<Body>, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let bytes = crate::body::read_limited(body, MAX_FORM_BYTES)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => OAuthError::invalid_request("the request body is too large"),
                BodyError::Unreadable => {
                    OAuthError::invalid_request("the request body could not be read")
                }
            })?;
        let params = Params::parse(&bytes)?;
        Ok(Self {
            peer: parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
            headers: parts.headers,
            params,
            // A nested router would see only its suffix of the path; proofs name the whole URL.
            path: parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| parts.uri.path(), |original| original.0.path())
                .to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        let err = Params::parse(b"grant_type=a&grant_type=b").unwrap_err();
        assert_eq!(err.code, super::super::error::ErrorCode::InvalidRequest);
        assert!(Params::parse(b"scope=&scope=x").is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(Params::parse(b"client_id=a%00b").is_err());
        assert!(Params::parse(b"username=a%0Ab").is_err());
        assert!(Params::parse(b"a%00=b").is_err());
        assert!(
            Params::parse(b"arbitrary-scopes=a%09b").is_ok(),
            "tabs separate scopes"
        );
    }

    #[test]
    fn resource_and_audience_may_repeat() {
        let p = Params::parse(b"resource=a&resource=b&audience=c").unwrap();
        assert_eq!(p.get_all("resource"), vec!["a", "b"]);
        assert_eq!(p.get_all("audience"), vec!["c"]);
        assert!(p.get_all("scope").is_empty());
    }

    #[test]
    fn empty_values_are_absent_and_encoding_is_decoded() {
        let p = Params::parse(b"scope=&a=b+c%21").unwrap();
        assert_eq!(p.get("scope"), None);
        assert_eq!(p.get("a"), Some("b c!"));
        assert!(p.require("scope").is_err());
    }
}

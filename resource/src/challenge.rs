//! Refusals as HTTP: 401 with an RFC 6750 `Bearer` (or RFC 9449 `DPoP`) challenge naming the
//! error and this API's metadata (`resource_metadata`, RFC 9728 §5.1), 403 for a scope the
//! token lacks, 503 when the issuer cannot be asked.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    /// `invalid_request`, `invalid_token`, `insufficient_scope`, `invalid_dpop_proof` or
    /// `temporarily_unavailable`; `None` when no credentials came at all.
    pub error: Option<&'static str>,
    pub description: String,
    /// The scheme the challenge names.
    pub dpop: bool,
    /// The scopes a route needs (for `insufficient_scope`).
    pub scope: Option<String>,
    /// The metadata document to name in the challenge.
    pub(crate) metadata_url: Option<String>,
}

impl Refusal {
    fn new(
        status: StatusCode,
        error: Option<&'static str>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            dpop: false,
            scope: None,
            metadata_url: None,
        }
    }

    pub fn missing() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "an access token is required",
        )
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Some("invalid_token"), description)
    }

    pub fn invalid_proof(description: impl Into<String>) -> Self {
        let mut refusal = Self::new(
            StatusCode::UNAUTHORIZED,
            Some("invalid_dpop_proof"),
            description,
        );
        refusal.dpop = true;
        refusal
    }

    pub fn insufficient_scope(needed: &[String]) -> Self {
        let mut refusal = Self::new(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the token lacks a scope this resource needs",
        );
        refusal.scope = Some(needed.join(" "));
        refusal
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Some("temporarily_unavailable"),
            "the token could not be checked with its issuer",
        )
    }

    pub(crate) fn with_metadata(mut self, url: &str) -> Self {
        self.metadata_url = Some(url.to_string());
        self
    }

    /// The `WWW-Authenticate` value.
    pub fn challenge(&self) -> String {
        let mut parts = vec![];
        if let Some(url) = &self.metadata_url {
            parts.push(format!(r#"resource_metadata="{url}""#));
        }
        if let Some(error) = self.error {
            parts.push(format!(r#"error="{error}""#));
            let description = self.description.replace(['"', '\\'], "'");
            parts.push(format!(r#"error_description="{description}""#));
        }
        if let Some(scope) = &self.scope {
            parts.push(format!(r#"scope="{scope}""#));
        }
        let scheme = if self.dpop {
            r#"DPoP algs="ES256 ES384 RS256 PS256 EdDSA""#
        } else {
            "Bearer"
        };
        if parts.is_empty() {
            scheme.to_string()
        } else if self.dpop {
            format!("{scheme}, {}", parts.join(", "))
        } else {
            format!("{scheme} {}", parts.join(", "))
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = match self.error {
            Some(error) => json!({"error": error, "error_description": self.description}),
            None => json!({"error": "invalid_request", "error_description": self.description}),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&self.challenge()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_name_the_scheme_error_and_metadata() {
        assert_eq!(Refusal::missing().challenge(), "Bearer");
        let refusal =
            Refusal::invalid_token("bad \"one\"").with_metadata("https://api/.well-known/x");
        assert_eq!(
            refusal.challenge(),
            r#"Bearer resource_metadata="https://api/.well-known/x", error="invalid_token", error_description="bad 'one'""#
        );
        let scope = Refusal::insufficient_scope(&["a".into(), "b".into()]);
        assert!(scope.challenge().ends_with(r#"scope="a b""#));
        assert_eq!(scope.status, StatusCode::FORBIDDEN);
        assert!(Refusal::invalid_proof("x")
            .challenge()
            .starts_with("DPoP algs="));
    }
}

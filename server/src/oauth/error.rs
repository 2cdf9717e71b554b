//! Protocol errors of the token, introspection and revocation endpoints, rendered once as
//! RFC 6749 §5.2 JSON.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The RFC 6749 §5.2 (and RFC 8628, 8693, 8707, 7009) error codes Tessera answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is missing a required parameter, includes an unsupported parameter value,
    /// repeats a parameter, or is otherwise malformed.
    InvalidRequest,
    /// Client authentication failed (unknown client, no client authentication included, or
    /// unsupported authentication method).
    InvalidClient,
    /// The provided authorization grant or refresh token is invalid, expired, revoked, does not
    /// match the redirection URI, or was issued to another client.
    InvalidGrant,
    /// The authenticated client is not authorized to use this authorization grant type.
    UnauthorizedClient,
    /// The authorization grant type is not supported by the authorization server.
    UnsupportedGrantType,
    /// The requested scope is invalid, unknown, malformed, or exceeds the scope granted.
    InvalidScope,
    /// The requested resource or audience is invalid or not allowed (RFC 8707, RFC 8693).
    InvalidTarget,
    /// The server does not support revocation of the presented token type (RFC 7009).
    UnsupportedTokenType,
    /// The resource owner or authorization server denied the request.
    AccessDenied,
    /// The device authorization request is still pending (RFC 8628 §3.5).
    AuthorizationPending,
    /// Polling too fast; the interval grows by 5 seconds (RFC 8628 §3.5).
    SlowDown,
    /// The device code has expired (RFC 8628 §3.5).
    ExpiredToken,
    /// The authorization server does not support obtaining a code with this response type.
    UnsupportedResponseType,
    /// `prompt=none` but the user must sign in (OIDC Core §3.1.2.6).
    LoginRequired,
    /// `prompt=none` but the user must consent (OIDC Core §3.1.2.6).
    ConsentRequired,
    /// `prompt=none` but the user must interact, e.g. to give a second factor (OIDC Core §3.1.2.6).
    InteractionRequired,
    /// An essential `acr` cannot be met (OpenID Connect Core Unmet Authentication Requirements).
    UnmetAuthenticationRequirements,
    /// The `request` parameter is not supported (OIDC Core §3.1.2.6).
    RequestNotSupported,
    /// The `request_uri` parameter is not supported (OIDC Core §3.1.2.6).
    RequestUriNotSupported,
    /// The `request_uri` is unknown, expired or used (RFC 9126 §4, RFC 9101 §7).
    InvalidRequestUri,
    /// The request object does not verify or contradicts the request (RFC 9101 §7).
    InvalidRequestObject,
    /// The DPoP proof is missing, malformed, or does not fit the request (RFC 9449 §5).
    InvalidDpopProof,
    /// The DPoP proof must carry the nonce in the `DPoP-Nonce` header (RFC 9449 §8).
    UseDpopNonce,
    /// An unexpected condition; details are logged, never sent.
    ServerError,
    /// The server is temporarily unable to handle the request.
    TemporarilyUnavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    /// A fresh DPoP nonce to send along (RFC 9449 §8), in the `DPoP-Nonce` header.
    pub dpop_nonce: Option<String>,
    /// Over a rate limit: 429 with this many seconds in `Retry-After`.
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: ErrorCode,
    #[serde(skip_serializing_if = "str::is_empty")]
    error_description: &'a str,
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        $(
            pub fn $name(description: impl Into<Cow<'static, str>>) -> Self {
                Self { code: ErrorCode::$code, description: description.into(), dpop_nonce: None, retry_after: None }
            }
        )*
    };
}

impl OAuthError {
    constructors! {
        invalid_request => InvalidRequest,
        invalid_client => InvalidClient,
        invalid_grant => InvalidGrant,
        unauthorized_client => UnauthorizedClient,
        unsupported_grant_type => UnsupportedGrantType,
        invalid_scope => InvalidScope,
        invalid_target => InvalidTarget,
        unsupported_token_type => UnsupportedTokenType,
        access_denied => AccessDenied,
        authorization_pending => AuthorizationPending,
        slow_down => SlowDown,
        expired_token => ExpiredToken,
        temporarily_unavailable => TemporarilyUnavailable,
        unsupported_response_type => UnsupportedResponseType,
        login_required => LoginRequired,
        consent_required => ConsentRequired,
        interaction_required => InteractionRequired,
        unmet_authentication_requirements => UnmetAuthenticationRequirements,
        request_not_supported => RequestNotSupported,
        request_uri_not_supported => RequestUriNotSupported,
        invalid_request_uri => InvalidRequestUri,
        invalid_request_object => InvalidRequestObject,
        invalid_dpop_proof => InvalidDpopProof,
        use_dpop_nonce => UseDpopNonce,
    }

    /// The same error, telling the client the nonce its next DPoP proof must carry.
    pub fn with_dpop_nonce(mut self, nonce: String) -> Self {
        self.dpop_nonce = Some(nonce);
        self
    }

    /// The code as it appears on the wire.
    pub fn code_str(&self) -> &'static str {
        match self.code {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// A bug or an infrastructure failure: logged here with its cause, opaque to the caller.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error while serving an OAuth request");
        Self {
            code: ErrorCode::ServerError,
            description: "the server could not complete the request".into(),
            dpop_nonce: None,
            retry_after: None,
        }
    }

    /// Too many requests from this address or client: 429 with `Retry-After`.
    pub fn rate_limited(limited: crate::rate_limit::Limited) -> Self {
        let seconds = limited.retry_after_secs();
        let mut error =
            Self::temporarily_unavailable(format!("too many requests; try again in {seconds} s"));
        error.retry_after = Some(seconds);
        error
    }

    pub fn status(&self) -> StatusCode {
        if self.retry_after.is_some() {
            return StatusCode::TOO_MANY_REQUESTS;
        }
        match self.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::temporarily_unavailable("the database is temporarily unavailable")
            }
            other => Self::server_error(other),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: self.code,
            error_description: &self.description,
        })
        .unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if self.code == ErrorCode::TemporarilyUnavailable {
            headers.insert(header::RETRY_AFTER, crate::outage::retry_after());
        }
        if let Some(nonce) = self
            .dpop_nonce
            .as_deref()
            .and_then(|n| HeaderValue::from_str(n).ok())
        {
            headers.insert("dpop-nonce", nonce);
        }
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: a 401 must name the scheme the client can use.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

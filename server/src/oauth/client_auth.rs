//! Client authentication at the token, introspection and revocation endpoints (RFC 6749
//! §2.3.1): `client_secret_basic`, `client_secret_post`, and `none` for public clients.
//! Exactly one method per request; secrets are compared in constant time.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::OAuthError;
use super::form::Params;
use crate::domain::Client;
use crate::state::{AppState, RealmCtx};

/// How the client proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// Credentials as presented, before any lookup.
#[derive(Debug, PartialEq, Eq)]
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
}

/// Decodes `Authorization: Basic`, whose id and secret are form-urlencoded first
/// (RFC 6749 §2.3.1 and Appendix B).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("malformed Basic authorization header");
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        // Another scheme (e.g. Bearer) is not client authentication here.
        return Err(OAuthError::invalid_client(
            "unsupported authorization scheme; use Basic or client_secret_post",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let id = form_decode(id).ok_or_else(bad)?;
    let secret = form_decode(secret).ok_or_else(bad)?;
    // No client id or secret contains control characters (and Postgres rejects NUL in text).
    if id.is_empty() || id.chars().chain(secret.chars()).any(char::is_control) {
        return Err(bad());
    }
    Ok(Some((id, secret)))
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space).
fn form_decode(value: &str) -> Option<String> {
    let replaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Reads the credentials a request presents, refusing more than one method.
pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let basic = basic_credentials(headers)?;
    let post_id = params.get("client_id");
    let post_secret = params.get("client_secret");
    match (basic, post_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method, not Basic and client_secret together",
        )),
        (Some((id, secret)), None) => {
            if post_id.is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the authenticated client",
                ));
            }
            Ok(Presented {
                client_id: id,
                secret: Some(secret),
                method: AuthMethod::ClientSecretBasic,
            })
        }
        (None, Some(secret)) => Ok(Presented {
            client_id: post_id
                .ok_or_else(|| OAuthError::invalid_request("client_secret without client_id"))?
                .to_string(),
            secret: Some(secret.to_string()),
            method: AuthMethod::ClientSecretPost,
        }),
        (None, None) => Ok(Presented {
            client_id: post_id
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?
                .to_string(),
            secret: None,
            method: AuthMethod::None,
        }),
    }
}

/// A client that proved its identity.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client: Arc<Client>,
    pub method: AuthMethod,
}

/// Authenticates the calling client of `realm`.
pub async fn authenticate(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    params: &Params,
) -> Result<AuthenticatedClient, OAuthError> {
    let presented = presented(headers, params)?;
    let client = state
        .caches
        .directory
        .client(&realm.realm.id, &presented.client_id)
        .await?
        .filter(|c| c.enabled)
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    match (&presented.secret, client.public) {
        (None, true) => {}
        (None, false) => {
            return Err(OAuthError::invalid_client(
                "this client must authenticate with its secret",
            ))
        }
        (Some(_), true) => {
            return Err(OAuthError::invalid_client(
                "a public client has no secret to present",
            ))
        }
        (Some(secret), false) => {
            if !verify_secret(state, &client, secret).await? {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
        }
    }
    Ok(AuthenticatedClient {
        client,
        method: presented.method,
    })
}

/// Checks `secret` against every unexpired secret of the client.
async fn verify_secret(
    state: &AppState,
    client: &Arc<Client>,
    secret: &str,
) -> Result<bool, OAuthError> {
    let now = state.now();
    let hashes: Vec<String> = client
        .secrets
        .iter()
        .filter(|s| s.expires_at.is_none_or(|at| at > now))
        .map(|s| s.hash.clone())
        .collect();
    verify_against(state, hashes, secret).await
}

/// True when `secret` matches one of `hashes`; argon2 work runs on a blocking thread and
/// only when no cheaper check decides.
pub async fn verify_against(
    state: &AppState,
    hashes: Vec<String>,
    secret: &str,
) -> Result<bool, OAuthError> {
    let presented = state.secrets.presented(secret);
    let mut undecided = Vec::new();
    for hash in hashes {
        match state.secrets.check_fast(&hash, &presented) {
            Some(true) => return Ok(true),
            Some(false) => {}
            None => undecided.push(hash),
        }
    }
    if undecided.is_empty() {
        return Ok(false);
    }
    let state = state.clone();
    let secret = secret.to_string();
    tokio::task::spawn_blocking(move || {
        undecided
            .iter()
            .any(|h| state.secrets.check_slow(h, &secret, &presented))
    })
    .await
    .map_err(OAuthError::server_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&value).unwrap(),
        );
        headers
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let headers = basic("my%3Aclient", "p%40ss+word%2B");
        let p = presented(&headers, &Params::default()).unwrap();
        assert_eq!(p.client_id, "my:client");
        assert_eq!(p.secret.as_deref(), Some("p@ss word+"));
        assert_eq!(p.method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let headers = basic("a", "b");
        let params = Params::parse(b"client_id=a&client_secret=b").unwrap();
        let err = presented(&headers, &params).unwrap_err();
        assert_eq!(err.code, super::super::error::ErrorCode::InvalidRequest);
    }

    #[test]
    fn post_and_none_methods() {
        let params = Params::parse(b"client_id=a&client_secret=b").unwrap();
        assert_eq!(
            presented(&HeaderMap::new(), &params).unwrap().method,
            AuthMethod::ClientSecretPost
        );
        let params = Params::parse(b"client_id=a").unwrap();
        assert_eq!(
            presented(&HeaderMap::new(), &params).unwrap().method,
            AuthMethod::None
        );
        let err = presented(&HeaderMap::new(), &Params::default()).unwrap_err();
        assert_eq!(err.code, super::super::error::ErrorCode::InvalidClient);
    }

    #[test]
    fn malformed_basic_headers_are_invalid_client() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(presented(&headers, &Params::default()).is_err());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWJj"),
        );
        assert!(presented(&headers, &Params::default()).is_err());
    }
}

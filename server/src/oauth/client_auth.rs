//! Client authentication at the token, PAR, introspection, revocation and device endpoints:
//! `client_secret_basic`, `client_secret_post` (RFC 6749 §2.3.1), `client_secret_jwt` and
//! `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9), and `none` for public clients. Exactly one
//! method per request, and the one the client is registered for; secrets are compared in
//! constant time.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::OAuthError;
use super::form::Params;
use crate::domain::Client;
pub use crate::domain::TokenAuthMethod as AuthMethod;
use crate::state::{AppState, RealmCtx};

/// RFC 7523 §2.2: the only client assertion type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the request presents to prove the client's identity.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    Secret(String),
    /// A JWT signed with the client's key or secret.
    Assertion(String),
    None,
}

/// Credentials as presented, before any lookup.
#[derive(Debug, PartialEq, Eq)]
pub struct Presented {
    pub client_id: String,
    pub credential: Credential,
    pub method: AuthMethod,
}

impl Presented {
    pub fn secret(&self) -> Option<&str> {
        match &self.credential {
            Credential::Secret(secret) => Some(secret),
            _ => None,
        }
    }
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
    let assertion = match (
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    ) {
        (None, None) => None,
        (Some(JWT_BEARER), Some(jwt)) => Some(jwt),
        (Some(JWT_BEARER), None) => {
            return Err(OAuthError::invalid_request(
                "client_assertion_type without client_assertion",
            ))
        }
        (Some(_), _) => {
            return Err(OAuthError::invalid_client(format!(
                "client_assertion_type must be {JWT_BEARER}"
            )))
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "client_assertion without client_assertion_type",
            ))
        }
    };
    match (basic, post_secret, assertion) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            Err(OAuthError::invalid_request(
                "use one client authentication method, not several together",
            ))
        }
        (Some((id, secret)), None, None) => {
            if post_id.is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the authenticated client",
                ));
            }
            Ok(Presented {
                client_id: id,
                credential: Credential::Secret(secret),
                method: AuthMethod::ClientSecretBasic,
            })
        }
        (None, Some(secret), None) => Ok(Presented {
            client_id: post_id
                .ok_or_else(|| OAuthError::invalid_request("client_secret without client_id"))?
                .to_string(),
            credential: Credential::Secret(secret.to_string()),
            method: AuthMethod::ClientSecretPost,
        }),
        (None, None, Some(jwt)) => {
            let header = jsonwebtoken::decode_header(jwt)
                .map_err(|_| OAuthError::invalid_client("client_assertion is not a JWT"))?;
            // RFC 7523 §3: `sub` is the client id; the signature is checked once the client is
            // known.
            let subject = crate::jose::unverified_claim(jwt, "sub")
                .filter(|s| !s.is_empty() && !s.chars().any(char::is_control))
                .ok_or_else(|| {
                    OAuthError::invalid_client("client_assertion has no usable `sub`")
                })?;
            if post_id.is_some_and(|p| p != subject) {
                return Err(OAuthError::invalid_client(
                    "client_id differs from the client_assertion's subject",
                ));
            }
            let method = if matches!(
                header.alg,
                jsonwebtoken::Algorithm::HS256
                    | jsonwebtoken::Algorithm::HS384
                    | jsonwebtoken::Algorithm::HS512
            ) {
                AuthMethod::ClientSecretJwt
            } else {
                AuthMethod::PrivateKeyJwt
            };
            Ok(Presented {
                client_id: subject,
                credential: Credential::Assertion(jwt.to_string()),
                method,
            })
        }
        (None, None, None) => Ok(Presented {
            client_id: post_id
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?
                .to_string(),
            credential: Credential::None,
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

/// Whether `client` may authenticate with `method`: the one it is registered for, else (as
/// before methods were configurable) either secret method, or `none` for a public client.
fn method_allowed(client: &Client, method: AuthMethod) -> Result<(), OAuthError> {
    match client.security.auth_method {
        Some(registered) if registered == method => Ok(()),
        Some(registered) => Err(OAuthError::invalid_client(format!(
            "this client authenticates with {}",
            registered.as_str()
        ))),
        None if client.public => match method {
            AuthMethod::None => Ok(()),
            _ => Err(OAuthError::invalid_client(
                "a public client has no secret or key to present",
            )),
        },
        None => match method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => Ok(()),
            AuthMethod::None => Err(OAuthError::invalid_client(
                "this client must authenticate with its secret",
            )),
            _ => Err(OAuthError::invalid_client(
                "this client authenticates with its secret; register a token_endpoint_auth_method to use assertions",
            )),
        },
    }
}

/// Authenticates the calling client of `realm` at the endpoint `endpoint` (a path under the
/// realm, such as `/connect/token`: assertions may name its URL as their audience).
pub async fn authenticate(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    params: &Params,
    endpoint: &str,
) -> Result<AuthenticatedClient, OAuthError> {
    let presented = presented(headers, params)?;
    let client = super::clients::find(state, realm, &presented.client_id)
        .await?
        .filter(|c| c.enabled)
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    method_allowed(&client, presented.method)?;
    if realm.realm.security.fapi2() && presented.method != AuthMethod::PrivateKeyJwt {
        return Err(OAuthError::invalid_client(
            "this realm follows FAPI 2.0: clients authenticate with private_key_jwt",
        ));
    }
    match &presented.credential {
        Credential::None => {}
        Credential::Secret(secret) => {
            if !verify_secret(state, &client, secret).await? {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
        }
        Credential::Assertion(jwt) => {
            super::client_assertion::verify(state, realm, &client, jwt, presented.method, endpoint)
                .await?;
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
        assert_eq!(p.secret(), Some("p@ss word+"));
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
    fn assertions_are_one_method_and_name_their_client() {
        // {"alg":"ES256"} . {"sub":"c1"} . signature (not checked here)
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjMSJ9.c2ln";
        let raw = format!("client_assertion_type={JWT_BEARER}&client_assertion={jwt}");
        let p = presented(&HeaderMap::new(), &Params::parse(raw.as_bytes()).unwrap()).unwrap();
        assert_eq!(p.client_id, "c1");
        assert_eq!(p.method, AuthMethod::PrivateKeyJwt);
        let with_secret = format!("{raw}&client_secret=x&client_id=c1");
        assert!(presented(
            &HeaderMap::new(),
            &Params::parse(with_secret.as_bytes()).unwrap()
        )
        .is_err());
        let other_id = format!("{raw}&client_id=c2");
        assert!(presented(
            &HeaderMap::new(),
            &Params::parse(other_id.as_bytes()).unwrap()
        )
        .is_err());
        let wrong_type = format!("client_assertion_type=saml&client_assertion={jwt}");
        assert!(presented(
            &HeaderMap::new(),
            &Params::parse(wrong_type.as_bytes()).unwrap()
        )
        .is_err());
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

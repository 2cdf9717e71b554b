//! RFC 9068 JWT access tokens: claim assembly and signing.

use serde::Serialize;
use serde_json::{Map, Value};

use super::TYP_ACCESS_TOKEN;
use crate::keys::{ActiveKey, KeyError};

/// `aud` is a single string when there is one audience, an array otherwise (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn from_list(mut list: Vec<String>) -> Self {
        if list.len() == 1 {
            Audience::One(list.remove(0))
        } else {
            Audience::Many(list)
        }
    }
}

/// How the user authenticated, for user tokens.
#[derive(Debug, Clone, Serialize)]
pub struct UserAuthentication {
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    pub amr: Vec<String>,
}

/// The claims of an access token, in RFC 9068 §2.2 order.
#[derive(Debug, Serialize)]
pub struct AccessTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: Audience,
    pub client_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub scope: &'a str,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserAuthentication>,
    /// Further claims (roles, scope claims, caller-supplied claims).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A signed access token and what the token response repeats of it.
#[derive(Debug)]
pub struct MintedAccessToken {
    pub token: String,
    pub jti: String,
    pub expires_in: i64,
}

pub fn mint(
    key: &ActiveKey,
    claims: &AccessTokenClaims<'_>,
) -> Result<MintedAccessToken, KeyError> {
    Ok(MintedAccessToken {
        token: key.sign_jwt(TYP_ACCESS_TOKEN, claims)?,
        jti: claims.jti.clone(),
        expires_in: claims.exp - claims.iat,
    })
}

/// A new `jti`: 128 random bits are unique enough and keep tokens short.
pub fn new_jti() -> String {
    crate::crypto::b64url(crate::crypto::random::bytes::<16>())
}

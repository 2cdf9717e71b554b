//! A realm's upstream identity providers (federation, CONTRACT §9), addressed by alias, and
//! the links from upstream accounts to users.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IdentityProviderView {
    pub alias: String,
    /// `oidc` or `oauth2`.
    pub kind: String,
    pub display_name: String,
    pub enabled: bool,
    /// The template the settings were prefilled from.
    pub template: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub client_id: String,
    /// Whether a client secret is set (it is never shown).
    pub client_secret_set: bool,
    /// `client_secret_basic` or `client_secret_post`.
    pub client_auth_method: String,
    pub scopes: Vec<String>,
    pub pkce: bool,
    /// The upstream claim identifying the account (`sub`; `id` for GitHub).
    pub subject_claim: String,
    /// Upstream claim → `username` | `email` | `name` | a local claim.
    pub claim_mappings: BTreeMap<String, String>,
    /// `import` (mapped claims copied at the first login) or `force` (at every login).
    pub sync_mode: String,
    pub link_by_verified_email: bool,
    /// Whether an upstream account nobody is linked to creates a user; when off, only
    /// accounts already linked (or linked by email or password) sign in.
    pub create_users: bool,
    /// The redirect URI to register at the upstream.
    pub redirect_uri: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9._:@~+-]+$")]
    pub alias: Option<String>,
    /// `oidc` (default) or `oauth2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^(oidc|oauth2)$")]
    pub kind: Option<String>,
    /// `google`, `microsoft`, `github` or `gitlab`: prefills endpoints, scopes and mappings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^(google|microsoft|github|gitlab)$")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The issuer; endpoints it does not name explicitly come from its discovery document.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub issuer: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub authorization_endpoint: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub token_endpoint: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub userinfo_endpoint: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub jwks_uri: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 255)]
    pub client_id: Option<String>,
    /// Write-only; `null` removes it (a public client using PKCE).
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 1024)]
    pub client_secret: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^(client_secret_basic|client_secret_post)$")]
    pub client_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100)]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub subject_claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_mappings: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^(import|force)$")]
    pub sync_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_by_verified_email: Option<bool>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_users: Option<bool>,
}

/// What "test connection" found: the endpoints in use and the upstream's signing keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConnectionCheck {
    pub ok: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    /// How many keys the upstream's JWKS holds (OpenID Connect).
    pub signing_keys: Option<usize>,
}

/// A user's link to an account at an upstream provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FederatedLinkView {
    /// The provider's alias.
    pub provider: String,
    pub display_name: String,
    /// The upstream account's subject.
    pub subject: String,
    pub upstream_username: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
}

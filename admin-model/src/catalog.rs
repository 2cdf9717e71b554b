//! A realm's catalogue: scopes, API resources, claim types and token-exchange policies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScopeView {
    pub name: String,
    pub description: Option<String>,
    /// Claim types emitted when the scope is granted.
    pub claims: Vec<String>,
    /// The API resource (audience) the scope belongs to, if any.
    pub audience: Option<String>,
    /// Whether the scope's claims also go into access tokens.
    pub include_in_access_token: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128, pattern = r"^[!#-\[\]-~]+$")]
    pub name: Option<String>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub description: Option<Option<String>>,
    /// Claim types of the realm (each must exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::Identifier>>, max_items = 100)]
    pub claims: Option<Vec<String>>,
    /// An API resource of the realm; empty or `null` for none.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 256, pattern = r"^[^\s\u0000-\u001f\u007f-\u009f]*$")]
    pub audience: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_in_access_token: Option<bool>,
}

/// An API (an audience of access tokens) with the scopes that grant access to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiResourceView {
    pub name: String,
    pub display_name: Option<String>,
    pub scopes: Vec<String>,
    pub enabled: bool,
    /// Whether the resource has a secret for calling the introspection endpoint.
    pub has_secret: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiResourceInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\s\u0000-\u001f\u007f-\u009f]+$"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub display_name: Option<Option<String>>,
    /// Scopes of the realm (each must exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::ScopeName>>, max_items = 100)]
    pub scopes: Option<Vec<String>>,
    /// The introspection secret (stored hashed; at least 16 characters); `null` removes it.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, min_length = 16, max_length = 512, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub secret: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClaimTypeView {
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimTypeInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@~+-]+$")]
    pub name: Option<String>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub description: Option<Option<String>>,
}

/// Which audiences a client may exchange tokens for (RFC 8693), addressed by `client_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExchangePolicyView {
    pub client_id: String,
    pub audiences: Vec<String>,
    /// Scopes the exchanged token may carry (always narrowed to the subject token's).
    pub scopes: Vec<String>,
    /// Clients whose tokens may be exchanged; empty means any client of the realm.
    pub subject_clients: Vec<String>,
    /// Whether an `actor_token` may be presented (delegation, `act` claim).
    pub allow_delegation: bool,
    /// How many actors a delegation chain (`act`, nested per RFC 8693 §4.1) may name.
    pub max_delegation_depth: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangePolicyInput {
    /// A client of the realm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@~+-]+$")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::AudienceName>>, min_items = 1, max_items = 100)]
    pub audiences: Option<Vec<String>>,
    /// Scopes of the realm (each must exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::ScopeName>>, max_items = 100)]
    pub scopes: Option<Vec<String>>,
    /// Clients of the realm (each must exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::Identifier>>, max_items = 100)]
    pub subject_clients: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_delegation: Option<bool>,
    /// How many actors a delegation chain may name (1–10; default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10)]
    pub max_delegation_depth: Option<i32>,
}

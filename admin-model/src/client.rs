//! Clients (relying parties and services) of a realm.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::{DateTime, Utc};

/// A client without its secret: GET never returns one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub display_name: Option<String>,
    /// Public clients (apps in a browser or on a device) hold no secret and must use PKCE.
    pub public: bool,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    /// Roles of the client itself, carried by its client-credentials tokens.
    pub roles: Vec<String>,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub allow_arbitrary_claims: bool,
    pub always_issue_refresh_token: bool,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub code_lifetime: Option<i64>,
    pub device_code_lifetime: Option<i64>,
    /// Seconds in which a rotated refresh token may come back as a retry; empty inherits.
    pub refresh_reuse_grace: Option<i64>,
    pub access_token_signing_alg: Option<String>,
    pub id_token_signing_alg: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    /// `inherit` (the realm's second-factor policy) or `required`.
    pub mfa: String,
    /// The one client authentication method allowed; null accepts `client_secret_basic` and
    /// `client_secret_post` (confidential) or `none` (public).
    pub token_endpoint_auth_method: Option<String>,
    /// The client's public JWK Set (for `private_key_jwt`, signed request objects).
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its JWK Set instead.
    pub jwks_uri: Option<String>,
    /// Authorization requests must be pushed first (RFC 9126).
    pub require_par: bool,
    /// Authorization requests must come as a signed request object (RFC 9101).
    pub require_signed_request_object: bool,
    /// Access tokens only with a DPoP proof, bound to its key (RFC 9449).
    pub dpop_bound_access_tokens: bool,
    /// How a self-registered client came (`open`, or `initial_token:<id>` of the initial
    /// access token it used); null for clients made by administrators.
    pub registered_via: Option<String>,
    pub enabled: bool,
    /// Whether a secret is set (confidential clients).
    pub has_secret: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create (`client_id` and `grant_types` required) or PATCH. `client_secret` is accepted on
/// create only; rotate with `POST …/clients/{client_id}/secret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@~+-]+$")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::GrantTypeName>>, min_items = 1, max_items = 100)]
    pub grant_types: Option<Vec<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub display_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// At least 16 characters when chosen; generated when omitted for a confidential client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 16,
        max_length = 512,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::RedirectUri>>, max_items = 100)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::RedirectUri>>, max_items = 100)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Scopes of the realm (each must exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::ScopeName>>, max_items = 100)]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::AudienceName>>, max_items = 100)]
    pub audiences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::Identifier>>, max_items = 100)]
    pub roles: Option<Vec<String>>,
    /// Defaults to `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pkce: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_consent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_arbitrary_claims: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_issue_refresh_token: Option<bool>,
    #[serde(
        default,
        with = "crate::nullable_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 315360000)]
    pub access_token_lifetime: Option<Option<i64>>,
    #[serde(
        default,
        with = "crate::nullable_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 315360000)]
    pub refresh_token_lifetime: Option<Option<i64>>,
    #[serde(
        default,
        with = "crate::nullable_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 315360000)]
    pub refresh_token_sliding_lifetime: Option<Option<i64>>,
    #[serde(
        default,
        with = "crate::nullable_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 315360000)]
    pub id_token_lifetime: Option<Option<i64>>,
    #[serde(
        default,
        with = "crate::nullable_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 315360000)]
    pub code_lifetime: Option<Option<i64>>,
    #[serde(
        default,
        with = "crate::nullable_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 315360000)]
    pub device_code_lifetime: Option<Option<i64>>,
    /// Seconds (0–300) in which a rotated refresh token may come back as a retry and gets the
    /// same successor pair; 0 makes any reuse revoke the family; null inherits.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>, nullable, minimum = 0, maximum = 300)]
    pub refresh_reuse_grace: Option<Option<i64>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<crate::SigningAlgName>, nullable)]
    pub access_token_signing_alg: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<crate::SigningAlgName>, nullable)]
    pub id_token_signing_alg: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// An http or https URL without fragment, at most 2048 bytes; empty or `null` clears it.
    #[schema(value_type = Option<String>, nullable, pattern = r"^(?:[Hh][Tt][Tt][Pp][Ss]?://[^\s#\u0000-\u001f\u007f-\u009f]+)?$")]
    pub backchannel_logout_uri: Option<Option<String>>,
    /// `inherit` (the realm's second-factor policy, the default) or `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::ClientMfaName>)]
    pub mfa: Option<String>,
    /// `client_secret_basic`, `client_secret_post`, `client_secret_jwt` (rotate the secret
    /// after switching to it: earlier secrets are kept only as hashes), `private_key_jwt`
    /// (needs `jwks` or `jwks_uri`) or `none` (public clients); null accepts either secret
    /// method, or none for a public client.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<crate::TokenAuthMethodName>, nullable)]
    pub token_endpoint_auth_method: Option<Option<String>>,
    /// A public JWK Set `{"keys": [...]}` (public keys only: EC P-256/384, RSA ≥ 2048 bits,
    /// Ed25519); null clears it.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>, nullable)]
    pub jwks: Option<Option<serde_json::Value>>,
    /// An https URL of the client's JWK Set (fetched with size and time limits, cached);
    /// exclusive with `jwks`; empty or null clears it.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub jwks_uri: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_par: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_signed_request_object: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// The answer to creating a client: the client and, for a confidential client, its secret,
/// shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientCreated {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: Option<String>,
}

/// A freshly generated client secret, shown this once; earlier secrets stop working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClientSecret {
    pub client_id: String,
    pub client_secret: String,
}

/// An initial access token (RFC 7591 §3) as administrators see it; the token itself is shown
/// only when made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InitialAccessTokenView {
    pub id: String,
    pub description: Option<String>,
    /// Registrations still allowed with it.
    pub remaining_uses: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Make an initial access token: how many registrations it allows and for how long.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitialAccessTokenInput {
    /// Registrations it allows (1–1000; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000)]
    pub count: Option<i32>,
    /// Seconds it stays valid (60 s to a year; default a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60, maximum = 31536000)]
    pub expires_in: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// A new initial access token, shown this once: software presents it as a bearer token at
/// the registration endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InitialAccessTokenCreated {
    #[serde(flatten)]
    pub view: InitialAccessTokenView,
    pub token: String,
}

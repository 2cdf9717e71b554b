//! Realms: each one an issuer with its own keys, clients, users and lifetimes.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// A realm as administrators see it. Lifetimes are seconds; `null` inherits the server default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RealmView {
    pub name: String,
    pub display_name: Option<String>,
    pub enabled: bool,
    /// Decentralized mode: tokens carry the claims and scopes their callers supply.
    pub decentralized: bool,
    /// The issuer string of the realm's tokens.
    pub issuer: String,
    /// `ES256`, `RS256` or `EdDSA`: the algorithm of access tokens.
    pub signing_alg: String,
    pub id_token_signing_alg: String,
    /// `realm`, `client` or `shared`: how the login session cookie is scoped.
    pub cookie_mode: String,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub code_lifetime: Option<i64>,
    pub device_code_lifetime: Option<i64>,
    /// Seconds in which a rotated refresh token may come back as a retry; empty inherits.
    pub refresh_reuse_grace: Option<i64>,
    /// `off`, `optional` or `required`: when users sign in with a second factor.
    pub mfa: String,
    /// Every authorization request must be pushed first (RFC 9126).
    pub require_par: bool,
    /// DPoP proofs must carry a nonce the server handed out (RFC 9449 §8).
    pub use_dpop_nonce: bool,
    /// `fapi2` (the FAPI 2.0 Security Profile, enforced as a whole) or null.
    pub profile: Option<String>,
    /// Client-supplied URLs (`jwks_uri`) may point at private and loopback addresses.
    pub allow_private_fetch: bool,
    /// Dynamic client registration: `off`, `initial_token` or `open` (CONTRACT §11).
    pub registration: String,
    /// An `https://` client_id names the client's metadata document, fetched and cached.
    pub client_id_metadata_documents: bool,
    /// The scopes clients that identify themselves (open registration, metadata documents)
    /// may ask for.
    pub self_service_scopes: Vec<String>,
    /// Requests admitted per client address and per client, by endpoint group.
    pub rate_limits: RateLimitsView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create (`name` required) or PATCH (`name`, the key, may not change). Nullable members
/// accept `null` to clear the value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RealmInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,62}$")]
    pub name: Option<String>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub display_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decentralized: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::SigningAlgName>)]
    pub signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::SigningAlgName>)]
    pub id_token_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::CookieModeName>)]
    pub cookie_mode: Option<String>,
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
    /// `off` (passwords only), `optional` (users who enrolled a second factor use it; the
    /// default) or `required` (everyone; users without one enrol at their next login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::RealmMfaName>)]
    pub mfa: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_par: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_dpop_nonce: Option<bool>,
    /// `fapi2`: PAR, PKCE S256, confidential clients with `private_key_jwt`, DPoP-bound
    /// tokens and short codes for every client of the realm; null turns it off.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<crate::SecurityProfileName>, nullable)]
    pub profile: Option<Option<String>>,
    /// For closed networks and tests: client-supplied URLs may be private addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_private_fetch: Option<bool>,
    /// `off` (the default: administrators make clients), `initial_token` (software holding an
    /// initial access token registers) or `open` (anyone, limited to public code + PKCE
    /// clients with safe redirect URIs and the standard OpenID scopes, rate limited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::RegistrationPolicyName>)]
    pub registration: Option<String>,
    /// Accept `https://` client_ids naming client ID metadata documents (fetched with size
    /// and time limits and the outbound address guards, cached per HTTP caching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_documents: Option<bool>,
    /// The scopes clients that identify themselves (open registration, metadata documents)
    /// may ask for, each a scope of the realm; by default `openid profile email
    /// offline_access`. An API for agents (an MCP server) lists its own scopes here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_service_scopes: Option<Vec<String>>,
    /// Request rate limits; a group or member left out stays as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimitsInput>,
}

/// One endpoint group's limits: `N/second`, `N/minute` or `N/hour` (a burst of N, refilled
/// evenly over the period), or null for none. Counted per process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupLimitsView {
    /// Per client address (an IPv6 /64 counts as one).
    pub per_ip: Option<String>,
    /// Per authenticated client.
    pub per_client: Option<String>,
}

/// A realm's request rate limits; over one, requests get 429 with `Retry-After`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RateLimitsView {
    /// The token endpoint (default 6000/minute per address and per client).
    pub token: GroupLimitsView,
    /// Sign-in forms: password, second factor, passkey (default 60/minute per address).
    pub login: GroupLimitsView,
    /// Device authorization and the user-code page (default 120/minute per address and client).
    pub device: GroupLimitsView,
    /// Dynamic client registration (default 20/hour per address).
    pub registration: GroupLimitsView,
}

/// Changes to one group's limits; `null` removes a limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupLimitsInput {
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, example = "600/minute")]
    pub per_ip: Option<Option<String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, example = "600/minute")]
    pub per_client: Option<Option<String>>,
}

/// Changes to a realm's rate limits, by group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<GroupLimitsInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<GroupLimitsInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<GroupLimitsInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<GroupLimitsInput>,
}

/// The salt a realm's Plan B revocation lists hash their values with, for resource servers
/// that poll the lists and match tokens themselves (`tessera-resource`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevocationSaltView {
    pub salt: String,
    /// How values are hashed: base64url(SHA-256(salt + value)).
    pub hash_algorithm: String,
}

/// What an import of a realm document changed (or, for a dry run, would change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub realm: String,
    pub realm_created: bool,
    pub dry_run: bool,
    /// One line per change, such as `created client "shop"`; empty when the realm already
    /// matched the document (and then nothing was written, not even an audit event).
    pub changes: Vec<String>,
}

/// The query of an export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Include the signing keys and sealed secrets (encrypted with the master key).
    #[serde(default)]
    pub include_keys: bool,
}

/// The query of an import.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Report the changes without making them.
    #[serde(default)]
    pub dry_run: bool,
}

/// A realm's outgoing mail server (password reset links). The password is never shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SmtpView {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: Option<String>,
    /// Whether a password is set.
    pub has_password: bool,
    /// The sender, `address` or `Name <address>`.
    pub from: String,
    pub updated_at: DateTime<Utc>,
}

/// `PUT …/smtp`: the whole settings. `password` is write-only: left out it stays as it is,
/// `null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpInput {
    #[schema(min_length = 1, max_length = 253)]
    pub host: String,
    #[schema(minimum = 1, maximum = 65535)]
    pub port: u16,
    #[schema(value_type = crate::SmtpSecurityName)]
    pub security: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 256)]
    pub username: Option<String>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 1024)]
    pub password: Option<Option<String>>,
    #[schema(min_length = 3, max_length = 320)]
    pub from: String,
}

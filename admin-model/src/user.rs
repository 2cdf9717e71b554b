//! Users of a realm, addressed by the `id` returned at creation.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Profile claims released by scopes (`name`, `given_name`, custom claims…).
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    pub roles: Vec<String>,
    pub enabled: bool,
    /// Locked out after repeated failed sign-ins, until `locked_until`.
    pub locked: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub failed_login_count: i32,
    pub has_password: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Actions the user takes at their next sign-in (`update_password`, `configure_totp`).
    pub required_actions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create (`username` required) or PATCH. A new `password` ends the user's refresh tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@~+-]+$")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 8, max_length = 1024, pattern = r"^[^\u0000]*$")]
    pub password: Option<String>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 254, pattern = r"^(?:[^@\s\u0000-\u001f\u007f-\u009f]+@[^.\s\u0000-\u001f\u007f-\u009f][^\s\u0000-\u001f\u007f-\u009f]*\.[^\s\u0000-\u001f\u007f-\u009f]*)?$")]
    pub email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// At most 64 claims whose names are identifiers and not claims Tessera sets itself
    /// (`sub`, `iss`, `email`, …); at most 16 KiB as JSON; no NUL in any string.
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::Identifier>>, max_items = 100)]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `POST …/users/{id}/password`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    #[schema(min_length = 8, max_length = 1024, pattern = r"^[^\u0000]*$")]
    pub password: String,
}

/// A user's credential besides the password; secrets are never shown. Recovery codes appear
/// as one item, `recovery_codes`, with how many remain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CredentialView {
    /// The credential's id (`recovery-codes` for the set of recovery codes).
    pub id: String,
    /// `totp`, `passkey` or `recovery_codes`.
    pub kind: String,
    /// A passkey's name, or where a TOTP secret came from (`imported`, `generated`).
    pub label: Option<String>,
    /// Unused recovery codes left (recovery codes only).
    pub remaining: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// `POST …/credentials/totp`: sets the user's TOTP secret, replacing any they had. Give the
/// base32 `secret` of another system to migrate it; leave it out to have one generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub secret: Option<String>,
}

/// The TOTP credential just set, with its secret: shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TotpCreated {
    pub credential: CredentialView,
    /// The secret as base32.
    pub secret: String,
    /// The `otpauth://` URI authenticator apps read.
    pub otpauth_uri: String,
}

//! Operations on a realm's running state: signing keys, revocations, sessions, the audit
//! trail, and the dashboard summary.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// A signing key; only its public half ever leaves the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// Active keys sign new tokens; retired keys stay published until `publish_until`.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub publish_until: Option<DateTime<Utc>>,
}

/// A revocation entry (the Plan B kinds `TOKEN`, `CLAIM`, `GLOBAL`; `JTI` from RFC 7009).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevocationView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The revoked token's `jti` (kind `JTI`).
    pub jti: Option<String>,
    /// The claim names a `CLAIM` entry matches, `|`-separated.
    pub claim_names: Option<String>,
    /// Tokens issued before this instant (Unix seconds) are revoked.
    pub issued_before: i64,
    pub revoked_at: DateTime<Utc>,
    /// When the entry is dropped: no token it could match outlives it.
    pub expires_at: DateTime<Utc>,
}

/// A new revocation, in the Plan B shape: `{"type": "TOKEN", "data": {"token": …}}`,
/// `{"type": "CLAIM", "data": {"claims": {"sub": "…"}}}` or `{"type": "GLOBAL", "data": {}}`;
/// `data.issued_before` (Unix seconds) defaults to now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationInput {
    #[serde(rename = "type")]
    #[schema(value_type = crate::RevocationKindName)]
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
}

/// A single sign-on session of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub user_id: String,
    pub username: Option<String>,
    /// Clients that received tokens in this session.
    pub client_ids: Vec<String>,
    pub auth_time: DateTime<Utc>,
    /// The level reached: `"1"` one factor, `"2"` two.
    pub acr: String,
    /// How the user authenticated (RFC 8176 values).
    pub amr: Vec<String>,
    /// The address the sign-in came from, as the server saw it.
    pub ip_address: Option<String>,
    /// The browser's `User-Agent` at sign-in.
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When a client last used the session (a sign-in or a silent re-authorization).
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// How many sessions a "sign out everywhere" ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: usize,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// What happened, such as `client.created` or `user.locked`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who did it: an admin's name, `system`, or the user concerned.
    pub actor: String,
    pub target: Option<String>,
    /// Details; for admin changes `before` and `after`, never a secret.
    #[schema(value_type = Object)]
    pub detail: Value,
    pub created_at: DateTime<Utc>,
}

/// Filters of the audit trail, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Exact event type, or a prefix ending in `.` (`client.` matches every client event).
    #[serde(rename = "type")]
    #[param(rename = "type", pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub kind: Option<String>,
    #[param(pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub actor: Option<String>,
    /// Only events at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Only events before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (unpadded base64url).
    #[param(
        pattern = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$"
    )]
    pub cursor: Option<String>,
}

/// What the dashboard shows of a realm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RealmSummary {
    pub realm: crate::RealmView,
    pub clients: u64,
    pub users: u64,
    pub scopes: u64,
    pub api_resources: u64,
    pub active_sessions: u64,
    pub published_keys: u64,
    pub recent_events: Vec<EventView>,
}

//! A realm's LDAP / Active Directory user directories (read-only, CONTRACT §9), by name.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DirectoryView {
    pub name: String,
    pub enabled: bool,
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    pub starttls: bool,
    /// The service account searches run as (anonymous without one).
    pub bind_dn: Option<String>,
    /// Whether a bind password is set (it is never shown).
    pub bind_password_set: bool,
    /// PEM certificates trusted for TLS (a private CA); the system's roots when absent.
    pub tls_ca_certificate: Option<String>,
    pub user_base_dn: String,
    /// `{username}` stands for the escaped username.
    pub user_filter: String,
    /// The attribute identifying an entry for good (`entryUUID`; AD: `objectGUID`).
    pub subject_attribute: String,
    /// Attribute → `username` | `email` | `name` | a local claim.
    pub attribute_mappings: BTreeMap<String, String>,
    pub group_base_dn: Option<String>,
    /// `{dn}` stands for the user's escaped DN, `{username}` for the username.
    pub group_filter: String,
    pub group_name_attribute: String,
    /// Group name → role.
    pub group_roles: BTreeMap<String, String>,
    pub timeout_seconds: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9._:@~+-]+$")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^ldaps?://")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<bool>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 1024)]
    pub bind_dn: Option<Option<String>>,
    /// Write-only; `null` removes it.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 1024)]
    pub bind_password: Option<Option<String>>,
    /// PEM certificates to trust for TLS (a private CA); `null` for the system's roots.
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 65536)]
    pub tls_ca_certificate: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 1024)]
    pub user_base_dn: Option<String>,
    /// Default `(uid={username})`; Active Directory: `(sAMAccountName={username})`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 1024)]
    pub user_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub subject_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_mappings: Option<BTreeMap<String, String>>,
    #[serde(
        default,
        with = "crate::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable, max_length = 1024)]
    pub group_base_dn: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 1024)]
    pub group_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub group_name_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_roles: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 60)]
    pub timeout_seconds: Option<i32>,
}

/// What "test connection" found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DirectoryCheck {
    pub ok: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Whether the user base DN exists and the service account can read it.
    pub user_base_found: bool,
}

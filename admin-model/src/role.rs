//! A realm's roles: a managed collection that users and clients are assigned from. A
//! composite role includes other roles: holding it grants them too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleView {
    pub name: String,
    pub description: Option<String>,
    /// Roles this one includes directly (holding it grants them and what they include).
    pub composites: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
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
    /// Roles of the realm this one includes (each must exist; no cycles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::Identifier>>, max_items = 100)]
    pub composites: Option<Vec<String>>,
}

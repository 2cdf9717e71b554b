//! A realm's LDAP / Active Directory user directories (read-only). The service account's bind
//! password is sealed with the master key.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "directories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub name: String,
    pub enabled: bool,
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    pub starttls: bool,
    pub bind_dn: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub bind_password_sealed: Option<String>,
    /// PEM certificates to trust for TLS (a private CA); the system's roots without.
    #[sea_orm(column_type = "Text", nullable)]
    pub tls_ca_certificate: Option<String>,
    pub user_base_dn: String,
    /// With `{username}` where the escaped username goes.
    pub user_filter: String,
    pub subject_attribute: String,
    /// Attribute → `username` | `email` | `name` | a local claim.
    #[sea_orm(column_type = "JsonBinary")]
    pub attribute_mappings: serde_json::Value,
    pub group_base_dn: Option<String>,
    pub group_filter: String,
    pub group_name_attribute: String,
    /// Group name → role.
    #[sea_orm(column_type = "JsonBinary")]
    pub group_roles: serde_json::Value,
    pub timeout_seconds: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::realm::Entity",
        from = "Column::RealmId",
        to = "super::realm::Column::Id",
        on_delete = "Cascade"
    )]
    Realm,
}

impl ActiveModelBehavior for ActiveModel {}

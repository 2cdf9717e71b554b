//! Users of a realm: credentials, claims and lockout state.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub claims: serde_json::Value,
    pub enabled: bool,
    pub failed_login_count: i32,
    pub last_failed_login_at: Option<DateTimeUtc>,
    pub locked_until: Option<DateTimeUtc>,
    pub password_changed_at: Option<DateTimeUtc>,
    /// Actions the user takes at their next sign-in: `update_password`, `configure_totp`.
    #[sea_orm(column_type = "JsonBinary")]
    pub required_actions: serde_json::Value,
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
    #[sea_orm(has_many = "super::user_role::Entity")]
    UserRole,
    #[sea_orm(has_many = "super::consent::Entity")]
    Consent,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl Related<super::user_role::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserRole.def()
    }
}

impl Related<super::consent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Consent.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::role::Entity> for Entity {
    fn to() -> RelationDef {
        super::user_role::Relation::Role.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::user_role::Relation::User.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! Refresh token families: one grant's lineage of rotated refresh tokens and what they re-issue.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "refresh_token_families")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub subject: String,
    pub scope: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub claims: serde_json::Value,
    pub auth_time: Option<DateTimeUtc>,
    pub session_id: Option<String>,
    pub authorization_code_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub absolute_expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_reason: Option<String>,
    /// The sign-in behind the family (`acr`, RFC 8176 `amr`), repeated by tokens it mints.
    pub acr: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub amr: Option<serde_json::Value>,
    /// The DPoP key a public client's refresh tokens are bound to.
    pub dpop_jkt: Option<String>,
    /// RFC 8707 resources the grant covers (JSON array text); a refresh may narrow them.
    #[sea_orm(column_type = "Text", nullable)]
    pub resources: Option<String>,
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
    #[sea_orm(has_many = "super::refresh_token::Entity")]
    RefreshToken,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl Related<super::refresh_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshToken.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

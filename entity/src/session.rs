//! Login sessions of users, per cookie scope, with the clients that took part in them.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub user_id: String,
    pub cookie_scope: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub client_ids: serde_json::Value,
    pub auth_time: DateTimeUtc,
    pub acr: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub amr: serde_json::Value,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// The peer address the sign-in came from.
    pub ip_address: Option<String>,
    /// The browser's `User-Agent` at sign-in, cut to 256 characters.
    pub user_agent: Option<String>,
    /// The alias of the upstream provider the user signed in through, if any.
    pub idp: Option<String>,
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
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

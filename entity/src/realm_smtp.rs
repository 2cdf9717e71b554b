//! A realm's outgoing mail server (the password sealed with the master key).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "realm_smtp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub realm_id: String,
    pub host: String,
    pub port: i32,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub password_sealed: Option<String>,
    pub from_address: String,
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

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

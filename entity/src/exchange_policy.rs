//! Token exchange policies: which audiences, scopes and subject clients a client may exchange for.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "exchange_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub audiences: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub subject_clients: serde_json::Value,
    pub allow_delegation: bool,
    /// How many actors a delegation chain (`act`, nested) may name at most.
    pub max_delegation_depth: i32,
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

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

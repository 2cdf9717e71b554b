//! Pushed authorization requests (RFC 9126) by the hash of their `request_uri`: the validated
//! parameters, form-encoded, until the authorization endpoint takes them once.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "pushed_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub params: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

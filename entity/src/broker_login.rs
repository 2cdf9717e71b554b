//! Pending redirects to an upstream provider, by the hash of the `state` sent along. `sealed`
//! holds what the callback needs (the login's handle, the nonce, the PKCE verifier), sealed
//! with the master key.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "broker_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub provider_id: String,
    pub interaction_id: String,
    #[sea_orm(column_type = "Text")]
    pub sealed: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::identity_provider::Entity",
        from = "Column::ProviderId",
        to = "super::identity_provider::Column::Id",
        on_delete = "Cascade"
    )]
    Provider,
}

impl ActiveModelBehavior for ActiveModel {}

//! Authorization codes (stored as hashes) issued by the authorization endpoint, with PKCE data.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "authorization_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    pub scope: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: DateTimeUtc,
    pub acr: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub amr: serde_json::Value,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
    /// `jti` of the access token the code was exchanged for, revoked if the code is replayed.
    pub issued_jti: Option<String>,
    /// When the code was presented again after its redemption (RFC 6749 §4.1.2); issuance
    /// for the code commits only while this is empty.
    pub replayed_at: Option<DateTimeUtc>,
    /// The alias of the upstream provider the user signed in through, if any.
    pub idp: Option<String>,
    /// RFC 7638 thumbprint of the DPoP key the code is bound to (`dpop_jkt`, or the PAR proof).
    pub dpop_jkt: Option<String>,
    /// RFC 8707 resources the grant covers (JSON array text); null: none named.
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
}

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

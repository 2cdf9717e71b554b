//! A realm's upstream identity providers: OpenID Connect (discovery or explicit endpoints) or
//! plain OAuth 2 with a userinfo URL. The client secret is sealed with the master key.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    /// The provider's name in URLs (`/broker/{alias}/callback`, `idp_hint`).
    pub alias: String,
    /// `oidc` or `oauth2`.
    pub kind: String,
    pub display_name: String,
    pub enabled: bool,
    /// The template the endpoints came from (`google`, `microsoft`, `github`, `gitlab`).
    pub template: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub client_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub client_secret_sealed: Option<String>,
    /// `client_secret_basic` or `client_secret_post`.
    pub client_auth_method: String,
    /// Space-separated scopes asked of the upstream.
    pub scopes: String,
    pub pkce: bool,
    /// The upstream claim that identifies the account (`sub`; `id` for GitHub).
    pub subject_claim: String,
    /// Upstream claim → `username` | `email` | `name` | a local claim.
    #[sea_orm(column_type = "JsonBinary")]
    pub claim_mappings: serde_json::Value,
    /// `import` (mapped claims copied at the first login) or `force` (at every login).
    pub sync_mode: String,
    pub link_by_verified_email: bool,
    /// Whether an upstream account nobody is linked to creates a user (else it is refused).
    pub create_users: bool,
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

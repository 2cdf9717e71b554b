//! OAuth2/OIDC clients registered in a realm, with their grant, redirect, scope and token settings.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    pub display_name: Option<String>,
    pub public: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub grant_types: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub redirect_uris: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub post_logout_redirect_uris: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub audiences: serde_json::Value,
    #[sea_orm(column_type = "JsonBinary")]
    pub roles: serde_json::Value,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub allow_arbitrary_claims: bool,
    pub always_issue_refresh_token: bool,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub code_lifetime: Option<i64>,
    pub device_code_lifetime: Option<i64>,
    /// Seconds in which a rotated refresh token may come back as a retry (CONTRACT §3).
    pub refresh_reuse_grace: Option<i64>,
    /// Second factors for this client's logins: `inherit` (the realm's policy) or `required`.
    pub mfa: String,
    pub access_token_signing_alg: Option<String>,
    pub id_token_signing_alg: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub enabled: bool,
    /// `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt` or
    /// `none`; null accepts either secret method (confidential) or none (public).
    pub token_endpoint_auth_method: Option<String>,
    /// The client's public JWK Set, inline (JSON text).
    #[sea_orm(column_type = "Text", nullable)]
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub require_par: bool,
    pub require_signed_request_object: bool,
    pub dpop_bound_access_tokens: bool,
    /// Hash of the RFC 7592 registration access token of a self-registered client.
    pub registration_token_hash: Option<String>,
    /// How a self-registered client came: `open` or `initial_token:<token id>`; null for
    /// clients an administrator made.
    pub registered_via: Option<String>,
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
    #[sea_orm(has_many = "super::client_secret::Entity")]
    ClientSecret,
}

impl Related<super::realm::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Realm.def()
    }
}

impl Related<super::client_secret::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ClientSecret.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

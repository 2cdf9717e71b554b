//! Realms: isolated tenants with their own clients, users, keys and token settings.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "realms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub enabled: bool,
    pub decentralized: bool,
    pub signing_alg: String,
    pub id_token_signing_alg: String,
    pub cookie_mode: String,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub code_lifetime: Option<i64>,
    pub device_code_lifetime: Option<i64>,
    /// Seconds in which a rotated refresh token may come back as a retry (CONTRACT §3).
    pub refresh_reuse_grace: Option<i64>,
    /// Second factors: `off`, `optional` (used by users who enrolled one) or `required`.
    pub mfa: String,
    pub revocation_salt: String,
    /// Every authorization request must be pushed first (RFC 9126).
    pub require_par: bool,
    /// DPoP proofs must carry a server nonce (RFC 9449 §8).
    pub use_dpop_nonce: bool,
    /// A security profile enforced at once: `fapi2`, or null.
    pub profile: Option<String>,
    /// Client-supplied URLs (`jwks_uri`) may point at private and loopback addresses.
    pub allow_private_fetch: bool,
    /// Dynamic client registration: `off`, `initial_token` or `open`.
    pub registration: String,
    /// An `https://` client_id names the client's metadata document (IETF OAuth WG draft).
    pub client_id_metadata_documents: bool,
    /// Scopes self-identifying clients may ask for, space-separated; NULL: the standard
    /// OpenID scopes.
    pub self_service_scopes: Option<String>,
    /// Request rate limits as JSON; NULL: the defaults.
    pub rate_limits: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::client::Entity")]
    Client,
    #[sea_orm(has_many = "super::scope::Entity")]
    Scope,
    #[sea_orm(has_many = "super::api_resource::Entity")]
    ApiResource,
    #[sea_orm(has_many = "super::claim_type::Entity")]
    ClaimType,
    #[sea_orm(has_many = "super::user::Entity")]
    User,
    #[sea_orm(has_many = "super::role::Entity")]
    Role,
    #[sea_orm(has_many = "super::signing_key::Entity")]
    SigningKey,
    #[sea_orm(has_many = "super::refresh_token_family::Entity")]
    RefreshTokenFamily,
    #[sea_orm(has_many = "super::authorization_code::Entity")]
    AuthorizationCode,
    #[sea_orm(has_many = "super::device_code::Entity")]
    DeviceCode,
    #[sea_orm(has_many = "super::revocation::Entity")]
    Revocation,
    #[sea_orm(has_many = "super::consent::Entity")]
    Consent,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
    #[sea_orm(has_many = "super::exchange_policy::Entity")]
    ExchangePolicy,
    #[sea_orm(has_many = "super::trusted_issuer::Entity")]
    TrustedIssuer,
}

impl Related<super::client::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl Related<super::scope::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Scope.def()
    }
}

impl Related<super::api_resource::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiResource.def()
    }
}

impl Related<super::claim_type::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ClaimType.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::role::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Role.def()
    }
}

impl Related<super::signing_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SigningKey.def()
    }
}

impl Related<super::refresh_token_family::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshTokenFamily.def()
    }
}

impl Related<super::authorization_code::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuthorizationCode.def()
    }
}

impl Related<super::device_code::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DeviceCode.def()
    }
}

impl Related<super::revocation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Revocation.def()
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

impl Related<super::exchange_policy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ExchangePolicy.def()
    }
}

impl Related<super::trusted_issuer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TrustedIssuer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

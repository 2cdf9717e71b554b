//! SeaORM entities of Tessera: one module per table, tables as types, no behaviour.

pub mod action_token;
pub mod api_resource;
pub mod audit_event;
pub mod authorization_code;
pub mod broker_login;
pub mod claim_type;
pub mod client;
pub mod client_secret;
pub mod consent;
pub mod credential;
pub mod device_code;
pub mod directory;
pub mod directory_link;
pub mod exchange_policy;
pub mod federated_identity;
pub mod identity_provider;
pub mod interaction;
pub mod realm;
pub mod realm_smtp;
pub mod refresh_token;
pub mod refresh_token_family;
pub mod revocation;
pub mod role;
pub mod role_composite;
pub mod scope;
pub mod session;
pub mod signing_key;
pub mod trusted_issuer;
pub mod user;
pub mod user_role;

/// The entity types under readable names.
pub mod prelude {
    pub use super::action_token::Entity as ActionToken;
    pub use super::api_resource::Entity as ApiResource;
    pub use super::audit_event::Entity as AuditEvent;
    pub use super::authorization_code::Entity as AuthorizationCode;
    pub use super::broker_login::Entity as BrokerLogin;
    pub use super::claim_type::Entity as ClaimType;
    pub use super::client::Entity as Client;
    pub use super::client_secret::Entity as ClientSecret;
    pub use super::consent::Entity as Consent;
    pub use super::credential::Entity as Credential;
    pub use super::device_code::Entity as DeviceCode;
    pub use super::directory::Entity as Directory;
    pub use super::directory_link::Entity as DirectoryLink;
    pub use super::exchange_policy::Entity as ExchangePolicy;
    pub use super::federated_identity::Entity as FederatedIdentity;
    pub use super::identity_provider::Entity as IdentityProvider;
    pub use super::interaction::Entity as Interaction;
    pub use super::realm::Entity as Realm;
    pub use super::realm_smtp::Entity as RealmSmtp;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::refresh_token_family::Entity as RefreshTokenFamily;
    pub use super::revocation::Entity as Revocation;
    pub use super::role::Entity as Role;
    pub use super::role_composite::Entity as RoleComposite;
    pub use super::scope::Entity as Scope;
    pub use super::session::Entity as Session;
    pub use super::signing_key::Entity as SigningKey;
    pub use super::trusted_issuer::Entity as TrustedIssuer;
    pub use super::user::Entity as User;
    pub use super::user_role::Entity as UserRole;
}

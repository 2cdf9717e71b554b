//! What a new Tessera database starts with: the standard OpenID Connect scopes and claim
//! types, and the TOML seed file format that adds realms, scopes, API resources, clients and
//! users (applied idempotently by the server).

mod file;
mod standard;

pub use file::{
    parse, ApiResourceSeed, ClientSeed, ExchangePolicySeed, RealmSeed, ScopeSeed, SeedError,
    SeedFile, TrustedIssuerSeed, UserSeed,
};
pub use standard::{StandardScope, STANDARD_CLAIM_TYPES, STANDARD_SCOPES};

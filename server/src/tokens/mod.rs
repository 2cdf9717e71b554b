//! Minting and verifying Tessera's JWTs, and the opaque-token helpers.

pub mod access_token;
pub mod claims;
pub mod id_token;
pub mod refresh;
pub mod trusted;
pub mod verified_cache;
pub mod verify;

pub use crate::keys::TYP_ACCESS_TOKEN;

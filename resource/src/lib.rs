//! Protect axum APIs with access tokens from a Tessera realm (or any issuer of RFC 9068 JWT
//! access tokens).
//!
//! - Tokens are verified offline against the issuer's JWKS, fetched once and cached; a token
//!   signed with a key not seen yet makes the verifier fetch the JWKS again (at most every
//!   ten seconds), so key rotation needs nothing from you.
//! - `iss`, `aud`, `exp`, `nbf` and the `typ` `at+jwt` are checked; routes name the scopes they
//!   need.
//! - A DPoP-bound token (`cnf.jkt`) is accepted only as `Authorization: DPoP` with a proof of
//!   its key for this request (RFC 9449 §7).
//! - Opaque tokens can be checked by introspection (RFC 7662) instead.
//! - Refusals are RFC 6750 / RFC 9449 challenges carrying `resource_metadata`, and the
//!   RFC 9728 protected-resource metadata document is one route away.
//!
//! ```ignore
//! let verifier = Verifier::new(Config::new(
//!     "https://id.example/realms/shop",          // the issuer
//!     "https://api.shop.example",                // this API: the audience and resource id
//! ))?;
//! let app = Router::new()
//!     .route("/orders", get(list_orders))
//!     .layer(RequireToken::new(verifier.clone()).scopes(["orders.read"]))
//!     .merge(verifier.metadata_router());
//!
//! async fn list_orders(token: AccessToken) -> String {
//!     format!("orders of {}", token.subject())
//! }
//! ```

mod challenge;
mod dpop;
mod jwks;
mod layer;
mod metadata;
mod revocations;
mod verify;

pub use challenge::Refusal;
pub use layer::{RequireToken, RequireTokenService};
pub use revocations::RevocationPolling;
pub use verify::{AccessToken, Config, Introspection, Verifier};

/// Why a verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the issuer is not an http(s) URL")]
    BadIssuer,
    #[error("the HTTP client could not be built: {0}")]
    Http(#[from] reqwest::Error),
    #[error("polling a revocation list needs a Tokio runtime: build the verifier inside one")]
    NoRuntime,
}

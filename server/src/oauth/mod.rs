//! The OAuth 2 / OpenID Connect protocol, one module per endpoint.

pub mod audience;
pub mod authorize;
pub mod bearer;
pub mod client_assertion;
pub mod client_auth;
pub mod clients;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod form;
pub mod id_token_hint;
pub mod interaction;
pub mod introspect;
pub mod jwks;
pub mod logout;
pub mod par;
pub mod registration;
pub mod request_object;
pub mod revoke;
pub mod scope;
pub mod token;
pub mod userinfo;

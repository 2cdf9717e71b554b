//! Zalando Plan B compatibility (CONTRACT §5): the provider's `/oauth2/access_token`, token info,
//! and the revocation lists.

pub mod access_token;
pub mod bearer;
pub mod problem;
pub mod revocations;
pub mod tokeninfo;

//! The admin service's interface, shared by the REST API and the console: what goes in
//! (`…Input`, every field optional so one type serves create and PATCH), what comes out
//! (`…View`, never a secret or a hash), the errors, and [`AdminPort`], the operations both
//! front ends call. The server implements the port; nothing here touches a database.

mod catalog;
mod client;
mod directory;
mod error;
mod identity_provider;
mod operations;
mod page;
mod port;
mod realm;
mod role;
mod schema;
mod user;

pub mod nullable;
pub mod nullable_seconds;

pub use catalog::*;
pub use client::*;
pub use directory::*;
pub use error::*;
pub use identity_provider::*;
pub use operations::*;
pub use page::*;
pub use port::*;
pub use realm::*;
pub use role::*;
pub use schema::*;
pub use user::*;

/// Instants are RFC 3339 strings in UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Who performs an admin operation; recorded in every audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The `sub` of the admin's token (a user id, or a client id for service clients).
    pub subject: String,
    /// A name people recognise: the username, or the client id.
    pub name: String,
}

impl Actor {
    /// How the actor appears in audit events.
    pub fn label(&self) -> String {
        self.name.clone()
    }
}

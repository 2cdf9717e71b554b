//! One module per console area; each owns its handlers and components, and [`routes`] lists
//! every URL in one place.

mod catalog;
mod clients;
mod collection;
mod dashboard;
mod events;
mod federation;
mod home;
mod keys;
mod login;
mod realms;
mod registration;
mod revocations;
mod roles;
mod sessions;
mod smtp;
mod users;

use axum::routing::get;
use axum::Router;

use crate::Ctx;

pub use home::not_found;

pub fn routes() -> Router<Ctx> {
    let router = Router::new()
        .route("/admin", get(home::home))
        .route("/admin/switch", get(home::switch))
        .route("/admin/login", get(login::show).post(login::submit))
        .route(
            "/admin/logout",
            get(login::confirm_logout).post(login::logout),
        )
        .route("/admin/realms/{realm}", get(dashboard::show))
        .route("/admin/realms/{realm}/events", get(events::show));
    let router = realms::routes(router);
    let router = clients::routes(router);
    let router = users::routes(router);
    let router = roles::routes(router);
    let router = federation::routes(router);
    let router = catalog::routes(router);
    let router = keys::routes(router);
    let router = registration::routes(router);
    let router = revocations::routes(router);
    let router = smtp::routes(router);
    sessions::routes(router)
}

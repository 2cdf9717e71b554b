//! Tessera's admin console: server-rendered Leptos pages mounted at `/admin`, working with
//! plain HTML forms (a few lines of script only add conveniences). It reaches the admin service
//! only through [`admin_model::AdminPort`], so every rule (validation, audit, secret handling)
//! lives in the one implementation the REST API shares.

mod auth;
mod csrf;
mod form_data;
mod forms;
mod layout;
mod pages;
mod paths;
mod render;
mod session;
mod widgets;

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// What the console needs from the server that mounts it.
pub struct Console {
    pub port: Arc<dyn admin_model::AdminPort>,
    /// Server-side session store (the server's DB-backed tower-sessions store).
    pub sessions: Arc<dyn tower_sessions::SessionStore>,
    /// Set the cookie's Secure attribute (public URL is https).
    pub secure_cookies: bool,
}

/// The console's state inside its handlers.
pub(crate) struct Inner {
    pub port: Arc<dyn admin_model::AdminPort>,
    pub store: Arc<session::Store>,
    pub secure_cookies: bool,
}

pub(crate) type Ctx = Arc<Inner>;

/// Routes with absolute paths under `/admin` (not `/admin/api`, the REST API); no fallback.
pub fn router<S: Clone + Send + Sync + 'static>(console: Console) -> Router<S> {
    // leptos_axum's renderer runs Leptos tasks on the global executor, which leptos_axum itself
    // sets up only in its route-list helpers; this console routes with plain axum. Setting it
    // twice (a second console in tests) is harmless.
    let _ = any_spawner::Executor::init_tokio();
    let ctx: Ctx = Arc::new(Inner {
        port: console.port,
        store: Arc::new(session::Store(console.sessions)),
        secure_cookies: console.secure_cookies,
    });
    pages::routes()
        .route("/admin/assets/console.css", get(stylesheet))
        .with_state(ctx)
}

/// The console's 404 page, for a path under `/admin` that no route serves; the server's
/// fallback calls it so the REST API under `/admin/api` keeps its JSON answers.
pub async fn not_found(head: &axum::http::request::Parts) -> axum::response::Response {
    pages::not_found(head).await
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        concat!(
            include_str!("../../style/tessera.css"),
            "\n",
            include_str!("../../style/console.css")
        ),
    )
}

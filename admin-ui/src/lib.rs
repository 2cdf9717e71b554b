//! Tessera's admin console: server-rendered Leptos pages mounted at `/admin`, working with
//! plain HTML forms. It reaches the admin service only through [`admin_model::AdminPort`], so
//! every rule (validation, audit, secret handling) lives in the one implementation the REST
//! API shares.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render;

pub mod pages;

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

/// The console's shared state inside its handlers.
pub(crate) type Ctx = Arc<Console>;

/// Routes with absolute paths under `/admin` (not `/admin/api`, the REST API); no fallback.
pub fn router<S: Clone + Send + Sync + 'static>(console: Console) -> Router<S> {
    Router::new()
        .route("/admin/assets/console.css", get(stylesheet))
        .route("/admin/login", get(pages::login::show))
        .with_state(Arc::new(console))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        concat!(
            include_str!("../../style/tessera.css"),
            include_str!("../../style/console.css")
        ),
    )
}

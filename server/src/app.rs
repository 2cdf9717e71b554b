//! The HTTP router: protocol endpoints per realm, their `default` realm aliases, the admin API
//! and console, and health checks. It composes; the handlers live in their layers and share
//! [`AppState`].

use axum::http::{header, HeaderValue, StatusCode};
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use crate::{oauth, planb, web};

/// Form-POST endpoints answer other methods with 405 in the protocol's JSON error format.
fn post_only(
    route: axum::routing::MethodRouter<AppState>,
) -> axum::routing::MethodRouter<AppState> {
    route.fallback(|| async {
        let mut response =
            oauth::error::OAuthError::invalid_request("this endpoint accepts POST only")
                .into_response();
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        response
    })
}

/// The protocol endpoints of one realm under `prefix`: its issuer's path, or nothing for the
/// `default` realm's aliases. Registered whole rather than nested: a nested router wraps each
/// of its routes once more (to strip the prefix), one more boxed service and future per request.
fn realm_routes(prefix: &str) -> Router<AppState> {
    let at = |path: &str| format!("{prefix}{path}");
    Router::new()
        .route(
            &at("/.well-known/openid-configuration"),
            get(oauth::discovery::openid_configuration),
        )
        .route(
            &at("/.well-known/oauth-authorization-server"),
            get(oauth::discovery::authorization_server_metadata),
        )
        .route(&at("/.well-known/jwks.json"), get(oauth::jwks::jwks))
        .route(&at("/connect/token"), post_only(post(oauth::token::token)))
        .route(
            &at("/connect/introspect"),
            post_only(post(oauth::introspect::introspect)),
        )
        .route(
            &at("/connect/revoke"),
            post_only(post(oauth::revoke::revoke)),
        )
        .route(&at("/connect/par"), post_only(post(oauth::par::push)))
        .route(
            &at("/connect/register"),
            post_only(post(oauth::registration::register)),
        )
        .route(
            &at("/connect/register/{client_id}"),
            get(oauth::registration::read)
                .put(oauth::registration::update)
                .delete(oauth::registration::delete),
        )
        .route(
            &at("/connect/authorize"),
            get(web::authorize::authorize_get).post(web::authorize::authorize_post),
        )
        .route(
            &at("/connect/authorize/resume"),
            get(web::authorize::resume),
        )
        .route(
            &at("/connect/userinfo"),
            get(oauth::userinfo::userinfo_get).post(oauth::userinfo::userinfo_post),
        )
        .route(
            &at("/connect/logout"),
            get(web::logout::logout_get).post(web::logout::logout_post),
        )
        .route(
            &at("/login"),
            get(web::login::show).post(web::login::submit),
        )
        .route(&at("/broker/{alias}/login"), get(web::broker::start))
        .route(&at("/broker/{alias}/callback"), get(web::broker::callback))
        .route(&at("/broker/{alias}/link"), post(web::broker::link))
        .route(
            &at("/forgot-password"),
            get(web::reset::show_forgot).post(web::reset::submit_forgot),
        )
        .route(
            &at("/reset-password"),
            get(web::reset::show_reset).post(web::reset::submit_reset),
        )
        .route(&at("/passkey"), post(web::passkeys::sign_in))
        .route(
            &at("/passkey/options"),
            post(web::passkeys::sign_in_options),
        )
        .route(&at("/account"), get(web::account::show))
        .route(
            &at("/account/password"),
            post(web::account::change_password),
        )
        .route(&at("/account/profile"), post(web::account::update_profile))
        .route(
            &at("/account/totp"),
            get(web::account::show_totp).post(web::account::confirm_totp),
        )
        .route(&at("/account/totp/remove"), post(web::account::remove_totp))
        .route(
            &at("/account/passkeys"),
            post(web::account::register_passkey),
        )
        .route(
            &at("/account/passkeys/options"),
            post(web::account::passkey_options),
        )
        .route(
            &at("/account/passkeys/remove"),
            post(web::account::remove_passkey),
        )
        .route(
            &at("/account/passkeys/rename"),
            post(web::account::rename_passkey),
        )
        .route(
            &at("/account/recovery-codes"),
            post(web::account::new_recovery_codes),
        )
        .route(
            &at("/account/links/remove"),
            post(web::account::remove_link),
        )
        .route(
            &at("/account/sessions/end"),
            post(web::account::sign_out_everywhere),
        )
        .route(
            &at("/verify-email"),
            get(web::verify_email::show).post(web::verify_email::submit),
        )
        .route(
            &at("/update-password"),
            get(web::update_password::show).post(web::update_password::submit),
        )
        .route(
            &at("/second-factor"),
            get(web::second_factor::show).post(web::second_factor::submit),
        )
        .route(
            &at("/second-factor/passkey"),
            post(web::second_factor::passkey),
        )
        .route(
            &at("/second-factor/passkey/options"),
            post(web::second_factor::passkey_options),
        )
        .route(
            &at("/consent"),
            get(web::consent::show).post(web::consent::submit),
        )
        .route(
            &at("/device"),
            get(web::device::show).post(web::device::submit),
        )
        .route(
            &at("/connect/device_authorization"),
            post_only(post(oauth::device::device_authorization)),
        )
        .route(
            &at("/oauth2/access_token"),
            post(planb::access_token::access_token),
        )
        .route(&at("/oauth2/tokeninfo"), get(planb::tokeninfo::tokeninfo))
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(crate::health::readyz))
        .route("/metrics", get(crate::health::metrics))
        .route("/assets/tessera.css", get(stylesheet))
        .route("/assets/passkeys.js", get(passkeys_script))
        .route("/realms/{realm}", get(oauth::discovery::realm_info))
        // RFC 8414 §3.1: the well-known suffix inserted before the issuer's path, where
        // clients (MCP's among them) look first.
        .route(
            "/.well-known/oauth-authorization-server/realms/{realm}",
            get(oauth::discovery::authorization_server_metadata),
        )
        .route(
            "/.well-known/openid-configuration/realms/{realm}",
            get(oauth::discovery::openid_configuration),
        )
        .route(
            "/realms/{realm}/revocations",
            get(planb::revocations::list).post(planb::revocations::create),
        )
        .merge(realm_routes("/realms/{realm}"))
        .merge(crate::admin::api::router())
        .merge(
            admin_ui::router(admin_ui::Console {
                port: Arc::new(crate::admin::AdminService::new(state.clone())),
                sessions: state.browser_sessions.clone(),
                secure_cookies: state.secure_cookies(),
            })
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                limit_console_sign_in,
            )),
        )
        // Aliases of the `default` realm; its issuer stays `/realms/default`.
        .merge(realm_routes(""))
        .fallback(not_found)
        // One layer for what every request needs (trace span, outage net, security headers,
        // metrics): each layer given to a router wraps every route once more.
        .layer(crate::every_request::EveryRequestLayer(
            state.metrics.clone(),
        ))
        .with_state(state)
}

/// The script of the passkey forms (the only script on the sign-in pages; everything else
/// works without it).
async fn passkeys_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../style/passkeys.js"),
    )
        .into_response()
}

/// The shared stylesheet, compiled into the binary so a deployment is one file.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../style/tessera.css"),
    )
        .into_response()
}

async fn not_found(request: axum::extract::Request) -> Response {
    let path = request.uri().path();
    let console = path == "/admin" || path.starts_with("/admin/");
    if console && !path.starts_with("/admin/api/") {
        let (head, _) = request.into_parts();
        return admin_ui::not_found(&head).await;
    }
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"not_found"}"#,
    )
        .into_response()
}

/// The console's sign-in form counts against realm `master`'s sign-in limit, like every other
/// password form.
async fn limit_console_sign_in(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() == axum::http::Method::POST && request.uri().path() == "/admin/login" {
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let ip = state.client_ip(peer, request.headers());
        if let Ok(Some(master)) = state
            .caches
            .directory
            .realm(crate::seeding::MASTER_REALM)
            .await
        {
            if let Err(limited) = state.limit_ip(&master, crate::rate_limit::Group::Login, ip) {
                let seconds = limited.retry_after_secs();
                return (
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, seconds.to_string())],
                    format!("Too many sign-in attempts from your network. Try again in {seconds} seconds."),
                )
                    .into_response();
            }
        }
    }
    next.run(request).await
}

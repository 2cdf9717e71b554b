//! What every handler shares: the services the server was composed from ([`AppState`]) and the
//! realm a request addresses ([`RealmCtx`]). Built once by `startup`, mounted by `app`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::changes::Caches;
use crate::clock::Clock;
use crate::crypto::secrets::SecretHasher;
use crate::domain::Realm;
use crate::seeding::DEFAULT_REALM;

pub struct AppInner {
    /// Public base URL without a trailing slash.
    pub public_url: String,
    pub caches: Arc<Caches>,
    /// Seals stored secrets; checked against what imports bring.
    pub master_key: Arc<crate::crypto::master_key::MasterKey>,
    pub secrets: SecretHasher,
    pub accounts: crate::accounts::Accounts,
    /// TOTP and recovery codes.
    pub factors: crate::factors::SecondFactors,
    /// Sends mail through the realms' SMTP settings.
    pub mailer: crate::mail::Mailer,
    pub refresh: crate::tokens::refresh::RefreshTokens,
    pub browser_sessions: Arc<crate::sessions::BrowserStore>,
    /// Delivers back-channel logout tokens.
    pub http_client: reqwest::Client,
    /// The realms' upstream identity providers (federation), as their client.
    pub upstreams: crate::upstream::Upstreams,
    /// Clients' public keys (inline or from their `jwks_uri`) and `client_secret_jwt` secrets.
    pub client_keys: crate::client_keys::ClientKeys,
    /// Clients known by their metadata document (fetched, checked, cached).
    pub documents: crate::client_documents::Documents,
    /// Proof-of-possession checks (RFC 9449): replay cache and server nonces.
    pub dpop: crate::dpop::Dpop,
    /// Keys of issuers whose JWTs token exchange accepts.
    pub trusted_jwks: crate::tokens::trusted::TrustedJwks,
    /// Wrong device user codes per client address.
    pub device_limiter: crate::limiter::WrongCodeLimiter,
    /// Request rate limits per address and per client, by the realms' settings.
    pub rate_limiters: crate::rate_limit::RateLimiters,
    /// Proxies whose forwarding headers name the client's address.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Serving, or draining after a stop signal.
    pub lifecycle: crate::lifecycle::Lifecycle,
    pub clock: Arc<dyn Clock>,
}

/// Cheap to clone; shared by every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppInner {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.public_url)
    }

    /// The address a request comes from: `peer`, or what trusted proxies say it forwards.
    pub fn client_ip(
        &self,
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> std::net::IpAddr {
        let peer = peer.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        self.trusted_proxies.client_ip(peer, headers)
    }

    /// Counts a request of `group` from `ip` against `realm`'s limit.
    pub fn limit_ip(
        &self,
        realm: &crate::domain::Realm,
        group: crate::rate_limit::Group,
        ip: std::net::IpAddr,
    ) -> Result<(), crate::rate_limit::Limited> {
        self.rate_limiters
            .check_ip(&realm.id, &realm.security.rate_limits, group, ip)
            .inspect_err(|_| self.metrics.rate_limited(&realm.name, group.label()))
    }

    /// Counts a request of `group` by `client_id` against `realm`'s limit.
    pub fn limit_client(
        &self,
        realm: &crate::domain::Realm,
        group: crate::rate_limit::Group,
        client_id: &str,
    ) -> Result<(), crate::rate_limit::Limited> {
        self.rate_limiters
            .check_client(&realm.id, &realm.security.rate_limits, group, client_id)
            .inspect_err(|_| self.metrics.rate_limited(&realm.name, group.label()))
    }

    /// Cookies are `Secure` whenever the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The realm a request addresses: the `{realm}` path segment, or `default` on alias routes.
#[derive(Clone)]
pub struct RealmCtx {
    pub realm: Arc<Realm>,
    pub issuer: String,
}

impl RealmCtx {
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Answer for a realm that does not exist or is disabled.
pub struct UnknownRealm;

impl IntoResponse for UnknownRealm {
    fn into_response(self) -> Response {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":"not_found","error_description":"unknown realm"}"#,
        )
            .into_response()
    }
}

impl FromRequestParts<AppState> for RealmCtx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let name = params
            .iter()
            .find(|(key, _)| *key == "realm")
            .map(|(_, value)| value.to_string())
            .or_else(|| realm_from_query(parts.uri.query()))
            .unwrap_or_else(|| DEFAULT_REALM.to_string());
        // Not a realm name at all: no need to ask the database.
        if !crate::validation::is_realm_name(&name) {
            return Err(UnknownRealm.into_response());
        }
        let realm = state
            .caches
            .directory
            .realm(&name)
            .await
            .map_err(|e| realm_lookup_failed(&e))?
            .filter(|r| r.enabled)
            .ok_or_else(|| UnknownRealm.into_response())?;
        Ok(RealmCtx {
            issuer: state.issuer(&realm.name),
            realm,
        })
    }
}

/// Root aliases accept `?realm=name` (Plan B style, a leading `/` allowed).
fn realm_from_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == "realm")
        .map(|(_, value)| value.trim_start_matches('/').to_string())
        .filter(|name| !name.is_empty())
}

/// The realm could not be read: a protocol-format `server_error` (a store outage becomes 503 in
/// the per-request layer, `every_request`).
fn realm_lookup_failed(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "reading the realm failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"server_error","error_description":"the server could not complete the request"}"#,
    )
        .into_response()
}

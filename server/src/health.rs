//! Liveness and readiness probes, and the metrics scrape.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// How long readiness waits for the database: a probe must flip within a second of an outage.
const READY_PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// The process can serve: it is not shutting down, and its database answers within
/// [`READY_PROBE_TIMEOUT`].
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining", "reason": "the process is shutting down"})),
        )
            .into_response();
    }
    if state.caches.store.ping(READY_PROBE_TIMEOUT).await {
        (StatusCode::OK, Json(json!({"status": "ready"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, crate::outage::retry_after())],
            Json(json!({"status": "unavailable", "reason": "database unreachable"})),
        )
            .into_response()
    }
}

/// `GET /metrics`: Prometheus text, with the database pool read now.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state
        .caches
        .store
        .pool_stats()
        .map(|(size, idle)| crate::metrics::PoolStats { size, idle });
    let [realms, clients, catalogs] = state.caches.directory.cache_counts();
    let cache_lookups = [realms, clients, catalogs, state.caches.keys.cache_counts()];
    let [realms, clients, catalogs] = state.caches.directory.cache_usage();
    let cache_usage = [realms, clients, catalogs, state.caches.keys.cache_usage()];
    let readings = crate::metrics::Readings {
        pool,
        cache_lookups: &cache_lookups,
        cache_usage: &cache_usage,
        lockouts: state.accounts.lockouts(),
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(readings),
    )
        .into_response()
}

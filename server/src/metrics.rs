//! Prometheus text-format metrics (`/metrics`): HTTP responses by status class, tokens issued
//! by grant type, and token-endpoint refusals by error code. Plain atomics, so counting costs
//! the hot path nothing measurable.

use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::domain::grant_type;

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Error codes the token endpoint answers with (RFC 6749 §5.2, RFC 8628 §3.5), in the order
/// they are counted.
const TOKEN_ERRORS: [&str; 12] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "access_denied",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "server_error",
];

#[derive(Debug, Default)]
pub struct Metrics {
    responses: [AtomicU64; 5],
    issued: [AtomicU64; grant_type::ALL.len()],
    token_errors: [AtomicU64; TOKEN_ERRORS.len()],
}

impl Metrics {
    pub fn token_issued(&self, grant: &str) {
        let counter = grant_type::ALL
            .iter()
            .zip(&self.issued)
            .find(|(g, _)| **g == grant);
        if let Some((_, n)) = counter {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn token_refused(&self, code: &str) {
        let counter = TOKEN_ERRORS
            .iter()
            .zip(&self.token_errors)
            .find(|(c, _)| **c == code);
        if let Some((_, n)) = counter {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        // The clamp keeps `class` in 0..5, so there is always a counter.
        if let Some(n) = self.responses.get(class) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP tessera_http_responses_total HTTP responses by status class.\n");
        out.push_str("# TYPE tessera_http_responses_total counter\n");
        for (class, n) in CLASSES.iter().zip(&self.responses) {
            out.push_str(&format!(
                "tessera_http_responses_total{{class=\"{class}\"}} {}\n",
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP tessera_tokens_issued_total Token responses by grant type.\n");
        out.push_str("# TYPE tessera_tokens_issued_total counter\n");
        for (grant, n) in grant_type::ALL.iter().zip(&self.issued) {
            out.push_str(&format!(
                "tessera_tokens_issued_total{{grant_type=\"{grant}\"}} {}\n",
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP tessera_token_errors_total Token endpoint refusals by error code.\n");
        out.push_str("# TYPE tessera_token_errors_total counter\n");
        for (code, n) in TOKEN_ERRORS.iter().zip(&self.token_errors) {
            out.push_str(&format!(
                "tessera_token_errors_total{{error=\"{code}\"}} {}\n",
                n.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// `GET /metrics`
pub async fn metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}

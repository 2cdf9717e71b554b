//! The floor `bench/run` measures Tessera's token endpoint against: the least an axum server
//! can do to answer a client-credentials request. It checks a Basic secret in constant time,
//! signs an ES256 JWT with a key pair parsed once (aws-lc-rs, the header encoded once) and
//! answers JSON. It has no database, realms,
//! scopes policy, revocation or metrics, so Tessera's throughput divided by this one is the share
//! of the machine its own logic leaves to the work every token server must do.
//!
//! `BASELINE_BIND` (default `127.0.0.1:17792`) is where it listens.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;
use subtle::ConstantTimeEq;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The client `bench/client_credentials.lua` authenticates as.
const CREDENTIALS: &str = "bench-client:bench-client-secret-with-plenty-of-entropy-0123456789";
const LIFETIME: u64 = 300;

struct Signer {
    key: EcdsaKeyPair,
    /// `BASE64URL({"alg":"ES256","kid":"baseline","typ":"at+jwt"})`.
    header: String,
    rng: aws_lc_rs::rand::SystemRandom,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "generating the key failed")?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| "parsing the key failed")?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"baseline","typ":"at+jwt"}"#);
    let signer = Arc::new(Signer { key, header, rng });
    let app = Router::new()
        .route("/connect/token", post(token))
        .with_state(signer);
    let bind = std::env::var("BASELINE_BIND").unwrap_or_else(|_| "127.0.0.1:17792".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

fn authenticated(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .is_some_and(|presented| bool::from(presented.ct_eq(CREDENTIALS.as_bytes())))
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({ "error": code }))).into_response()
}

async fn token(State(signer): State<Arc<Signer>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authenticated(&headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut grant_type = None;
    let mut scope = None;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "grant_type" => grant_type = Some(value),
            "scope" => scope = Some(value),
            _ => {}
        }
    }
    if grant_type.as_deref() != Some("client_credentials") {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let mut jti = [0u8; 16];
    if signer.rng.fill(&mut jti).is_err() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    }
    // Not Tessera: no clock to inject, so the wall clock is read here directly.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let scope = scope.unwrap_or_default();
    let claims = json!({
        "iss": "http://127.0.0.1:17792",
        "sub": "bench-client",
        "aud": "bench-api",
        "client_id": "bench-client",
        "scope": scope,
        "iat": now,
        "exp": now + LIFETIME,
        "jti": URL_SAFE_NO_PAD.encode(jti),
    });
    match sign(&signer, &claims) {
        Some(access_token) => axum::Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": LIFETIME,
            "scope": scope,
        }))
        .into_response(),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

/// A compact JWS over `claims` (RFC 7515 §7.1).
fn sign(signer: &Signer, claims: &serde_json::Value) -> Option<String> {
    let payload = serde_json::to_vec(claims).ok()?;
    let mut token = signer.header.clone();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = signer.key.sign(&signer.rng, token.as_bytes()).ok()?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
    Some(token)
}

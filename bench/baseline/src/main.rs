//! The floor `bench/run` measures Tessera's token endpoint against: the least an axum server
//! can do to answer a token request. It checks a Basic secret in constant time, signs an
//! ES256 JWT with a key pair parsed once (aws-lc-rs, the header encoded once) and answers
//! JSON. For each grant it does only the work no token server can skip:
//!
//! - `client_credentials`: nothing more;
//! - `refresh_token`: one SQLite transaction (WAL, `synchronous=NORMAL`, one writer) that
//!   finds the presented token by its hash, revokes it and inserts its successor;
//! - `password`: one argon2id verification at Tessera's default cost, on the blocking pool.
//!
//! It has no realms, scopes policy, revocation lists or metrics, so Tessera's throughput
//! divided by this one is the share of the machine its own logic leaves to that work.
//! `POST /mint` makes a refresh token to start a chain with.
//!
//! `BASELINE_BIND` (default `127.0.0.1:17792`) is where it listens, `BASELINE_DB` the SQLite
//! file (default `baseline.db` in the working directory).

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

/// The password `bench/password.lua` signs in with.
const PASSWORD: &str = "bench-user-password-0123";

struct Signer {
    key: EcdsaKeyPair,
    /// `BASE64URL({"alg":"ES256","kid":"baseline","typ":"at+jwt"})`.
    header: String,
    rng: aws_lc_rs::rand::SystemRandom,
    db: sqlx::SqlitePool,
    /// PHC string of [`PASSWORD`] at Tessera's default argon2id cost.
    password_hash: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "generating the key failed")?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| "parsing the key failed")?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"baseline","typ":"at+jwt"}"#);
    let path = std::env::var("BASELINE_DB").unwrap_or_else(|_| "baseline.db".into());
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(std::time::Duration::from_secs(5));
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS refresh_tokens (id TEXT PRIMARY KEY, hash BLOB NOT NULL \
         UNIQUE, family TEXT NOT NULL, revoked INTEGER NOT NULL, expires INTEGER NOT NULL)",
    )
    .execute(&db)
    .await?;
    let params = argon2::Params::new(19_456, 2, 1, None).map_err(|e| e.to_string())?;
    let password_hash = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"baseline-salt-16").map_err(|e| e.to_string())?;
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &salt)
            .map_err(|e| e.to_string())?
            .to_string()
    };
    let signer = Arc::new(Signer {
        key,
        header,
        rng,
        db,
        password_hash,
    });
    let app = Router::new()
        .route("/connect/token", post(token))
        .route("/mint", post(mint))
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
    let mut refresh_token = None;
    let mut password = None;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "grant_type" => grant_type = Some(value),
            "scope" => scope = Some(value),
            "refresh_token" => refresh_token = Some(value),
            "password" => password = Some(value),
            _ => {}
        }
    }
    let successor = match grant_type.as_deref() {
        Some("client_credentials") => None,
        Some("refresh_token") => match rotate(&signer, &refresh_token.unwrap_or_default()).await {
            Ok(Some(next)) => Some(next),
            Ok(None) => return error(StatusCode::BAD_REQUEST, "invalid_grant"),
            Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        },
        Some("password") => {
            let presented = password.unwrap_or_default().into_owned();
            let signer = signer.clone();
            let verified = tokio::task::spawn_blocking(move || {
                use argon2::password_hash::{PasswordHash, PasswordVerifier};
                PasswordHash::new(&signer.password_hash).is_ok_and(|hash| {
                    argon2::Argon2::default()
                        .verify_password(presented.as_bytes(), &hash)
                        .is_ok()
                })
            })
            .await;
            if !matches!(verified, Ok(true)) {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            None
        }
        _ => return error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
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
        Some(access_token) => {
            let mut answer = json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": LIFETIME,
                "scope": scope,
            });
            if let (Some(next), Some(fields)) = (successor, answer.as_object_mut()) {
                fields.insert("refresh_token".into(), next.into());
            }
            axum::Json(answer).into_response()
        }
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

/// A new opaque refresh token: its text, and the SHA-256 stored for it.
fn new_refresh_token(signer: &Signer) -> Option<(String, Vec<u8>)> {
    let mut raw = [0u8; 32];
    signer.rng.fill(&mut raw).ok()?;
    let token = URL_SAFE_NO_PAD.encode(raw);
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    Some((token, hash.as_ref().to_vec()))
}

fn unix_now() -> i64 {
    // Not Tessera: no clock to inject, so the wall clock is read here directly.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    i64::try_from(now).unwrap_or_default()
}

/// One rotation in one transaction: the presented token found by its hash, revoked, and its
/// successor inserted. `None` for a token unknown, revoked or expired.
async fn rotate(signer: &Signer, presented: &str) -> Result<Option<String>, sqlx::Error> {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, presented.as_bytes());
    let Some((next, next_hash)) = new_refresh_token(signer) else {
        return Ok(None);
    };
    let now = unix_now();
    let mut txn = signer.db.begin().await?;
    let found: Option<(String, String, i64, i64)> =
        sqlx::query_as("SELECT id, family, revoked, expires FROM refresh_tokens WHERE hash = ?")
            .bind(hash.as_ref())
            .fetch_optional(&mut *txn)
            .await?;
    let Some((id, family, revoked, expires)) = found else {
        return Ok(None);
    };
    if revoked != 0 || expires < now {
        return Ok(None);
    }
    sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE id = ?")
        .bind(&id)
        .execute(&mut *txn)
        .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (id, hash, family, revoked, expires) VALUES (?, ?, ?, 0, ?)",
    )
    .bind(URL_SAFE_NO_PAD.encode(&next_hash))
    .bind(&next_hash)
    .bind(&family)
    .bind(now + 86_400)
    .execute(&mut *txn)
    .await?;
    txn.commit().await?;
    Ok(Some(next))
}

/// `POST /mint`: a refresh token of a new family, to start a chain with.
async fn mint(State(signer): State<Arc<Signer>>) -> Response {
    let Some((token, hash)) = new_refresh_token(&signer) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    };
    let inserted = sqlx::query(
        "INSERT INTO refresh_tokens (id, hash, family, revoked, expires) VALUES (?, ?, ?, 0, ?)",
    )
    .bind(URL_SAFE_NO_PAD.encode(&hash))
    .bind(&hash)
    .bind(format!("family-{}", URL_SAFE_NO_PAD.encode(&hash)))
    .bind(unix_now() + 86_400)
    .execute(&signer.db)
    .await;
    match inserted {
        Ok(_) => axum::Json(json!({ "refresh_token": token })).into_response(),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
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

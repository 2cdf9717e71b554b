//! What verifying a token costs a resource server: `cargo bench -p tessera-resource`.
//! Signs ES256 access tokens with a local key, serves its JWKS on loopback, and times
//! `Verifier::verify` (a bearer token, then with a polled revocation list of a thousand TOKEN
//! and a thousand CLAIM entries) and `Verifier::admit` (a DPoP-bound token with a fresh proof
//! per request) on one thread.

// A benchmark may fail loudly, like a test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use tessera_resource::{Config, RevocationPolling, Verifier};

struct Key {
    pair: EcdsaKeyPair,
    jwk: Value,
}

impl Key {
    fn new() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let (x, y) = point[1..].split_at(32);
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)});
        Key { pair, jwk }
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

fn thumbprint(jwk: &Value) -> String {
    let members = json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]});
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        members.to_string().as_bytes(),
    ))
}

#[allow(clippy::disallowed_methods)]
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let issuer_key = Key::new();
    let mut published = issuer_key.jwk.clone();
    published["kid"] = json!("k1");
    published["alg"] = json!("ES256");
    let jwks = json!({"keys": [published]});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}/realms/bench", listener.local_addr().unwrap());
    // A revocation list none of the measured tokens is on: every entry is looked at.
    let entries: Vec<Value> = (0..1000)
        .flat_map(|i| {
            [
                json!({"type": "TOKEN", "revoked_at": now(), "data": {"token_hash": format!("t{i}"), "hash_algorithm": "SHA-256", "issued_before": now()}}),
                json!({"type": "CLAIM", "revoked_at": now(), "data": {"names": "sub", "value_hash": format!("c{i}"), "separator": "|", "hash_algorithm": "SHA-256", "issued_before": now() + 5}}),
            ]
        })
        .collect();
    let list = json!({"meta": {"REFRESH_FROM": 0, "REFRESH_TIMESTAMP": now(), "MAX_TIME_DELTA": 86400}, "revocations": entries});
    let app = axum::Router::new()
        .route(
            "/realms/bench/.well-known/jwks.json",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        )
        .route(
            "/realms/bench/connect/token",
            axum::routing::post(|| async {
                axum::Json(json!({"access_token": "poller", "expires_in": 3600}))
            }),
        )
        .route(
            "/realms/bench/revocations",
            axum::routing::get(move || {
                let list = list.clone();
                async move { axum::Json(list) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = Config::new(issuer.clone(), "https://api.example");
    config.public_origin = "https://api.example".into();
    let verifier = Verifier::new(config).unwrap();
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "k1"});
    let claims = |extra: Value| {
        let mut c = json!({
            "iss": issuer, "sub": "bench", "aud": "https://api.example", "client_id": "bench",
            "scope": "orders.read", "iat": now(), "exp": now() + 3600, "jti": "j",
        });
        if let (Value::Object(c), Value::Object(extra)) = (&mut c, extra) {
            c.extend(extra);
        }
        c
    };
    let bearer = issuer_key.sign(&header, &claims(json!({})));
    verifier.verify(&bearer).await.unwrap(); // the JWKS fetch, not measured

    const N: u32 = 20_000;
    let started = Instant::now();
    for _ in 0..N {
        verifier.verify(&bearer).await.unwrap();
    }
    let per = started.elapsed() / N;
    println!(
        "verify bearer ES256:        {:>6.1} µs/token  ({:>7.0} tokens/s on one thread)",
        per.as_secs_f64() * 1e6,
        1.0 / per.as_secs_f64()
    );

    let mut config = Config::new(issuer.clone(), "https://api.example");
    config.revocations = Some(RevocationPolling::new(&issuer, "salt", "bench", "secret"));
    let polling = Verifier::new(config).unwrap();
    polling.verify(&bearer).await.unwrap(); // the first list, not measured
    let started = Instant::now();
    for _ in 0..N {
        polling.verify(&bearer).await.unwrap();
    }
    let per = started.elapsed() / N;
    println!(
        "verify bearer, 2,000 revocation entries: {:>6.1} µs/token",
        per.as_secs_f64() * 1e6,
    );

    // DPoP: a bound token with a fresh proof per request (proofs are single use, so they are
    // made before the clock starts).
    let holder = Key::new();
    let bound = issuer_key.sign(
        &header,
        &claims(json!({"cnf": {"jkt": thumbprint(&holder.jwk)}})),
    );
    let ath = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        bound.as_bytes(),
    ));
    let proof_header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": holder.jwk});
    let headers: Vec<HeaderMap> = (0..N)
        .map(|i| {
            let proof = holder.sign(
                &proof_header,
                &json!({"htm": "GET", "htu": "https://api.example/orders", "iat": now(), "jti": i.to_string(), "ath": ath}),
            );
            let mut headers = HeaderMap::new();
            headers.insert("authorization", HeaderValue::from_str(&format!("DPoP {bound}")).unwrap());
            headers.insert("dpop", HeaderValue::from_str(&proof).unwrap());
            headers
        })
        .collect();
    let scopes = vec!["orders.read".to_string()];
    let started = Instant::now();
    for headers in &headers {
        verifier
            .admit("GET", "/orders", headers, &scopes)
            .await
            .unwrap();
    }
    let per = started.elapsed() / N;
    println!(
        "admit DPoP-bound + proof:   {:>6.1} µs/request ({:>7.0} requests/s on one thread)",
        per.as_secs_f64() * 1e6,
        1.0 / per.as_secs_f64()
    );
}

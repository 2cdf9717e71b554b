//! The issuer's JWKS: fetched on first use, kept for five minutes, fetched again early (at
//! most every ten seconds) when a token names a key not seen yet.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;

const TTL: Duration = Duration::from_secs(300);
const MIN_REFETCH: Duration = Duration::from_secs(10);
const MAX_BYTES: usize = 256 * 1024;

/// A verification key and the one algorithm it verifies.
pub type Key = (Algorithm, Arc<DecodingKey>);

struct Cached {
    fetched: Instant,
    /// When a key id not seen yet last made the set be fetched early.
    forced: Option<Instant>,
    /// When the last fetch failed: stale keys serve on, and nothing is fetched for a while.
    failed: Option<Instant>,
    keys: Arc<HashMap<String, Key>>,
}

pub struct Jwks {
    url: String,
    http: reqwest::Client,
    cached: RwLock<Option<Cached>>,
    /// One fetch at a time; the others wait for its result.
    fetching: Mutex<()>,
}

fn algorithm(jwk: &Value) -> Option<Algorithm> {
    let named = match jwk["alg"].as_str() {
        Some("ES256") => Algorithm::ES256,
        Some("ES384") => Algorithm::ES384,
        Some("RS256") => Algorithm::RS256,
        Some("PS256") => Algorithm::PS256,
        Some("EdDSA") => Algorithm::EdDSA,
        Some(_) => return None,
        None => match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
            (Some("EC"), Some("P-256")) => Algorithm::ES256,
            (Some("EC"), Some("P-384")) => Algorithm::ES384,
            (Some("OKP"), Some("Ed25519")) => Algorithm::EdDSA,
            (Some("RSA"), _) => Algorithm::RS256,
            _ => return None,
        },
    };
    Some(named)
}

/// The decoding key of a public JWK.
pub fn decoding_key(jwk: &Value) -> Option<DecodingKey> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    match member("kty")? {
        "EC" => DecodingKey::from_ec_components(member("x")?, member("y")?).ok(),
        "RSA" => DecodingKey::from_rsa_components(member("n")?, member("e")?).ok(),
        "OKP" => DecodingKey::from_ed_components(member("x")?).ok(),
        _ => None,
    }
}

impl Jwks {
    pub fn new(url: String, http: reqwest::Client) -> Self {
        Self {
            url,
            http,
            cached: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    async fn fetch(&self) -> Option<HashMap<String, Key>> {
        let response = self.http.get(&self.url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let bytes = response.bytes().await.ok()?;
        if bytes.len() > MAX_BYTES {
            return None;
        }
        let document: Value = serde_json::from_slice(&bytes).ok()?;
        let mut keys = HashMap::new();
        for jwk in document.get("keys").and_then(Value::as_array)? {
            if jwk["use"].as_str().is_some_and(|u| u != "sig") {
                continue;
            }
            let (Some(kid), Some(alg), Some(key)) =
                (jwk["kid"].as_str(), algorithm(jwk), decoding_key(jwk))
            else {
                continue;
            };
            keys.insert(kid.to_string(), (alg, Arc::new(key)));
        }
        Some(keys)
    }

    /// What the cache says about `kid`: the key if known, whether to fetch again, and
    /// whether that fetch is an early one.
    fn lookup(&self, kid: &str) -> (Option<Key>, bool, bool) {
        let cached = self.cached.read().unwrap_or_else(|p| p.into_inner());
        match cached.as_ref() {
            None => (None, true, false),
            Some(current) => {
                let known = current.keys.get(kid).cloned();
                if current.failed.is_some_and(|at| at.elapsed() < MIN_REFETCH) {
                    return (known, false, false);
                }
                if known.is_some() || current.fetched.elapsed() >= TTL {
                    return (known.clone(), current.fetched.elapsed() >= TTL, false);
                }
                // An unknown kid (a rotation): fetch early, at most once per MIN_REFETCH, so
                // tokens with made-up key ids cannot make this API hammer the issuer.
                let early = current.forced.is_none_or(|at| at.elapsed() >= MIN_REFETCH);
                (None, early, early)
            }
        }
    }

    /// The key `kid`, if the issuer publishes it.
    pub async fn key(&self, kid: &str) -> Option<Key> {
        let (known, refetch, _) = self.lookup(kid);
        if !refetch {
            return known;
        }
        let _one_fetch = self.fetching.lock().await;
        // Another task may have fetched while this one waited.
        let (known, refetch, early) = self.lookup(kid);
        if !refetch {
            return known;
        }
        match self.fetch().await {
            Some(keys) => {
                let keys = Arc::new(keys);
                let found = keys.get(kid).cloned();
                let now = Instant::now();
                *self.cached.write().unwrap_or_else(|p| p.into_inner()) = Some(Cached {
                    fetched: now,
                    forced: early.then_some(now),
                    failed: None,
                    keys,
                });
                found
            }
            // The issuer is unreachable: keep using what was known, and wait before asking
            // again rather than stall every request on it.
            None => {
                let mut cached = self.cached.write().unwrap_or_else(|p| p.into_inner());
                match cached.as_mut() {
                    Some(current) => current.failed = Some(Instant::now()),
                    None => {
                        *cached = Some(Cached {
                            fetched: Instant::now(),
                            forced: None,
                            failed: Some(Instant::now()),
                            keys: Arc::new(HashMap::new()),
                        })
                    }
                }
                known
            }
        }
    }
}

//! JWTs from issuers a realm trusts (token exchange subject and actor tokens): their JWKS is
//! fetched from the configured URL and kept for a few minutes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::{decode, decode_header, Validation};
use serde_json::{Map, Value};

use super::verify::VerifiedToken;

const JWKS_TTL: Duration = Duration::from_secs(300);
/// The least time between two fetches of one JWKS: tokens with made-up key ids cannot make
/// Tessera hammer an issuer (Keycloak's "minimum time between JWKS requests" is the same).
const MIN_REFETCH: Duration = Duration::from_secs(10);
const JWKS_MAX_BYTES: usize = 256 * 1024;

type KeySet = crate::jose::KeySet;

/// Why a JWT was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The issuer's keys could not be fetched (unreachable, an error, not a JWKS).
    KeysUnavailable,
    /// The token does not check out: no key for it, a bad signature, another issuer, expired.
    Invalid,
}

#[derive(Default)]
pub struct TrustedJwks {
    /// JWKS URL → when fetched, and its keys.
    cache: Mutex<HashMap<String, (Instant, KeySet)>>,
}

impl std::fmt::Debug for TrustedJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustedJwks(..)")
    }
}

impl TrustedJwks {
    async fn keys(&self, http: &reqwest::Client, jwks_url: &str, refresh: bool) -> Option<KeySet> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, keys)) = cache.get(jwks_url) {
                let fresh_enough = if refresh { MIN_REFETCH } else { JWKS_TTL };
                if at.elapsed() < fresh_enough {
                    return Some(keys.clone());
                }
            }
        }
        let response =
            crate::telemetry::send(http.get(jwks_url), crate::telemetry::Propagation::Carry)
                .await
                .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let bytes = response.bytes().await.ok()?;
        if bytes.len() > JWKS_MAX_BYTES {
            return None;
        }
        let keys = crate::jose::parse_set(&serde_json::from_slice(&bytes).ok()?);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(jwks_url.to_string(), (Instant::now(), keys.clone()));
        Some(keys)
    }

    /// Verifies a JWT of `issuer` against its JWKS at `jwks_url`, with expiry checked at `now`.
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        issuer: &str,
        jwks_url: &str,
        token: &str,
        now: i64,
    ) -> Option<VerifiedToken> {
        self.check(http, issuer, jwks_url, token, now).await.ok()
    }

    /// As [`TrustedJwks::verify`], saying why a token was not accepted.
    pub async fn check(
        &self,
        http: &reqwest::Client,
        issuer: &str,
        jwks_url: &str,
        token: &str,
        now: i64,
    ) -> Result<VerifiedToken, Rejection> {
        let header = decode_header(token).map_err(|_| Rejection::Invalid)?;
        let kid = header.kid.clone().unwrap_or_default();
        let mut keys = self
            .keys(http, jwks_url, false)
            .await
            .ok_or(Rejection::KeysUnavailable)?;
        if !keys.contains_key(&kid) && !kid.is_empty() {
            // The issuer may have rotated: look once more.
            keys = self
                .keys(http, jwks_url, true)
                .await
                .ok_or(Rejection::KeysUnavailable)?;
        }
        // A token naming its key is checked with that key; one naming none (OIDC Core §10.1
        // allows it when the issuer has one key) with every key that may verify its algorithm.
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["iss", "exp", "sub"]);
        validation.validate_aud = false;
        validation.validate_exp = false;
        let kid = (!kid.is_empty()).then_some(kid.as_str());
        let claims = crate::jose::candidates(&keys, kid, header.alg)
            .find_map(|key| decode::<Map<String, Value>>(token, key, &validation).ok())
            .ok_or(Rejection::Invalid)?
            .claims;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(Rejection::Invalid)?;
        if exp <= now {
            return Err(Rejection::Invalid);
        }
        Ok(VerifiedToken { claims })
    }
}

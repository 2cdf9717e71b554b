//! DPoP proofs at the resource (RFC 9449 §4.3, §7): the proof is a JWT of type `dpop+jwt`
//! signed with the key in its header, for this method and URL, fresh, used once, carrying the
//! hash of the token (`ath`), and its key is the one the token is bound to.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, Algorithm, Validation};
use serde_json::{json, Map, Value};

use crate::challenge::Refusal;

const MAX_AGE: i64 = 300;
const SKEW: i64 = 60;
const MAX_SEEN: usize = 100_000;

/// Proof ids seen, until when they are remembered (per process).
#[derive(Default)]
pub struct ReplayCache(Mutex<HashMap<String, i64>>);

impl ReplayCache {
    fn first_use(&self, id: String, until: i64, now: i64) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_SEEN {
            seen.retain(|_, until| *until > now);
        }
        match seen.get(&id) {
            Some(known) if *known > now => false,
            _ => {
                seen.insert(id, until);
                true
            }
        }
    }
}

fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// RFC 7638 thumbprint of a public JWK.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let required = match member("kty")? {
        "EC" => json!({"crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")?}),
        "RSA" => json!({"e": member("e")?, "kty": "RSA", "n": member("n")?}),
        "OKP" => json!({"crv": member("crv")?, "kty": "OKP", "x": member("x")?}),
        _ => return None,
    };
    Some(sha256_b64(required.to_string().as_bytes()))
}

fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "RS256" => Algorithm::RS256,
        "PS256" => Algorithm::PS256,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

fn same_url(a: &str, b: &str) -> bool {
    let normal = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    matches!((normal(a), normal(b)), (Some(a), Some(b)) if a == b)
}

/// Checks `proof` for a request `method url` carrying `token` bound to `jkt`.
pub fn check(
    replays: &ReplayCache,
    proof: &str,
    method: &str,
    url: &str,
    token: &str,
    jkt: &str,
    now: i64,
) -> Result<(), Refusal> {
    let bad = Refusal::invalid_proof;
    let header_part = proof.split('.').next().unwrap_or_default();
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header_part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the DPoP proof is not a JWT"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(bad("the DPoP proof's typ must be dpop+jwt"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(algorithm)
        .ok_or_else(|| bad("the DPoP proof's alg is not allowed"))?;
    let jwk = header
        .get("jwk")
        .ok_or_else(|| bad("the DPoP proof has no jwk"))?;
    if ["d", "p", "q", "k"].iter().any(|m| jwk.get(m).is_some()) {
        return Err(bad("the DPoP proof's jwk holds a private key"));
    }
    if thumbprint(jwk).as_deref() != Some(jkt) {
        return Err(bad("the DPoP proof's key is not the token's"));
    }
    let key =
        crate::jwks::decoding_key(jwk).ok_or_else(|| bad("the DPoP proof's jwk is not a key"))?;
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = decode::<Map<String, Value>>(proof, &key, &validation)
        .map_err(|_| bad("the DPoP proof's signature does not verify"))?
        .claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("htm") != Some(method) {
        return Err(bad("the DPoP proof is for another method"));
    }
    if !same_url(text("htu").unwrap_or_default(), url) {
        return Err(bad("the DPoP proof is for another URL"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("the DPoP proof has no iat"))?;
    if iat > now + SKEW || iat < now - MAX_AGE {
        return Err(bad("the DPoP proof is not fresh"));
    }
    if text("ath") != Some(sha256_b64(token.as_bytes()).as_str()) {
        return Err(bad("the DPoP proof is for another token (ath)"));
    }
    let jti = text("jti").ok_or_else(|| bad("the DPoP proof has no jti"))?;
    if !replays.first_use(format!("{jkt}:{jti}"), iat + MAX_AGE + SKEW, now) {
        return Err(bad("the DPoP proof was already used"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_and_replays() {
        let jwk = json!({"kty": "RSA", "e": "AQAB", "alg": "RS256", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        let cache = ReplayCache::default();
        assert!(cache.first_use("a".into(), 100, 0));
        assert!(!cache.first_use("a".into(), 100, 10));
        assert!(check(&cache, "not-a-jwt", "GET", "https://api/x", "t", "k", 0).is_err());
    }
}

//! DPoP proofs (RFC 9449 §4.3): a JWT of type `dpop+jwt`, signed with the key in its own
//! header, naming the method and URL of the request it goes with (`htm`, `htu`), fresh
//! (`iat`), used once (`jti`), bound to the access token it accompanies (`ath`) and, when the
//! realm asks for them, carrying a nonce this server handed out.
//!
//! The replay cache is per process (the trade-off node-oidc-provider and Keycloak make too): a
//! proof replayed against another process of a cluster within its five-minute `iat` window is
//! not caught. Server nonces do not close that gap (one nonce serves every client for five to
//! ten minutes); they bound how long a proof made in advance stays usable. Nonces are
//! stateless, an HMAC of the current five-minute slot, so every process sharing the master key
//! accepts them.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use jsonwebtoken::{decode, Validation};
use serde_json::{Map, Value};

/// How old a proof may be (by its `iat`), and how far ahead a client's clock may run.
const MAX_AGE: i64 = 300;
const SKEW: i64 = 60;
/// A nonce is good for the slot it was made in and the next.
const NONCE_SLOT: i64 = 300;
/// Proof ids remembered at most; beyond it the oldest half goes.
const MAX_SEEN: usize = 200_000;
/// The largest proof read.
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// What a proof must fit.
pub struct Expected<'a> {
    /// The request's method, upper case.
    pub method: &'a str,
    /// The request's URL without query and fragment.
    pub url: &'a str,
    /// The access token the proof accompanies (at resource servers, userinfo).
    pub access_token: Option<&'a str>,
    pub require_nonce: bool,
    pub now: i64,
}

/// A proof that checked out: the RFC 7638 thumbprint of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    Invalid(String),
    /// A nonce is required (or the one given is stale): retry with the one in `DPoP-Nonce`.
    UseNonce,
}

impl ProofError {
    fn invalid(why: impl Into<String>) -> Self {
        ProofError::Invalid(why.into())
    }
}

pub struct Dpop {
    nonce_key: aws_lc_rs::hmac::Key,
    /// Proof id (hashed with its key) → until when it is remembered.
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dpop(..)")
    }
}

/// Private and symmetric key members: a proof's `jwk` must hold none of them.
const SECRET_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

impl Dpop {
    pub fn new(nonce_key: [u8; 32]) -> Self {
        Self {
            nonce_key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &nonce_key),
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn nonce_for_slot(&self, slot: i64) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.nonce_key, &slot.to_be_bytes());
        crate::crypto::b64url(tag.as_ref().get(..18).unwrap_or_default())
    }

    /// The nonce clients should use now.
    pub fn nonce(&self, now: i64) -> String {
        self.nonce_for_slot(now.div_euclid(NONCE_SLOT))
    }

    fn nonce_ok(&self, nonce: &str, now: i64) -> bool {
        let slot = now.div_euclid(NONCE_SLOT);
        [slot, slot - 1].into_iter().any(|s| {
            let expected = self.nonce_for_slot(s);
            aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), nonce.as_bytes())
                .is_ok()
        })
    }

    /// Records a proof id; false when it was seen before.
    fn first_use(&self, id: [u8; 32], until: i64, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_SEEN {
            seen.retain(|_, until| *until > now);
            if seen.len() >= MAX_SEEN {
                // Still full of live entries: forget the older half rather than grow.
                let mut ends: Vec<i64> = seen.values().copied().collect();
                ends.sort_unstable();
                let cut = ends.get(ends.len() / 2).copied().unwrap_or(now);
                seen.retain(|_, until| *until > cut);
            }
        }
        match seen.get(&id) {
            Some(known) if *known > now => false,
            _ => {
                seen.insert(id, until);
                true
            }
        }
    }

    /// Checks `proof` against what it must fit.
    pub fn check(&self, proof: &str, expected: &Expected<'_>) -> Result<Proof, ProofError> {
        if proof.len() > MAX_PROOF_BYTES {
            return Err(ProofError::invalid("the DPoP proof is too large"));
        }
        let header = header_of(proof)?;
        if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
            return Err(ProofError::invalid("the DPoP proof's typ must be dpop+jwt"));
        }
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let alg = crate::jose::asymmetric(alg_name).ok_or_else(|| {
            ProofError::invalid("the DPoP proof's alg must be an asymmetric algorithm")
        })?;
        let jwk = header
            .get("jwk")
            .filter(|j| j.is_object())
            .ok_or_else(|| ProofError::invalid("the DPoP proof has no jwk in its header"))?;
        if SECRET_MEMBERS.iter().any(|m| jwk.get(m).is_some()) {
            return Err(ProofError::invalid(
                "the DPoP proof's jwk holds a private key",
            ));
        }
        if !crate::jose::algorithms_of(jwk).contains(&alg) {
            return Err(ProofError::invalid(
                "the DPoP proof's jwk does not fit its alg",
            ));
        }
        if jwk["kty"] == "RSA" && jwk["n"].as_str().map_or(0, |n| n.len() * 6) < 2040 {
            return Err(ProofError::invalid(
                "the DPoP proof's RSA key is under 2048 bits",
            ));
        }
        let jkt = crate::jose::thumbprint(jwk)
            .ok_or_else(|| ProofError::invalid("the DPoP proof's jwk is incomplete"))?;
        let key = crate::keys::decoding_key(jwk)
            .map_err(|_| ProofError::invalid("the DPoP proof's jwk is not a valid key"))?;
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = decode::<Map<String, Value>>(proof, &key, &validation)
            .map_err(|_| ProofError::invalid("the DPoP proof's signature does not verify"))?
            .claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("htm") != Some(expected.method) {
            return Err(ProofError::invalid(
                "the DPoP proof is for another method (htm)",
            ));
        }
        if !same_url(text("htu").unwrap_or_default(), expected.url) {
            return Err(ProofError::invalid(
                "the DPoP proof is for another URL (htu)",
            ));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(|| ProofError::invalid("the DPoP proof has no iat"))?;
        if expected.require_nonce {
            match text("nonce") {
                Some(nonce) if self.nonce_ok(nonce, expected.now) => {}
                _ => return Err(ProofError::UseNonce),
            }
        }
        if iat > expected.now + SKEW || iat < expected.now - MAX_AGE {
            return Err(ProofError::invalid("the DPoP proof is not fresh (iat)"));
        }
        match (expected.access_token, text("ath")) {
            (None, _) => {}
            (Some(token), Some(ath)) => {
                let hash = crate::crypto::b64url(crate::crypto::sha256(token.as_bytes()));
                if aws_lc_rs::constant_time::verify_slices_are_equal(
                    hash.as_bytes(),
                    ath.as_bytes(),
                )
                .is_err()
                {
                    return Err(ProofError::invalid(
                        "the DPoP proof is for another access token (ath)",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(ProofError::invalid(
                    "the DPoP proof has no ath for the access token",
                ))
            }
        }
        let jti = text("jti")
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or_else(|| ProofError::invalid("the DPoP proof has no jti"))?;
        let id = crate::crypto::sha256(format!("{jkt}\u{0}{jti}").as_bytes());
        if !self.first_use(id, iat.max(expected.now) + MAX_AGE + SKEW, expected.now) {
            return Err(ProofError::invalid("the DPoP proof was already used (jti)"));
        }
        Ok(Proof { jkt })
    }
}

fn header_of(proof: &str) -> Result<Map<String, Value>, ProofError> {
    let malformed = || ProofError::invalid("the DPoP proof is not a JWT");
    let mut parts = proof.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

/// RFC 9449 §4.3 step 9: `htu` names the request's URL, compared after syntax- and
/// scheme-based normalisation (case of scheme and host, default port), without query and
/// fragment.
fn same_url(htu: &str, expected: &str) -> bool {
    let normal = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    matches!((normal(htu), normal(expected)), (Some(a), Some(b)) if a == b)
}

/// The one `DPoP` header of a request: `Ok(None)` without one, an error for several or an
/// unreadable one.
pub fn proof_header(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ProofError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ProofError::invalid("send one DPoP header, not several"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| ProofError::invalid("the DPoP header is not a JWT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_query_and_with_normal_case() {
        assert!(same_url(
            "HTTPS://Server.example:443/token?x=1#f",
            "https://server.example/token"
        ));
        assert!(!same_url(
            "https://server.example/token2",
            "https://server.example/token"
        ));
        assert!(!same_url("", "https://server.example/token"));
    }

    #[test]
    fn nonces_hold_for_two_slots() {
        let dpop = Dpop::new([7; 32]);
        let nonce = dpop.nonce(1_000_000);
        assert!(dpop.nonce_ok(&nonce, 1_000_000));
        assert!(dpop.nonce_ok(&nonce, 1_000_000 + NONCE_SLOT));
        assert!(!dpop.nonce_ok(&nonce, 1_000_000 + 3 * NONCE_SLOT));
        assert!(!dpop.nonce_ok("made-up", 1_000_000));
    }

    #[test]
    fn a_proof_id_is_used_once() {
        let dpop = Dpop::new([7; 32]);
        assert!(dpop.first_use([1; 32], 100, 0));
        assert!(!dpop.first_use([1; 32], 100, 50));
        assert!(dpop.first_use([1; 32], 200, 150));
    }
}

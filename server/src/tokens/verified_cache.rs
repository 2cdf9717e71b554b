//! A bounded memory of access tokens whose signature was already checked, so a resource server
//! introspecting the same token again costs a hash instead of an ECDSA/RSA verification.
//! Expiry and revocation are still checked on every use by the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::verify::VerifiedToken;
use crate::crypto::sha256;

const CAPACITY: usize = 50_000;

#[derive(Debug, Default)]
pub struct VerifiedTokenCache {
    entries: Mutex<HashMap<[u8; 32], Arc<VerifiedToken>>>,
}

/// Realm and token together, so one realm's verification never answers for another.
fn key(realm_id: &str, token: &str) -> [u8; 32] {
    let mut input = Vec::with_capacity(realm_id.len() + 1 + token.len());
    input.extend_from_slice(realm_id.as_bytes());
    input.push(0);
    input.extend_from_slice(token.as_bytes());
    sha256(&input)
}

impl VerifiedTokenCache {
    pub fn get(&self, realm_id: &str, token: &str, now: i64) -> Option<Arc<VerifiedToken>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&key(realm_id, token))
            .filter(|t| t.int_claim("exp").is_some_and(|exp| exp > now))
            .cloned()
    }

    pub fn put(&self, realm_id: &str, token: &str, verified: Arc<VerifiedToken>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            // Bounded and simple: start over rather than track recency.
            entries.clear();
        }
        entries.insert(key(realm_id, token), verified);
    }

    /// Forgets every token of every realm (a realm was deleted or its keys withdrawn).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(exp: i64) -> Arc<VerifiedToken> {
        let claims = json!({"exp": exp}).as_object().cloned().unwrap();
        Arc::new(VerifiedToken { claims })
    }

    #[test]
    fn answers_per_realm_and_only_until_expiry() {
        let cache = VerifiedTokenCache::default();
        cache.put("r1", "t", token(100));
        assert!(cache.get("r1", "t", 99).is_some());
        assert!(cache.get("r1", "t", 100).is_none(), "expired");
        assert!(cache.get("r2", "t", 50).is_none(), "another realm");
        assert!(cache.get("r1", "u", 50).is_none());
    }
}

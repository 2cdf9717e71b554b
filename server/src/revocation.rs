//! The in-memory revocation index: every live revocation entry of every realm, so checking a
//! token is a hash lookup, never a query. Reloaded on change notifications and periodically.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::crypto::{b64url, sha256};
use crate::store::revocations::{kind, StoredRevocation};
use crate::store::{self, Store, StoreResult};
use crate::tokens::verify::VerifiedToken;

/// Separator of claim values in CLAIM entries (CONTRACT §5).
pub const CLAIM_SEPARATOR: &str = "|";

#[derive(Debug, Default)]
struct RealmEntries {
    /// `jti` → issued_before (RFC 7009 revocations of access tokens).
    jtis: HashMap<String, i64>,
    /// salted token hash → issued_before (Plan B TOKEN entries).
    token_hashes: HashMap<String, i64>,
    /// Plan B CLAIM entries: claim names → salted hash of their values → issued_before. A
    /// token costs one hash per distinct set of names, however many entries there are.
    claims: HashMap<Vec<String>, HashMap<String, i64>>,
    /// The latest GLOBAL cut-off.
    global_issued_before: Option<i64>,
}

/// Salted hash as published in revocation lists: base64url(SHA-256(salt + value)).
pub fn salted_hash(salt: &str, value: &str) -> String {
    let mut input = String::with_capacity(salt.len() + value.len());
    input.push_str(salt);
    input.push_str(value);
    b64url(sha256(input.as_bytes()))
}

#[derive(Debug, Default)]
pub struct RevocationIndex {
    realms: RwLock<HashMap<String, RealmEntries>>,
}

impl RevocationIndex {
    /// Replaces the index with every live entry in the database.
    pub async fn reload(&self, store: &Store, now: DateTime<Utc>) -> StoreResult<usize> {
        let rows = store::revocations::live(&store.db, now).await?;
        let count = rows.len();
        let mut realms: HashMap<String, RealmEntries> = HashMap::new();
        for row in rows {
            let realm_id = row.realm_id.clone();
            add(realms.entry(realm_id).or_default(), row);
        }
        *self.realms.write().unwrap_or_else(|p| p.into_inner()) = realms;
        Ok(count)
    }

    /// Adds one entry this process just stored, before any reload sees it.
    pub fn insert(&self, row: StoredRevocation) {
        let mut realms = self.realms.write().unwrap_or_else(|p| p.into_inner());
        add(realms.entry(row.realm_id.clone()).or_default(), row);
    }

    /// Whether a verified token of `realm_id` is revoked. `raw` is the token as presented.
    pub fn is_revoked(&self, realm_id: &str, salt: &str, raw: &str, token: &VerifiedToken) -> bool {
        let realms = self.realms.read().unwrap_or_else(|p| p.into_inner());
        let Some(entries) = realms.get(realm_id) else {
            return false;
        };
        let iat = token.int_claim("iat").unwrap_or(i64::MIN);
        let cuts = |issued_before: i64| iat < issued_before;
        if entries.global_issued_before.is_some_and(cuts) {
            return true;
        }
        if let Some(jti) = token.str_claim("jti") {
            if entries.jtis.get(jti).copied().is_some_and(cuts) {
                return true;
            }
        }
        if !entries.token_hashes.is_empty()
            && entries
                .token_hashes
                .get(&salted_hash(salt, raw))
                .copied()
                .is_some_and(cuts)
        {
            return true;
        }
        entries.claims.iter().any(|(names, values)| {
            claim_values(&token.claims, names).is_some_and(|joined| {
                values
                    .get(&salted_hash(salt, &joined))
                    .copied()
                    .is_some_and(cuts)
            })
        })
    }
}

fn add(entries: &mut RealmEntries, row: StoredRevocation) {
    let issued_before = row.issued_before;
    match row.kind.as_str() {
        kind::JTI => {
            if let Some(jti) = row.jti {
                let cut = entries.jtis.entry(jti).or_insert(issued_before);
                *cut = (*cut).max(issued_before);
            }
        }
        kind::TOKEN => {
            if let Some(hash) = row.token_hash {
                let cut = entries.token_hashes.entry(hash).or_insert(issued_before);
                *cut = (*cut).max(issued_before);
            }
        }
        kind::CLAIM => {
            if let (Some(names), Some(value_hash)) = (row.claim_names, row.value_hash) {
                let names = names.split(CLAIM_SEPARATOR).map(str::to_string).collect();
                let cut = entries
                    .claims
                    .entry(names)
                    .or_default()
                    .entry(value_hash)
                    .or_insert(issued_before);
                *cut = (*cut).max(issued_before);
            }
        }
        kind::GLOBAL => {
            let current = entries.global_issued_before.get_or_insert(issued_before);
            *current = (*current).max(issued_before);
        }
        other => tracing::warn!(kind = other, "ignoring a revocation entry of unknown kind"),
    }
}

/// The values of `names` in `claims` joined by the separator; `None` when one is missing.
pub fn claim_values(claims: &serde_json::Map<String, Value>, names: &[String]) -> Option<String> {
    let mut parts = Vec::with_capacity(names.len());
    for name in names {
        parts.push(match claims.get(name)? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    Some(parts.join(CLAIM_SEPARATOR))
}

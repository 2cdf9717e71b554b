//! Plan B revocation lists (Tessera's `GET {issuer}/revocations`), polled in the background
//! and honoured by every verification, so a JWT revoked at the issuer stops working here
//! within one polling interval although it is checked offline.
//!
//! The lists publish TOKEN and CLAIM values hashed with the realm's salt
//! (base64url(SHA-256(salt + value)); the administrators hand it to resource servers they
//! trust, as Plan B's token info services were configured with it). A token is revoked when an
//! entry matches it and the entry's `issued_before` is later than the token's `iat`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// The scope a token needs to read the lists.
const READ_SCOPE: &str = "revocations:read";
const SEPARATOR: &str = "|";
/// How far back each poll reaches before the previous one's timestamp, so an entry committed
/// late (its `revoked_at` is taken before the write) or by a process with a clock a little
/// behind is not missed; entries merge idempotently.
const OVERLAP_SECONDS: i64 = 60;
/// Every this many polls the whole list is read again and replaces what is known, so entries
/// an administrator deleted stop refusing tokens and nothing missed stays missed.
const FULL_EVERY: u32 = 30;
/// Kept past `MAX_TIME_DELTA`: tokens are accepted a little after `exp` (leeway).
const PRUNE_MARGIN_SECONDS: i64 = 300;
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Before the first good poll, requests try again at most this often; in between they are
/// refused at once instead of each waiting for an issuer that is down.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Where and how to poll a realm's revocation list.
#[derive(Clone)]
pub struct RevocationPolling {
    /// The list: `{issuer}/revocations` for a Tessera realm.
    pub url: String,
    /// The realm's revocation salt (`GET /admin/api/realms/{realm}/revocation-salt`).
    pub salt: String,
    /// Where this resource server gets its token for the list (client credentials).
    pub token_endpoint: String,
    /// A confidential client of the realm allowed the scope `revocations:read`.
    pub client_id: String,
    pub secret: String,
    /// How often the list is polled: how long a revoked token may still pass here.
    pub interval: Duration,
}

impl std::fmt::Debug for RevocationPolling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The salt and the secret stay out of logs.
        f.debug_struct("RevocationPolling")
            .field("url", &self.url)
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl RevocationPolling {
    /// Polling Tessera realm `issuer`'s list every ten seconds as `client_id`.
    pub fn new(
        issuer: &str,
        salt: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        let issuer = issuer.trim_end_matches('/');
        Self {
            url: format!("{issuer}/revocations"),
            salt: salt.into(),
            token_endpoint: format!("{issuer}/connect/token"),
            client_id: client_id.into(),
            secret: secret.into(),
            interval: Duration::from_secs(10),
        }
    }
}

/// The entries known so far, each with its `issued_before`.
#[derive(Debug, Default)]
struct Entries {
    global: Option<i64>,
    /// Salted token hash → issued_before.
    tokens: HashMap<String, i64>,
    /// Claim names joined by `|` → salted hash of their values → issued_before: one hash
    /// per set of names checks a token, however many entries there are.
    claims: HashMap<String, HashMap<String, i64>>,
}

/// What one poller carries from one poll to the next.
#[derive(Default)]
struct Poller {
    bearer: Option<(String, Instant)>,
    /// The previous answer's `REFRESH_TIMESTAMP`.
    since: Option<i64>,
    /// When the last poll failed.
    failed: Option<Instant>,
    /// Polls since the last full read.
    since_full: u32,
}

/// A realm's revocation list as this process knows it.
pub(crate) struct RevocationList {
    polling: RevocationPolling,
    http: reqwest::Client,
    entries: RwLock<Entries>,
    /// Whether a poll ever succeeded: before that, nothing is known to be valid.
    synced: RwLock<bool>,
    /// One poll at a time.
    poller: tokio::sync::Mutex<Poller>,
}

fn salted_hash(salt: &str, value: &str) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(salt.as_bytes());
    context.update(value.as_bytes());
    URL_SAFE_NO_PAD.encode(context.finish())
}

/// The values of `names` in `claims`, joined as the issuer hashed them; `None` when one is
/// missing.
fn claim_values(claims: &Map<String, Value>, names: &str) -> Option<String> {
    let mut parts = Vec::new();
    for name in names.split(SEPARATOR) {
        parts.push(match claims.get(name)? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    Some(parts.join(SEPARATOR))
}

#[derive(Debug)]
pub(crate) enum PollError {
    Unreachable,
    Refused,
    Malformed,
}

impl RevocationList {
    /// A list polled in the background while the returned handle lives.
    pub(crate) fn start(polling: RevocationPolling, http: reqwest::Client) -> Arc<Self> {
        let list = Arc::new(Self {
            polling,
            http,
            entries: RwLock::new(Entries::default()),
            synced: RwLock::new(false),
            poller: tokio::sync::Mutex::new(Poller::default()),
        });
        tokio::spawn(poll_while_alive(Arc::downgrade(&list)));
        list
    }

    pub(crate) fn is_synced(&self) -> bool {
        *self.synced.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls now, or waits for the poll under way. `on_demand` (a request waiting for the
    /// first list) does not retry a failure within [`RETRY_AFTER`].
    pub(crate) async fn sync(&self, on_demand: bool) -> Result<(), PollError> {
        let synced_before = self.is_synced();
        let mut poller = self.poller.lock().await;
        if !synced_before && self.is_synced() {
            return Ok(());
        }
        if on_demand && poller.failed.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
            return Err(PollError::Unreachable);
        }
        let result = self.poll(&mut poller).await;
        poller.failed = result.is_err().then(Instant::now);
        result
    }

    /// Whether the token `raw`, whose verified claims are `claims`, is revoked.
    pub(crate) fn is_revoked(&self, raw: &str, claims: &Map<String, Value>) -> bool {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MIN);
        let cuts = |issued_before: &i64| iat < *issued_before;
        if entries.global.as_ref().is_some_and(cuts) {
            return true;
        }
        let salt = &self.polling.salt;
        if !entries.tokens.is_empty()
            && entries
                .tokens
                .get(&salted_hash(salt, raw))
                .is_some_and(cuts)
        {
            return true;
        }
        entries.claims.iter().any(|(names, values)| {
            claim_values(claims, names)
                .is_some_and(|joined| values.get(&salted_hash(salt, &joined)).is_some_and(cuts))
        })
    }

    async fn bearer(&self, poller: &mut Poller) -> Result<String, PollError> {
        if let Some((token, until)) = &poller.bearer {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let polling = &self.polling;
        let response = self
            .http
            .post(&polling.token_endpoint)
            .basic_auth(&polling.client_id, Some(&polling.secret))
            .form(&[("grant_type", "client_credentials"), ("scope", READ_SCOPE)])
            .send()
            .await
            .map_err(|_| PollError::Unreachable)?;
        if !response.status().is_success() {
            return Err(PollError::Refused);
        }
        let body: Value = response.json().await.map_err(|_| PollError::Malformed)?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(PollError::Malformed)?
            .to_string();
        let lifetime = body.get("expires_in").and_then(Value::as_u64).unwrap_or(60);
        // Renewed half a minute early, so it never expires on the way.
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30));
        poller.bearer = Some((token.clone(), until));
        Ok(token)
    }

    async fn poll(&self, poller: &mut Poller) -> Result<(), PollError> {
        let bearer = self.bearer(poller).await?;
        let mut request = self.http.get(&self.polling.url).bearer_auth(bearer);
        let full = poller.since.is_none() || poller.since_full >= FULL_EVERY;
        if let (Some(since), false) = (poller.since, full) {
            request = request.query(&[("from", since - OVERLAP_SECONDS)]);
        }
        let mut response = request.send().await.map_err(|_| PollError::Unreachable)?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            poller.bearer = None;
        }
        if !response.status().is_success() {
            return Err(PollError::Refused);
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BYTES as u64)
        {
            return Err(PollError::Malformed);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| PollError::Unreachable)? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(PollError::Malformed);
            }
            body.extend_from_slice(&chunk);
        }
        let body: Value = serde_json::from_slice(&body).map_err(|_| PollError::Malformed)?;
        let meta = body.get("meta").ok_or(PollError::Malformed)?;
        let timestamp = meta
            .get("REFRESH_TIMESTAMP")
            .and_then(Value::as_i64)
            .ok_or(PollError::Malformed)?;
        let max_delta = meta
            .get("MAX_TIME_DELTA")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        let listed = body
            .get("revocations")
            .and_then(Value::as_array)
            .ok_or(PollError::Malformed)?;
        {
            let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
            if full {
                *entries = Entries::default();
            }
            for entry in listed {
                merge(&mut entries, entry);
            }
            // Tokens issued before this are expired anyway (by the issuer's clock, with room
            // for the leeway): entries cutting only them go.
            let horizon = timestamp
                .saturating_sub(max_delta)
                .saturating_sub(PRUNE_MARGIN_SECONDS);
            entries
                .tokens
                .retain(|_, issued_before| *issued_before >= horizon);
            for values in entries.claims.values_mut() {
                values.retain(|_, issued_before| *issued_before >= horizon);
            }
            entries.claims.retain(|_, values| !values.is_empty());
        }
        poller.since = Some(timestamp);
        poller.since_full = if full { 0 } else { poller.since_full + 1 };
        *self.synced.write().unwrap_or_else(|p| p.into_inner()) = true;
        Ok(())
    }
}

/// Adds one published entry; entries of unknown types or hash algorithms are skipped.
fn merge(entries: &mut Entries, entry: &Value) {
    let data = entry.get("data");
    let field = |name: &str| data.and_then(|d| d.get(name));
    let Some(issued_before) = field("issued_before").and_then(Value::as_i64) else {
        return;
    };
    let sha256 = field("hash_algorithm").and_then(Value::as_str) == Some("SHA-256");
    let later = |slot: &mut i64| *slot = (*slot).max(issued_before);
    match entry.get("type").and_then(Value::as_str) {
        Some("GLOBAL") => {
            let global = entries.global.get_or_insert(issued_before);
            later(global);
        }
        Some("TOKEN") if sha256 => {
            if let Some(hash) = field("token_hash").and_then(Value::as_str) {
                later(
                    entries
                        .tokens
                        .entry(hash.to_string())
                        .or_insert(issued_before),
                );
            }
        }
        Some("CLAIM") if sha256 => {
            let names = field("names").and_then(Value::as_str);
            let value_hash = field("value_hash").and_then(Value::as_str);
            let separator = field("separator").and_then(Value::as_str);
            if let (Some(names), Some(value_hash), Some(SEPARATOR)) = (names, value_hash, separator)
            {
                let values = entries.claims.entry(names.to_string()).or_default();
                later(
                    values
                        .entry(value_hash.to_string())
                        .or_insert(issued_before),
                );
            }
        }
        _ => {}
    }
}

/// Polls every interval until the list is no longer used.
async fn poll_while_alive(list: Weak<RevocationList>) {
    loop {
        let Some(strong) = list.upgrade() else {
            return;
        };
        // A failed poll keeps what is known; the next one tries again.
        if let Err(error) = strong.sync(false).await {
            tracing::warn!(
                url = %strong.polling.url,
                ?error,
                "polling the revocation list failed; revocations since the last good poll are not known"
            );
        }
        let interval = strong.polling.interval;
        drop(strong);
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(entries: Entries) -> RevocationList {
        RevocationList {
            polling: RevocationPolling::new("https://id.example/realms/a", "pepper", "rs", "s"),
            http: reqwest::Client::new(),
            entries: RwLock::new(entries),
            synced: RwLock::new(true),
            poller: tokio::sync::Mutex::new(Poller::default()),
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn entries_cut_tokens_issued_before_them() {
        let mut entries = Entries::default();
        for entry in [
            json!({"type": "TOKEN", "revoked_at": 1, "data": {"token_hash": salted_hash("pepper", "raw.jwt"), "hash_algorithm": "SHA-256", "issued_before": 100}}),
            json!({"type": "CLAIM", "revoked_at": 1, "data": {"names": "sub|tenant", "value_hash": salted_hash("pepper", "rat|7"), "separator": "|", "hash_algorithm": "SHA-256", "issued_before": 200}}),
            json!({"type": "CLAIM", "revoked_at": 1, "data": {"names": "sub", "value_hash": "x", "separator": "|", "hash_algorithm": "MD5", "issued_before": 900}}),
            json!({"type": "WHATEVER", "data": {"issued_before": 900}}),
        ] {
            merge(&mut entries, &entry);
        }
        assert_eq!(entries.claims.len(), 1, "unknown algorithms are skipped");
        let list = list(entries);
        assert!(list.is_revoked("raw.jwt", &claims(json!({"iat": 99}))));
        assert!(!list.is_revoked("raw.jwt", &claims(json!({"iat": 100}))));
        assert!(!list.is_revoked("other.jwt", &claims(json!({"iat": 99}))));
        let rat = json!({"sub": "rat", "tenant": 7, "iat": 150});
        assert!(list.is_revoked("any", &claims(rat)));
        let mouse = json!({"sub": "mouse", "tenant": 7, "iat": 150});
        assert!(!list.is_revoked("any", &claims(mouse)));
        let untenanted = json!({"sub": "rat", "iat": 150});
        assert!(!list.is_revoked("any", &claims(untenanted)));
        let later = json!({"sub": "rat", "tenant": 7, "iat": 200});
        assert!(!list.is_revoked("any", &claims(later)));
    }

    #[test]
    fn a_global_entry_cuts_everything_older_and_only_moves_forward() {
        let mut entries = Entries::default();
        merge(
            &mut entries,
            &json!({"type": "GLOBAL", "data": {"issued_before": 500}}),
        );
        merge(
            &mut entries,
            &json!({"type": "GLOBAL", "data": {"issued_before": 300}}),
        );
        let list = list(entries);
        assert!(list.is_revoked("t", &claims(json!({"iat": 499}))));
        assert!(!list.is_revoked("t", &claims(json!({"iat": 500}))));
    }
}

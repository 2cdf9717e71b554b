//! The key ring of each realm: generation, encryption at rest, rotation, the JWKS, and an
//! in-memory cache of parsed key pairs so signing never touches the database.

mod material;
mod rsa_pool;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::domain::SigningAlg;

pub use material::{decoding_key, generate, thumbprint, GeneratedKey, KeyError, ParsedKeyPair};

use crate::bounded_cache::{BoundedCache, CacheBudget, CacheUsage, Footprint};
use crate::crypto::b64url;
use crate::crypto::master_key::MasterKey;
use crate::store::{self, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    MasterKey(#[from] crate::crypto::master_key::MasterKeyError),
    #[error("realm has no active {0} key")]
    NoActiveKey(SigningAlg),
}

/// JWS `typ` of RFC 9068 access tokens. Defined here because a key pre-encodes the header of
/// the token it signs most often.
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";

/// An active private key, parsed once.
pub struct ActiveKey {
    pub kid: String,
    pub alg: SigningAlg,
    pair: ParsedKeyPair,
    /// The encoded header of access tokens, which are signed far more often than anything else.
    access_token_header: String,
}

impl ActiveKey {
    fn new(kid: String, alg: SigningAlg, pair: ParsedKeyPair) -> Self {
        let access_token_header = encoded_header(alg, &kid, TYP_ACCESS_TOKEN);
        Self {
            kid,
            alg,
            pair,
            access_token_header,
        }
    }

    /// Signs a compact JWS over `claims` with header `{alg, kid, typ}` (RFC 7515 §7.1).
    pub fn sign_jwt(&self, typ: &str, claims: &impl serde::Serialize) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
        let mut token = String::with_capacity(128 + payload.len() * 4 / 3 + 400);
        if typ == TYP_ACCESS_TOKEN {
            token.push_str(&self.access_token_header);
        } else {
            token.push_str(&encoded_header(self.alg, &self.kid, typ));
        }
        token.push('.');
        token.push_str(&b64url(&payload));
        let signature = self.pair.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64url(signature));
        Ok(token)
    }
}

fn encoded_header(alg: SigningAlg, kid: &str, typ: &str) -> String {
    b64url(json!({"alg": alg.as_str(), "kid": kid, "typ": typ}).to_string())
}

/// A published public key.
pub struct VerificationKey {
    pub alg: SigningAlg,
    pub key: jsonwebtoken::DecodingKey,
}

/// Everything a realm needs to sign and verify, built from its key rows.
pub struct RealmKeys {
    active: HashMap<SigningAlg, Arc<ActiveKey>>,
    verification: HashMap<String, VerificationKey>,
    /// The serialised JWKS document, ready to send.
    jwks: Arc<str>,
    /// When the earliest retired key stops being published; the ring is rebuilt then.
    valid_until: Option<DateTime<Utc>>,
}

impl RealmKeys {
    pub fn active(&self, alg: SigningAlg) -> Result<&Arc<ActiveKey>, KeyRingError> {
        self.active.get(&alg).ok_or(KeyRingError::NoActiveKey(alg))
    }

    pub fn verification_key(&self, kid: &str) -> Option<&VerificationKey> {
        self.verification.get(kid)
    }

    pub fn jwks(&self) -> Arc<str> {
        self.jwks.clone()
    }

    /// The algorithms the realm has no active key for yet (see [`SigningAlg::EAGER`]).
    pub fn missing(&self) -> Vec<SigningAlg> {
        SigningAlg::ALL
            .into_iter()
            .filter(|alg| !self.active.contains_key(alg))
            .collect()
    }
}

impl Footprint for RealmKeys {
    fn footprint(&self) -> usize {
        // Parsed key pairs live inside aws-lc: an RSA-2048 pair with its CRT values and
        // Montgomery tables is a few KiB, an EC or Ed25519 pair well under one. Verification
        // keys hold their public halves; the JWKS is kept serialised.
        let active: usize = self
            .active
            .values()
            .map(|key| {
                let pair = match key.alg {
                    SigningAlg::RS256 => 6144,
                    SigningAlg::ES256 => 768,
                    SigningAlg::EdDSA => 256,
                };
                pair + key.kid.footprint() + key.access_token_header.footprint()
            })
            .sum();
        let verification: usize = self
            .verification
            .keys()
            .map(|kid| 64 + kid.footprint() + 768)
            .sum();
        std::mem::size_of::<RealmKeys>() + active + verification + self.jwks.len()
    }
}

/// A realm's turn at making keys, released (and forgotten once no one else waits) when
/// dropped, also by a request cancelled while it waited.
struct Turn<'a> {
    map: &'a std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    realm_id: String,
    mutex: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> Turn<'a> {
    fn take(
        map: &'a std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
        realm_id: &str,
    ) -> Self {
        let mutex = map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(realm_id.to_string())
            .or_default()
            .clone();
        Self {
            map,
            realm_id: realm_id.to_string(),
            mutex,
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Two holders, the map and us: no one else waits for this realm's turn.
        if map
            .get(&self.realm_id)
            .is_some_and(|m| Arc::strong_count(m) == 2)
        {
            map.remove(&self.realm_id);
        }
    }
}

/// Whether the key ring made keys a realm lacked: the caller tells the other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Nothing,
    Keys,
}

/// How long a cached ring is used before it is read again: changes are announced, and this
/// bounds how long a missed announcement (or a read that raced one) can hide a new key.
const KEYS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Creates, rotates and caches realm keys.
pub struct KeyRing {
    store: Store,
    master_key: Arc<MasterKey>,
    /// Bounded by its share of `TESSERA_CACHE_MIB`; an evicted ring is read again on use.
    cache: BoundedCache<String, RealmKeys>,
    /// RSA keys made ahead, so the first RS256 signature of a realm seldom waits for one.
    rsa_pool: Arc<rsa_pool::RsaPool>,
    /// Keys made on first use are made one realm at a time: two first uses of one realm
    /// make one key, first uses of different realms do not wait for each other.
    making: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(..)")
    }
}

impl KeyRing {
    /// A key ring keeping `rsa_pool` RSA keys made ahead (0: none).
    pub fn new(
        store: Store,
        master_key: Arc<MasterKey>,
        rsa_pool: usize,
        budget: CacheBudget,
    ) -> Self {
        let rsa_pool = Arc::new(rsa_pool::RsaPool::new(rsa_pool));
        rsa_pool.refill();
        Self {
            store,
            master_key,
            cache: BoundedCache::new("keys", budget.keys(), 8192, Some(KEYS_TTL)),
            rsa_pool,
            making: Default::default(),
        }
    }

    /// Hits and misses of the key cache.
    pub fn cache_counts(&self) -> crate::cache_stats::CacheCounts {
        self.cache.counts()
    }

    /// How full the key cache is.
    pub fn cache_usage(&self) -> CacheUsage {
        self.cache.usage()
    }

    /// Why a stored key (from a realm document) could not sign or verify here, if it could
    /// not: an unknown algorithm, a private half this server's master key does not open (the
    /// document came from a server with another), or a public JWK that is not its pair's.
    pub fn unusable(
        &self,
        alg: &str,
        kid: &str,
        private_key_encrypted: &str,
        public_jwk: &Value,
    ) -> Option<&'static str> {
        let Some(alg) = SigningAlg::parse(alg) else {
            return Some("`alg` must be ES256, RS256 or EdDSA");
        };
        let Ok(der) = self.master_key.open(private_key_encrypted, kid.as_bytes()) else {
            return Some(
                "`private_key_encrypted` does not open with this server's master key (export \
                 and import need the same TESSERA_MASTER_KEY)",
            );
        };
        let Ok(pair) = ParsedKeyPair::from_pkcs8(alg, &der) else {
            return Some("the private key is not one of its `alg`");
        };
        let matches = pair.thumbprint_members().is_ok_and(|members| {
            members
                .as_object()
                .is_some_and(|m| m.iter().all(|(k, v)| public_jwk.get(k) == Some(v)))
        });
        if !matches || decoding_key(public_jwk).is_err() {
            return Some("`public_jwk` is not the public half of the private key");
        }
        None
    }

    /// The realm's keys from memory, loading them on first use or after invalidation.
    pub async fn realm_keys(
        &self,
        realm_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<RealmKeys>, KeyRingError> {
        let current = |keys: &RealmKeys| keys.valid_until.is_none_or(|until| now < until);
        if let Some(keys) = self.cache.get_if(realm_id, current) {
            return Ok(keys);
        }
        let since = self.cache.generation();
        let keys = match self.load(realm_id, now).await {
            Ok(keys) => Arc::new(keys),
            // Keys change rarely and never while the database is down: sign on with the ring
            // memory holds.
            Err(KeyRingError::Store(StoreError::Unavailable(e))) => {
                return self
                    .cache
                    .get_stale(realm_id)
                    .ok_or(KeyRingError::Store(StoreError::Unavailable(e)));
            }
            Err(e) => return Err(e),
        };
        self.cache
            .put_loaded(realm_id.to_string(), keys.clone(), since);
        Ok(keys)
    }

    /// Makes an active key for each of `algs` the realm still lacks. One maker per realm in
    /// the process, and on Postgres one per realm across processes: the transaction reads the
    /// realm's active keys again under that turn and inserts only what is still missing, so a
    /// realm never ends up with two active keys of one algorithm.
    pub async fn make_missing(
        &self,
        realm_id: &str,
        algs: &[SigningAlg],
        now: DateTime<Utc>,
    ) -> Result<Made, KeyRingError> {
        let turn = Turn::take(&self.making, realm_id);
        let _held = turn.mutex.lock().await;
        self.make_missing_in_turn(realm_id, algs, now).await
    }

    async fn make_missing_in_turn(
        &self,
        realm_id: &str,
        algs: &[SigningAlg],
        now: DateTime<Utc>,
    ) -> Result<Made, KeyRingError> {
        // The request before us in this process may have made them already. Read from the
        // database, leaving the cached ring alone: if the database is down it keeps serving.
        let present = store::keys::active_algs(&self.store.db, realm_id).await?;
        let algs: Vec<SigningAlg> = algs
            .iter()
            .copied()
            .filter(|alg| !present.iter().any(|p| p == alg.as_str()))
            .collect();
        if algs.is_empty() {
            self.reload_later(realm_id);
            return Ok(Made::Nothing);
        }
        // Made before the transaction, so an RSA key's tens of milliseconds do not hold the
        // writer.
        let set = self.generate(algs).await?;
        let txn = self.store.begin().await?;
        store::keys::lock_for_making(&txn, realm_id).await?;
        let active = store::keys::active_algs(&txn, realm_id).await?;
        let missing: Vec<_> = set
            .into_iter()
            .filter(|(key, _)| !active.iter().any(|alg| alg == key.alg.as_str()))
            .collect();
        if missing.is_empty() {
            // Another process made them meanwhile.
            txn.rollback().await?;
            self.reload_later(realm_id);
            return Ok(Made::Nothing);
        }
        let kids = Self::insert_set(&txn, realm_id, missing, now).await?;
        txn.commit().await?;
        self.reload_later(realm_id);
        tracing::info!(realm_id, kids = ?kids, "made signing keys on first use");
        Ok(Made::Keys)
    }

    /// Forgets the cached ring (after a rotation here or in another process).
    pub fn invalidate(&self, realm_id: &str) {
        self.cache.remove(realm_id);
    }

    /// Reads the ring again on its next use (a key was added here or in another process),
    /// keeping the old one for an outage: every key it holds is still valid.
    pub fn reload_later(&self, realm_id: &str) {
        self.cache.expire(realm_id);
    }

    async fn load(&self, realm_id: &str, now: DateTime<Utc>) -> Result<RealmKeys, KeyRingError> {
        let rows = store::keys::published(&self.store.db, realm_id, now).await?;
        let mut active = HashMap::new();
        let mut verification = HashMap::new();
        let mut jwks = Vec::new();
        let mut valid_until: Option<DateTime<Utc>> = None;
        for row in rows {
            let alg = SigningAlg::parse(&row.alg).ok_or_else(|| {
                StoreError::Corrupt(format!("key {} has alg {}", row.kid, row.alg))
            })?;
            verification.insert(
                row.kid.clone(),
                VerificationKey {
                    alg,
                    key: decoding_key(&row.public_jwk)?,
                },
            );
            jwks.push(row.public_jwk.clone());
            if row.active {
                // Rows come newest first; the newest active key of an alg signs.
                if let std::collections::hash_map::Entry::Vacant(slot) = active.entry(alg) {
                    let der = self
                        .master_key
                        .open(&row.private_key_encrypted, row.kid.as_bytes())?;
                    let pair = ParsedKeyPair::from_pkcs8(alg, &der)?;
                    slot.insert(Arc::new(ActiveKey::new(row.kid.clone(), alg, pair)));
                }
            } else if let Some(until) = row.publish_until {
                valid_until = Some(valid_until.map_or(until, |v| v.min(until)));
            }
        }
        Ok(RealmKeys {
            active,
            verification,
            jwks: Arc::from(json!({ "keys": jwks }).to_string()),
            valid_until,
        })
    }

    /// Generates one key per algorithm, encrypted under the master key (a key rotation).
    pub async fn generate_set(&self) -> Result<Vec<(GeneratedKey, String)>, KeyRingError> {
        self.generate(SigningAlg::ALL.to_vec()).await
    }

    /// The keys a new realm starts with: those quick to make ([`SigningAlg::EAGER`]). The
    /// rest are made on first use, so creating a realm never waits for an RSA key.
    pub async fn generate_initial(&self) -> Result<Vec<(GeneratedKey, String)>, KeyRingError> {
        self.generate(SigningAlg::EAGER.to_vec()).await
    }

    /// Generates a key of each of `algs`, encrypted under the master key; an RSA key comes
    /// from the pool made ahead when it has one.
    async fn generate(
        &self,
        algs: Vec<SigningAlg>,
    ) -> Result<Vec<(GeneratedKey, String)>, KeyRingError> {
        let master_key = self.master_key.clone();
        let mut ready_rsa = if algs.contains(&SigningAlg::RS256) {
            self.rsa_pool.take()
        } else {
            None
        };
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        tokio::task::spawn_blocking(move || {
            algs.into_iter()
                .map(|alg| {
                    let key = match (alg, ready_rsa.take()) {
                        (SigningAlg::RS256, Some(key)) => key,
                        (_, unused) => {
                            ready_rsa = unused;
                            generate(alg)?
                        }
                    };
                    let sealed = master_key.seal(&key.pkcs8, key.kid.as_bytes());
                    Ok((key, sealed))
                })
                .collect::<Result<Vec<_>, KeyRingError>>()
        })
        .await
        .map_err(|e| {
            KeyRingError::Store(StoreError::Corrupt(format!("key generation task: {e}")))
        })?
    }

    /// Stores a generated set as the realm's active keys.
    pub async fn insert_set(
        db: &impl store::Conn,
        realm_id: &str,
        set: Vec<(GeneratedKey, String)>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, KeyRingError> {
        let mut kids = Vec::new();
        for (key, sealed) in set {
            store::keys::insert(
                db,
                realm_id,
                store::keys::NewKey {
                    kid: &key.kid,
                    alg: key.alg.as_str(),
                    public_jwk: &key.public_jwk,
                    private_key_encrypted: sealed,
                },
                now,
            )
            .await?;
            kids.push(key.kid);
        }
        Ok(kids)
    }

    /// Adds a new active key per algorithm; the old ones stay published for `grace`
    /// (the longest lifetime of a token they may have signed).
    pub async fn rotate(
        &self,
        realm_id: &str,
        grace: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, KeyRingError> {
        let set = self.generate_set().await?;
        let txn = self.store.begin().await?;
        // The turn keys made on first use take: a rotation never leaves two active keys.
        store::keys::lock_for_making(&txn, realm_id).await?;
        store::keys::retire_active(&txn, realm_id, now, now + grace).await?;
        let kids = Self::insert_set(&txn, realm_id, set, now).await?;
        txn.commit().await?;
        self.invalidate(realm_id);
        Ok(kids)
    }
}

/// The JWKS member list of a document, for tests and tools.
pub fn jwks_kids(document: &Value) -> Vec<String> {
    document["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl KeyRing {
    /// Forgets every cached ring.
    pub fn invalidate_all(&self) {
        self.cache.clear();
    }
}

/// How long a retired key must stay published: the longest lifetime of any token of the realm
/// it may have signed (access or ID token, realm default or any client's override).
pub async fn rotation_grace(
    store: &Store,
    realm: &crate::domain::Realm,
) -> Result<i64, StoreError> {
    use crate::domain::{LifetimeOverrides, Lifetimes};
    let realm_level = Lifetimes::resolve(&LifetimeOverrides::default(), &realm.lifetimes);
    let mut grace = realm_level.access_token.max(realm_level.id_token);
    for (access, id) in store::clients::token_lifetimes(&store.db, &realm.id).await? {
        grace = grace.max(access.unwrap_or(0)).max(id.unwrap_or(0));
    }
    Ok(grace)
}

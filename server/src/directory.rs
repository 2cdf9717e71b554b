//! In-memory read caches of realms, clients and API resources for the hot paths. Entries are
//! dropped on change notifications (this process or, on Postgres, any process) and also expire
//! after `TTL` as a safety net for a missed notification. While the database is unreachable an
//! expired entry is served on (nothing can change it meanwhile), so what memory holds keeps
//! being served through an outage.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::cache_stats::{CacheCounter, CacheCounts};
use crate::domain::{Catalog, Client, Realm};
use crate::store::{self, Store, StoreError, StoreResult};

/// A lookup's result, or when the database is unreachable the stale cached value if any.
fn stale_on_outage<V>(
    found: StoreResult<Option<V>>,
    stale: impl FnOnce() -> Option<V>,
) -> StoreResult<Option<V>> {
    match found {
        Err(StoreError::Unavailable(e)) => match stale() {
            Some(value) => Ok(Some(value)),
            None => Err(StoreError::Unavailable(e)),
        },
        other => other,
    }
}

const TTL: Duration = Duration::from_secs(30);

struct Entry<V> {
    value: Arc<V>,
    loaded: Instant,
}

/// A map of cached values that expire after `TTL`.
struct TtlMap<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
    lookups: CacheCounter,
}

impl<K: Eq + Hash, V> TtlMap<K, V> {
    fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            lookups: CacheCounter::default(),
        }
    }

    fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let found = entries
            .get(key)
            .filter(|e| e.loaded.elapsed() < TTL)
            .map(|e| e.value.clone());
        self.lookups.count(found)
    }

    /// The entry however old: only for when the database cannot be asked.
    fn get_stale<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(key).map(|e| e.value.clone())
    }

    fn put(&self, key: K, value: Arc<V>) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key,
                Entry {
                    value,
                    loaded: Instant::now(),
                },
            );
    }

    fn retain(&self, keep: impl Fn(&K) -> bool) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|k, _| keep(k));
    }

    fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

pub struct Directory {
    store: Store,
    realms: TtlMap<String, Realm>,
    /// Keyed by (realm id, client_id). Misses are not cached, so unknown ids cannot fill memory.
    clients: TtlMap<(String, String), Client>,
    catalogs: TtlMap<String, Catalog>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Directory(..)")
    }
}

impl Directory {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            realms: TtlMap::new(),
            clients: TtlMap::new(),
            catalogs: TtlMap::new(),
        }
    }

    /// Hits and misses of the realm, client and catalogue caches.
    pub fn cache_counts(&self) -> [CacheCounts; 3] {
        [
            self.realms.lookups.read("realms"),
            self.clients.lookups.read("clients"),
            self.catalogs.lookups.read("catalogs"),
        ]
    }

    pub async fn realm(&self, name: &str) -> StoreResult<Option<Arc<Realm>>> {
        if let Some(realm) = self.realms.get(name) {
            return Ok(Some(realm));
        }
        let found = store::realms::find_by_name(&self.store.db, name).await;
        let Some(realm) =
            stale_on_outage(found, || self.realms.get_stale(name).map(|r| (*r).clone()))?
        else {
            return Ok(None);
        };
        let realm = Arc::new(realm);
        self.realms.put(name.to_string(), realm.clone());
        Ok(Some(realm))
    }

    pub async fn client(
        &self,
        realm_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<Arc<Client>>> {
        let key = (realm_id.to_string(), client_id.to_string());
        if let Some(client) = self.clients.get(&key) {
            return Ok(Some(client));
        }
        let found = store::clients::find(&self.store.db, realm_id, client_id).await;
        let Some(client) =
            stale_on_outage(found, || self.clients.get_stale(&key).map(|c| (*c).clone()))?
        else {
            return Ok(None);
        };
        let client = Arc::new(client);
        self.clients.put(key, client.clone());
        Ok(Some(client))
    }

    /// The realm's scopes and API resources.
    pub async fn catalog(&self, realm_id: &str) -> StoreResult<Arc<Catalog>> {
        if let Some(catalog) = self.catalogs.get(realm_id) {
            return Ok(catalog);
        }
        let catalog = match store::catalog::load(&self.store.db, realm_id).await {
            Ok(catalog) => Arc::new(catalog),
            Err(StoreError::Unavailable(e)) => match self.catalogs.get_stale(realm_id) {
                Some(stale) => return Ok(stale),
                None => return Err(StoreError::Unavailable(e)),
            },
            Err(e) => return Err(e),
        };
        self.catalogs.put(realm_id.to_string(), catalog.clone());
        Ok(catalog)
    }

    pub fn forget_realm(&self, name: &str) {
        self.realms.retain(|k| k != name);
    }

    pub fn forget_client(&self, realm_id: &str, client_id: &str) {
        self.clients
            .retain(|(r, c)| !(r == realm_id && c == client_id));
    }

    pub fn forget_catalog(&self, realm_id: &str) {
        self.catalogs.retain(|k| k != realm_id);
    }

    pub fn forget_all(&self) {
        self.realms.clear();
        self.clients.clear();
        self.catalogs.clear();
    }
}

//! In-memory read caches of realms, clients and API resources for the hot paths, bounded by
//! their share of `TESSERA_CACHE_MIB` (see `bounded_cache`). Entries are
//! dropped on change notifications (this process or, on Postgres, any process) and also expire
//! after `TTL` as a safety net for a missed notification. While the database is unreachable an
//! expired entry is served on (nothing can change it meanwhile), so what memory holds keeps
//! being served through an outage.

use std::sync::Arc;
use std::time::Duration;

use crate::bounded_cache::{BoundedCache, CacheBudget, CacheUsage, Footprint};
use crate::cache_stats::CacheCounts;
use crate::domain::{ApiResource, Catalog, Client, Realm, ScopeDef, StoredSecret};
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

impl Footprint for Realm {
    fn footprint(&self) -> usize {
        std::mem::size_of::<Realm>()
            + self.id.footprint()
            + self.name.footprint()
            + self.display_name.footprint()
            + self.revocation_salt.footprint()
            + self.security.self_service_scopes.footprint()
    }
}

impl Footprint for StoredSecret {
    fn footprint(&self) -> usize {
        std::mem::size_of::<StoredSecret>() + self.hash.footprint() + self.sealed.footprint()
    }
}

impl Footprint for ScopeDef {
    fn footprint(&self) -> usize {
        std::mem::size_of::<ScopeDef>()
            + self.name.footprint()
            + self.claims.footprint()
            + self.audience.footprint()
    }
}

impl Footprint for ApiResource {
    fn footprint(&self) -> usize {
        std::mem::size_of::<ApiResource>()
            + self.name.footprint()
            + self.scopes.footprint()
            + self.secret_hash.footprint()
    }
}

impl Footprint for Client {
    fn footprint(&self) -> usize {
        std::mem::size_of::<Client>()
            + self.pk.footprint()
            + self.realm_id.footprint()
            + self.client_id.footprint()
            + self.display_name.footprint()
            + self.grant_types.footprint()
            + self.redirect_uris.footprint()
            + self.post_logout_redirect_uris.footprint()
            + self.scopes.footprint()
            + self.audiences.footprint()
            + self.roles.footprint()
            + self.backchannel_logout_uri.footprint()
            + self.secrets.footprint()
            + self.security.jwks.footprint()
            + self.security.jwks_uri.footprint()
    }
}

impl Footprint for Catalog {
    fn footprint(&self) -> usize {
        // A B-tree node per few entries: count a pointer's worth per entry besides the entry.
        let composites: usize = self
            .role_composites
            .iter()
            .map(|(role, children)| 16 + role.footprint() + children.footprint())
            .sum();
        std::mem::size_of::<Catalog>()
            + self.scopes.footprint()
            + self.api_resources.footprint()
            + composites
    }
}

/// A client's cache key; looked up as a [`ClientKeyRef`] so a hit allocates nothing. Both
/// derive `Hash` over the same two strings in the same order, so they hash alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    realm_id: String,
    client_id: String,
}

#[derive(Hash)]
struct ClientKeyRef<'a> {
    realm_id: &'a str,
    client_id: &'a str,
}

impl quick_cache::Equivalent<ClientKey> for ClientKeyRef<'_> {
    fn equivalent(&self, key: &ClientKey) -> bool {
        self.realm_id == key.realm_id && self.client_id == key.client_id
    }
}

impl Footprint for ClientKey {
    fn footprint(&self) -> usize {
        self.realm_id.footprint() + self.client_id.footprint()
    }
}

pub struct Directory {
    store: Store,
    realms: BoundedCache<String, Realm>,
    /// Misses are not cached, so unknown ids cannot fill memory.
    clients: BoundedCache<ClientKey, Client>,
    catalogs: BoundedCache<String, Catalog>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Directory(..)")
    }
}

impl Directory {
    pub fn new(store: Store, budget: CacheBudget) -> Self {
        Self {
            store,
            realms: BoundedCache::new("realms", budget.realms(), 1024, Some(TTL)),
            clients: BoundedCache::new("clients", budget.clients(), 2048, Some(TTL)),
            catalogs: BoundedCache::new("catalogs", budget.catalogs(), 4096, Some(TTL)),
        }
    }

    /// Hits and misses of the realm, client and catalogue caches.
    pub fn cache_counts(&self) -> [CacheCounts; 3] {
        [
            self.realms.counts(),
            self.clients.counts(),
            self.catalogs.counts(),
        ]
    }

    /// How full the realm, client and catalogue caches are.
    pub fn cache_usage(&self) -> [CacheUsage; 3] {
        [
            self.realms.usage(),
            self.clients.usage(),
            self.catalogs.usage(),
        ]
    }

    pub async fn realm(&self, name: &str) -> StoreResult<Option<Arc<Realm>>> {
        if let Some(realm) = self.realms.get(name) {
            return Ok(Some(realm));
        }
        let since = self.realms.generation();
        let found = store::realms::find_by_name(&self.store.db, name).await;
        let Some(realm) =
            stale_on_outage(found, || self.realms.get_stale(name).map(|r| (*r).clone()))?
        else {
            return Ok(None);
        };
        let realm = Arc::new(realm);
        self.realms
            .put_loaded(name.to_string(), realm.clone(), since);
        Ok(Some(realm))
    }

    pub async fn client(
        &self,
        realm_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<Arc<Client>>> {
        let key = ClientKeyRef {
            realm_id,
            client_id,
        };
        if let Some(client) = self.clients.get(&key) {
            return Ok(Some(client));
        }
        let since = self.clients.generation();
        let found = store::clients::find(&self.store.db, realm_id, client_id).await;
        let Some(client) =
            stale_on_outage(found, || self.clients.get_stale(&key).map(|c| (*c).clone()))?
        else {
            return Ok(None);
        };
        let client = Arc::new(client);
        let key = ClientKey {
            realm_id: realm_id.to_string(),
            client_id: client_id.to_string(),
        };
        self.clients.put_loaded(key, client.clone(), since);
        Ok(Some(client))
    }

    /// The realm's scopes and API resources.
    pub async fn catalog(&self, realm_id: &str) -> StoreResult<Arc<Catalog>> {
        if let Some(catalog) = self.catalogs.get(realm_id) {
            return Ok(catalog);
        }
        let since = self.catalogs.generation();
        let catalog = match store::catalog::load(&self.store.db, realm_id).await {
            Ok(catalog) => Arc::new(catalog),
            Err(StoreError::Unavailable(e)) => match self.catalogs.get_stale(realm_id) {
                Some(stale) => return Ok(stale),
                None => return Err(StoreError::Unavailable(e)),
            },
            Err(e) => return Err(e),
        };
        self.catalogs
            .put_loaded(realm_id.to_string(), catalog.clone(), since);
        Ok(catalog)
    }

    pub fn forget_realm(&self, name: &str) {
        self.realms.remove(name);
    }

    pub fn forget_client(&self, realm_id: &str, client_id: &str) {
        self.clients.remove(&ClientKeyRef {
            realm_id,
            client_id,
        });
    }

    pub fn forget_catalog(&self, realm_id: &str) {
        self.catalogs.remove(realm_id);
    }

    pub fn forget_all(&self) {
        self.realms.clear();
        self.clients.clear();
        self.catalogs.clear();
    }
}

//! The in-memory caches of realm data (settings, clients, catalogues, keys), each bounded by an
//! estimate of the memory its values hold, so a server with a hundred thousand realms keeps a
//! fixed budget (`TESSERA_CACHE_MIB`) while the realms in use stay in memory. Eviction is
//! `quick_cache`'s CLOCK-Pro: an entry read again recently survives a scan of cold ones, so
//! one pass over every realm (a report, a crawler) does not push the busy realms out.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::{Equivalent, Weighter};

use crate::cache_stats::{CacheCounter, CacheCounts};

/// Roughly how many bytes a cached value holds, its heap allocations included. An estimate:
/// the budget it is compared with is one too, and `bench/run` checks the process's RSS.
pub trait Footprint {
    fn footprint(&self) -> usize;
}

impl Footprint for String {
    fn footprint(&self) -> usize {
        std::mem::size_of::<String>() + self.capacity()
    }
}

impl<T: Footprint> Footprint for Vec<T> {
    fn footprint(&self) -> usize {
        std::mem::size_of::<Vec<T>>() + self.iter().map(Footprint::footprint).sum::<usize>()
    }
}

impl<T: Footprint> Footprint for Option<T> {
    fn footprint(&self) -> usize {
        self.as_ref().map_or(0, Footprint::footprint)
    }
}

impl Footprint for serde_json::Value {
    fn footprint(&self) -> usize {
        use serde_json::Value;
        // The node itself, plus what its strings, arrays and maps hold.
        std::mem::size_of::<Value>()
            + match self {
                Value::String(s) => s.capacity(),
                Value::Array(items) => items.iter().map(Footprint::footprint).sum(),
                // A map entry: its key and the tree's bookkeeping besides the value.
                Value::Object(map) => map
                    .iter()
                    .map(|(k, v)| 32 + k.footprint() + v.footprint())
                    .sum(),
                _ => 0,
            }
    }
}

/// The least a cache is given, so a tiny budget still holds a few entries.
const MIN_BUDGET: u64 = 64 * 1024;

/// The heaviest entry every shard must be able to hold.
const LARGEST_ENTRY: u64 = 1024 * 1024;

/// What a cache entry costs besides its value: the map slot, the `Arc` and its counts.
const ENTRY_OVERHEAD: usize = 96;

struct Entry<V> {
    value: Arc<V>,
    loaded: Instant,
    weight: u64,
    /// False once [`BoundedCache::expire`]d: read again, but still there for outages.
    fresh: bool,
}

// Not derived: a derive would ask `V: Clone`, and only the `Arc` is cloned.
impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            loaded: self.loaded,
            weight: self.weight,
            fresh: self.fresh,
        }
    }
}

#[derive(Clone)]
struct ByWeight;

impl<K, V> Weighter<K, Entry<V>> for ByWeight {
    fn weight(&self, _key: &K, entry: &Entry<V>) -> u64 {
        entry.weight
    }
}

/// How full a cache is, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUsage {
    pub cache: &'static str,
    pub entries: u64,
    pub bytes: u64,
    pub capacity_bytes: u64,
}

/// A concurrent map of shared values, bounded by their footprint, whose entries are fresh for
/// `ttl` (`None`: until removed or evicted).
pub struct BoundedCache<K, V> {
    name: &'static str,
    entries: quick_cache::sync::Cache<K, Entry<V>, ByWeight>,
    ttl: Option<Duration>,
    lookups: CacheCounter,
    /// Moved by every removal and expiry, so a load that began before one (and read the
    /// database before the change that caused it) does not leave its stale value behind.
    generation: AtomicU64,
}

impl<K, V> std::fmt::Debug for BoundedCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedCache")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Footprint, V: Footprint> BoundedCache<K, V> {
    /// A cache holding about `budget` bytes; `typical` is the size of an average entry, which
    /// only sizes the map up front.
    pub fn new(name: &'static str, budget: u64, typical: u64, ttl: Option<Duration>) -> Self {
        let budget = budget.max(MIN_BUDGET);
        let estimated = usize::try_from(budget / typical.max(1))
            .unwrap_or(usize::MAX)
            .max(16);
        // quick_cache never keeps an entry heavier than one shard's share of the budget, so
        // the shards are few enough that each holds the largest realistic entry (a realm with
        // hundreds of scopes); shards only spread lock contention, and reads share locks.
        // quick_cache rounds the count up to a power of two: round it down first.
        let fit = (budget / LARGEST_ENTRY).clamp(1, 64);
        let shards = 1usize << fit.ilog2();
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(estimated)
            .weight_capacity(budget)
            .shards(shards)
            .build();
        let entries = match options {
            Ok(options) => quick_cache::sync::Cache::with_options(
                options,
                ByWeight,
                Default::default(),
                Default::default(),
            ),
            // Only a zero capacity is refused, and the budget has a floor.
            Err(_) => quick_cache::sync::Cache::with_weighter(estimated, budget, ByWeight),
        };
        Self {
            name,
            entries,
            ttl,
            lookups: CacheCounter::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// Where the cache stands: take it before reading the database for [`Self::put_loaded`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches a value read from the database after [`Self::generation`] said `since`. If an
    /// entry was removed or expired meanwhile, the value may predate that change: it is kept
    /// only as a stale value for outages, and the next lookup reads again. (Removals move the
    /// generation before they remove, and this checks after it inserts, so one of the two
    /// always sees the other.)
    pub fn put_loaded(&self, key: K, value: Arc<V>, since: u64)
    where
        K: Clone,
    {
        self.put(key.clone(), value);
        if self.generation() != since {
            self.expire(&key);
        }
    }

    /// The fresh value of `key`, counted as a hit or a miss.
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.get_if(key, |_| true)
    }

    /// The fresh value of `key` if `usable` accepts it, counted as a hit or a miss.
    pub fn get_if<Q>(&self, key: &Q, usable: impl Fn(&V) -> bool) -> Option<Arc<V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let found = self
            .entries
            .get(key)
            .filter(|entry| entry.fresh)
            .filter(|entry| self.ttl.is_none_or(|ttl| entry.loaded.elapsed() < ttl))
            .filter(|entry| usable(&entry.value))
            .map(|entry| entry.value);
        self.lookups.count(found)
    }

    /// The value however old, if it was not evicted: only for when the database cannot be
    /// asked (it cannot change meanwhile either).
    pub fn get_stale<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.entries.peek(key).map(|entry| entry.value)
    }

    pub fn put(&self, key: K, value: Arc<V>) {
        let weight = key.footprint() + value.footprint() + ENTRY_OVERHEAD;
        let entry = Entry {
            value,
            loaded: Instant::now(),
            weight: u64::try_from(weight).unwrap_or(u64::MAX),
            fresh: true,
        };
        self.entries.insert(key, entry);
    }

    /// Makes the next lookup of `key` a miss, keeping the value for [`Self::get_stale`]: for a
    /// change that added something, where the old value stays true while the database is down.
    pub fn expire<Q>(&self, key: &Q)
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some((key, mut entry)) = self.entries.remove(key) {
            entry.fresh = false;
            self.entries.insert(key, entry);
        }
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.remove(key);
    }

    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }

    pub fn counts(&self) -> CacheCounts {
        self.lookups.read(self.name)
    }

    pub fn usage(&self) -> CacheUsage {
        CacheUsage {
            cache: self.name,
            entries: self.entries.len() as u64,
            bytes: self.entries.weight(),
            capacity_bytes: self.entries.capacity(),
        }
    }
}

/// How `TESSERA_CACHE_MIB` is shared among the caches, by what each holds per realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBudget {
    pub bytes: u64,
}

impl CacheBudget {
    pub fn from_mib(mib: u64) -> Self {
        Self {
            bytes: mib.saturating_mul(1024 * 1024),
        }
    }

    // Shares after what a realm was measured to hold: settings 0.6 KB, a client 1.1 KB, the
    // catalogue 1.9 KB, the keys 3.9 KB (about 11 KB once the RSA key is made).

    pub fn realms(self) -> u64 {
        self.bytes / 16
    }

    pub fn clients(self) -> u64 {
        self.bytes / 16 * 3
    }

    pub fn catalogs(self) -> u64 {
        self.bytes / 4
    }

    pub fn keys(self) -> u64 {
        self.bytes / 2
    }
}

impl Default for CacheBudget {
    fn default() -> Self {
        Self::from_mib(DEFAULT_CACHE_MIB)
    }
}

/// The default budget: the settings, a client, the catalogue and the keys of about 30,000
/// realms, or 12,000 once each has made its RSA key; beyond that the least used are evicted.
pub const DEFAULT_CACHE_MIB: u64 = 256;

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(usize);

    impl Footprint for Blob {
        fn footprint(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_keeps_what_is_read() {
        let cache: BoundedCache<String, Blob> = BoundedCache::new("test", 1 << 20, 1024, None);
        cache.put("hot".into(), Arc::new(Blob(1000)));
        for i in 0..10_000 {
            cache.put(format!("cold-{i}"), Arc::new(Blob(1000)));
            assert!(cache.get("hot").is_some(), "a value read often stays");
        }
        let usage = cache.usage();
        assert!(usage.bytes <= 1 << 20, "{usage:?}");
        assert!(usage.entries < 1100, "{usage:?}");
        // Which cold entries stay is the policy's business (it resists scans, so a burst of
        // entries read once does not push out those already there); that it evicts is ours.
        assert!(usage.entries > 500, "{usage:?}");
    }

    #[test]
    fn an_entry_expires_after_its_ttl_but_stays_for_outages() {
        let cache: BoundedCache<String, Blob> =
            BoundedCache::new("test", 1 << 20, 1024, Some(Duration::ZERO));
        cache.put("k".into(), Arc::new(Blob(10)));
        assert!(cache.get("k").is_none());
        assert!(cache.get_stale("k").is_some());
        let counts = cache.counts();
        assert_eq!((counts.hits, counts.misses), (0, 1));
    }
}

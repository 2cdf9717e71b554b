//! Hits and misses of an in-memory cache, counted with relaxed atomics (a few nanoseconds per
//! lookup) and read by `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct CacheCounter {
    hits: AtomicU64,
    misses: AtomicU64,
}

/// One cache's counts at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheCounts {
    pub cache: &'static str,
    pub hits: u64,
    pub misses: u64,
}

impl CacheCounter {
    /// Counts a lookup: a hit when it found something.
    pub fn count<T>(&self, found: Option<T>) -> Option<T> {
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn read(&self, cache: &'static str) -> CacheCounts {
        CacheCounts {
            cache,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

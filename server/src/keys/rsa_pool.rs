//! RSA keys generated ahead of need. Generating a 2048-bit RSA key takes tens of milliseconds;
//! a small pool, refilled on the blocking threads after each use, lets a realm's first RS256
//! signature (its RSA key is made on first use) and key rotation take one ready-made. Per process, in
//! memory only (like the active keys a process signs with); an empty pool falls back to
//! generating on the spot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::material::{generate, GeneratedKey};
use crate::domain::SigningAlg;

pub struct RsaPool {
    /// Keys kept ready; 0 turns the pool off.
    target: usize,
    ready: Mutex<Vec<GeneratedKey>>,
    filling: AtomicBool,
}

impl std::fmt::Debug for RsaPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPool(..)")
    }
}

impl RsaPool {
    pub fn new(target: usize) -> Self {
        Self {
            target,
            ready: Mutex::new(Vec::new()),
            filling: AtomicBool::new(false),
        }
    }

    /// A ready key, if there is one; the pool refills itself behind.
    pub fn take(self: &Arc<Self>) -> Option<GeneratedKey> {
        let key = self.ready.lock().unwrap_or_else(|p| p.into_inner()).pop();
        self.refill();
        key
    }

    /// Tops the pool up on a blocking thread, unless a refill runs already or there is no
    /// runtime to run it on.
    pub fn refill(self: &Arc<Self>) {
        if self.target == 0 {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.filling.swap(true, Ordering::AcqRel) {
            return;
        }
        let pool = self.clone();
        runtime.spawn_blocking(move || {
            while pool.ready.lock().unwrap_or_else(|p| p.into_inner()).len() < pool.target {
                match generate(SigningAlg::RS256) {
                    Ok(key) => pool
                        .ready
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(key),
                    Err(e) => {
                        tracing::warn!(error = %e, "pre-generating an RSA key failed");
                        break;
                    }
                }
            }
            pool.filling.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pool_fills_and_hands_out_rsa_keys() {
        let pool = Arc::new(RsaPool::new(1));
        assert!(
            pool.take().is_none(),
            "empty at first; taking starts a refill"
        );
        for _ in 0..200 {
            if let Some(key) = pool.take() {
                assert_eq!(key.alg, SigningAlg::RS256);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the pool never filled");
    }

    #[test]
    fn an_empty_target_never_fills() {
        let pool = Arc::new(RsaPool::new(0));
        pool.refill();
        assert!(pool.take().is_none());
    }
}

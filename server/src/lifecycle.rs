//! Where the process is in its life: serving, or draining after a stop signal. While it
//! drains, readiness answers 503 so load balancers send new requests elsewhere, and the
//! requests already accepted finish.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
}

impl Lifecycle {
    /// From now on, readiness says the process is going away.
    pub fn begin_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

//! Time as a dependency, so tests can pin it.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock: the one place that reads it (clippy's `disallowed-methods` in `clippy.toml`
/// rejects `Utc::now` and friends everywhere else).
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one sanctioned wall-clock read; everything else receives this through `Clock`.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

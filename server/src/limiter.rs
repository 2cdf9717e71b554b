//! Attempts per client address within a window: wrong device user codes (RFC 8628 §5.1: a
//! user code is short, so the verification page refuses an address that has guessed wrong too
//! often). Per process. Request rates are `rate_limit`'s.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_WRONG_CODES: u32 = 10;
const WRONG_CODE_WINDOW: Duration = Duration::from_secs(600);

/// Attempts per client address within a window.
#[derive(Debug)]
pub struct AttemptLimiter {
    max: u32,
    window: Duration,
    attempts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Wrong device user codes: ten per address in ten minutes.
pub type WrongCodeLimiter = AttemptLimiter;

impl Default for AttemptLimiter {
    fn default() -> Self {
        Self::new(MAX_WRONG_CODES, WRONG_CODE_WINDOW)
    }
}

impl AttemptLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    pub fn blocked(&self, ip: IpAddr) -> bool {
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts
            .get(&ip)
            .is_some_and(|(since, n)| since.elapsed() < self.window && *n >= self.max)
    }

    pub fn record(&self, ip: IpAddr) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.len() > 100_000 {
            attempts.retain(|_, (since, _)| since.elapsed() < self.window);
        }
        let entry = attempts.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

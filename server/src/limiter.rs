//! Wrong device user codes per client address (RFC 8628 §5.1): a user code is short, so the
//! verification page refuses an address that has guessed wrong too often within a window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_WRONG_CODES: u32 = 10;
const WRONG_CODE_WINDOW: Duration = Duration::from_secs(600);

/// Wrong user codes per client address within the window.
#[derive(Debug, Default)]
pub struct WrongCodeLimiter {
    attempts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl WrongCodeLimiter {
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts
            .get(&ip)
            .is_some_and(|(since, n)| since.elapsed() < WRONG_CODE_WINDOW && *n >= MAX_WRONG_CODES)
    }

    pub fn record(&self, ip: IpAddr) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.len() > 100_000 {
            attempts.retain(|_, (since, _)| since.elapsed() < WRONG_CODE_WINDOW);
        }
        let entry = attempts.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WRONG_CODE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

//! Request rate limits per client address and per client (CONTRACT §12): GCRA buckets from
//! `governor`, one keyed limiter per distinct rate, keyed by realm, endpoint group and address
//! or client. A rate of `600/minute` admits a burst of 600 and refills one every 100 ms.
//!
//! The buckets live in this process: N processes behind a load balancer admit up to N times
//! the rate. The account lockout, in the database, holds across processes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// The endpoints limited together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// The token endpoint (and its compatibility aliases).
    Token,
    /// Password, second-factor and passkey sign-in forms, the admin console's included.
    Login,
    /// Device authorization and the user-code page.
    Device,
    /// Dynamic client registration.
    Registration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Second,
    Minute,
    Hour,
}

/// A number of requests per period: `600/minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Period,
}

impl Rate {
    const fn new(count: u32, period: Period) -> Self {
        // Only called with constants; zero would mean "nothing", which is not a rate.
        match NonZeroU32::new(count) {
            Some(count) => Self { count, period },
            None => Self {
                count: NonZeroU32::MIN,
                period,
            },
        }
    }

    /// `N/second`, `N/minute` or `N/hour`, N from 1 to 1,000,000.
    pub fn parse(text: &str) -> Option<Self> {
        let (count, period) = text.trim().split_once('/')?;
        let count: u32 = count.trim().parse().ok()?;
        let period = match period.trim() {
            "second" | "s" => Period::Second,
            "minute" | "min" => Period::Minute,
            "hour" | "h" => Period::Hour,
            _ => return None,
        };
        if count > 1_000_000 {
            return None;
        }
        Some(Self {
            count: NonZeroU32::new(count)?,
            period,
        })
    }

    fn quota(self) -> Quota {
        match self.period {
            Period::Second => Quota::per_second(self.count),
            Period::Minute => Quota::per_minute(self.count),
            Period::Hour => Quota::per_hour(self.count),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let period = match self.period {
            Period::Second => "second",
            Period::Minute => "minute",
            Period::Hour => "hour",
        };
        write!(f, "{}/{period}", self.count)
    }
}

/// One group's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLimits {
    pub per_ip: Option<Rate>,
    pub per_client: Option<Rate>,
}

/// A realm's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub token: GroupLimits,
    pub login: GroupLimits,
    pub device: GroupLimits,
    pub registration: GroupLimits,
}

impl Default for RateLimits {
    /// Far above what one well-behaved address or client needs, low enough that one abuser
    /// cannot take the server: sign-in forms are for people, registration for new software.
    fn default() -> Self {
        let both = |rate: Rate| GroupLimits {
            per_ip: Some(rate),
            per_client: Some(rate),
        };
        let per_ip = |rate: Rate| GroupLimits {
            per_ip: Some(rate),
            per_client: None,
        };
        Self {
            token: both(Rate::new(6000, Period::Minute)),
            login: per_ip(Rate::new(60, Period::Minute)),
            device: both(Rate::new(120, Period::Minute)),
            registration: per_ip(Rate::new(20, Period::Hour)),
        }
    }
}

impl Group {
    /// The group's name in settings and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Group::Token => "token",
            Group::Login => "login",
            Group::Device => "device",
            Group::Registration => "registration",
        }
    }
}

impl RateLimits {
    pub fn group(&self, group: Group) -> &GroupLimits {
        match group {
            Group::Token => &self.token,
            Group::Login => &self.login,
            Group::Device => &self.device,
            Group::Registration => &self.registration,
        }
    }

    pub fn group_mut(&mut self, group: Group) -> &mut GroupLimits {
        match group {
            Group::Token => &mut self.token,
            Group::Login => &mut self.login,
            Group::Device => &mut self.device,
            Group::Registration => &mut self.registration,
        }
    }
}

impl RateLimits {
    /// The stored form: `{"token": {"per_ip": "6000/minute", "per_client": null}, …}`.
    pub fn to_json(&self) -> serde_json::Value {
        let rate = |r: Option<Rate>| r.map(|r| r.to_string());
        let mut out = serde_json::Map::new();
        for group in GROUPS {
            let limits = self.group(group);
            out.insert(
                group.label().to_string(),
                serde_json::json!({"per_ip": rate(limits.per_ip), "per_client": rate(limits.per_client)}),
            );
        }
        serde_json::Value::Object(out)
    }

    /// Reads the stored form; what it does not say keeps the default.
    pub fn from_json(value: &serde_json::Value) -> Self {
        let mut limits = Self::default();
        for group in GROUPS {
            let Some(stored) = value.get(group.label()) else {
                continue;
            };
            let slot = limits.group_mut(group);
            for (field, target) in [
                ("per_ip", &mut slot.per_ip),
                ("per_client", &mut slot.per_client),
            ] {
                match stored.get(field) {
                    Some(serde_json::Value::Null) => *target = None,
                    Some(serde_json::Value::String(text)) => {
                        if let Some(rate) = Rate::parse(text) {
                            *target = Some(rate);
                        }
                    }
                    _ => {}
                }
            }
        }
        limits
    }
}

pub const GROUPS: [Group; 4] = [
    Group::Token,
    Group::Login,
    Group::Device,
    Group::Registration,
];

/// Who is counted.
#[derive(Hash)]
enum Subject<'a> {
    /// An IPv4 address, or an IPv6 /64 (what one subscriber usually holds).
    Ip(IpAddr),
    Client(&'a str),
}

/// What a bucket is for, hashed with this process's random key into the limiter's key: no
/// allocation per request, and collisions nobody outside can aim for.
#[derive(Hash)]
struct Key<'a> {
    realm_id: &'a str,
    group: Group,
    subject: Subject<'a>,
}

fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The process's buckets.
#[derive(Default)]
pub struct RateLimiters {
    limiters: RwLock<HashMap<Rate, Arc<DefaultKeyedRateLimiter<u64>>>>,
    /// Keys the hash of [`Key`]s (SipHash with random keys).
    hasher: std::collections::hash_map::RandomState,
}

impl std::fmt::Debug for RateLimiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiters").finish_non_exhaustive()
    }
}

/// A request over its limit: when the next one would be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds for `Retry-After`, at least one.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

impl RateLimiters {
    fn limiter(&self, rate: Rate) -> Arc<DefaultKeyedRateLimiter<u64>> {
        if let Some(found) = self
            .limiters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&rate)
        {
            return found.clone();
        }
        self.limiters
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(rate)
            .or_insert_with(|| Arc::new(DefaultKeyedRateLimiter::dashmap(rate.quota())))
            .clone()
    }

    fn check(&self, rate: Option<Rate>, key: Key<'_>) -> Result<(), Limited> {
        use std::hash::BuildHasher;
        let Some(rate) = rate else {
            return Ok(());
        };
        let limiter = self.limiter(rate);
        limiter
            .check_key(&self.hasher.hash_one(&key))
            .map_err(|not_until| Limited {
                // The limiter's own clock: making a new one calibrates it (a CPUID and a
                // timing loop), which made each refusal cost more than the request it refused.
                retry_after: not_until.wait_time_from(limiter.clock().now()),
            })
    }

    /// Counts a request of `group` from address `ip` against the realm's limit.
    pub fn check_ip(
        &self,
        realm_id: &str,
        limits: &RateLimits,
        group: Group,
        ip: IpAddr,
    ) -> Result<(), Limited> {
        let key = Key {
            realm_id,
            group,
            subject: Subject::Ip(network_of(ip)),
        };
        self.check(limits.group(group).per_ip, key)
    }

    /// Counts a request of `group` by an authenticated client against the realm's limit.
    pub fn check_client(
        &self,
        realm_id: &str,
        limits: &RateLimits,
        group: Group,
        client_id: &str,
    ) -> Result<(), Limited> {
        let key = Key {
            realm_id,
            group,
            subject: Subject::Client(client_id),
        };
        self.check(limits.group(group).per_client, key)
    }

    /// Forgets buckets that are full again, so memory follows the recent callers only.
    pub fn sweep(&self) {
        let limiters: Vec<_> = self
            .limiters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for limiter in limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        let rate = Rate::parse("600/minute").unwrap();
        assert_eq!(rate.to_string(), "600/minute");
        assert_eq!(Rate::parse(" 5 / s "), Some(Rate::new(5, Period::Second)));
        for bad in [
            "0/minute",
            "-1/minute",
            "10",
            "10/day",
            "x/hour",
            "2000000/second",
        ] {
            assert_eq!(Rate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bucket_admits_its_burst_then_says_when_to_come_back() {
        let limiters = RateLimiters::default();
        let mut limits = RateLimits::default();
        limits.login.per_ip = Some(Rate::new(3, Period::Hour));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert!(limiters.check_ip("r", &limits, Group::Login, ip).is_ok());
        }
        let limited = limiters
            .check_ip("r", &limits, Group::Login, ip)
            .unwrap_err();
        assert!(limited.retry_after_secs() > 1000, "{limited:?}");
        // Other realms, groups and addresses have their own buckets.
        assert!(limiters.check_ip("s", &limits, Group::Login, ip).is_ok());
        assert!(limiters.check_ip("r", &limits, Group::Token, ip).is_ok());
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(limiters.check_ip("r", &limits, Group::Login, other).is_ok());
    }

    #[test]
    fn an_ipv6_subscriber_is_one_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(network_of(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}

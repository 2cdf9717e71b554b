//! Prometheus metrics (`/metrics`, CONTRACT §12) through the `metrics` crate's recorder API
//! and `metrics-exporter-prometheus`.
//!
//! Each server owns its recorder instead of installing a process-wide one, so several servers
//! in one process (the test suite) count apart. Handles are registered once per label set and
//! kept, so counting on the hot paths is an atomic add after a read-locked map lookup.
//!
//! Labels stay bounded: HTTP metrics carry the route template (`/realms/{realm}/connect/token`),
//! never the raw path; realm labels can be switched off (`TESSERA_METRICS_REALM_LABELS=false`)
//! for deployments with very many realms.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::bounded_cache::CacheUsage;
use crate::cache_stats::CacheCounts;

const HTTP_REQUESTS: &str = "tessera_http_requests_total";
const HTTP_DURATION: &str = "tessera_http_request_duration_seconds";
const TOKENS_ISSUED: &str = "tessera_tokens_issued_total";
const TOKEN_ERRORS: &str = "tessera_token_errors_total";
const LOGINS: &str = "tessera_logins_total";
const REFRESH_REUSE: &str = "tessera_refresh_reuse_detected_total";
const KEY_ROTATIONS: &str = "tessera_key_rotations_total";
const RATE_LIMITED: &str = "tessera_rate_limited_total";
const POOL_CONNECTIONS: &str = "tessera_db_pool_connections";
const POOL_IDLE: &str = "tessera_db_pool_idle_connections";
const CACHE_LOOKUPS: &str = "tessera_cache_lookups_total";
const LOCKOUTS: &str = "tessera_account_lockouts_total";
const CACHE_ENTRIES: &str = "tessera_cache_entries";
const CACHE_BYTES: &str = "tessera_cache_bytes";
const CACHE_CAPACITY: &str = "tessera_cache_capacity_bytes";

/// Request latency buckets, in seconds: from a cached token answer to a slow upstream.
const DURATION_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// One counter per realm.
type RealmCounters = HashMap<Arc<str>, Counter>;

/// A route's request counter (for one status) and its latency histogram.
type RouteHandles = (Counter, Histogram);

/// The label value standing for every realm when realm labels are off.
const ANY_REALM: &str = "*";

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    realm_labels: bool,
    /// Route template → status → handles (looked up by `&str`, no allocation per request).
    http: RwLock<HashMap<Arc<str>, HashMap<u16, RouteHandles>>>,
    /// (metric, label value) → realm → counter: looked up by `&str`, no allocation per call.
    by_realm: RwLock<HashMap<(&'static str, &'static str), RealmCounters>>,
    pool_connections: Gauge,
    pool_idle: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("realm_labels", &self.realm_labels)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(true)
    }
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

impl Metrics {
    pub fn new(realm_labels: bool) -> Self {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &DURATION_BUCKETS);
        // Non-empty constant buckets: the builder cannot refuse them.
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let describe = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_counter(KeyName::from_const_str(name), unit, help.into());
        };
        describe(
            HTTP_REQUESTS,
            Some(Unit::Count),
            "HTTP requests by route template and status.",
        );
        recorder.describe_histogram(
            KeyName::from_const_str(HTTP_DURATION),
            Some(Unit::Seconds),
            "HTTP request latency by route template.".into(),
        );
        describe(
            TOKENS_ISSUED,
            Some(Unit::Count),
            "Token responses by realm and grant type.",
        );
        describe(
            TOKEN_ERRORS,
            Some(Unit::Count),
            "Token endpoint refusals by realm and error code.",
        );
        describe(
            LOGINS,
            Some(Unit::Count),
            "Password sign-ins (forms and the password grant) by realm and result.",
        );
        describe(
            REFRESH_REUSE,
            Some(Unit::Count),
            "Rotated refresh tokens presented again (families revoked), by realm.",
        );
        describe(
            KEY_ROTATIONS,
            Some(Unit::Count),
            "Signing key rotations by realm.",
        );
        describe(
            RATE_LIMITED,
            Some(Unit::Count),
            "Requests refused over a rate limit, by realm and endpoint group.",
        );
        describe(
            CACHE_LOOKUPS,
            Some(Unit::Count),
            "In-memory cache lookups (realms, clients, catalogs, keys) by result: hit or miss.",
        );
        for (name, help) in [
            (CACHE_ENTRIES, "Entries held by each in-memory cache."),
            (
                CACHE_BYTES,
                "Estimated memory held by each in-memory cache (its share of TESSERA_CACHE_MIB \
                 bounds it).",
            ),
            (CACHE_CAPACITY, "The memory each in-memory cache may hold."),
        ] {
            let unit = (name != CACHE_ENTRIES).then_some(Unit::Bytes);
            recorder.describe_gauge(KeyName::from_const_str(name), unit, help.into());
        }
        describe(
            LOCKOUTS,
            Some(Unit::Count),
            "Accounts locked after repeated failed sign-ins (the audit trail's `user.locked` \
             events say which).",
        );
        recorder.describe_gauge(
            KeyName::from_const_str(POOL_CONNECTIONS),
            Some(Unit::Count),
            "Database connections open in the pool.".into(),
        );
        recorder.describe_gauge(
            KeyName::from_const_str(POOL_IDLE),
            Some(Unit::Count),
            "Database connections idle in the pool.".into(),
        );
        let pool_connections =
            recorder.register_gauge(&Key::from_static_name(POOL_CONNECTIONS), &metadata());
        let pool_idle = recorder.register_gauge(&Key::from_static_name(POOL_IDLE), &metadata());
        Self {
            handle: recorder.handle(),
            recorder,
            realm_labels,
            http: RwLock::new(HashMap::new()),
            by_realm: RwLock::new(HashMap::new()),
            pool_connections,
            pool_idle,
        }
    }

    /// A counter `name{realm, <label>=value}`, incremented.
    fn realm_counter(
        &self,
        name: &'static str,
        realm: &str,
        label: &'static str,
        value: &'static str,
    ) {
        let realm = if self.realm_labels { realm } else { ANY_REALM };
        if let Some(counter) = self
            .by_realm
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(name, value))
            .and_then(|realms| realms.get(realm))
        {
            counter.increment(1);
            return;
        }
        let labels = vec![
            Label::new("realm", realm.to_string()),
            Label::new(label, value),
        ];
        let counter = self
            .recorder
            .register_counter(&Key::from_parts(name, labels), &metadata());
        counter.increment(1);
        self.by_realm
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry((name, value))
            .or_default()
            .insert(realm.into(), counter);
    }

    /// One HTTP request answered on `route` (a template) with `status` after `elapsed`.
    pub fn http_request(&self, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some((count, latency)) = self
            .http
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
            .and_then(|statuses| statuses.get(&status))
        {
            count.increment(1);
            latency.record(seconds);
            return;
        }
        let counted = Key::from_parts(
            HTTP_REQUESTS,
            vec![
                Label::new("route", route.to_string()),
                Label::new("status", status.to_string()),
            ],
        );
        let timed = Key::from_parts(HTTP_DURATION, vec![Label::new("route", route.to_string())]);
        let handles = (
            self.recorder.register_counter(&counted, &metadata()),
            self.recorder.register_histogram(&timed, &metadata()),
        );
        handles.0.increment(1);
        handles.1.record(seconds);
        self.http
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(route.into())
            .or_default()
            .insert(status, handles);
    }

    pub fn token_issued(&self, realm: &str, grant: &str) {
        let grant = crate::domain::grant_type::ALL
            .iter()
            .find(|g| **g == grant)
            .copied()
            .unwrap_or("other");
        self.realm_counter(TOKENS_ISSUED, realm, "grant_type", grant);
    }

    pub fn token_refused(&self, realm: &str, code: &'static str) {
        self.realm_counter(TOKEN_ERRORS, realm, "error", code);
    }

    /// A password sign-in's `result`: `success`, `unknown_user`, `wrong_password`, `disabled`,
    /// `locked` or `directory_unavailable`.
    pub fn login(&self, realm: &str, result: &'static str) {
        self.realm_counter(LOGINS, realm, "result", result);
    }

    pub fn refresh_reuse(&self, realm: &str) {
        self.realm_counter(REFRESH_REUSE, realm, "grant_type", "refresh_token");
    }

    pub fn key_rotation(&self, realm: &str) {
        self.realm_counter(KEY_ROTATIONS, realm, "trigger", "rotate");
    }

    pub fn rate_limited(&self, realm: &str, group: &'static str) {
        self.realm_counter(RATE_LIMITED, realm, "group", group);
    }

    /// Folds recorded latencies into their buckets: run every few seconds, or the raw samples
    /// pile up between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The exposition text, with the pool's gauges read now.
    pub fn render(&self, now: Readings<'_>) -> String {
        self.recorder
            .register_counter(&Key::from_static_name(LOCKOUTS), &metadata())
            .absolute(now.lockouts);
        if let Some(pool) = now.pool {
            self.pool_connections.set(f64::from(pool.size));
            self.pool_idle.set(pool.idle as f64);
        }
        for usage in now.cache_usage {
            for (name, value) in [
                (CACHE_ENTRIES, usage.entries),
                (CACHE_BYTES, usage.bytes),
                (CACHE_CAPACITY, usage.capacity_bytes),
            ] {
                let labels = vec![Label::new("cache", usage.cache)];
                self.recorder
                    .register_gauge(&Key::from_parts(name, labels), &metadata())
                    .set(value as f64);
            }
        }
        // The caches count for themselves; their totals are copied in at each scrape.
        for counts in now.cache_lookups {
            for (result, value) in [("hit", counts.hits), ("miss", counts.misses)] {
                let labels = vec![
                    Label::new("cache", counts.cache),
                    Label::new("result", result),
                ];
                self.recorder
                    .register_counter(&Key::from_parts(CACHE_LOOKUPS, labels), &metadata())
                    .absolute(value);
            }
        }
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// What the scrape reads from the parts that keep their own counts.
#[derive(Debug, Clone, Copy)]
pub struct Readings<'a> {
    pub pool: Option<PoolStats>,
    pub cache_lookups: &'a [CacheCounts],
    pub cache_usage: &'a [CacheUsage],
    pub lockouts: u64,
}

/// What the database pool holds at a moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: usize,
}

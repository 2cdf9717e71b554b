//! The realm caches stay within their memory budget (`TESSERA_CACHE_MIB`): with a budget far
//! smaller than the realms in use, the caches evict, `/metrics` shows them full but never over,
//! and an evicted realm's next request reads it again and answers as before. (`bench/run`
//! checks the process's RSS with 10,000 realms at the default budget.)

use reqwest::Method;
use serde_json::json;

use super::client_credentials::{sample, scrape};
use crate::common::{jwt_parts, Backend, Options, TestServer};

/// Enough realms to overflow a 64 KiB share several times over.
const REALMS: usize = 48;

async fn realms_beyond_the_budget_are_evicted_and_read_again(backend: Backend) {
    let Some(server) = TestServer::start_with(
        backend,
        Options {
            // The smallest shares each cache takes (64 KiB): a few dozen realms' worth.
            cache_budget: server::bounded_cache::CacheBudget { bytes: 256 * 1024 },
            ..Options::default()
        },
    )
    .await
    else {
        eprintln!("skipped: {} is not set", crate::common::PG_ENV);
        return;
    };

    let mut tenants = Vec::new();
    for i in 0..REALMS {
        let realm = format!("tenant-{i}");
        let created = server
            .admin(Method::POST, "/realms", Some(json!({"name": realm})))
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let client = server
            .admin(
                Method::POST,
                &format!("/realms/{realm}/clients"),
                Some(json!({"client_id": "svc", "grant_types": ["client_credentials"]})),
            )
            .await;
        assert_eq!(client.status, 201, "{}", client.text);
        let secret = client.body["client_secret"].as_str().unwrap().to_string();
        let token = token(&server, &realm, &secret).await;
        tenants.push((realm, secret, token));
    }

    let metrics = scrape(&server).await;
    for cache in ["realms", "clients", "catalogs", "keys"] {
        let labels = [("cache", cache)];
        let bytes = sample(&metrics, "tessera_cache_bytes", &labels);
        let capacity = sample(&metrics, "tessera_cache_capacity_bytes", &labels);
        let entries = sample(&metrics, "tessera_cache_entries", &labels);
        assert!(
            capacity > 0.0 && bytes <= capacity,
            "{cache}: {bytes} of {capacity}"
        );
        assert!(entries >= 1.0, "{cache} holds what is in use");
    }
    for cache in ["catalogs", "keys"] {
        let entries = sample(&metrics, "tessera_cache_entries", &[("cache", cache)]);
        assert!(
            entries < REALMS as f64,
            "{cache}: {entries} entries; the budget holds fewer than {REALMS} realms"
        );
    }

    // The caches hold fewer realms than there are: asking every realm again reads the
    // evicted ones again (which ones the policy kept is its business). Each still signs with
    // the same key, and its earlier token still introspects as active.
    let misses_before = sample(
        &scrape(&server).await,
        "tessera_cache_lookups_total",
        &[("cache", "keys"), ("result", "miss")],
    );
    for (realm, secret, earlier) in &tenants {
        let again = token(&server, realm, secret).await;
        assert_eq!(
            jwt_parts(&again).0["kid"],
            jwt_parts(earlier).0["kid"],
            "{realm} signs with the same key"
        );
        let introspected = server
            .post_form(
                &format!("/realms/{realm}/connect/introspect"),
                &[("token", earlier.as_str())],
                Some(("svc", secret.as_str())),
            )
            .await;
        assert_eq!(introspected.body["active"], true, "{}", introspected.text);
    }
    let misses_after = sample(
        &scrape(&server).await,
        "tessera_cache_lookups_total",
        &[("cache", "keys"), ("result", "miss")],
    );
    assert!(
        misses_after > misses_before,
        "evicted realms' keys were read again ({misses_before} → {misses_after} misses)"
    );
}

async fn token(server: &TestServer, realm: &str, secret: &str) -> String {
    let response = server
        .post_form(
            &format!("/realms/{realm}/connect/token"),
            &[("grant_type", "client_credentials")],
            Some(("svc", secret)),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    realms_beyond_the_budget_are_evicted_and_read_again(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    realms_beyond_the_budget_are_evicted_and_read_again(Backend::Postgres).await;
}

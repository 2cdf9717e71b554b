//! The client credentials grant end to end with `openidconnect`, and its refusals with reqwest.

use openidconnect::core::{CoreClient, CoreJwsSigningAlgorithm};
use openidconnect::{AuthType, ClientId, ClientSecret, JsonWebKey, OAuth2TokenResponse, Scope};

use super::discovery::{discover, http};
use crate::common::{jwt_parts, TestServer, BILLING, SERVICES_SEED};
use crate::on_both_backends;

/// Checks a JWT's signature with the key the realm publishes, via the `openidconnect` crate.
pub async fn assert_signed_by_realm(server: &TestServer, realm: &str, token: &str) {
    let metadata = discover(server, realm).await;
    let (header, _) = jwt_parts(token);
    let kid = header["kid"].as_str().expect("kid");
    let key = metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .expect("the signing key is published");
    let alg = match header["alg"].as_str().unwrap() {
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
        other => panic!("unexpected alg {other}"),
    };
    let (message, signature) = token.rsplit_once('.').unwrap();
    use base64::Engine;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    key.verify_signature(&alg, message.as_bytes(), &signature)
        .expect("signature verifies against the JWKS");
}

async fn openidconnect_client_gets_a_verifiable_rfc9068_token(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let metadata = discover(&server, "services").await;
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(BILLING.0.into()),
            Some(ClientSecret::new(BILLING.1.into())),
        )
        .set_auth_type(auth_type);
        let response = client
            .exchange_client_credentials()
            .unwrap()
            .add_scope(Scope::new("orders.read".into()))
            .request_async(&http())
            .await
            .expect("client credentials succeed");
        let token = response.access_token().secret();
        assert_eq!(
            response.expires_in().unwrap().as_secs(),
            600,
            "realm lifetime applies"
        );
        assert_signed_by_realm(&server, "services", token).await;

        let (header, claims) = jwt_parts(token);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(claims["iss"], server.issuer("services"));
        assert_eq!(claims["sub"], "billing");
        assert_eq!(claims["client_id"], "billing");
        assert_eq!(
            claims["aud"], "orders-api",
            "the API resource owning the scope"
        );
        assert_eq!(claims["scope"], "orders.read");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    }
}

async fn scopes_default_narrow_and_refuse(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    // No scope: the client's default set.
    let token = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    let (_, claims) = jwt_parts(&token);
    assert_eq!(claims["scope"], "orders.read orders.write");

    // Client audiences join the resource's, and the client's lifetime override wins.
    let response = server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("reporting", "reporting-secret")),
        )
        .await;
    assert_eq!(response.body["expires_in"], 120);
    let (_, claims) = jwt_parts(response.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], serde_json::json!(["orders-api", "reports"]));

    for scope in ["orders.admin", "openid", "bad\"scope"] {
        let response = server
            .post_form(
                "/realms/services/connect/token",
                &[("grant_type", "client_credentials"), ("scope", scope)],
                Some(BILLING),
            )
            .await;
        response.assert_oauth_error(400, "invalid_scope");
    }
}

async fn token_responses_are_not_cached(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let ok = server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "client_credentials")],
            Some(BILLING),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    assert_eq!(ok.body["token_type"], "Bearer");
    let err = server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "nope")],
            Some(BILLING),
        )
        .await;
    assert_eq!(err.header("cache-control"), Some("no-store"));
}

async fn failed_client_authentication(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let path = "/realms/services/connect/token";
    let form = [("grant_type", "client_credentials")];
    // Wrong secret, unknown client, secret of the same client id in another realm.
    for (id, secret) in [
        ("billing", "wrong"),
        ("ghost", "x"),
        ("billing", "other-billing-secret"),
    ] {
        let response = server.post_form(path, &form, Some((id, secret))).await;
        response.assert_oauth_error(401, "invalid_client");
        assert!(
            response
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic")),
            "401 carries WWW-Authenticate"
        );
    }
    // client_secret_post with a wrong secret.
    let response = server
        .post_form(
            path,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "billing"),
                ("client_secret", "nope"),
            ],
            None,
        )
        .await;
    response.assert_oauth_error(401, "invalid_client");
    // No authentication at all.
    server
        .post_form(path, &form, None)
        .await
        .assert_oauth_error(401, "invalid_client");
    // A confidential client presenting no secret.
    server
        .post_form(
            path,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "billing"),
            ],
            None,
        )
        .await
        .assert_oauth_error(401, "invalid_client");
}

async fn protocol_refusals(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let path = "/realms/services/connect/token";
    // Both Basic and client_secret_post.
    server
        .post_form(
            path,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "billing"),
                ("client_secret", BILLING.1),
            ],
            Some(BILLING),
        )
        .await
        .assert_oauth_error(400, "invalid_request");
    // Unknown grant type.
    server
        .post_form(path, &[("grant_type", "urn:example:magic")], Some(BILLING))
        .await
        .assert_oauth_error(400, "unsupported_grant_type");
    // A grant the client does not list.
    server
        .post_form(
            path,
            &[("grant_type", "client_credentials")],
            Some(("no-cc", "no-cc-secret")),
        )
        .await
        .assert_oauth_error(400, "unauthorized_client");
    // A public client may list client_credentials but can never use it.
    server
        .post_form(
            path,
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
            None,
        )
        .await
        .assert_oauth_error(400, "unauthorized_client");
    // Missing grant_type.
    server
        .post_form(path, &[], Some(BILLING))
        .await
        .assert_oauth_error(400, "invalid_request");
}

async fn malformed_requests_never_500(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let url = server.url("/realms/services/connect/token");
    let auth = crate::common::basic_header(BILLING.0, BILLING.1);
    let send = |body: Vec<u8>, content_type: &'static str| {
        server
            .http
            .post(&url)
            .header("content-type", content_type)
            .header("authorization", &auth)
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Duplicated parameter.
        (
            b"grant_type=client_credentials&grant_type=client_credentials".to_vec(),
            form,
        ),
        // Oversized body.
        (
            format!("grant_type=client_credentials&pad={}", "a".repeat(200_000)).into_bytes(),
            form,
        ),
        // Not a form.
        (
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
            "application/json",
        ),
        // Invalid UTF-8 and stray percent signs.
        (b"grant_type=%ff%fe&scope=%zz".to_vec(), form),
    ];
    for (body, content_type) in cases {
        let response = crate::common::Response::from(send(body, content_type).await.unwrap()).await;
        assert_eq!(response.status, 400, "{}", response.text);
        assert!(response.body["error"].is_string(), "{}", response.text);
    }
    // The refusal of an oversized body arrives whole, and the pooled connection it came on
    // serves the next request: the server reads the rest of the body rather than resetting.
    for _ in 0..10 {
        let oversized = format!("grant_type=client_credentials&pad={}", "a".repeat(300_000));
        let refused = send(oversized.into_bytes(), form).await.unwrap();
        assert_eq!(refused.status(), 400);
        let next = send(b"grant_type=client_credentials".to_vec(), form)
            .await
            .unwrap();
        assert_eq!(next.status(), 200);
    }
    // Garbage Basic credentials.
    for header in ["Basic !!!", "Basic YWJj", "Bearer abc", "Basic"] {
        let response = server
            .http
            .post(&url)
            .header("authorization", header)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let response = crate::common::Response::from(response).await;
        response.assert_oauth_error(401, "invalid_client");
    }
}

async fn disabled_realms_do_not_serve(server: TestServer) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    server.seed(SERVICES_SEED).await;
    let db = &server.state.caches.store.db;
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "UPDATE realms SET enabled = false WHERE name = 'services'",
        _ => "UPDATE realms SET enabled = 0 WHERE name = 'services'",
    };
    db.execute(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    server
        .state
        .caches
        .publish(server::changes::Change::Realm {
            name: "services".into(),
        })
        .await;
    let response = server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "client_credentials")],
            Some(BILLING),
        )
        .await;
    assert_eq!(response.status, 404);
}

on_both_backends! {
    openidconnect_client_credentials => openidconnect_client_gets_a_verifiable_rfc9068_token,
    scope_handling => scopes_default_narrow_and_refuse,
    no_store => token_responses_are_not_cached,
    client_authentication_failures => failed_client_authentication,
    refusals => protocol_refusals,
    malformed => malformed_requests_never_500,
    disabled_realm => disabled_realms_do_not_serve,
}

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

/// `/metrics`, parsed as Prometheus text.
pub async fn scrape(server: &TestServer) -> Exposition {
    let response = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("{e:?} in\n{text}"))
}

/// The value of the series of `family` whose labels include `labels` (0 when there is none);
/// for a histogram, its count.
pub fn sample(scrape: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    use openmetrics_parser::PrometheusValue;
    let Some(family) = scrape.families.get(family) else {
        return 0.0;
    };
    family
        .iter_samples()
        .filter(|s| {
            let set = s.get_labelset().unwrap();
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| match &s.value {
            PrometheusValue::Unknown(n) | PrometheusValue::Gauge(n) => n.as_f64(),
            PrometheusValue::Counter(c) => c.value.as_f64(),
            PrometheusValue::Histogram(h) => h.count.unwrap_or_default() as f64,
            PrometheusValue::Summary(_) => 0.0,
        })
        .sum::<f64>()
        + 0.0
}

async fn metrics_count_tokens_and_refusals(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("billing", "wrong")),
        )
        .await;
    server
        .post_form(
            "/realms/services/connect/token",
            &[
                ("grant_type", "password"),
                ("username", "ghost"),
                ("password", "whatever"),
            ],
            Some(("no-cc", "no-cc-secret")),
        )
        .await;
    let scrape = scrape(&server).await;
    let realm = ("realm", "services");
    assert_eq!(
        sample(
            &scrape,
            "tessera_tokens_issued_total",
            &[realm, ("grant_type", "client_credentials")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &scrape,
            "tessera_token_errors_total",
            &[realm, ("error", "invalid_client")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &scrape,
            "tessera_logins_total",
            &[realm, ("result", "unknown_user")]
        ),
        1.0
    );
    // Requests by route template, never by raw path (the harness's own administrator
    // sign-ins in realm master share the template); a latency histogram per route.
    let route = ("route", "/realms/{realm}/connect/token");
    let count = |status: &str| {
        sample(
            &scrape,
            "tessera_http_requests_total",
            &[route, ("status", status)],
        )
    };
    assert!(count("200") >= 1.0);
    assert_eq!(count("401"), 1.0);
    assert_eq!(count("400"), 1.0);
    assert_eq!(
        sample(&scrape, "tessera_http_request_duration_seconds", &[route]),
        count("200") + count("401") + count("400"),
        "the histogram's +Inf bucket counts every request"
    );
    let requests = &scrape.families["tessera_http_requests_total"];
    assert!(requests.iter_samples().all(|s| !s
        .get_labelset()
        .unwrap()
        .get_label_value("route")
        .unwrap()
        .contains("/services/")));
    assert!(sample(&scrape, "tessera_db_pool_connections", &[]) >= 1.0);
    // The hot-path caches count their lookups: realm `services` was read once, then found;
    // `billing` too (its second request was refused after the client was found).
    let lookups = |cache: &str, result: &str| {
        sample(
            &scrape,
            "tessera_cache_lookups_total",
            &[("cache", cache), ("result", result)],
        )
    };
    assert!(lookups("realms", "miss") >= 1.0);
    assert!(lookups("realms", "hit") >= 1.0);
    assert!(lookups("clients", "hit") >= 1.0);
    assert!(lookups("keys", "miss") >= 1.0);
    server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    let later = self::scrape(&server).await;
    assert!(
        sample(
            &later,
            "tessera_cache_lookups_total",
            &[("cache", "realms"), ("result", "hit")]
        ) > lookups("realms", "hit"),
        "another token, another hit"
    );
}

on_both_backends! {
    metrics => metrics_count_tokens_and_refusals,
}

async fn other_methods_get_json_405(server: TestServer) {
    for path in [
        "/realms/default/connect/token",
        "/realms/default/connect/introspect",
        "/realms/default/connect/revoke",
        "/connect/token",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], "POST");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
}

on_both_backends! {
    method_not_allowed => other_methods_get_json_405,
}

async fn algorithms_follow_realm_then_client(server: TestServer) {
    server
        .seed(
            r#"
[[realms]]
name = "algs"
signing_alg = "RS256"

[[realms.clients]]
client_id = "realm-default"
secret = "s1"
grant_types = ["client_credentials"]

[[realms.clients]]
client_id = "edwards"
secret = "s2"
grant_types = ["client_credentials"]
access_token_signing_alg = "EdDSA"
"#,
        )
        .await;
    for (client, secret, alg) in [("realm-default", "s1", "RS256"), ("edwards", "s2", "EdDSA")] {
        let token = server.client_token("algs", client, secret, None).await;
        let (header, _) = jwt_parts(&token);
        assert_eq!(header["alg"], alg, "{client}");
        assert_signed_by_realm(&server, "algs", &token).await;
        let introspected = server
            .post_form(
                "/realms/algs/connect/introspect",
                &[("token", &token)],
                Some((client, secret)),
            )
            .await;
        assert_eq!(introspected.body["active"], true);
    }
    // An unknown algorithm in a seed file is refused, naming the field.
    let bad = seed::parse("[[realms]]\nname = \"x\"\nsigning_alg = \"HS256\"\n").unwrap();
    let err = server::seeding::apply_file(
        &server.state.caches.store,
        &server.state.caches.keys,
        &server.state.secrets,
        crate::common::TEST_ARGON2,
        &bad,
        server.state.now(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("signing_alg"), "{err}");
}

on_both_backends! {
    signing_algorithms => algorithms_follow_realm_then_client,
}

async fn control_characters_never_reach_the_database(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    // Postgres refuses NUL in text; such input must be a protocol error, not a 500.
    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "bil\0ling"),
            ("client_secret", "x"),
        ],
        vec![
            ("grant_type", "password"),
            ("username", "a\0b"),
            ("password", "x"),
        ],
    ] {
        let response = server
            .post_form("/realms/services/connect/token", &form, None)
            .await;
        response.assert_oauth_error(400, "invalid_request");
    }
    let response = server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("bil\0ling", "x")),
        )
        .await;
    assert_eq!(response.status, 401);
    for path in [
        "/realms/a%00b/.well-known/jwks.json",
        "/oauth2/tokeninfo?realm=a%00b&access_token=x",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let page = server
        .http
        .get(server.url("/realms/services/connect/authorize?client_id=a%00b&response_type=code"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
}

on_both_backends! {
    control_characters => control_characters_never_reach_the_database,
}

//! The `tessera-resource` crate protecting a small axum API with this server's tokens: bearer
//! and DPoP-bound tokens, scopes per route, wrong audiences and forged tokens, key rotation,
//! challenges naming the RFC 9728 metadata, and the metadata itself.

use axum::routing::get;
use reqwest::Method;
use serde_json::{json, Value};
use tessera_resource::{AccessToken, Config, RequireToken, RevocationPolling, Verifier};

use super::signed_requests::{create_client, TestKey, KEYS_SEED};
use crate::common::TestServer;
use crate::on_both_backends;

const SECRET: &str = "service-secret-123456";

/// Starts the API on loopback, polling `revocations` if given; returns its base URL.
async fn start_api(server: &TestServer, revocations: Option<RevocationPolling>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::new(server.issuer("keys"), "https://orders.example");
    config.public_origin = base.clone();
    config.metadata_url = format!("{base}/.well-known/oauth-protected-resource");
    config.scopes_supported = vec!["orders.read".into()];
    config.revocations = revocations;
    let verifier = Verifier::new(config).unwrap();
    let app = axum::Router::new()
        .route(
            "/orders",
            get(|token: AccessToken| async move { format!("orders of {}", token.subject()) }),
        )
        .layer(RequireToken::new(verifier.clone()).scopes(["orders.read"]))
        .merge(
            axum::Router::new()
                .route("/admin", get(|| async { "admin" }))
                .layer(RequireToken::new(verifier.clone()).scopes(["orders.write"])),
        )
        .merge(verifier.metadata_router());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn token(server: &TestServer, scope: &str, proof: Option<String>) -> String {
    let url = server.url("/realms/keys/connect/token");
    let mut request = server
        .http
        .post(&url)
        .basic_auth("svc", Some(SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)]);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {answer}"))
        .to_string()
}

async fn call(
    server: &TestServer,
    url: &str,
    authorization: Option<String>,
    proof: Option<String>,
) -> reqwest::Response {
    let mut request = server.http.get(url);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}

async fn protects_an_api_with_tessera_tokens(server: TestServer) {
    server.seed(KEYS_SEED).await;
    create_client(
        &server,
        json!({
            "client_id": "svc",
            "grant_types": ["client_credentials"],
            "scopes": ["orders.read", "invoices.read"],
            "client_secret": SECRET,
        }),
    )
    .await;
    let api = start_api(&server, None).await;
    let orders = format!("{api}/orders");

    let bearer = token(&server, "orders.read", None).await;
    let ok = call(&server, &orders, Some(format!("Bearer {bearer}")), None).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "orders of svc");

    // No token: a challenge naming the metadata, which says where tokens come from.
    let none = call(&server, &orders, None, None).await;
    assert_eq!(none.status(), 401);
    let challenge = none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(
        challenge.contains(&format!(
            r#"resource_metadata="{api}/.well-known/oauth-protected-resource""#
        )),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"scope="orders.read""#),
        "what to ask for: {challenge}"
    );
    let metadata: Value = server
        .http
        .get(format!("{api}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], "https://orders.example");
    assert_eq!(
        metadata["authorization_servers"],
        json!([server.issuer("keys")])
    );

    // A route needing another scope; a token for another audience; a forged one.
    let forbidden = call(
        &server,
        &format!("{api}/admin"),
        Some(format!("Bearer {bearer}")),
        None,
    )
    .await;
    assert_eq!(forbidden.status(), 403);
    assert!(forbidden.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains(r#"error="insufficient_scope""#));
    let other_audience = token(&server, "invoices.read", None).await;
    let wrong = call(
        &server,
        &orders,
        Some(format!("Bearer {other_audience}")),
        None,
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let (head, _) = bearer.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAA");
    assert_eq!(
        call(&server, &orders, Some(format!("Bearer {forged}")), None)
            .await
            .status(),
        401
    );

    // DPoP-bound tokens: only with a proof of their key, for this request.
    let key = TestKey::new();
    let token_url = server.url("/realms/keys/connect/token");
    let bound = token(
        &server,
        "orders.read",
        Some(key.proof("POST", &token_url, None, None)),
    )
    .await;
    let as_bearer = call(&server, &orders, Some(format!("Bearer {bound}")), None).await;
    assert_eq!(as_bearer.status(), 401);
    assert!(as_bearer.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("DPoP"));
    let proof = key.proof("GET", &orders, Some(&bound), None);
    let ok = call(
        &server,
        &orders,
        Some(format!("DPoP {bound}")),
        Some(proof.clone()),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let replayed = call(&server, &orders, Some(format!("DPoP {bound}")), Some(proof)).await;
    assert_eq!(replayed.status(), 401, "a proof is used once");
    let other_key = TestKey::new();
    let stolen = call(
        &server,
        &orders,
        Some(format!("DPoP {bound}")),
        Some(other_key.proof("GET", &orders, Some(&bound), None)),
    )
    .await;
    assert_eq!(stolen.status(), 401);
    let other_url = call(
        &server,
        &orders,
        Some(format!("DPoP {bound}")),
        Some(key.proof("GET", &format!("{api}/elsewhere"), Some(&bound), None)),
    )
    .await;
    assert_eq!(other_url.status(), 401);

    // The realm rotates its key: new tokens verify without restarting the API.
    let rotated = server
        .admin(Method::POST, "/realms/keys/keys/rotate", Some(json!({})))
        .await;
    assert!(rotated.status < 300, "{}", rotated.text);
    let fresh = token(&server, "orders.read", None).await;
    let (header, _) = crate::common::jwt_parts(&fresh);
    let (old_header, _) = crate::common::jwt_parts(&bearer);
    assert_ne!(header["kid"], old_header["kid"], "a new key signs");
    let ok = call(&server, &orders, Some(format!("Bearer {fresh}")), None).await;
    assert_eq!(ok.status(), 200);
    // Tokens of the previous key still verify while it is published.
    let ok = call(&server, &orders, Some(format!("Bearer {bearer}")), None).await;
    assert_eq!(ok.status(), 200);
}

/// Calls `url` with `token` until the answer is `status` (the API polls its list in the
/// background); panics after five seconds.
async fn until_status(server: &TestServer, url: &str, token: &str, status: u16) {
    for _ in 0..100 {
        let answer = call(server, url, Some(format!("Bearer {token}")), None).await;
        if answer.status() == status {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{url} never answered {status}");
}

/// Plan B revocation lists, polled by the crate: RFC 7009 revocations (TOKEN entries) and
/// CLAIM entries reach an API that checks its tokens offline; tokens issued after a CLAIM
/// entry pass; an API that never read its list refuses tokens rather than guess.
async fn honours_the_realms_revocation_list(server: TestServer) {
    server.seed(KEYS_SEED).await;
    for scope in ["revocations:read", "revocations:write"] {
        let created = server
            .admin(
                Method::POST,
                "/realms/keys/scopes",
                Some(json!({"name": scope})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    for (client_id, scopes) in [
        ("svc", json!(["orders.read"])),
        ("poller", json!(["revocations:read", "revocations:write"])),
    ] {
        create_client(
            &server,
            json!({
                "client_id": client_id,
                "grant_types": ["client_credentials"],
                "scopes": scopes,
                "client_secret": SECRET,
            }),
        )
        .await;
    }
    let salt = server
        .admin(Method::GET, "/realms/keys/revocation-salt", None)
        .await;
    assert_eq!(salt.status, 200, "{}", salt.text);
    assert_eq!(salt.body["hash_algorithm"], "SHA-256");
    assert_eq!(
        server
            .audit_events("realm.revocation_salt_read")
            .await
            .len(),
        1,
        "reading the salt is audited"
    );
    let salt = salt.body["salt"].as_str().unwrap().to_string();
    let mut polling =
        RevocationPolling::new(&server.issuer("keys"), salt.clone(), "poller", SECRET);
    polling.interval = std::time::Duration::from_millis(100);
    let api = start_api(&server, Some(polling.clone())).await;
    let orders = format!("{api}/orders");

    // RFC 7009 at the issuer: the API refuses the token soon after, and only that one.
    let revoked = token(&server, "orders.read", None).await;
    let kept = token(&server, "orders.read", None).await;
    until_status(&server, &orders, &revoked, 200).await;
    let answer = server
        .post_form(
            "/realms/keys/connect/revoke",
            &[("token", &revoked)],
            Some(("svc", SECRET)),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    until_status(&server, &orders, &revoked, 401).await;
    until_status(&server, &orders, &kept, 200).await;

    // A CLAIM entry for the client: its earlier tokens go, later ones pass.
    let writer = server
        .post_form(
            "/realms/keys/connect/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "revocations:write"),
            ],
            Some(("poller", SECRET)),
        )
        .await;
    let writer = writer.body["access_token"].as_str().unwrap().to_string();
    // Explicitly past `kept`'s second (`iat` < `issued_before`), however fast this runs.
    let (_, kept_claims) = crate::common::jwt_parts(&kept);
    let cut = kept_claims["iat"].as_i64().unwrap() + 1;
    let listed = server
        .http
        .post(server.url("/realms/keys/revocations"))
        .bearer_auth(&writer)
        .json(&json!({"type": "CLAIM", "data": {"claims": {"client_id": "svc"}, "issued_before": cut}}))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 201);
    until_status(&server, &orders, &kept, 401).await;
    // `iat` is in seconds: a token of the entry's second would still be cut by it.
    while server.state.now().timestamp() < cut {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let after = token(&server, "orders.read", None).await;
    until_status(&server, &orders, &after, 200).await;

    // Without the list (a wrong secret), the API answers 503 instead of guessing.
    polling.secret = "not-the-secret-at-all".into();
    let blind = start_api(&server, Some(polling)).await;
    let answer = call(
        &server,
        &format!("{blind}/orders"),
        Some(format!("Bearer {after}")),
        None,
    )
    .await;
    assert_eq!(answer.status(), 503);
}

on_both_backends! {
    protects => protects_an_api_with_tessera_tokens,
    revocation_lists => honours_the_realms_revocation_list,
}

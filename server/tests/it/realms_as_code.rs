//! Realms as code: a realm exported as one document and imported into a fresh database
//! keeps verifying its tokens, authenticating its clients and signing in its users under the
//! same `sub`; the same import twice changes nothing, and a broken one changes nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Backend, Options, TestServer};
use crate::on_both_backends;

const ACME: &str = r#"
[[realms]]
name = "acme"
access_token_lifetime = 900

[[realms.scopes]]
name = "orders.read"

[[realms.api_resources]]
name = "orders-api"
scopes = ["orders.read"]
secret = "orders-api-plaintext-secret"

[[realms.clients]]
client_id = "billing"
secret = "billing-plaintext-secret"
grant_types = ["client_credentials"]
scopes = ["orders.read"]

[[realms.clients]]
client_id = "app"
secret = "app-plaintext-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "profile", "orders.read", "offline_access"]

[[realms.users]]
username = "alice"
password = "alice-plaintext-password"
email = "alice@acme.example"
roles = ["buyer", "auditor"]
claims = { name = "Alice Example" }

[[realms.users]]
username = "bob"
password = "bob-plaintext-password"

[[realms.exchange_policies]]
client_id = "billing"
audiences = ["orders-api"]
"#;

fn backend_of(server: &TestServer) -> Backend {
    if server.database_url.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// A second server on a fresh database of the same kind, sharing the master key.
async fn fresh_peer(server: &TestServer) -> TestServer {
    TestServer::start_with(
        backend_of(server),
        Options {
            master_key: Some(server.master_key.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("the backend of the first server runs")
}

async fn export(server: &TestServer, realm: &str, include_keys: bool) -> Value {
    let response = server
        .admin(
            Method::GET,
            &format!("/realms/{realm}/export?include_keys={include_keys}"),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

async fn import(server: &TestServer, document: &Value, dry_run: bool) -> crate::common::Response {
    server
        .admin(
            Method::POST,
            &format!("/realm-imports?dry_run={dry_run}"),
            Some(document.clone()),
        )
        .await
}

fn changes(response: &crate::common::Response) -> Vec<String> {
    assert_eq!(response.status, 200, "{}", response.text);
    serde_json::from_value(response.body["changes"].clone()).unwrap()
}

async fn alice_signs_in(server: &TestServer) -> Value {
    let response = server
        .password_grant(
            "acme",
            ("app", "app-plaintext-secret"),
            "alice",
            "alice-plaintext-password",
            Some("openid orders.read"),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let token = response.body["access_token"].as_str().unwrap();
    crate::common::jwt_parts(token).1
}

async fn export_then_import_into_a_fresh_database(source: TestServer) {
    source.seed(ACME).await;
    let token = source
        .client_token("acme", "billing", "billing-plaintext-secret", None)
        .await;
    let alice = alice_signs_in(&source).await;

    // Without keys: hashes only, no signing keys, no sealed values, no revocation salt.
    let plain = export(&source, "acme", false).await;
    assert_eq!(plain["format"], "tessera.realm/v1");
    assert!(plain.get("signing_keys").is_none());
    assert!(plain["realm"].get("revocation_salt").is_none());
    assert_eq!(plain["users"][0]["roles"], json!(["auditor", "buyer"]));
    assert!(source.audit_events("realm.exported").await.is_empty());

    // A realm makes its RS256 key on first use; serving its JWKS makes it, so the document
    // carries a key of every algorithm.
    let jwks = source
        .http
        .get(source.url("/realms/acme/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let document = export(&source, "acme", true).await;
    assert_eq!(document["signing_keys"].as_array().unwrap().len(), 3);
    let text = document.to_string();
    for secret in [
        "billing-plaintext-secret",
        "app-plaintext-secret",
        "orders-api-plaintext-secret",
        "alice-plaintext-password",
        "bob-plaintext-password",
    ] {
        assert!(!text.contains(secret), "`{secret}` leaked into the export");
    }
    let keys = document["signing_keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k["private_key_encrypted"].is_string()));
    assert!(keys.iter().all(|k| k["public_jwk"].get("d").is_none()));
    assert_eq!(source.audit_events("realm.exported").await.len(), 1);

    let target = fresh_peer(&source).await;
    // A dry run reports the changes and makes none.
    let dry = import(&target, &document, true).await;
    assert!(changes(&dry)
        .iter()
        .any(|c| c == "created client \"billing\""));
    assert_eq!(dry.body["realm_created"], true);
    let missing = target.admin(Method::GET, "/realms/acme", None).await;
    assert_eq!(missing.status, 404, "a dry run creates nothing");

    let first = import(&target, &document, false).await;
    assert!(!changes(&first).is_empty());
    assert_eq!(first.body["realm_created"], true);

    // The source's token verifies with the target's JWKS (both serve one issuer in a real
    // move; here their addresses differ, so the issuer is the source's).
    let (header, _) = crate::common::jwt_parts(&token);
    let jwks: jsonwebtoken::jwk::JwkSet = target
        .http
        .get(target.url("/realms/acme/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks
        .find(header["kid"].as_str().unwrap())
        .expect("the target publishes the source's key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&[source.issuer("acme")]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .expect("the source's token verifies with the target's keys");

    // The same clients authenticate, and alice keeps her `sub` and roles.
    target
        .client_token("acme", "billing", "billing-plaintext-secret", None)
        .await;
    let alice_there = alice_signs_in(&target).await;
    assert_eq!(alice_there["sub"], alice["sub"]);

    // A second import changes nothing and records nothing; the realm exports as it came.
    let events = target.audit_events("realm.imported").await.len();
    assert_eq!(events, 1);
    let second = import(&target, &document, false).await;
    assert_eq!(changes(&second), Vec::<String>::new());
    assert_eq!(second.body["realm_created"], false);
    assert_eq!(target.audit_events("realm.imported").await.len(), events);
    assert_eq!(export(&target, "acme", true).await, document);

    // A document exported before the realm made its RSA key (on first use) leaves that key
    // alone: applying it again changes nothing.
    let mut before_rsa = document.clone();
    before_rsa["signing_keys"] = json!(document["signing_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] != "RS256")
        .collect::<Vec<_>>());
    let again = import(&target, &before_rsa, false).await;
    assert_eq!(changes(&again), Vec::<String>::new());
    assert_eq!(export(&target, "acme", true).await, document);

    // Restoring keys: after a rotation on the target, the document's keys sign again and the
    // ones made since are retired (still published for the tokens they signed).
    let rotated = target
        .admin(
            reqwest::Method::POST,
            "/realms/acme/keys/rotate",
            Some(json!({})),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let restored = import(&target, &document, false).await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    let retired = changes(&restored)
        .iter()
        .filter(|c| c.contains("signing key"))
        .count();
    assert_eq!(
        retired, 6,
        "three keys active again, three retired: {}",
        restored.text
    );
    let kids = crate::common::document_kids(&document);
    let token = target
        .client_token("acme", "billing", "billing-plaintext-secret", None)
        .await;
    let kid = crate::common::jwt_parts(&token).0["kid"].clone();
    assert!(kids.contains(&kid.as_str().unwrap()), "{kid} signs again");
}

async fn a_broken_import_changes_nothing(server: TestServer) {
    server.seed(ACME).await;
    let before = export(&server, "acme", true).await;

    let mut edited = before.clone();
    edited["scopes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["name"] == "orders.read")
        .unwrap()["description"] = json!("Read every order");
    edited["clients"].as_array_mut().unwrap().push(json!({
        "client_id": "new-service",
        "public": false,
        "grant_types": ["client_credentials"],
        "redirect_uris": [], "post_logout_redirect_uris": [], "scopes": [], "audiences": [],
        "roles": [], "require_pkce": true, "require_consent": false,
        "allow_arbitrary_claims": false, "always_issue_refresh_token": false, "mfa": "inherit",
        "enabled": true, "require_par": false, "require_signed_request_object": false,
        "dpop_bound_access_tokens": false, "secrets": []
    }));

    // Each of these fails the whole import, and says where.
    let mut unknown_role = edited.clone();
    unknown_role["users"][0]["roles"] = json!(["buyer", "no-such-role"]);
    let mut bad_grant = edited.clone();
    bad_grant["clients"][0]["grant_types"] = json!("client_credentials");
    let mut unknown_field = edited.clone();
    unknown_field["clients"][0]["colour"] = json!("blue");
    let mut server_kept = edited.clone();
    server_kept["users"][0]["failed_login_count"] = json!(0);
    let mut bad_alg = edited.clone();
    bad_alg["realm"]["signing_alg"] = json!("HS256");
    let mut foreign_key = edited.clone();
    foreign_key["signing_keys"][0]["kid"] = json!("renamed-kid");
    let mut wrong_format = edited.clone();
    wrong_format["format"] = json!("keycloak");
    let mut endless = edited.clone();
    endless["realm"]["access_token_lifetime"] = json!(100_000_000_000_000_i64);
    let mut endless_client = edited.clone();
    endless_client["clients"][0]["refresh_token_lifetime"] = json!(-5);
    let mut keyless = edited.clone();
    keyless["signing_keys"] = json!([]);
    let mut not_a_list = edited.clone();
    not_a_list["scopes"][0]["claims"] = json!("address");
    let mut master = edited.clone();
    master["realm"]["name"] = json!("master");
    let cases = [
        (unknown_role, "no-such-role"),
        (bad_grant, "grant_types"),
        (unknown_field, "colour"),
        (server_kept, "failed_login_count"),
        (bad_alg, "HS256"),
        (foreign_key, "renamed-kid"),
        (wrong_format, "format"),
        (endless, "realm"),
        (endless_client, "client \"app\""),
        (keyless, "no active"),
        (not_a_list, "scopes"),
        (master, "master"),
    ];
    for (document, named) in cases {
        let response = import(&server, &document, false).await;
        assert_eq!(response.status, 422, "{named}: {}", response.text);
        assert!(
            response.body["message"].as_str().unwrap().contains(named),
            "the error names `{named}`: {}",
            response.text
        );
    }
    let not_json = server
        .http
        .post(server.url("/admin/api/realm-imports"))
        .bearer_auth(server.admin_token().await)
        .header("content-type", "application/json")
        .body("{\"format\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(
        export(&server, "acme", true).await,
        before,
        "nothing changed"
    );
    assert!(server.audit_events("realm.imported").await.is_empty());

    // The valid edit applies: exactly its two changes, once.
    let applied = import(&server, &edited, false).await;
    assert_eq!(
        changes(&applied),
        vec![
            "updated scope \"orders.read\"".to_string(),
            "created client \"new-service\"".to_string(),
        ]
    );
    let again = import(&server, &edited, false).await;
    assert!(changes(&again).is_empty());
    let events = server.audit_events("realm.imported").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].detail["change_count"], 2,
        "{:?}",
        events[0].detail
    );
}

/// A password hash changed by an import is a password change: the user's refresh tokens end.
async fn a_new_password_hash_ends_refresh_tokens(server: TestServer) {
    server.seed(ACME).await;
    let signed_in = server
        .password_grant(
            "acme",
            ("app", "app-plaintext-secret"),
            "alice",
            "alice-plaintext-password",
            Some("openid offline_access"),
        )
        .await;
    let refresh_token = signed_in.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut document = export(&server, "acme", false).await;
    let users = document["users"].as_array_mut().unwrap();
    let bob_hash = users.iter().find(|u| u["username"] == "bob").unwrap()["password_hash"].clone();
    users.iter_mut().find(|u| u["username"] == "alice").unwrap()["password_hash"] = bob_hash;
    let applied = import(&server, &document, false).await;
    assert_eq!(
        changes(&applied),
        vec!["updated user \"alice\"".to_string()]
    );
    server
        .refresh(
            "acme",
            ("app", "app-plaintext-secret"),
            &refresh_token,
            None,
        )
        .await
        .assert_oauth_error(400, "invalid_grant");
    let again = server
        .password_grant(
            "acme",
            ("app", "app-plaintext-secret"),
            "alice",
            "bob-plaintext-password",
            None,
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
}

/// Many imports of one new realm at once: one creates it, the others find it made (or, from
/// another process, fail with a conflict), and the realm ends as the document says. A
/// document without ids (hand-written, or a copy) gets ids drawn.
async fn concurrent_imports_of_one_realm(server: TestServer) {
    server.seed(ACME).await;
    let mut document = export(&server, "acme", false).await;
    document["realm"]["name"] = json!("acme-copy");
    document["realm"].as_object_mut().unwrap().remove("id");
    for section in [
        "scopes",
        "claim_types",
        "api_resources",
        "clients",
        "roles",
        "exchange_policies",
    ] {
        for item in document[section].as_array_mut().unwrap() {
            item.as_object_mut().unwrap().remove("id");
        }
    }
    for user in document["users"].as_array_mut().unwrap() {
        user.as_object_mut().unwrap().remove("id");
    }
    for client in document["clients"].as_array_mut().unwrap() {
        for secret in client["secrets"].as_array_mut().unwrap() {
            secret.as_object_mut().unwrap().remove("id");
        }
    }
    let attempts = (0..6).map(|_| import(&server, &document, false));
    let responses = futures::future::join_all(attempts).await;
    let created = responses
        .iter()
        .filter(|r| r.status == 200 && r.body["realm_created"] == true)
        .count();
    assert_eq!(created, 1, "exactly one import creates the realm");
    for response in &responses {
        assert!(
            [200, 409].contains(&response.status),
            "{}: {}",
            response.status,
            response.text
        );
    }
    let settled = import(&server, &document, false).await;
    assert!(changes(&settled).is_empty());
    let copy = export(&server, "acme-copy", false).await;
    assert_eq!(copy["clients"].as_array().unwrap().len(), 2);
    assert_eq!(copy["users"][0]["username"], "alice");
}

on_both_backends! {
    export_import_round_trip => export_then_import_into_a_fresh_database,
    broken_import => a_broken_import_changes_nothing,
    password_hash => a_new_password_hash_ends_refresh_tokens,
    concurrent_imports => concurrent_imports_of_one_realm,
}

//! Key rotation: a new active key signs, the old one stays published and its tokens stay valid.

use crate::common::{jwt_parts, TestServer, BILLING, SERVICES_SEED};
use crate::on_both_backends;

async fn jwks_kids(server: &TestServer, realm: &str) -> Vec<String> {
    let jwks: serde_json::Value = server
        .http
        .get(server.url(&format!("/realms/{realm}/.well-known/jwks.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server::keys::jwks_kids(&jwks)
}

async fn rotation_keeps_old_keys_published(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let before = jwks_kids(&server, "services").await;
    assert_eq!(before.len(), 3);
    let old_token = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    let (old_header, _) = jwt_parts(&old_token);

    let realm = server
        .state
        .caches
        .directory
        .realm("services")
        .await
        .unwrap()
        .unwrap();
    let grace = server::keys::rotation_grace(&server.state.caches.store, &realm)
        .await
        .unwrap();
    assert_eq!(
        grace, 3600,
        "the longest token lifetime of the realm (the ID token default)"
    );
    let new_kids = server
        .state
        .caches
        .keys
        .rotate(
            &realm.id,
            chrono::Duration::seconds(grace),
            server.state.now(),
        )
        .await
        .unwrap();

    let after = jwks_kids(&server, "services").await;
    assert_eq!(after.len(), 6, "old and new keys are both published");
    for kid in before.iter().chain(new_kids.iter()) {
        assert!(after.contains(kid));
    }

    let new_token = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    let (new_header, _) = jwt_parts(&new_token);
    assert_ne!(new_header["kid"], old_header["kid"]);
    assert!(new_kids
        .iter()
        .any(|k| k == new_header["kid"].as_str().unwrap()));
    super::client_credentials::assert_signed_by_realm(&server, "services", &new_token).await;

    for token in [&old_token, &new_token] {
        let response = server
            .post_form(
                "/realms/services/connect/introspect",
                &[("token", token)],
                Some(BILLING),
            )
            .await;
        assert_eq!(response.body["active"], true);
    }
}

async fn private_keys_are_encrypted_at_rest(server: TestServer) {
    use sea_orm::EntityTrait;
    let rows = entity::signing_key::Entity::find()
        .all(&server.state.caches.store.db)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let master_key =
        server::crypto::master_key::MasterKey::from_base64(&server.master_key).unwrap();
    let wrong_key = server::crypto::master_key::MasterKey::generate();
    for row in rows {
        assert!(row.public_jwk.get("d").is_none());
        let der = master_key
            .open(&row.private_key_encrypted, row.kid.as_bytes())
            .unwrap();
        assert!(der.len() > 32, "decrypts under the master key");
        assert!(wrong_key
            .open(&row.private_key_encrypted, row.kid.as_bytes())
            .is_err());
        // kid is the RFC 7638 thumbprint of the public key.
        let mut members = row.public_jwk.clone();
        let map = members.as_object_mut().unwrap();
        for extra in ["kid", "alg", "use"] {
            map.remove(extra);
        }
        assert_eq!(server::keys::thumbprint(&members), row.kid);
    }
}

/// The algorithms of the realm's stored keys, sorted.
async fn stored_algs(server: &TestServer, realm: &str) -> Vec<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let realm = server
        .state
        .caches
        .directory
        .realm(realm)
        .await
        .unwrap()
        .unwrap();
    let mut algs: Vec<String> = entity::signing_key::Entity::find()
        .filter(entity::signing_key::Column::RealmId.eq(realm.id.as_str()))
        .all(&server.state.caches.store.db)
        .await
        .unwrap()
        .into_iter()
        .map(|key| key.alg)
        .collect();
    algs.sort();
    algs
}

async fn rsa_keys_are_made_on_first_use(server: TestServer) {
    use reqwest::Method;
    use serde_json::json;
    for realm in ["lazy-sign", "lazy-jwks"] {
        let created = server
            .admin(Method::POST, "/realms", Some(json!({"name": realm})))
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(
            stored_algs(&server, realm).await,
            ["ES256", "EdDSA"],
            "a new realm gets the keys that are quick to make"
        );
    }

    // Eight first uses of RS256 at once make one key, and every token is signed by it.
    let client = server
        .admin(
            Method::POST,
            "/realms/lazy-sign/clients",
            Some(json!({
                "client_id": "rsa-service",
                "grant_types": ["client_credentials"],
                "access_token_signing_alg": "RS256",
            })),
        )
        .await;
    assert_eq!(client.status, 201, "{}", client.text);
    let secret = client.body["client_secret"].as_str().unwrap().to_string();
    let tokens = futures::future::join_all((0..8).map(|_| {
        server.post_form(
            "/realms/lazy-sign/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("rsa-service", secret.as_str())),
        )
    }))
    .await;
    assert_eq!(
        stored_algs(&server, "lazy-sign").await,
        ["ES256", "EdDSA", "RS256"]
    );
    let published = jwks_kids(&server, "lazy-sign").await;
    assert_eq!(published.len(), 3);
    for token in tokens {
        assert_eq!(token.status, 200, "{}", token.text);
        let (header, _) = jwt_parts(token.body["access_token"].as_str().unwrap());
        assert_eq!(header["alg"], "RS256");
        assert!(published.contains(&header["kid"].as_str().unwrap().to_string()));
        super::client_credentials::assert_signed_by_realm(
            &server,
            "lazy-sign",
            token.body["access_token"].as_str().unwrap(),
        )
        .await;
    }

    // A verifier that fetches the JWKS before any RS256 token exists still gets every key.
    assert_eq!(jwks_kids(&server, "lazy-jwks").await.len(), 3);
    assert_eq!(
        stored_algs(&server, "lazy-jwks").await,
        ["ES256", "EdDSA", "RS256"]
    );
}

on_both_backends! {
    lazy_rsa => rsa_keys_are_made_on_first_use,
    rotation => rotation_keeps_old_keys_published,
    encrypted_at_rest => private_keys_are_encrypted_at_rest,
}

//! Rotating the master key in place: every sealed value is sealed again with the new key in
//! one go; what was issued before (tokens, generated client secrets, refresh tokens) keeps
//! working with the new key, and the old key no longer starts a server.

use reqwest::Method;
use serde_json::json;
use server::crypto::master_key::MasterKey;
use server::master_key_rotation::{self, RotationError};

use crate::common::{basic_header, Backend, TestServer, BILLING, SERVICES_SEED};
use crate::multiprocess::spawn_process;

async fn sealed_values_of_every_kind(server: &TestServer) -> String {
    let smtp = server
        .admin(
            Method::PUT,
            "/realms/services/smtp",
            Some(json!({
                "host": "127.0.0.1", "port": 2525, "security": "none",
                "username": "mailer", "password": "smtp-password", "from": "id@example.org",
            })),
        )
        .await;
    assert_eq!(smtp.status, 200, "{}", smtp.text);
    let provider = server
        .admin(
            Method::POST,
            "/realms/services/identity-providers",
            Some(json!({
                "alias": "upstream", "issuer": "https://idp.example.org",
                "client_id": "tessera", "client_secret": "upstream-secret",
            })),
        )
        .await;
    assert_eq!(provider.status, 201, "{}", provider.text);
    let directory = server
        .admin(
            Method::POST,
            "/realms/services/directories",
            Some(json!({
                "name": "corp", "url": "ldap://127.0.0.1:1", "bind_dn": "cn=reader",
                "bind_password": "bind-password", "user_base_dn": "dc=example,dc=org",
            })),
        )
        .await;
    assert_eq!(directory.status, 201, "{}", directory.text);
    let jwt_client = server
        .admin(
            Method::POST,
            "/realms/services/clients",
            Some(json!({
                "client_id": "hmac-signer", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_jwt",
            })),
        )
        .await;
    assert_eq!(jwt_client.status, 201, "{}", jwt_client.text);
    let generated = server
        .admin(
            Method::POST,
            "/realms/services/clients",
            Some(json!({"client_id": "generated", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(generated.status, 201, "{}", generated.text);
    let db = &server.state.caches.store.db;
    let realm = server::store::realms::find_by_name(db, "services")
        .await
        .unwrap()
        .unwrap();
    let user = server::store::users::find_by_username(db, &realm.id, "totp-user")
        .await
        .unwrap()
        .unwrap();
    server
        .state
        .factors
        .import_totp(&user, None, "test", server.state.now())
        .await
        .unwrap();
    generated.body["client_secret"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_reseals_everything_and_keeps_what_was_issued() {
    let first = TestServer::start(Backend::Sqlite).await.unwrap();
    first.seed(SERVICES_SEED).await;
    first
        .seed(
            r#"
[[realms]]
name = "services"

[[realms.users]]
username = "totp-user"
password = "totp-user-password"
"#,
        )
        .await;
    let generated_secret = sealed_values_of_every_kind(&first).await;
    let token = first
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    let store = &first.state.caches.store;
    let old = MasterKey::from_base64(&first.master_key).unwrap();
    let count = master_key_rotation::check(store, &old).await.unwrap();
    assert!(count >= 10, "signing keys and five other kinds: {count}");

    let new_key = MasterKey::generate().to_base64();
    let same = master_key_rotation::rotate(
        store,
        &old,
        MasterKey::from_base64(&first.master_key).unwrap(),
        first.state.now(),
    )
    .await;
    assert!(matches!(same, Err(RotationError::SameKey)));
    let resealed = master_key_rotation::rotate(
        store,
        &old,
        MasterKey::from_base64(&new_key).unwrap(),
        first.state.now(),
    )
    .await
    .unwrap();
    assert_eq!(resealed, count);
    let new = master_key_rotation::resolve(store, MasterKey::from_base64(&new_key).unwrap())
        .await
        .unwrap();
    assert_eq!(
        master_key_rotation::check(store, &new).await.unwrap(),
        count
    );
    assert!(matches!(
        master_key_rotation::check(store, &old).await,
        Err(RotationError::Unopenable(_))
    ));
    assert_eq!(first.audit_events("master_key.rotated").await.len(), 1);

    // The old key no longer starts a server on this database.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "rotate", "--realm", "services"])
        .env("TESSERA_DATABASE_URL", &first.database_url)
        .env("TESSERA_MASTER_KEY", &first.master_key)
        .env("TESSERA_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("TESSERA_MASTER_KEY"), "{stderr}");

    // A server with the new key verifies the old token, authenticates the generated secret
    // (its hash's pepper derives from the kept root) and signs new tokens.
    let second = spawn_process(&first, &[("TESSERA_MASTER_KEY", new_key.as_str())]).await;
    let introspection = first
        .http
        .post(format!(
            "{}/realms/services/connect/introspect",
            second.base
        ))
        .header(
            "Authorization",
            basic_header("orders-api", "orders-api-secret"),
        )
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true, "{introspection}");
    let issued = first
        .http
        .post(format!("{}/realms/services/connect/token", second.base))
        .header(
            "Authorization",
            basic_header("generated", &generated_secret),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 200, "{}", issued.text().await.unwrap());

    // A second rotation starts from the root the first one kept.
    let newer = MasterKey::generate();
    let newer_b64 = newer.to_base64();
    master_key_rotation::rotate(store, &new, newer, first.state.now())
        .await
        .unwrap();
    let newest = master_key_rotation::resolve(store, MasterKey::from_base64(&newer_b64).unwrap())
        .await
        .unwrap();
    assert_eq!(newest.derivation_root(), old.derivation_root());
    assert_eq!(
        master_key_rotation::check(store, &newest).await.unwrap(),
        count
    );
    drop(second);
}

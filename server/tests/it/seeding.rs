//! Seeding is idempotent and the bootstrap admin is never overwritten.

use sea_orm::{EntityTrait, PaginatorTrait};

use crate::common::{TestServer, SERVICES_SEED};
use crate::on_both_backends;

async fn counts(server: &TestServer) -> [u64; 6] {
    let db = &server.state.caches.store.db;
    [
        entity::realm::Entity::find().count(db).await.unwrap(),
        entity::client::Entity::find().count(db).await.unwrap(),
        entity::scope::Entity::find().count(db).await.unwrap(),
        entity::user::Entity::find().count(db).await.unwrap(),
        entity::signing_key::Entity::find().count(db).await.unwrap(),
        entity::api_resource::Entity::find()
            .count(db)
            .await
            .unwrap(),
    ]
}

async fn seeding_twice_changes_nothing(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let once = counts(&server).await;
    server.seed(SERVICES_SEED).await;
    assert_eq!(counts(&server).await, once);
    // Four realms (master, default, services, other), each with the 7 standard scopes.
    assert_eq!(once[0], 4);
    assert!(once[2] >= 4 * 7);

    // The start-up bootstrap is idempotent as well, and reports no new password.
    let store = &server.state.caches.store;
    let report = server::seeding::Bootstrap {
        store,
        keys: &server.state.caches.keys,
        secrets: &server.state.secrets,
        argon2: Default::default(),
        admin_username: "admin",
        admin_password: None,
    }
    .run(server.state.now())
    .await
    .unwrap();
    assert!(report.generated_admin_password.is_none());
    assert!(report.created_realms.is_empty());
    assert_eq!(counts(&server).await, once);
}

async fn bootstrap_admin_holds_the_admin_role(server: TestServer) {
    let store = &server.state.caches.store;
    let master = server::store::realms::find_by_name(&store.db, "master")
        .await
        .unwrap()
        .unwrap();
    let admin = server::store::users::find_by_username(&store.db, &master.id, "admin")
        .await
        .unwrap()
        .expect("bootstrap admin exists");
    let hash = admin.password_hash.expect("password is stored");
    assert!(
        hash.starts_with("$argon2id$"),
        "stored only as an argon2id hash"
    );
    assert!(server::crypto::password::verify("admin-password-1", &hash));
    let roles = server::store::users::role_names(&store.db, &admin.id)
        .await
        .unwrap();
    assert_eq!(roles, vec!["admin".to_string()]);
    let cli = server::store::clients::find(&store.db, &master.id, "admin-cli")
        .await
        .unwrap()
        .unwrap();
    assert!(cli.public);
    assert!(cli.allows_grant("password"));
}

async fn client_secrets_are_hashed(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let rows = entity::client_secret::Entity::find()
        .all(&server.state.caches.store.db)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert!(
            row.secret_hash.starts_with("$argon2id$"),
            "chosen secrets get argon2id"
        );
        assert!(!row.secret_hash.contains("secret"));
    }
}

on_both_backends! {
    idempotent => seeding_twice_changes_nothing,
    bootstrap_admin => bootstrap_admin_holds_the_admin_role,
    hashed_secrets => client_secrets_are_hashed,
}

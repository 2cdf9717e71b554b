//! The password grant: tokens for users, claims from scopes, the same refusal for every kind of
//! failure, lockout, and the Plan B provider aliases.

use openidconnect::core::CoreClient;
use openidconnect::{
    ClientId, ClientSecret, OAuth2TokenResponse, ResourceOwnerPassword, ResourceOwnerUsername,
    Scope,
};

use super::discovery::{discover, http};
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

pub const PEOPLE_SEED: &str = r#"
[[realms]]
name = "people"
access_token_lifetime = 600

[[realms.scopes]]
name = "orders.read"

[[realms.scopes]]
name = "org"
claims = ["department"]
include_in_access_token = true

[[realms.api_resources]]
name = "orders-api"
scopes = ["orders.read"]

[[realms.clients]]
client_id = "app"
secret = "app-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "profile", "email", "roles", "offline_access", "orders.read", "org"]
access_token_lifetime = 120

[[realms.clients]]
client_id = "other-app"
secret = "other-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "offline_access"]

[[realms.clients]]
client_id = "cc-only"
secret = "cc-secret"
grant_types = ["client_credentials"]
scopes = ["orders.read"]

[[realms.users]]
username = "alice"
password = "alice-password"
email = "alice@example.com"
roles = ["buyer", "auditor"]
claims = { name = "Alice Example", department = "R&D" }

[[realms.users]]
username = "bob"
password = "bob-password"
"#;

pub const APP: (&str, &str) = ("app", "app-secret");

pub async fn user_id(server: &TestServer, realm: &str, username: &str) -> String {
    let realm = server
        .state
        .caches
        .directory
        .realm(realm)
        .await
        .unwrap()
        .unwrap();
    server::store::users::find_by_username(&server.state.caches.store.db, &realm.id, username)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn openidconnect_password_grant(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let metadata = discover(&server, "people").await;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(APP.0.into()),
        Some(ClientSecret::new(APP.1.into())),
    );
    let response = client
        .exchange_password(
            &ResourceOwnerUsername::new("alice".into()),
            &ResourceOwnerPassword::new("alice-password".into()),
        )
        .unwrap()
        .add_scope(Scope::new("roles".into()))
        .add_scope(Scope::new("orders.read".into()))
        .add_scope(Scope::new("org".into()))
        .request_async(&http())
        .await
        .expect("password grant succeeds");
    assert!(
        response.refresh_token().is_none(),
        "no offline_access, no refresh token"
    );
    assert_eq!(
        response.expires_in().unwrap().as_secs(),
        120,
        "the client's lifetime wins"
    );
    let token = response.access_token().secret();
    super::client_credentials::assert_signed_by_realm(&server, "people", token).await;
    let (_, claims) = jwt_parts(token);
    assert_eq!(claims["sub"], user_id(&server, "people", "alice").await);
    assert_eq!(claims["client_id"], "app");
    assert_eq!(claims["aud"], "orders-api");
    let mut roles: Vec<String> = serde_json::from_value(claims["roles"].clone()).unwrap();
    roles.sort();
    assert_eq!(roles, vec!["auditor", "buyer"]);
    assert_eq!(
        claims["department"], "R&D",
        "a scope marked for access tokens releases its claims"
    );
    assert!(
        claims.get("email").is_none(),
        "identity scopes stay out of access tokens"
    );
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert!(claims["auth_time"].is_i64());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
}

async fn every_failure_looks_the_same(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let bob = user_id(&server, "people", "bob").await;
    server
        .state
        .accounts
        .set_enabled(&bob, false, "test", server.state.now())
        .await
        .unwrap();
    let cases = [
        ("alice", "wrong-password"),
        ("nobody", "whatever"),
        ("bob", "bob-password"),
    ];
    let mut bodies = Vec::new();
    for (username, password) in cases {
        let response = server
            .password_grant("people", APP, username, password, None)
            .await;
        response.assert_oauth_error(400, "invalid_grant");
        bodies.push(response.text.clone());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "identical answers: {bodies:?}"
    );
}

async fn repeated_failures_lock_the_account(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let wrong = server
        .password_grant("people", APP, "alice", "wrong", None)
        .await;
    // The test policy locks after three failures within the window.
    for _ in 0..3 {
        let response = server
            .password_grant("people", APP, "alice", "wrong", None)
            .await;
        assert_eq!(response.text, wrong.text);
    }
    let locked = server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await;
    assert_eq!(
        locked.text, wrong.text,
        "a locked account answers like a wrong password"
    );
    let events = server.audit_events("user.locked").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].target.as_deref(),
        Some(user_id(&server, "people", "alice").await.as_str())
    );
    let scrape = crate::client_credentials::scrape(&server).await;
    let lockouts =
        crate::client_credentials::sample(&scrape, "tessera_account_lockouts_total", &[]);
    assert_eq!(lockouts, 1.0, "one lockout counted");

    // Once the lock runs out the right password works again, and the unlock is audited.
    {
        use sea_orm::{ActiveModelTrait, Set};
        let past = server.state.now() - chrono::Duration::seconds(1);
        entity::user::ActiveModel {
            id: Set(user_id(&server, "people", "alice").await),
            locked_until: Set(Some(past)),
            ..Default::default()
        }
        .update(&server.state.caches.store.db)
        .await
        .unwrap();
    }
    let ok = server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(server.audit_events("user.unlocked").await.len(), 1);
    // A success resets the counter: two more failures do not lock.
    for _ in 0..2 {
        server
            .password_grant("people", APP, "alice", "wrong", None)
            .await;
    }
    let ok = server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await;
    assert_eq!(ok.status, 200);
}

async fn grant_and_scope_refusals(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    server
        .password_grant(
            "people",
            ("cc-only", "cc-secret"),
            "alice",
            "alice-password",
            None,
        )
        .await
        .assert_oauth_error(400, "unauthorized_client");
    server
        .password_grant("people", APP, "alice", "alice-password", Some("admin"))
        .await
        .assert_oauth_error(400, "invalid_scope");
    server
        .post_form(
            "/realms/people/connect/token",
            &[("grant_type", "password"), ("username", "alice")],
            Some(APP),
        )
        .await
        .assert_oauth_error(400, "invalid_request");
    // RFC 8707: a resource the client may address narrows `aud`; another is invalid_target.
    let response = server
        .post_form(
            "/realms/people/connect/token",
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("resource", "orders-api"),
            ],
            Some(APP),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (_, claims) = jwt_parts(response.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "orders-api");
    server
        .post_form(
            "/realms/people/connect/token",
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("resource", "https://elsewhere.example"),
            ],
            Some(APP),
        )
        .await
        .assert_oauth_error(400, "invalid_target");
}

async fn plan_b_provider_aliases(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-password"),
    ];
    for path in [
        "/realms/people/oauth2/access_token",
        "/oauth2/access_token?realm=/people",
        "/oauth2/access_token?realm=people",
    ] {
        let response = server.post_form(path, &form, Some(APP)).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text);
        assert_eq!(response.body["realm"], "/people");
        assert_eq!(response.body["token_type"], "Bearer");
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let (_, claims) = jwt_parts(response.body["access_token"].as_str().unwrap());
        assert_eq!(claims["iss"], server.issuer("people"));
    }
    let missing = server
        .post_form("/oauth2/access_token?realm=/nowhere", &form, Some(APP))
        .await;
    assert_eq!(missing.status, 404);
}

async fn master_admin_gets_a_token_from_admin_cli(server: TestServer) {
    let response = server
        .password_grant(
            "master",
            ("admin-cli", ""),
            "admin",
            "admin-password-1",
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (_, claims) = jwt_parts(response.body["access_token"].as_str().unwrap());
    assert_eq!(claims["roles"], serde_json::json!(["admin"]));
}

on_both_backends! {
    openidconnect_password => openidconnect_password_grant,
    uniform_failures => every_failure_looks_the_same,
    lockout => repeated_failures_lock_the_account,
    refusals => grant_and_scope_refusals,
    planb_aliases => plan_b_provider_aliases,
    master_admin => master_admin_gets_a_token_from_admin_cli,
}

//! Refresh tokens in flight: rotation, reuse detection, the grace window for concurrent
//! refreshes, scope narrowing, revocation, and the lifetime hierarchy.

use openidconnect::core::CoreClient;
use openidconnect::{
    ClientId, ClientSecret, OAuth2TokenResponse, ResourceOwnerPassword, ResourceOwnerUsername,
    Scope,
};

use super::discovery::{discover, http};
use super::password::{user_id, APP, PEOPLE_SEED};
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

async fn offline_token(server: &TestServer, scope: &str) -> String {
    let response = server
        .password_grant("people", APP, "alice", "alice-password", Some(scope))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string()
}

async fn openidconnect_refresh_rotates(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let metadata = discover(&server, "people").await;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(APP.0.into()),
        Some(ClientSecret::new(APP.1.into())),
    );
    let first = client
        .exchange_password(
            &ResourceOwnerUsername::new("alice".into()),
            &ResourceOwnerPassword::new("alice-password".into()),
        )
        .unwrap()
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("orders.read".into()))
        .request_async(&http())
        .await
        .unwrap();
    let refresh = first
        .refresh_token()
        .expect("offline_access yields a refresh token");
    assert_eq!(refresh.secret().len(), 43, "256 bits, base64url");
    let second = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http())
        .await
        .expect("refresh succeeds");
    let rotated = second.refresh_token().expect("a new refresh token");
    assert_ne!(rotated.secret(), refresh.secret(), "rotated on use");
    let (_, claims) = jwt_parts(second.access_token().secret());
    assert_eq!(claims["sub"], user_id(&server, "people", "alice").await);
    assert_eq!(claims["scope"], "offline_access orders.read");
    // Only hashes are stored.
    use sea_orm::EntityTrait;
    let rows = entity::refresh_token::Entity::find()
        .all(&server.state.caches.store.db)
        .await
        .unwrap();
    assert!(rows
        .iter()
        .all(|r| r.token_hash != refresh.secret().as_str()
            && r.token_hash != rotated.secret().as_str()));
}

async fn reuse_revokes_the_family(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let original = offline_token(&server, "offline_access").await;
    let next = server.refresh("people", APP, &original, None).await;
    assert_eq!(next.status, 200);
    let successor = next.body["refresh_token"].as_str().unwrap().to_string();

    // No grace by default: presenting the rotated token again is reuse.
    let reuse = server.refresh("people", APP, &original, None).await;
    reuse.assert_oauth_error(400, "invalid_grant");
    let after = server.refresh("people", APP, &successor, None).await;
    after.assert_oauth_error(400, "invalid_grant");
    assert_eq!(
        server
            .audit_events("refresh_token.reuse_detected")
            .await
            .len(),
        1
    );
}

async fn concurrent_refreshes_share_a_successor(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    server.seed(RETRY_SEED).await;
    let original = retry_token(&server).await;
    let (a, b) = tokio::join!(
        server.refresh("retry", RETRYING, &original, None),
        server.refresh("retry", RETRYING, &original, None)
    );
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(b.status, 200, "{}", b.text);
    assert_eq!(
        a.body["refresh_token"], b.body["refresh_token"],
        "the same successor"
    );
    let successor = a.body["refresh_token"].as_str().unwrap();
    let next = server.refresh("retry", RETRYING, successor, None).await;
    assert_eq!(
        next.status, 200,
        "the shared successor works: {}",
        next.text
    );
}

/// Without a grace, concurrent uses of one token are reuse (RFC 9700 §4.14.2): exactly one
/// rotation wins, the others are refused, and the family, the winner's successor included, is
/// revoked.
async fn concurrent_refreshes_without_grace_let_one_win(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let token = offline_token(&server, "offline_access").await;
    let answers =
        futures::future::join_all((0..8).map(|_| server.refresh("people", APP, &token, None)))
            .await;
    let (won, lost): (Vec<_>, Vec<_>) = answers.into_iter().partition(|a| a.status == 200);
    assert_eq!(won.len(), 1, "one rotation wins");
    for answer in lost {
        answer.assert_oauth_error(400, "invalid_grant");
    }
    let successor = won[0].body["refresh_token"].as_str().unwrap();
    server
        .refresh("people", APP, successor, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

async fn scope_may_narrow_never_widen(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let token = offline_token(&server, "offline_access orders.read roles").await;
    let narrowed = server
        .refresh("people", APP, &token, Some("orders.read"))
        .await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.text);
    assert_eq!(narrowed.body["scope"], "orders.read");
    let (_, claims) = jwt_parts(narrowed.body["access_token"].as_str().unwrap());
    assert!(claims.get("roles").is_none(), "roles were narrowed away");

    // The family keeps the original grant.
    let next = narrowed.body["refresh_token"].as_str().unwrap();
    let full = server.refresh("people", APP, next, None).await;
    assert_eq!(full.body["scope"], "offline_access orders.read roles");
    // Roles come from the user's record as it is now, read only when a scope releases them.
    let (_, claims) = jwt_parts(full.body["access_token"].as_str().unwrap());
    assert_eq!(claims["roles"], serde_json::json!(["auditor", "buyer"]));

    let next = full.body["refresh_token"].as_str().unwrap();
    server
        .refresh("people", APP, next, Some("orders.read email"))
        .await
        .assert_oauth_error(400, "invalid_scope");
}

async fn refresh_tokens_are_bound_and_revocable(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let token = offline_token(&server, "offline_access").await;
    // Another client cannot use it, and cannot revoke it.
    server
        .refresh("people", ("other-app", "other-secret"), &token, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    server
        .post_form(
            "/realms/people/connect/revoke",
            &[("token", &token)],
            Some(("other-app", "other-secret")),
        )
        .await
        .assert_oauth_error(400, "unauthorized_client");
    // Introspection describes it while it lives.
    let described = server
        .post_form(
            "/realms/people/connect/introspect",
            &[("token", &token)],
            Some(APP),
        )
        .await;
    assert_eq!(described.body["active"], true);
    assert_eq!(described.body["token_type"], "refresh_token");
    assert_eq!(described.body["client_id"], "app");

    let revoked = server
        .post_form(
            "/realms/people/connect/revoke",
            &[("token", &token), ("token_type_hint", "refresh_token")],
            Some(APP),
        )
        .await;
    assert_eq!(revoked.status, 200);
    server
        .refresh("people", APP, &token, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let described = server
        .post_form(
            "/realms/people/connect/introspect",
            &[("token", &token)],
            Some(APP),
        )
        .await;
    assert_eq!(described.body, serde_json::json!({"active": false}));
    server
        .refresh("people", APP, "not-a-token", None)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

async fn password_change_and_disabling_revoke_families(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let alice = user_id(&server, "people", "alice").await;
    let token = offline_token(&server, "offline_access").await;
    server
        .state
        .accounts
        .set_password(&alice, "new-alice-password", "test", server.state.now())
        .await
        .unwrap();
    server
        .refresh("people", APP, &token, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let response = server
        .password_grant(
            "people",
            APP,
            "alice",
            "new-alice-password",
            Some("offline_access"),
        )
        .await;
    assert_eq!(response.status, 200);
    let token = response.body["refresh_token"].as_str().unwrap().to_string();
    server
        .state
        .accounts
        .set_enabled(&alice, false, "test", server.state.now())
        .await
        .unwrap();
    server
        .refresh("people", APP, &token, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(server.audit_events("user.password_changed").await.len(), 1);
    assert_eq!(server.audit_events("user.disabled").await.len(), 1);
}

async fn lifetimes_resolve_client_realm_system(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    server
        .seed(
            r#"
[[realms]]
name = "default"
[[realms.clients]]
client_id = "plain"
secret = "plain-secret"
grant_types = ["client_credentials"]
"#,
        )
        .await;
    let lifetime = |token: &str| {
        let (_, claims) = jwt_parts(token);
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
    };
    // Client override.
    let app = server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await;
    assert_eq!(app.body["expires_in"], 120);
    assert_eq!(lifetime(app.body["access_token"].as_str().unwrap()), 120);
    // Realm default.
    let other = server
        .password_grant(
            "people",
            ("other-app", "other-secret"),
            "alice",
            "alice-password",
            None,
        )
        .await;
    assert_eq!(other.body["expires_in"], 600);
    assert_eq!(lifetime(other.body["access_token"].as_str().unwrap()), 600);
    // System default.
    let plain = server
        .client_token("default", "plain", "plain-secret", None)
        .await;
    assert_eq!(lifetime(&plain), 3600);
    // Refresh tokens: sliding window within the absolute lifetime (system defaults here).
    let token = offline_token(&server, "offline_access").await;
    let described = server
        .post_form(
            "/realms/people/connect/introspect",
            &[("token", &token)],
            Some(APP),
        )
        .await;
    let ttl = described.body["exp"].as_i64().unwrap() - described.body["iat"].as_i64().unwrap();
    assert!(
        (14 * 86400 - 5..=14 * 86400 + 5).contains(&ttl),
        "sliding window {ttl}"
    );
}

async fn sweeping_removes_dead_rows_only(server: TestServer) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    server.seed(PEOPLE_SEED).await;
    let live = offline_token(&server, "offline_access").await;
    let dead = offline_token(&server, "offline_access").await;
    // Two login sessions: one ended long ago, one live.
    let alice = user_id(&server, "people", "alice").await;
    let realm = server
        .state
        .caches
        .directory
        .realm("people")
        .await
        .unwrap()
        .unwrap();
    let db = &server.state.caches.store.db;
    let now = server.state.now();
    let mut session_ids = Vec::new();
    for started in [now - chrono::Duration::days(3), now] {
        let session = server::store::sessions::create(
            db,
            server::store::sessions::NewSession {
                realm_id: &realm.id,
                user_id: &alice,
                cookie_scope: "test",
                auth_time: started,
                acr: None,
                amr: &[],
                expires_at: started + chrono::Duration::hours(10),
                device: &Default::default(),
                idp: None,
            },
            started,
        )
        .await
        .unwrap();
        session_ids.push(session.id);
    }
    server
        .post_form(
            "/realms/people/connect/revoke",
            &[("token", &dead)],
            Some(APP),
        )
        .await;
    {
        use entity::refresh_token_family::{Column, Entity};
        use sea_orm::{sea_query::Expr, ColumnTrait, QueryFilter};
        let long_ago = server.state.now() - chrono::Duration::days(2);
        Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(long_ago))
            .filter(Column::RevokedAt.is_not_null())
            .exec(db)
            .await
            .unwrap();
    }
    let swept = server::startup::sweep_expired(&server.state).await;
    assert!(swept >= 1, "the dead family goes: {swept}");
    assert_eq!(
        entity::refresh_token_family::Entity::find()
            .count(db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(server.refresh("people", APP, &live, None).await.status, 200);
    let sessions: Vec<String> = entity::session::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        sessions,
        vec![session_ids[1].clone()],
        "only the live session stays"
    );
}

on_both_backends! {
    openidconnect_refresh => openidconnect_refresh_rotates,
    reuse_detection => reuse_revokes_the_family,
    retry_within_grace => a_retry_within_the_grace_gets_the_same_pair,
    grace_ends => reuse_after_the_grace_or_the_chain_revokes,
    id_token_on_refresh => refresh_returns_a_fresh_id_token,
    concurrent => concurrent_refreshes_share_a_successor,
    concurrent_without_grace => concurrent_refreshes_without_grace_let_one_win,
    narrowing => scope_may_narrow_never_widen,
    binding_and_revocation => refresh_tokens_are_bound_and_revocable,
    password_change => password_change_and_disabling_revoke_families,
    lifetime_hierarchy => lifetimes_resolve_client_realm_system,
    sweeping => sweeping_removes_dead_rows_only,
}

/// A realm whose client opts into a reuse grace (the realm sets one too; the client's wins).
const RETRY_SEED: &str = r#"
[[realms]]
name = "retry"
refresh_reuse_grace = 2

[[realms.clients]]
client_id = "retrying"
secret = "retrying-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "profile", "offline_access"]
refresh_reuse_grace = 30

[[realms.users]]
username = "erin"
password = "erin-password"
claims = { name = "Erin Example" }
"#;

const RETRYING: (&str, &str) = ("retrying", "retrying-secret");

async fn retry_token(server: &TestServer) -> String {
    let response = server
        .password_grant(
            "retry",
            RETRYING,
            "erin",
            "erin-password",
            Some("openid offline_access"),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["refresh_token"].as_str().unwrap().to_string()
}

async fn a_retry_within_the_grace_gets_the_same_pair(server: TestServer) {
    server.seed(RETRY_SEED).await;
    let original = retry_token(&server).await;
    let first = server.refresh("retry", RETRYING, &original, None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    // The client never got the answer and retries with the token it holds.
    let retry = server.refresh("retry", RETRYING, &original, None).await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    for member in ["access_token", "refresh_token", "id_token", "scope"] {
        assert_eq!(
            first.body[member], retry.body[member],
            "{member}: the same pair, not a new branch"
        );
    }
    assert!(
        retry.body["expires_in"].as_i64().unwrap() <= first.body["expires_in"].as_i64().unwrap()
    );
    // One chain: the successor rotates on, and nothing was revoked.
    let successor = first.body["refresh_token"].as_str().unwrap();
    let next = server.refresh("retry", RETRYING, successor, None).await;
    assert_eq!(next.status, 200, "{}", next.text);
    assert!(server
        .audit_events("refresh_token.reuse_detected")
        .await
        .is_empty());
}

async fn reuse_after_the_grace_or_the_chain_revokes(server: TestServer) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    server.seed(RETRY_SEED).await;

    // Once the successor has been used, the original is no retry any more: reuse.
    let original = retry_token(&server).await;
    let first = server.refresh("retry", RETRYING, &original, None).await;
    let successor = first.body["refresh_token"].as_str().unwrap().to_string();
    let second = server.refresh("retry", RETRYING, &successor, None).await;
    assert_eq!(second.status, 200, "{}", second.text);
    server
        .refresh("retry", RETRYING, &original, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let newest = second.body["refresh_token"].as_str().unwrap();
    server
        .refresh("retry", RETRYING, newest, None)
        .await
        .assert_oauth_error(400, "invalid_grant");

    // Past the grace window, reuse revokes too.
    let original = retry_token(&server).await;
    let first = server.refresh("retry", RETRYING, &original, None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    // A rotation is dated by its successor's row: move every token but the one presented
    // back past the grace (the presented token's own age must not count).
    entity::refresh_token::Entity::update_many()
        .col_expr(
            entity::refresh_token::Column::CreatedAt,
            Expr::value(server.state.clock.now() - chrono::Duration::seconds(31)),
        )
        .filter(
            entity::refresh_token::Column::TokenHash.ne(server::tokens::refresh::hash(&original)),
        )
        .exec(&server.state.caches.store.db)
        .await
        .unwrap();
    server
        .refresh("retry", RETRYING, &original, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let successor = first.body["refresh_token"].as_str().unwrap();
    server
        .refresh("retry", RETRYING, successor, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(
        server
            .audit_events("refresh_token.reuse_detected")
            .await
            .len(),
        2
    );
}

/// OIDC Core §12.2, as oidc-agent relies on: a refresh with `openid` granted returns a new ID
/// token about the same sign-in, without a nonce.
async fn refresh_returns_a_fresh_id_token(server: TestServer) {
    use super::authorization_code::{code_for, exchange, relying_party, start, WEB_SEED};
    server.seed(WEB_SEED).await;
    let client = relying_party(
        &server,
        "web",
        "webapp",
        Some("webapp-secret"),
        "http://localhost:8080/callback",
    )
    .await;
    let started = start(&client, &["openid", "profile", "offline_access"]);
    let code = code_for(&server, &started).await;
    let first = exchange(&server, &code, Some(started.verifier.secret())).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let (_, original) = jwt_parts(first.body["id_token"].as_str().unwrap());
    assert_eq!(original["nonce"], started.nonce.secret().as_str());
    let refresh = first.body["refresh_token"].as_str().unwrap();
    let refreshed = server
        .refresh("web", ("webapp", "webapp-secret"), refresh, None)
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let (header, renewed) = jwt_parts(refreshed.body["id_token"].as_str().expect("an ID token"));
    assert_eq!(header["alg"], "RS256");
    for claim in [
        "iss",
        "sub",
        "aud",
        "auth_time",
        "acr",
        "amr",
        "sid",
        "name",
    ] {
        assert_eq!(renewed[claim], original[claim], "{claim}");
    }
    assert!(renewed.get("nonce").is_none(), "no nonce on refresh");
    let (_, access) = jwt_parts(refreshed.body["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], original["amr"]);
    assert_eq!(access["auth_time"], original["auth_time"]);

    // Without `openid` among the scopes of the refresh, no ID token.
    let narrowed = server
        .refresh(
            "web",
            ("webapp", "webapp-secret"),
            refreshed.body["refresh_token"].as_str().unwrap(),
            Some("offline_access"),
        )
        .await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.text);
    assert!(narrowed.body.get("id_token").is_none());
}

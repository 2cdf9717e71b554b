//! Concurrent attacks on one account, one code and one client's settings: the lockout counts
//! every attempt whatever their interleaving, a replayed code revokes what it issued whichever
//! request wins, and the refresh reuse grace is an admin setting with its bounds.

use futures::future::join_all;
use serde_json::json;

use super::authorization_code::{code_for, exchange, relying_party, start, WEB_SEED};
use super::password::{user_id, APP, PEOPLE_SEED};
use crate::common::{Options, TestServer};
use crate::on_both_backends;

const THRESHOLD: u32 = 5;

async fn lockout_server(backend: crate::common::Backend) -> Option<TestServer> {
    TestServer::start_with(
        backend,
        Options {
            lockout: server::accounts::LockoutPolicy {
                threshold: THRESHOLD,
                window: chrono::Duration::minutes(5),
                duration: chrono::Duration::minutes(5),
            },
            ..Options::default()
        },
    )
    .await
}

async fn alice(server: &TestServer) -> entity::user::Model {
    let id = user_id(server, "people", "alice").await;
    server::store::users::find(&server.state.caches.store.db, &id)
        .await
        .unwrap()
        .unwrap()
}

/// 30 wrong passwords at once: the account locks, once, after about `THRESHOLD` judged guesses.
async fn concurrent_failures_all_count(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let attempts = (0..30).map(|i| {
        let password = format!("wrong-{i}");
        let server = &server;
        async move {
            server
                .password_grant("people", APP, "alice", &password, None)
                .await
        }
    });
    for response in join_all(attempts).await {
        response.assert_oauth_error(400, "invalid_grant");
    }
    let user = alice(&server).await;
    // Every judged failure counted; once locked, the waiting attempts were refused unjudged.
    let count = u32::try_from(user.failed_login_count).unwrap();
    assert!(
        (THRESHOLD..2 * THRESHOLD).contains(&count),
        "no failure lost, no more than a turn's worth judged past the lock: {count}"
    );
    assert!(user
        .locked_until
        .is_some_and(|t| t > server.state.clock.now()));
    assert_eq!(server.audit_events("user.locked").await.len(), 1);
    server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

/// 29 wrong and the right password at once: at most `THRESHOLD` of them are judged, and the
/// account ends locked whatever the order (the right one gets in only if it was among the first
/// `THRESHOLD` counted, as if it had come first in a sequence).
async fn a_right_guess_among_a_burst_does_not_unlock(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let attempts = (0..30).map(|i| {
        let password = if i == 17 {
            "alice-password".to_string()
        } else {
            format!("wrong-{i}")
        };
        let server = &server;
        async move {
            server
                .password_grant("people", APP, "alice", &password, None)
                .await
        }
    });
    let responses = join_all(attempts).await;
    let successes = responses.iter().filter(|r| r.status == 200).count();
    assert!(successes <= 1);
    let user = alice(&server).await;
    assert!(
        user.locked_until
            .is_some_and(|t| t > server.state.clock.now()),
        "locked after the burst (count {})",
        user.failed_login_count
    );
    server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

/// 40 right passwords at once: all get in, nothing counts, nothing locks.
async fn concurrent_right_passwords_all_succeed(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let attempts =
        (0..40).map(|_| server.password_grant("people", APP, "alice", "alice-password", None));
    for response in join_all(attempts).await {
        assert_eq!(response.status, 200, "{}", response.text);
    }
    let user = alice(&server).await;
    assert_eq!(user.failed_login_count, 0);
    assert!(user.locked_until.is_none());
}

/// A success resets the count; a lock that ran out is lifted on the next attempt (sequential
/// behaviour stays as it was).
async fn sequential_lockout_still_behaves(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    for i in 0..THRESHOLD - 1 {
        server
            .password_grant("people", APP, "alice", &format!("wrong-{i}"), None)
            .await
            .assert_oauth_error(400, "invalid_grant");
    }
    let ok = server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(alice(&server).await.failed_login_count, 0);
    for i in 0..THRESHOLD {
        server
            .password_grant("people", APP, "alice", &format!("wrong-{i}"), None)
            .await
            .assert_oauth_error(400, "invalid_grant");
    }
    server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    // Let the lock run out (moved into the past), then the right password works again.
    {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let past = server.state.clock.now() - chrono::Duration::seconds(1);
        entity::user::Entity::update_many()
            .col_expr(entity::user::Column::LockedUntil, Expr::value(past))
            .filter(entity::user::Column::Username.eq("alice"))
            .exec(&server.state.caches.store.db)
            .await
            .unwrap();
    }
    let ok = server
        .password_grant("people", APP, "alice", "alice-password", None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(server.audit_events("user.unlocked").await.len(), 1);
}

/// 20 redemptions of one code at once, several times over: one wins, and after the losing
/// replays nothing the code issued is still usable, whatever the ordering.
async fn a_replay_racing_the_redemption_revokes_what_it_issued(server: TestServer) {
    const CALLBACK: &str = "http://localhost:8080/callback";
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    for trial in 0..4 {
        let started = start(&client, &["openid", "offline_access"]);
        let code = code_for(&server, &started).await;
        let verifier = started.verifier.secret().as_str();
        let responses = join_all((0..20).map(|_| exchange(&server, &code, Some(verifier)))).await;
        let winners: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
        assert!(winners.len() <= 1, "trial {trial}: one redemption at most");
        for loser in responses.iter().filter(|r| r.status != 200) {
            loser.assert_oauth_error(400, "invalid_grant");
        }
        for winner in winners {
            let access = winner.body["access_token"].as_str().unwrap();
            let introspected = server
                .post_form(
                    "/realms/web/connect/introspect",
                    &[("token", access)],
                    Some(("webapp", "webapp-secret")),
                )
                .await;
            assert_eq!(
                introspected.body,
                json!({"active": false}),
                "trial {trial}: the winner's access token is revoked"
            );
            let refresh = winner.body["refresh_token"].as_str().unwrap();
            server
                .refresh("web", ("webapp", "webapp-secret"), refresh, None)
                .await
                .assert_oauth_error(400, "invalid_grant");
        }
    }
}

/// `refresh_reuse_grace` through the admin API: bounds, inheritance, and it takes effect.
async fn reuse_grace_is_an_admin_setting(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let token = server
        .password_grant(
            "master",
            ("admin-cli", ""),
            "admin",
            "admin-password-1",
            None,
        )
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = |path: &'static str, body: serde_json::Value| {
        let request = server
            .http
            .patch(server.url(path))
            .bearer_auth(&token)
            .json(&body);
        async move { crate::common::Response::from(request.send().await.unwrap()).await }
    };
    let refused = patch(
        "/admin/api/realms/people/clients/app",
        json!({"refresh_reuse_grace": 301}),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("refresh_reuse_grace"));
    let refused = patch(
        "/admin/api/realms/people",
        json!({"refresh_reuse_grace": -1}),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text);

    let realm = patch(
        "/admin/api/realms/people",
        json!({"refresh_reuse_grace": 60}),
    )
    .await;
    assert_eq!(realm.status, 200, "{}", realm.text);
    assert_eq!(realm.body["refresh_reuse_grace"], 60);
    let client = patch(
        "/admin/api/realms/people/clients/app",
        json!({"refresh_reuse_grace": 0}),
    )
    .await;
    assert_eq!(client.status, 200, "{}", client.text);
    assert_eq!(client.body["refresh_reuse_grace"], 0);

    // The client's 0 beats the realm's 60: a retry is reuse.
    let first = server
        .password_grant(
            "people",
            APP,
            "alice",
            "alice-password",
            Some("offline_access"),
        )
        .await;
    let original = first.body["refresh_token"].as_str().unwrap();
    assert_eq!(
        server.refresh("people", APP, original, None).await.status,
        200
    );
    server
        .refresh("people", APP, original, None)
        .await
        .assert_oauth_error(400, "invalid_grant");

    // Cleared, the client inherits the realm's 60: a retry gets the same pair.
    let client = patch(
        "/admin/api/realms/people/clients/app",
        json!({"refresh_reuse_grace": null}),
    )
    .await;
    assert_eq!(client.status, 200, "{}", client.text);
    assert!(client.body["refresh_reuse_grace"].is_null());
    let first = server
        .password_grant(
            "people",
            APP,
            "alice",
            "alice-password",
            Some("offline_access"),
        )
        .await;
    let original = first.body["refresh_token"].as_str().unwrap();
    let a = server.refresh("people", APP, original, None).await;
    let b = server.refresh("people", APP, original, None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(b.body["access_token"], a.body["access_token"]);
    assert_eq!(b.body["refresh_token"], a.body["refresh_token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_concurrent_failures_sqlite() {
    let server = lockout_server(crate::common::Backend::Sqlite)
        .await
        .unwrap();
    concurrent_failures_all_count(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_concurrent_failures_postgres() {
    match lockout_server(crate::common::Backend::Postgres).await {
        Some(server) => concurrent_failures_all_count(server).await,
        None => eprintln!("skipped: {} is not set", crate::common::PG_ENV),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_burst_with_the_right_password_sqlite() {
    let server = lockout_server(crate::common::Backend::Sqlite)
        .await
        .unwrap();
    a_right_guess_among_a_burst_does_not_unlock(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_burst_with_the_right_password_postgres() {
    match lockout_server(crate::common::Backend::Postgres).await {
        Some(server) => a_right_guess_among_a_burst_does_not_unlock(server).await,
        None => eprintln!("skipped: {} is not set", crate::common::PG_ENV),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_sequential_sqlite() {
    let server = lockout_server(crate::common::Backend::Sqlite)
        .await
        .unwrap();
    sequential_lockout_still_behaves(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_sequential_postgres() {
    match lockout_server(crate::common::Backend::Postgres).await {
        Some(server) => sequential_lockout_still_behaves(server).await,
        None => eprintln!("skipped: {} is not set", crate::common::PG_ENV),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_concurrent_successes_sqlite() {
    let server = lockout_server(crate::common::Backend::Sqlite)
        .await
        .unwrap();
    concurrent_right_passwords_all_succeed(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_concurrent_successes_postgres() {
    match lockout_server(crate::common::Backend::Postgres).await {
        Some(server) => concurrent_right_passwords_all_succeed(server).await,
        None => eprintln!("skipped: {} is not set", crate::common::PG_ENV),
    }
}

on_both_backends! {
    code_replay_race => a_replay_racing_the_redemption_revokes_what_it_issued,
    reuse_grace_setting => reuse_grace_is_an_admin_setting,
}

//! Plan B compatibility: token info and the TOKEN / CLAIM / GLOBAL revocation lists, each seen
//! by token info, introspection and refresh; and the lists' refusals of bad input.

use serde_json::{json, Value};

use super::password::{user_id, APP, PEOPLE_SEED};
use crate::common::{jwt_parts, Response, TestServer};
use crate::on_both_backends;

const REVOKER_SEED: &str = r#"
[[realms]]
name = "people"

[[realms.scopes]]
name = "revocations:write"

[[realms.scopes]]
name = "revocations:read"

[[realms.clients]]
client_id = "revoker"
secret = "revoker-secret"
grant_types = ["client_credentials"]
scopes = ["revocations:write", "revocations:read"]

[[realms.clients]]
client_id = "reader"
secret = "reader-secret"
grant_types = ["client_credentials"]
scopes = ["revocations:read"]
"#;

async fn setup(server: &TestServer) -> String {
    server.seed(PEOPLE_SEED).await;
    server.seed(REVOKER_SEED).await;
    server
        .client_token("people", "revoker", "revoker-secret", None)
        .await
}

async fn user_tokens(server: &TestServer, username: &str, password: &str) -> (String, String) {
    let response = server
        .password_grant(
            "people",
            APP,
            username,
            password,
            Some("offline_access orders.read org"),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    (
        response.body["access_token"].as_str().unwrap().to_string(),
        response.body["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn tokeninfo(server: &TestServer, token: &str) -> Response {
    let url = server.url(&format!(
        "/realms/people/oauth2/tokeninfo?access_token={token}"
    ));
    Response::from(server.http.get(url).send().await.unwrap()).await
}

async fn introspect(server: &TestServer, token: &str) -> Value {
    server
        .post_form(
            "/realms/people/connect/introspect",
            &[("token", token)],
            Some(APP),
        )
        .await
        .body
}

async fn post_revocation(server: &TestServer, bearer: &str, body: Value) -> Response {
    let response = server
        .http
        .post(server.url("/realms/people/revocations"))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap();
    Response::from(response).await
}

async fn tokeninfo_describes_tokens(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let (token, _) = user_tokens(&server, "alice", "alice-password").await;
    let by_query = tokeninfo(&server, &token).await;
    assert_eq!(by_query.status, 200, "{}", by_query.text);
    let body = &by_query.body;
    assert_eq!(body["access_token"], token);
    assert_eq!(body["uid"], user_id(&server, "people", "alice").await);
    assert_eq!(
        body["scope"],
        json!(["offline_access", "orders.read", "org"])
    );
    assert_eq!(body["realm"], "/people");
    assert_eq!(body["client_id"], "app");
    assert_eq!(body["grant_type"], "password");
    assert_eq!(body["token_type"], "Bearer");
    assert!((100..=120).contains(&body["expires_in"].as_i64().unwrap()));
    assert_eq!(body["orders.read"], true);
    assert_eq!(body["offline_access"], true);
    assert_eq!(body["department"], "R&D", "private claims pass through");
    assert!(body.get("iss").is_none() && body.get("jti").is_none());

    let by_header = server
        .http
        .get(server.url("/realms/people/oauth2/tokeninfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let root = server
        .http
        .get(server.url(&format!(
            "/oauth2/tokeninfo?realm=/people&access_token={token}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 200);

    let service = server
        .client_token("people", "cc-only", "cc-secret", None)
        .await;
    let described = tokeninfo(&server, &service).await;
    assert_eq!(described.body["grant_type"], "client_credentials");
    assert_eq!(described.body["uid"], "cc-only");
}

async fn tokeninfo_errors(server: TestServer) {
    server.seed(PEOPLE_SEED).await;
    let missing = Response::from(
        server
            .http
            .get(server.url("/realms/people/oauth2/tokeninfo"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"], "invalid_request");
    for bad in ["garbage", "a.b.c"] {
        let response = tokeninfo(&server, bad).await;
        assert_eq!(response.status, 401);
        assert_eq!(response.body["error"], "invalid_token");
    }
    // A token of another realm is no token here.
    let other = server
        .client_token("people", "cc-only", "cc-secret", None)
        .await;
    let url = server.url(&format!(
        "/realms/master/oauth2/tokeninfo?access_token={other}"
    ));
    assert_eq!(server.http.get(url).send().await.unwrap().status(), 401);
}

async fn token_revocations_are_honoured_everywhere(server: TestServer) {
    let bearer = setup(&server).await;
    let (revoked, _) = user_tokens(&server, "alice", "alice-password").await;
    let (kept, _) = user_tokens(&server, "alice", "alice-password").await;
    let response = post_revocation(
        &server,
        &bearer,
        json!({"type": "TOKEN", "data": {"token": revoked}}),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(response.body["type"], "TOKEN");
    assert_eq!(tokeninfo(&server, &revoked).await.status, 401);
    assert_eq!(
        introspect(&server, &revoked).await,
        json!({"active": false})
    );
    assert_eq!(tokeninfo(&server, &kept).await.status, 200);
    assert_eq!(introspect(&server, &kept).await["active"], true);
}

async fn claim_revocations_cover_access_and_refresh(server: TestServer) {
    let bearer = setup(&server).await;
    let alice = user_id(&server, "people", "alice").await;
    let (alice_access, alice_refresh) = user_tokens(&server, "alice", "alice-password").await;
    let (bob_access, bob_refresh) = user_tokens(&server, "bob", "bob-password").await;
    let (_, claims) = jwt_parts(&alice_access);
    let issued_before = claims["iat"].as_i64().unwrap() + 1;
    let response = post_revocation(
        &server,
        &bearer,
        json!({"type": "CLAIM", "data": {"claims": {"sub": alice}, "issued_before": issued_before}}),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(tokeninfo(&server, &alice_access).await.status, 401);
    assert_eq!(introspect(&server, &alice_access).await["active"], false);
    server
        .refresh("people", APP, &alice_refresh, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(tokeninfo(&server, &bob_access).await.status, 200);
    assert_eq!(
        server
            .refresh("people", APP, &bob_refresh, None)
            .await
            .status,
        200
    );
}

async fn global_revocations_cut_everything_before(server: TestServer) {
    let bearer = setup(&server).await;
    let (access, refresh) = user_tokens(&server, "alice", "alice-password").await;
    let service = server
        .client_token("people", "cc-only", "cc-secret", None)
        .await;
    let (_, claims) = jwt_parts(&service);
    // The later of the two tokens sets the cut-off, so both fall before it.
    let issued_before = claims["iat"].as_i64().unwrap() + 1;
    let response = post_revocation(
        &server,
        &bearer,
        json!({"type": "GLOBAL", "data": {"issued_before": issued_before}}),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    for token in [&access, &service] {
        assert_eq!(tokeninfo(&server, token).await.status, 401);
        assert_eq!(introspect(&server, token).await["active"], false);
    }
    server
        .refresh("people", APP, &refresh, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

async fn bad_bodies_are_refused_and_store_nothing(server: TestServer) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let bearer = setup(&server).await;
    let count = || async {
        entity::revocation::Entity::find()
            .count(&server.state.caches.store.db)
            .await
            .unwrap()
    };
    let before = count().await;
    let far_future = server.state.now().timestamp() + 60;
    let bodies = [
        json!("TOKEN"),
        json!({"type": "SESSION", "data": {}}),
        json!({"type": "GLOBAL"}),
        json!({"type": "GLOBAL", "data": {"issued_before": far_future}}),
        json!({"type": "GLOBAL", "data": {"issued_before": "yesterday"}}),
        json!({"type": "GLOBAL", "data": {"issued_before": -1}}),
        json!({"type": "GLOBAL", "data": {"issued_before": 1.5}}),
        json!({"type": "TOKEN", "data": {}}),
        json!({"type": "TOKEN", "data": {"token": ""}}),
        json!({"type": "CLAIM", "data": {"claims": {}}}),
        json!({"type": "CLAIM", "data": {"claims": {"sub": {"nested": true}}}}),
        json!({"type": "CLAIM", "data": {"claims": "sub=rat"}}),
        json!({"type": "GLOBAL", "data": {"surprise": 1}}),
        json!({"type": "GLOBAL", "data": {}, "extra": true}),
    ];
    for body in bodies {
        let response = post_revocation(&server, &bearer, body.clone()).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text);
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(response.body["status"], 400);
        assert!(response.body["detail"].is_string());
    }
    let malformed = server
        .http
        .post(server.url("/realms/people/revocations"))
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let oversized = server
        .http
        .post(server.url("/realms/people/revocations"))
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"type\":\"GLOBAL\",\"data\":{{}},\"pad\":\"{}\"}}",
            "x".repeat(100_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 400);
    assert_eq!(
        oversized.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(count().await, before, "nothing stored");
}

async fn revocation_lists_require_the_right_token(server: TestServer) {
    let writer = setup(&server).await;
    let reader = server
        .client_token("people", "reader", "reader-secret", None)
        .await;
    let body = json!({"type": "GLOBAL", "data": {"issued_before": 1}});
    let anonymous = server
        .http
        .post(server.url("/realms/people/revocations"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        post_revocation(&server, "garbage", body.clone())
            .await
            .status,
        401
    );
    assert_eq!(
        post_revocation(&server, &reader, body.clone()).await.status,
        403
    );
    assert_eq!(
        post_revocation(&server, &writer, body.clone()).await.status,
        201
    );
    // The master realm's admin may act on every realm.
    let admin = server
        .password_grant(
            "master",
            ("admin-cli", ""),
            "admin",
            "admin-password-1",
            None,
        )
        .await;
    let admin = admin.body["access_token"].as_str().unwrap();
    assert_eq!(post_revocation(&server, admin, body).await.status, 201);
    let listing = server
        .http
        .get(server.url("/realms/people/revocations?from=0"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);
    let unauthorized = server
        .http
        .get(server.url("/realms/people/revocations"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
}

async fn listings_publish_hashes_only(server: TestServer) {
    let bearer = setup(&server).await;
    let (token, _) = user_tokens(&server, "alice", "alice-password").await;
    post_revocation(
        &server,
        &bearer,
        json!({"type": "TOKEN", "data": {"token": token}}),
    )
    .await;
    post_revocation(
        &server,
        &bearer,
        json!({"type": "CLAIM", "data": {"claims": {"sub": "rat-007", "realm": "/people"}}}),
    )
    .await;
    // The bearer's own `iat` as cut-off, so the bearer used below stays valid.
    let (_, bearer_claims) = jwt_parts(&bearer);
    post_revocation(
        &server,
        &bearer,
        json!({"type": "GLOBAL", "data": {"issued_before": bearer_claims["iat"]}}),
    )
    .await;
    let listing = server
        .http
        .get(server.url("/realms/people/revocations?from=0"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);
    let body: Value = listing.json().await.unwrap();
    assert!(body["meta"]["REFRESH_FROM"].is_i64());
    assert!(body["meta"]["REFRESH_TIMESTAMP"].is_i64());
    assert!(body["meta"]["MAX_TIME_DELTA"].is_i64());
    let entries = body["revocations"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let text = body.to_string();
    assert!(
        !text.contains(&token) && !text.contains("rat-007"),
        "values appear only hashed"
    );

    let salt = server
        .state
        .caches
        .directory
        .realm("people")
        .await
        .unwrap()
        .unwrap()
        .revocation_salt
        .clone();
    let token_entry = entries.iter().find(|e| e["type"] == "TOKEN").unwrap();
    assert_eq!(token_entry["data"]["hash_algorithm"], "SHA-256");
    assert_eq!(
        token_entry["data"]["token_hash"],
        server::revocation::salted_hash(&salt, &token)
    );
    let claim_entry = entries.iter().find(|e| e["type"] == "CLAIM").unwrap();
    assert_eq!(claim_entry["data"]["names"], "realm|sub");
    assert_eq!(claim_entry["data"]["separator"], "|");
    assert_eq!(
        claim_entry["data"]["value_hash"],
        server::revocation::salted_hash(&salt, "/people|rat-007")
    );
    let global = entries.iter().find(|e| e["type"] == "GLOBAL").unwrap();
    assert!(global["data"]["issued_before"].is_i64());
    assert!(global["revoked_at"].is_i64());

    let bad = server
        .http
        .get(server.url("/realms/people/revocations?from=soon"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

/// A poller whose clock runs ahead asks `from` a future moment: 200, an empty list and the
/// usual `meta`, not a 400 that would stop it polling.
async fn future_from_gets_an_empty_list(server: TestServer) {
    let bearer = setup(&server).await;
    post_revocation(
        &server,
        &bearer,
        json!({"type": "CLAIM", "data": {"claims": {"sub": "rat-007"}}}),
    )
    .await;
    for ahead in [1, 6, 3600] {
        let future = server.state.now().timestamp() + ahead;
        let listing = server
            .http
            .get(server.url(&format!("/realms/people/revocations?from={future}")))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(listing.status(), 200, "from = now + {ahead}");
        let body: Value = listing.json().await.unwrap();
        assert_eq!(body["revocations"], json!([]));
        assert_eq!(body["meta"]["REFRESH_FROM"], json!(future));
        assert!(body["meta"]["REFRESH_TIMESTAMP"].is_i64());
        assert!(body["meta"]["MAX_TIME_DELTA"].is_i64());
    }
}

on_both_backends! {
    tokeninfo_fields => tokeninfo_describes_tokens,
    tokeninfo_error_shapes => tokeninfo_errors,
    token_entries => token_revocations_are_honoured_everywhere,
    claim_entries => claim_revocations_cover_access_and_refresh,
    global_entries => global_revocations_cut_everything_before,
    bad_bodies => bad_bodies_are_refused_and_store_nothing,
    authorization => revocation_lists_require_the_right_token,
    listings => listings_publish_hashes_only,
    future_from => future_from_gets_an_empty_list,
}

//! A user's sessions in the admin API: each lists its clients, the address and browser it came
//! from, when it started and was last used; admins end one, or all at once, which revokes
//! their refresh tokens. Concurrent "end all" calls end each session once.

use openidconnect::{AuthorizationCode, OAuth2TokenResponse};
use reqwest::Method;
use serde_json::Value;

use super::authorization_code::{code_from, relying_party, start, WEB_SEED};
use super::browser::Browser;
use super::discovery::http;
use crate::common::TestServer;
use crate::on_both_backends;

const CALLBACK: &str = "http://localhost:8080/callback";

/// Signs carol in from a browser announcing `agent`, and returns the refresh token the
/// client got in that session.
async fn sign_in_from(server: &TestServer, agent: &str) -> String {
    let client = relying_party(server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &["offline_access"]);
    let browser = Browser::with_user_agent(Some(agent));
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("web"));
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code is exchanged");
    tokens
        .refresh_token()
        .expect("a refresh token")
        .secret()
        .clone()
}

fn agents(listed: &Value) -> Vec<String> {
    let mut agents: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user_agent"].as_str().unwrap_or_default().to_string())
        .collect();
    agents.sort();
    agents
}

async fn admins_list_and_end_a_users_sessions(server: TestServer) {
    server.seed(WEB_SEED).await;
    let carol = server.user_id("web", "carol").await;
    let path = format!("/realms/web/users/{carol}/sessions");
    let laptop = sign_in_from(&server, "Laptop Browser/1.0").await;
    let phone = sign_in_from(&server, "Phone Browser/2.0").await;

    let listed = server.admin(Method::GET, &path, None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        agents(&listed.body),
        ["Laptop Browser/1.0", "Phone Browser/2.0"]
    );
    for session in listed.body.as_array().unwrap() {
        assert_eq!(session["ip_address"], "127.0.0.1", "{session}");
        assert_eq!(session["client_ids"], serde_json::json!(["webapp"]));
        assert_eq!(session["username"], "carol");
        assert_eq!(session["acr"], "1");
        assert_eq!(session["amr"], serde_json::json!(["pwd"]));
        assert!(session["created_at"].is_string() && session["last_seen_at"].is_string());
    }

    // Ending one session revokes its refresh tokens only.
    let phone_session = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_agent"] == "Phone Browser/2.0")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = server
        .admin(
            Method::DELETE,
            &format!("/realms/web/sessions/{phone_session}"),
            None,
        )
        .await;
    assert_eq!(ended.status, 204, "{}", ended.text);
    let webapp = ("webapp", "webapp-secret");
    server
        .refresh("web", webapp, &phone, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let laptop_rotated = server.refresh("web", webapp, &laptop, None).await;
    assert_eq!(laptop_rotated.status, 200, "{}", laptop_rotated.text);
    let laptop = laptop_rotated.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        agents(&server.admin(Method::GET, &path, None).await.body),
        ["Laptop Browser/1.0"]
    );

    // "End all", sent four times at once: the sessions end once between them.
    sign_in_from(&server, "Tablet Browser/3.0").await;
    let calls = (0..4).map(|_| server.admin(Method::DELETE, &path, None));
    let answers = futures::future::join_all(calls).await;
    let mut total = 0;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
        total += answer.body["ended"].as_u64().unwrap();
    }
    assert_eq!(total, 2, "each live session ends exactly once");
    assert_eq!(
        server.admin(Method::GET, &path, None).await.body,
        serde_json::json!([])
    );
    server
        .refresh("web", webapp, &laptop, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let events = server.audit_events("user.sessions_ended").await;
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.actor == "admin"), "{events:?}");

    // Unknown users are 404, and a user of another realm is unknown here.
    let dave = server.user_id("web", "dave").await;
    for missing in ["no-such-user", dave.as_str()] {
        let realm = if missing == dave { "web2" } else { "web" };
        let answer = server
            .admin(
                Method::GET,
                &format!("/realms/{realm}/users/{missing}/sessions"),
                None,
            )
            .await;
        assert_eq!(answer.status, 404, "{}", answer.text);
        let answer = server
            .admin(
                Method::DELETE,
                &format!("/realms/{realm}/users/{missing}/sessions"),
                None,
            )
            .await;
        assert_eq!(answer.status, 404, "{}", answer.text);
    }
}

on_both_backends! {
    admins_list_and_end_a_users_sessions => admins_list_and_end_a_users_sessions,
}

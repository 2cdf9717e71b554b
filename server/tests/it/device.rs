//! The device flow (RFC 8628) end to end with a scripted browser, and its polling answers:
//! pending, slow_down, denied, expired, replay; wrong user codes are rate-limited.

use reqwest::StatusCode;

use super::browser::Browser;
use crate::common::{jwt_parts, Response, TestServer};
use crate::on_both_backends;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

const TV_SEED: &str = r#"
[[realms]]
name = "tv"

[[realms.clients]]
client_id = "tv-app"
public = true
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
scopes = ["openid", "profile", "offline_access"]

[[realms.clients]]
client_id = "no-device"
public = true
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost/cb"]

[[realms.users]]
username = "frank"
password = "frank-password"
"#;

async fn authorize_device(server: &TestServer) -> Response {
    let response = server
        .post_form(
            "/realms/tv/connect/device_authorization",
            &[("client_id", "tv-app"), ("scope", "openid offline_access")],
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response
}

async fn poll(server: &TestServer, device_code: &str) -> Response {
    server
        .post_form(
            "/realms/tv/connect/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", "tv-app"),
            ],
            None,
        )
        .await
}

/// Signs frank in through the verification URI and answers the consent form with `decision`.
async fn decide(server: &TestServer, verification: &str, decision: &str) {
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(verification).await)
        .await;
    let consent = browser
        .sign_in(&server.base, &login, "frank", "frank-password")
        .await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(consent.body.contains(r#"name="decision" value="allow""#));
    let action = format!("{}{}", server.base, consent.form_action().unwrap());
    let done = browser
        .post(
            &action,
            &[
                ("csrf", &consent.input("csrf").unwrap()),
                ("user_code", &consent.input("user_code").unwrap()),
                ("decision", decision),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let result = browser.follow(&server.base, done).await;
    assert_eq!(result.status, StatusCode::OK);
}

async fn device_flow_end_to_end(server: TestServer) {
    server.seed(TV_SEED).await;
    let started = authorize_device(&server).await;
    let body = &started.body;
    assert_eq!(started.header("cache-control"), Some("no-store"));
    let user_code = body["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .chars()
        .filter(|c| *c != '-')
        .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert_eq!(
        body["verification_uri"],
        format!("{}/device", server.issuer("tv"))
    );
    assert_eq!(body["interval"], 5);
    assert_eq!(body["expires_in"], 600);
    let device_code = body["device_code"].as_str().unwrap();

    poll(&server, device_code)
        .await
        .assert_oauth_error(400, "authorization_pending");
    poll(&server, device_code)
        .await
        .assert_oauth_error(400, "slow_down");

    decide(
        &server,
        body["verification_uri_complete"].as_str().unwrap(),
        "allow",
    )
    .await;
    let tokens = poll(&server, device_code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert!(tokens.body["refresh_token"].is_string());
    let (_, id_claims) = jwt_parts(tokens.body["id_token"].as_str().unwrap());
    assert_eq!(id_claims["aud"], "tv-app");
    let (_, claims) = jwt_parts(tokens.body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["client_id"], "tv-app");

    // Redeemed once only.
    poll(&server, device_code)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

async fn denied_and_expired_codes(server: TestServer) {
    server.seed(TV_SEED).await;
    let denied = authorize_device(&server).await;
    decide(
        &server,
        denied.body["verification_uri_complete"].as_str().unwrap(),
        "deny",
    )
    .await;
    poll(&server, denied.body["device_code"].as_str().unwrap())
        .await
        .assert_oauth_error(400, "access_denied");

    let expired = authorize_device(&server).await;
    {
        use sea_orm::{sea_query::Expr, EntityTrait};
        entity::device_code::Entity::update_many()
            .col_expr(
                entity::device_code::Column::ExpiresAt,
                Expr::value(server.state.now() - chrono::Duration::seconds(1)),
            )
            .exec(&server.state.caches.store.db)
            .await
            .unwrap();
    }
    poll(&server, expired.body["device_code"].as_str().unwrap())
        .await
        .assert_oauth_error(400, "expired_token");
    poll(&server, "unknown-device-code")
        .await
        .assert_oauth_error(400, "invalid_grant");
    server
        .post_form(
            "/realms/tv/connect/device_authorization",
            &[("client_id", "no-device")],
            None,
        )
        .await
        .assert_oauth_error(400, "unauthorized_client");
}

async fn wrong_user_codes_are_limited(server: TestServer) {
    server.seed(TV_SEED).await;
    let browser = Browser::new();
    let form = browser
        .get(&format!("{}/device", server.issuer("tv")))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"name="user_code""#));
    let csrf = form.input("csrf").unwrap();
    let action = format!("{}{}", server.base, form.form_action().unwrap());
    let mut last = StatusCode::OK;
    for _ in 0..11 {
        let posted = browser
            .post(&action, &[("csrf", &csrf), ("user_code", "BBBB-BBBB")])
            .await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER);
        last = browser.follow(&server.base, posted).await.status;
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(last, StatusCode::BAD_REQUEST);
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "guessing is cut off");
    // Even a right code is refused while blocked.
    let started = authorize_device(&server).await;
    let page = browser
        .get(started.body["verification_uri_complete"].as_str().unwrap())
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

on_both_backends! {
    device_end_to_end => device_flow_end_to_end,
    device_denied_expired => denied_and_expired_codes,
    device_rate_limit => wrong_user_codes_are_limited,
}

//! Passkeys end to end in headless Chromium with its WebAuthn virtual authenticator: register a
//! passkey in the account console, sign out, sign in to an application with it (no username),
//! and get an ID token at level 2; then give it as the second factor after a password. Also: a passkey of one realm signs nobody in to another, and
//! malformed answers are refused with JSON errors. SQLite only, like the other browser tests.

use openidconnect::{AuthorizationCode, TokenResponse};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::authorization_code::{relying_party, start};
use super::discovery::http;
use super::webdriver::{query_param, Browser, Callback};
use crate::common::{jwt_parts, Backend, Options, TestServer};

const SEED: &str = r#"
[[realms]]
name = "home"

[[realms.clients]]
client_id = "app"
secret = "app-secret"
grant_types = ["authorization_code"]
redirect_uris = ["CALLBACK"]
scopes = ["openid", "profile"]

[[realms.users]]
username = "ivy"
password = "ivy-password"

[[realms]]
name = "elsewhere"

[[realms.users]]
username = "ivy"
password = "ivy-password"
"#;

/// Forgets the server's cookies (WebDriver clears those of the page's own origin).
async fn sign_out(browser: &Browser, server: &TestServer) {
    browser.goto(&server.url("/realms/home")).await;
    browser
        .client()
        .delete_all_cookies()
        .await
        .expect("cookies are cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_registered_in_the_console_signs_in_without_a_username() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            localhost: true,
            ..Default::default()
        },
    )
    .await
    .expect("SQLite always runs");
    let mut callback = Callback::start("/callback").await;
    server.seed(&SEED.replace("CALLBACK", &callback.uri)).await;
    let browser = Browser::start("passkey_signs_in_without_a_username").await;
    browser.add_virtual_authenticator().await;

    // Register a passkey from the account console.
    browser.goto(&server.url("/realms/home/account")).await;
    browser.fill("username", "ivy").await;
    browser.fill("password", "ivy-password").await;
    browser.click_submit().await;
    browser.find("#passkey-register").await;
    browser.fill_css("#passkey-name", "Laptop").await;
    browser.screenshot("console").await;
    browser
        .find("#passkey-register")
        .await
        .click()
        .await
        .expect("the button is clicked");
    let name = browser.text_of("#passkeys .passkey-name").await;
    assert_eq!(name, "Laptop");
    browser.screenshot("registered").await;
    assert_eq!(
        server.audit_events("user.passkey_registered").await.len(),
        1
    );

    // Signed out (a fresh cookie jar), sign in to an application with the passkey alone.
    sign_out(&browser, &server).await;
    let rp = relying_party(&server, "home", "app", Some("app-secret"), &callback.uri).await;
    let started = start(&rp, &["profile"]);
    browser.goto(&started.url).await;
    browser.find("#passkey-sign-in").await;
    browser.screenshot("login").await;
    browser
        .find("#passkey-sign-in")
        .await
        .click()
        .await
        .expect("the button is clicked");
    browser.find("#callback").await;
    let landed = browser.current_url().await;
    let code = query_param(&landed, "code").expect("a code in the redirect");
    callback.next_request().await;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint")
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code redeems");
    let id_token = tokens.id_token().expect("an ID token");
    id_token
        .claims(&rp.id_token_verifier(), &started.nonce)
        .expect("the ID token verifies");
    let (_, claims) = jwt_parts(&id_token.to_string());
    assert_eq!(claims["acr"], "2", "{claims}");
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(amr.contains(&"hwk") || amr.contains(&"swk"), "{amr:?}");
    assert!(amr.contains(&"user"), "{amr:?}");
    let home_ivy = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::user::Entity::find()
            .filter(entity::user::Column::Username.eq("ivy"))
            .all(&server.state.caches.store.db)
            .await
            .unwrap()
    };
    assert!(home_ivy.iter().any(|u| u.id == claims["sub"]));

    // A password sign-in of a user with a passkey takes it as the second factor.
    sign_out(&browser, &server).await;
    let started = start(&rp, &["profile"]);
    browser.goto(&started.url).await;
    browser.fill("username", "ivy").await;
    browser.fill("password", "ivy-password").await;
    browser.click_submit().await;
    browser.find("#passkey-second-factor").await;
    assert_eq!(
        browser.current_url().await.path(),
        "/realms/home/second-factor"
    );
    browser.screenshot("second-factor").await;
    browser
        .find("#passkey-second-factor")
        .await
        .click()
        .await
        .expect("the button is clicked");
    browser.find("#callback").await;
    let landed = browser.current_url().await;
    let code = query_param(&landed, "code").expect("a code in the redirect");
    callback.next_request().await;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint")
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code redeems");
    let (_, claims) = jwt_parts(&tokens.id_token().expect("an ID token").to_string());
    assert_eq!(claims["acr"], "2");
    let amr = claims["amr"].to_string();
    assert!(amr.contains("pwd") && amr.contains("mfa"), "{amr}");
    assert!(amr.contains("hwk") || amr.contains("swk"), "{amr}");

    // The same authenticator offers the passkey on another realm's page (the relying party is
    // the host): it belongs to realm `home` and signs nobody in there.
    sign_out(&browser, &server).await;
    browser.goto(&server.url("/realms/elsewhere/login")).await;
    browser
        .find("#passkey-sign-in")
        .await
        .click()
        .await
        .expect("the button is clicked");
    let refused = browser.text_of(".passkey-error").await;
    assert!(refused.contains("cannot sign in here"), "{refused}");
    browser.screenshot("other-realm").await;
    browser.close().await;

    // Malformed answers: JSON errors, nothing changes.
    for (path, body) in [
        ("/realms/home/passkey", "not json".to_string()),
        (
            "/realms/home/passkey",
            json!({"csrf": "x", "credential": {"id": 1}}).to_string(),
        ),
        (
            "/realms/home/passkey",
            json!({"csrf": "x", "credential": {
                "id": "AAAA", "rawId": "AAAA", "type": "public-key", "extensions": {},
                "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA",
                             "signature": "AAAA", "userHandle": null}}})
            .to_string(),
        ),
    ] {
        let answer = server
            .http
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_request", "{answer}");
    }
    assert_eq!(
        server.audit_events("user.passkey_registered").await.len(),
        1
    );
}

//! Real-browser tests: headless Chromium driven over WebDriver (see `webdriver.rs`) through
//! Tessera's pages the way a person uses them: the login page of the authorization endpoint,
//! and the admin console at `/admin`. They run on SQLite only: what they check is the pages, and
//! every storage path below them is covered on both backends elsewhere.
//!
//! What the console tests rely on (agreed with the console): inputs named after the admin API's
//! fields (`grant_types` checkboxes, `redirect_uris` one per line), `<button type="submit">`,
//! `#confirm` on confirmation pages, `p.field-error[data-field]` and `p.form-error`, `#whoami`,
//! `#client-secret` shown once, key rows `tr.key-row[data-kid][data-active="true"|"false"]`,
//! list rows with `data-key`.

use openidconnect::{AuthorizationCode, TokenResponse};

use super::authorization_code::{relying_party, start};
use super::discovery::http;
use super::webdriver::{query_param, Browser, Callback};
use crate::common::{Backend, TestServer};

async fn sqlite_server() -> TestServer {
    TestServer::start(Backend::Sqlite)
        .await
        .expect("SQLite always runs")
}

/// The login page in a real browser: a wrong password re-renders the form with an error and
/// sends nothing to the client; the right one completes authorization code + PKCE, and the
/// code from the browser's final URL redeems for an ID token of that user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_signs_in_with_code_and_pkce() {
    let server = sqlite_server().await;
    let mut callback = Callback::start("/callback").await;
    server
        .seed(&format!(
            r#"
[[realms]]
name = "default"

[[realms.clients]]
client_id = "browser-app"
secret = "browser-app-secret"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["{uri}"]
scopes = ["openid", "profile", "email"]

[[realms.users]]
username = "erin"
password = "erin-password"
email = "erin@example.com"
"#,
            uri = callback.uri
        ))
        .await;
    let issuer = server.issuer("default");
    let rp = relying_party(
        &server,
        "default",
        "browser-app",
        Some("browser-app-secret"),
        &callback.uri,
    )
    .await;
    let started = start(&rp, &["profile", "email"]);

    let browser = Browser::start("login_page_signs_in_with_code_and_pkce").await;
    browser.goto(&started.url).await;
    browser
        .find(r#"form[method="post"] input[name="password"]"#)
        .await;
    assert_eq!(
        browser.current_url().await.path(),
        "/realms/default/login",
        "the authorization endpoint sends the browser to the login page"
    );
    browser.screenshot("login").await;

    browser.fill("username", "erin").await;
    browser.fill("password", "not-erins-password").await;
    browser.click_submit().await;
    let error = browser.text_of("#login-error").await;
    assert!(
        error.contains("Invalid username or password"),
        "the error says what went wrong: {error}"
    );
    assert_eq!(
        browser.current_url().await.path(),
        "/realms/default/login",
        "a wrong password never leaves the login page"
    );
    browser.screenshot("wrong-password").await;

    browser.fill("username", "erin").await;
    browser.fill("password", "erin-password").await;
    browser.click_submit().await;
    browser.find("#callback").await;
    browser.screenshot("callback").await;

    let landed = browser.current_url().await;
    assert!(
        landed.as_str().starts_with(&format!("{}?", callback.uri)),
        "the browser ends at the redirect URI: {landed}"
    );
    assert_eq!(
        query_param(&landed, "state").as_deref(),
        Some(started.state.secret().as_str())
    );
    assert_eq!(
        query_param(&landed, "iss").as_deref(),
        Some(issuer.as_str()),
        "RFC 9207"
    );
    let code = query_param(&landed, "code").expect("a code in the redirect");
    let request = callback.next_request().await;
    assert!(
        request.contains(&format!(
            "code={}",
            form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
        )),
        "the client received the same code: {request}"
    );

    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint")
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code redeems");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&rp.id_token_verifier(), &started.nonce)
        .expect("the ID token verifies");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("erin")
    );
    assert_eq!(claims.email().map(|e| e.as_str()), Some("erin@example.com"));
    browser.close().await;
}

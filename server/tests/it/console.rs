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
use serde_json::Value;

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

/// The bootstrap admin `TestServer` creates in realm `master`.
const ADMIN: (&str, &str) = ("admin", "admin-password-1");

/// Fails with the errors the page shows, if any.
async fn assert_accepted(browser: &Browser, what: &str) {
    let mut errors = Vec::new();
    for error in browser.find_all("p.field-error, p.form-error").await {
        let field = error.attr("data-field").await.ok().flatten();
        let text = error.text().await.unwrap_or_default();
        errors.push(format!("{}: {text}", field.as_deref().unwrap_or("form")));
    }
    assert!(
        errors.is_empty(),
        "{what} was refused: {errors:?} {}",
        browser.page_snippet().await
    );
}

async fn sign_in_to_console(browser: &Browser, server: &TestServer) {
    browser.goto(&server.url("/admin/login")).await;
    browser.find(r#"form input[name="password"]"#).await;
    browser.screenshot("console-login").await;
    browser.fill("username", ADMIN.0).await;
    browser.fill("password", ADMIN.1).await;
    browser.click_submit().await;
    assert_accepted(browser, "signing in").await;
    assert_eq!(
        browser.text_of("#whoami").await.trim(),
        ADMIN.0,
        "the console names the signed-in admin"
    );
    browser.screenshot("console-home").await;
}

/// `(kid, active)` of every key row on a keys page.
async fn key_rows(browser: &Browser) -> Vec<(String, bool)> {
    browser.find("tr.key-row[data-kid]").await;
    let mut rows = Vec::new();
    for row in browser.find_all("tr.key-row[data-kid]").await {
        let kid = row
            .attr("data-kid")
            .await
            .expect("data-kid")
            .expect("a kid");
        let active = row.attr("data-active").await.expect("data-active");
        let active = match active.as_deref() {
            Some("true") => true,
            Some("false") => false,
            other => panic!("key row {kid} has data-active={other:?}"),
        };
        rows.push((kid, active));
    }
    rows
}

async fn jwks_kids(server: &TestServer, realm: &str) -> Vec<String> {
    let jwks: Value = server
        .http
        .get(server.url(&format!("/realms/{realm}/.well-known/jwks.json")))
        .send()
        .await
        .expect("the JWKS answers")
        .json()
        .await
        .expect("the JWKS is JSON");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("a kid").to_string())
        .collect()
}

/// The admin's whole round: sign in, create a realm, a confidential client (its secret shown
/// exactly once) and a user; that user then signs in to that client with code + PKCE in the
/// same browser, and the code redeems for the user's ID token. Last, the realm's keys rotate
/// and the old keys stay listed and published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sets_up_a_realm_whose_user_signs_in() {
    let server = sqlite_server().await;
    let mut callback = Callback::start("/callback").await;
    let browser = Browser::start("console_sets_up_a_realm_whose_user_signs_in").await;
    sign_in_to_console(&browser, &server).await;

    // A realm.
    browser.goto(&server.url("/admin/new/realm")).await;
    browser.fill("name", "shop").await;
    browser.fill("display_name", "The Shop").await;
    browser.screenshot("realm-form").await;
    browser.click_submit().await;
    assert_accepted(&browser, "creating realm shop").await;
    browser.screenshot("realm-created").await;
    let discovery = server
        .http
        .get(server.url("/realms/shop/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery answers");
    assert_eq!(discovery.status(), 200, "realm shop is an issuer now");

    // A confidential client; its secret is shown once.
    browser
        .goto(&server.url("/admin/realms/shop/new/clients"))
        .await;
    browser.fill("client_id", "shop-web").await;
    browser.check("grant_types", "authorization_code").await;
    browser.check("grant_types", "refresh_token").await;
    browser.fill("redirect_uris", &callback.uri).await;
    if browser
        .exists(r#"input[type="checkbox"][name="public"]"#)
        .await
    {
        browser.uncheck("public", "true").await;
    }
    browser.screenshot("client-form").await;
    browser.click_submit().await;
    assert_accepted(&browser, "creating client shop-web").await;
    let secret = browser.text_of("#client-secret").await.trim().to_string();
    assert!(secret.len() >= 32, "a generated secret: {secret:?}");
    assert!(
        browser
            .find("button[data-copy]")
            .await
            .is_displayed()
            .await
            .expect("the copy button's visibility"),
        "the console's script ran under its Content-Security-Policy and showed the copy button"
    );
    browser.screenshot("client-secret").await;
    let shown_at = browser.current_url().await;
    browser.goto(shown_at.as_str()).await;
    browser.find("body").await;
    browser.screenshot("client-secret-reloaded").await;
    assert!(
        !browser.exists("#client-secret").await,
        "the secret is shown only once, not on reloading {shown_at}"
    );
    browser
        .goto(&server.url("/admin/realms/shop/clients/shop-web"))
        .await;
    browser.find("main").await;
    browser.screenshot("client-page").await;
    assert!(!browser.exists("#client-secret").await);
    let source = browser.client().source().await.expect("page source");
    assert!(
        !source.contains(&secret),
        "the client page never shows the secret again"
    );

    // A user with a password.
    browser
        .goto(&server.url("/admin/realms/shop/new/users"))
        .await;
    browser.fill("username", "frank").await;
    browser.fill("password", "frank-password-1").await;
    browser.fill("email", "frank@shop.example").await;
    browser.screenshot("user-form").await;
    browser.click_submit().await;
    assert_accepted(&browser, "creating user frank").await;
    browser.screenshot("user-created").await;

    // That user signs in to that client, in the same browser.
    let rp = relying_party(&server, "shop", "shop-web", Some(&secret), &callback.uri).await;
    let started = start(&rp, &[]);
    browser.goto(&started.url).await;
    browser
        .find(r#"form[method="post"] input[name="password"]"#)
        .await;
    assert_eq!(browser.current_url().await.path(), "/realms/shop/login");
    browser.screenshot("shop-login").await;
    browser.fill("username", "frank").await;
    browser.fill("password", "frank-password-1").await;
    browser.click_submit().await;
    browser.find("#callback").await;
    browser.screenshot("shop-callback").await;
    let landed = browser.current_url().await;
    assert!(
        landed.as_str().starts_with(&format!("{}?", callback.uri)),
        "the browser ends at the redirect URI: {landed}"
    );
    assert_eq!(
        query_param(&landed, "state").as_deref(),
        Some(started.state.secret().as_str())
    );
    let code = query_param(&landed, "code").expect("a code in the redirect");
    callback.next_request().await;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint")
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code redeems with the secret the console showed");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&rp.id_token_verifier(), &started.nonce)
        .expect("the ID token verifies against realm shop's keys")
        .clone();
    let sub = claims.subject().as_str().to_string();
    // The subject is the user the console created: its row in the user list.
    browser.goto(&server.url("/admin/realms/shop/users")).await;
    let row = browser.text_of(&format!(r#"[data-key="{sub}"]"#)).await;
    assert!(row.contains("frank"), "the ID token's sub is frank: {row}");
    browser.screenshot("users").await;

    // Key rotation: old keys stay listed (now inactive) and published.
    browser.goto(&server.url("/admin/realms/shop/keys")).await;
    let before = key_rows(&browser).await;
    browser.screenshot("keys").await;
    assert!(
        before.iter().any(|(_, active)| *active),
        "a fresh realm has active keys: {before:?}"
    );
    browser
        .click_and_wait(r#"main a[href="/admin/realms/shop/keys/rotate"]"#)
        .await;
    browser.find("#confirm").await;
    browser.screenshot("rotate-confirm").await;
    browser.click_and_wait("#confirm").await;
    assert_accepted(&browser, "rotating keys").await;
    browser.screenshot("rotated").await;
    browser.goto(&server.url("/admin/realms/shop/keys")).await;
    let after = key_rows(&browser).await;
    browser.screenshot("keys-rotated").await;
    for (kid, _) in &before {
        assert!(
            after.iter().any(|(k, _)| k == kid),
            "old key {kid} is still listed: {after:?}"
        );
    }
    let new: Vec<&String> = after
        .iter()
        .filter(|(k, _)| !before.iter().any(|(b, _)| b == k))
        .map(|(k, _)| k)
        .collect();
    assert!(!new.is_empty(), "rotation adds keys: {after:?}");
    let inactive = |rows: &[(String, bool)]| rows.iter().filter(|(_, a)| !a).count();
    assert!(
        inactive(&after) > inactive(&before),
        "rotation retires the old keys: before {before:?}, after {after:?}"
    );
    let published = jwks_kids(&server, "shop").await;
    for (kid, _) in &after {
        assert!(
            published.contains(kid),
            "key {kid} is in the JWKS: {published:?}"
        );
    }
    browser.close().await;
}

/// A wrong admin password shows an error and signs nobody in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_refuses_a_wrong_password() {
    let server = sqlite_server().await;
    let browser = Browser::start("console_refuses_a_wrong_password").await;
    browser.goto(&server.url("/admin/login")).await;
    browser.find(r#"form input[name="password"]"#).await;
    browser.screenshot("console-login").await;
    browser.fill("username", ADMIN.0).await;
    browser.fill("password", "not-the-admin-password").await;
    browser.click_submit().await;
    let error = browser.text_of("p.form-error").await;
    assert!(!error.trim().is_empty(), "the error says something");
    browser.screenshot("wrong-password").await;
    assert!(
        !browser.exists("#whoami").await,
        "nobody is signed in after a wrong password"
    );

    browser.goto(&server.url("/admin")).await;
    browser.find(r#"form input[name="password"]"#).await;
    assert_eq!(
        browser.current_url().await.path(),
        "/admin/login",
        "/admin still sends the browser to the sign-in page"
    );
    assert!(!browser.exists("#whoami").await);
    browser.screenshot("admin-after").await;
    browser.close().await;
}

//! Second factors (CONTRACT §8) through the `openidconnect` client and the script-free form
//! client: enrolment inside the login when the realm requires it, TOTP codes accepted once,
//! recovery codes used up, wrong codes counted toward the lockout, step-up with `acr_values`,
//! `prompt=none` and essential `acr` claims, and the admin API for a user's credentials.
//!
//! Codes are computed here by an independent RFC 6238 implementation (HMAC-SHA-1 over the time
//! step), as an authenticator app would, from the secret the enrolment page shows.

use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, Scope,
    TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::authorization_code::{code_from, relying_party, RelyingParty, Started};
use super::browser::{Browser, Page};
use super::discovery::http;
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const CALLBACK: &str = "http://localhost:8080/callback";

const SEED: &str = r#"
[[realms]]
name = "strict"
mfa = "required"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid", "profile", "offline_access"]

[[realms.clients]]
client_id = "cli"
secret = "cli-secret"
grant_types = ["password"]
scopes = ["profile"]

[[realms.clients]]
client_id = "tv-app"
public = true
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
scopes = ["openid", "profile"]

[[realms.users]]
username = "carol"
password = "carol-password"

[[realms]]
name = "relaxed"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid", "profile"]

[[realms.clients]]
client_id = "bank"
secret = "bank-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid", "profile"]
mfa = "required"

[[realms.clients]]
client_id = "cli"
secret = "cli-secret"
grant_types = ["password"]
scopes = ["profile"]

[[realms.users]]
username = "erin"
password = "erin-password"

[[realms]]
name = "plain"
mfa = "off"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid", "profile"]

[[realms.users]]
username = "frank"
password = "frank-password"
"#;

/// RFC 4648 base32 (no padding), as authenticator apps read the key.
pub fn base32_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| *c != '=') {
        let value = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => panic!("not base32: {text}"),
        };
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// The six-digit TOTP code (RFC 6238, SHA-1, 30 s) of `secret` at `unix` seconds.
pub fn totp(secret: &[u8], unix: i64) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let step = (unix / 30) as u64;
    let mac = aws_lc_rs::hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = (mac[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// The server's time: codes are computed for the clock the server checks them against.
fn now(server: &TestServer) -> i64 {
    server.state.now().timestamp()
}

/// An authorization request with PKCE, `acr_values` and `prompt` as given.
fn start(client: &RelyingParty, acr: Option<&str>, prompt_none: bool) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .add_scope(Scope::new("profile".into()));
    if let Some(acr) = acr {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.into()));
    }
    if prompt_none {
        request = request.add_prompt(CoreAuthPrompt::None);
    }
    let (url, state, nonce) = request.url();
    Started {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The key an enrolment page shows.
pub fn shown_secret(page: &Page) -> Vec<u8> {
    let text = between(&page.body, r#"<code id="totp-secret">"#, "</code>")
        .unwrap_or_else(|| panic!("an enrolment page: {}", page.body));
    base32_decode(text)
}

fn recovery_codes(page: &Page) -> Vec<String> {
    let list = between(&page.body, r#"<ul id="recovery-codes">"#, "</ul>")
        .unwrap_or_else(|| panic!("the recovery codes: {}", page.body));
    list.split("<li><code>")
        .skip(1)
        .map(|item| item.split("</code>").next().unwrap().to_string())
        .collect()
}

/// Posts `code` on the second-factor page `page`.
async fn give_code(browser: &Browser, server: &TestServer, page: &Page, code: &str) -> Page {
    let action = format!("{}{}", server.base, page.form_action().expect("a form"));
    browser
        .post(
            &action,
            &[
                ("csrf", page.input("csrf").unwrap().as_str()),
                ("interaction", page.input("interaction").unwrap().as_str()),
                ("code", code),
            ],
        )
        .await
}

/// Gives `code` and follows on to the client.
async fn give_code_and_follow(
    browser: &Browser,
    server: &TestServer,
    page: &Page,
    code: &str,
) -> Page {
    let posted = give_code(browser, server, page, code).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    browser.follow(&server.base, posted).await
}

/// Exchanges the code with the `openidconnect` client; the verified ID token's raw claims.
async fn id_token_claims(client: &RelyingParty, started: Started, code: String) -> Value {
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code is exchanged");
    let id_token = tokens.id_token().expect("an ID token");
    id_token
        .claims(&client.id_token_verifier(), &started.nonce)
        .expect("the ID token verifies");
    let (_, access) = jwt_parts(openidconnect::OAuth2TokenResponse::access_token(&tokens).secret());
    let (_, claims) = jwt_parts(&id_token.to_string());
    assert_eq!(
        access["acr"], claims["acr"],
        "the access token says the same"
    );
    assert_eq!(access["amr"], claims["amr"]);
    claims
}

fn amr(claims: &Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn a_required_second_factor_is_enrolled_then_used_once(server: TestServer) {
    server.seed(SEED).await;
    let client = relying_party(&server, "strict", "webapp", Some("webapp-secret"), CALLBACK).await;

    // First login: the password, then enrolment on the same page flow.
    let started = start(&client, None, false);
    let browser = Browser::new();
    let enrol = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.body);
    assert!(enrol
        .url
        .contains("/realms/strict/second-factor?interaction="));
    assert!(enrol.body.contains("otpauth://totp/strict:carol?secret="));
    assert!(
        enrol.body.contains("<svg"),
        "a QR code rendered on the server"
    );
    assert!(!enrol.body.contains("<script"), "no script needed");
    let secret = shown_secret(&enrol);
    assert_eq!(secret.len(), 20, "160-bit secrets");
    // Reloading shows the same secret, not a new one.
    let again = browser.get(&enrol.url).await;
    assert_eq!(shown_secret(&again), secret);

    let wrong = give_code(&browser, &server, &enrol, "000000").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains(r#"id="code-error""#));
    let confirmed = give_code(&browser, &server, &wrong, &totp(&secret, now(&server))).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let codes = recovery_codes(&confirmed);
    assert_eq!(codes.len(), 10);
    let continued = browser
        .get(&format!(
            "{}/realms/strict/second-factor?interaction={}",
            server.base,
            confirmed.input("interaction").unwrap()
        ))
        .await;
    let done = browser.follow(&server.base, continued).await;
    let code = code_from(&done, &started, &server.issuer("strict"));
    let claims = id_token_claims(&client, started, code).await;
    assert_eq!(claims["acr"], "2");
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);

    // The secret is stored sealed, never as its base32 text.
    let stored: Vec<entity::credential::Model> = {
        use sea_orm::EntityTrait;
        entity::credential::Entity::find()
            .all(&server.state.caches.store.db)
            .await
            .unwrap()
    };
    assert_eq!(stored.len(), 11, "one TOTP and ten recovery codes");
    for credential in &stored {
        assert!(!codes.iter().any(|c| credential.secret.contains(c.as_str())));
        assert!(!credential.secret.contains(&encode_base32(&secret)));
    }

    // Second login, another browser: the code form, and the next step's code (the current one
    // was used by the enrolment).
    let started = start(&client, None, false);
    let browser = Browser::new();
    let form = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    assert!(form.body.contains(r#"name="code""#), "{}", form.body);
    assert!(
        !form.body.contains("totp-secret"),
        "enrolled: no new secret"
    );
    let fresh = totp(&secret, now(&server) + 30);
    let done = give_code_and_follow(&browser, &server, &form, &fresh).await;
    let code = code_from(&done, &started, &server.issuer("strict"));
    assert_eq!(id_token_claims(&client, started, code).await["acr"], "2");

    // The same code again, in a third browser: refused (RFC 6238 §5.2).
    let started = start(&client, None, false);
    let browser = Browser::new();
    let form = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    let replayed = give_code(&browser, &server, &form, &fresh).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(replayed.body.contains("already used"));

    // A recovery code works once, typed in any case and spacing.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let done = give_code_and_follow(&browser, &server, &replayed, &typed).await;
    let code = code_from(&done, &started, &server.issuer("strict"));
    let claims = id_token_claims(&client, started, code).await;
    assert_eq!(claims["acr"], "2");
    let started = start(&client, None, false);
    let browser = Browser::new();
    let form = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    let reused = give_code(&browser, &server, &form, &codes[3]).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.audit_events("user.recovery_code_used").await.len(),
        1
    );
    assert_eq!(server.audit_events("user.totp_enrolled").await.len(), 1);
}

/// base32 of the secret as the enrolment page shows it (for the at-rest check).
pub fn encode_base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut bits = 0u64;
    let mut count = 0;
    for byte in bytes {
        bits = (bits << 8) | u64::from(*byte);
        count += 8;
        while count >= 5 {
            count -= 5;
            out.push(ALPHABET[((bits >> count) & 31) as usize] as char);
        }
    }
    if count > 0 {
        out.push(ALPHABET[((bits << (5 - count)) & 31) as usize] as char);
    }
    out
}

async fn wrong_codes_lock_the_account(server: TestServer) {
    server.seed(SEED).await;
    let id = server.user_id("strict", "carol").await;
    let imported = server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/strict/users/{id}/credentials/totp"),
            Some(json!({})),
        )
        .await;
    assert_eq!(imported.status, 201, "{}", imported.text);
    let secret = base32_decode(imported.body["secret"].as_str().unwrap());
    let client = relying_party(&server, "strict", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, None, false);
    let browser = Browser::new();
    let mut page = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    // The test server locks after three failures.
    let mut statuses = Vec::new();
    for wrong in ["111111", "222222", "not-a-code"] {
        page = give_code(&browser, &server, &page, wrong).await;
        statuses.push(page.status);
    }
    assert_eq!(statuses, [StatusCode::UNAUTHORIZED; 3]);
    let locked = give_code(&browser, &server, &page, &totp(&secret, now(&server))).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(
        locked.location.is_none(),
        "the right code does not pass a lock"
    );
    assert_eq!(server.audit_events("user.locked").await.len(), 1);
    // The password is refused as well while the lock holds.
    let started = start(&client, None, false);
    let refused = Browser::new()
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

async fn step_up_asks_only_for_the_second_factor(server: TestServer) {
    server.seed(SEED).await;
    let client = relying_party(
        &server,
        "relaxed",
        "webapp",
        Some("webapp-secret"),
        CALLBACK,
    )
    .await;
    let browser = Browser::new();

    // A password login: level 1.
    let started = start(&client, None, false);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "erin", "erin-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("relaxed"));
    let claims = id_token_claims(&client, started, code).await;
    assert_eq!(claims["acr"], "1");
    assert_eq!(amr(&claims), ["pwd"]);

    // prompt=none cannot raise the level.
    let started = start(&client, Some("2"), true);
    let refused = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    assert_eq!(
        refused.location_param("error").as_deref(),
        Some("interaction_required")
    );

    // The user gets a TOTP (imported from another system); asking for level 2 now asks only
    // for the code: no password page.
    let id = server.user_id("relaxed", "erin").await;
    let secret_text = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let imported = server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/relaxed/users/{id}/credentials/totp"),
            Some(json!({"secret": secret_text.to_lowercase()})),
        )
        .await;
    assert_eq!(imported.status, 201, "{}", imported.text);
    assert_eq!(imported.body["secret"], secret_text);
    assert!(imported.body["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/relaxed:erin?secret="));
    let secret = base32_decode(secret_text);
    let started = start(&client, Some("2"), false);
    let form = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    assert!(form.url.contains("/second-factor?"), "{}", form.url);
    assert!(!form.body.contains(r#"name="password""#));
    let done = give_code_and_follow(&browser, &server, &form, &totp(&secret, now(&server))).await;
    let code = code_from(&done, &started, &server.issuer("relaxed"));
    let claims = id_token_claims(&client, started, code).await;
    assert_eq!(claims["acr"], "2");
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);

    // The session is at level 2 now: the next request passes silently, even with prompt=none.
    let started = start(&client, Some("2"), true);
    let silent = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let code = code_from(&silent, &started, &server.issuer("relaxed"));
    assert_eq!(id_token_claims(&client, started, code).await["acr"], "2");

    // A client that requires a second factor asks a level-1 session for one.
    let bank = relying_party(&server, "relaxed", "bank", Some("bank-secret"), CALLBACK).await;
    let fresh = Browser::new();
    let started = start(&bank, None, false);
    let form = fresh
        .authorize_and_sign_in(&server.base, &started.url, "erin", "erin-password")
        .await;
    assert!(form.url.contains("/second-factor?"), "{}", form.url);
}

async fn essential_acr_claims_and_policies(server: TestServer) {
    server.seed(SEED).await;
    // Discovery lists the levels.
    let discovery = server
        .http
        .get(server.url("/realms/plain/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(discovery["acr_values_supported"], json!(["1", "2"]));

    let client = relying_party(&server, "plain", "webapp", Some("webapp-secret"), CALLBACK).await;
    let browser = Browser::new();
    // Voluntary acr_values=2 where second factors are off: a level-1 login.
    let started = start(&client, Some("2"), false);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "frank", "frank-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("plain"));
    assert_eq!(id_token_claims(&client, started, code).await["acr"], "1");
    // An essential acr of 2 cannot be met there.
    let essential = json!({"id_token": {"acr": {"essential": true, "values": ["2"]}}});
    let url = format!(
        "{}&claims={}",
        start(&client, None, false).url,
        urlencode(&essential.to_string())
    );
    let refused = browser.follow(&server.base, browser.get(&url).await).await;
    assert_eq!(
        refused.location_param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    // A malformed claims parameter is the client's error.
    let url = format!("{}&claims=%7Bnot-json", start(&client, None, false).url);
    let refused = browser.follow(&server.base, browser.get(&url).await).await;
    assert_eq!(
        refused.location_param("error").as_deref(),
        Some("invalid_request")
    );

    // In a realm with optional second factors an essential acr of 2 takes a user without one
    // through enrolment.
    let client = relying_party(
        &server,
        "relaxed",
        "webapp",
        Some("webapp-secret"),
        CALLBACK,
    )
    .await;
    let url = format!(
        "{}&claims={}",
        start(&client, None, false).url,
        urlencode(&essential.to_string())
    );
    let enrol = Browser::new()
        .authorize_and_sign_in(&server.base, &url, "erin", "erin-password")
        .await;
    assert!(enrol.body.contains("totp-secret"), "{}", enrol.body);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn admins_see_import_and_reset_credentials(server: TestServer) {
    server.seed(SEED).await;
    let id = server.user_id("strict", "carol").await;
    let base = format!("/realms/strict/users/{id}/credentials");
    let listed = server.admin(reqwest::Method::GET, &base, None).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body, json!([]));

    for bad in [
        json!({"secret": "not base32!"}),
        json!({"secret": "JBSWY3DP"}),
        json!({"secret": ""}),
    ] {
        let refused = server
            .admin(reqwest::Method::POST, &format!("{base}/totp"), Some(bad))
            .await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(
            refused.body["fields"]["secret"].is_string(),
            "{}",
            refused.text
        );
    }
    let refused = server
        .admin(
            reqwest::Method::POST,
            &format!("{base}/totp"),
            Some(json!({"secret": "JBSWY3DPEHPK3PXP", "extra": 1})),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    let listed = server.admin(reqwest::Method::GET, &base, None).await;
    assert_eq!(listed.body, json!([]), "nothing changed");
    assert!(server.audit_events("user.totp_set").await.is_empty());

    let set = server
        .admin(
            reqwest::Method::POST,
            &format!("{base}/totp"),
            Some(json!({"secret": "JBSWY3DPEHPK3PXP"})),
        )
        .await;
    assert_eq!(set.status, 201, "{}", set.text);
    let credential = set.body["credential"]["id"].as_str().unwrap().to_string();
    let listed = server.admin(reqwest::Method::GET, &base, None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["kind"], "totp");
    assert!(
        !listed.text.contains("JBSWY3DPEHPK3PXP"),
        "secrets are never listed"
    );
    assert_eq!(server.audit_events("user.totp_set").await.len(), 1);

    let gone = server
        .admin(
            reqwest::Method::DELETE,
            &format!("{base}/{credential}"),
            None,
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    let again = server
        .admin(
            reqwest::Method::DELETE,
            &format!("{base}/{credential}"),
            None,
        )
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(
        server.audit_events("user.credential_removed").await.len(),
        1
    );

    // Policies are settings of realms and clients, validated.
    let bad = server
        .admin(
            reqwest::Method::PATCH,
            "/realms/relaxed",
            Some(json!({"mfa": "sometimes"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body["fields"]["mfa"].is_string());
    let set = server
        .admin(
            reqwest::Method::PATCH,
            "/realms/relaxed",
            Some(json!({"mfa": "required"})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["mfa"], "required");
    let bad = server
        .admin(
            reqwest::Method::PATCH,
            "/realms/relaxed/clients/webapp",
            Some(json!({"mfa": "off"})),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let client = server
        .admin(reqwest::Method::GET, "/realms/relaxed/clients/bank", None)
        .await;
    assert_eq!(client.body["mfa"], "required");
}

async fn password_grant(server: &TestServer, otp: Option<&str>) -> crate::common::Response {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", "carol"),
        ("password", "carol-password"),
    ];
    if let Some(otp) = otp {
        form.push(("otp", otp));
    }
    server
        .post_form(
            "/realms/strict/connect/token",
            &form,
            Some(("cli", "cli-secret")),
        )
        .await
}

async fn the_password_grant_asks_for_the_code_where_required(server: TestServer) {
    server.seed(SEED).await;
    // Without a second factor the user cannot pass a realm that requires one, and the answer
    // is the one a wrong password gets.
    let refused = password_grant(&server, None).await;
    refused.assert_oauth_error(400, "invalid_grant");
    let wrong_password = server
        .post_form(
            "/realms/strict/connect/token",
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "not-it"),
            ],
            Some(("cli", "cli-secret")),
        )
        .await;
    assert_eq!(
        refused.body, wrong_password.body,
        "nothing confirms the password"
    );

    let id = server.user_id("strict", "carol").await;
    let imported = server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/strict/users/{id}/credentials/totp"),
            Some(json!({})),
        )
        .await;
    let secret = base32_decode(imported.body["secret"].as_str().unwrap());
    password_grant(&server, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    password_grant(&server, Some("123456"))
        .await
        .assert_oauth_error(400, "invalid_grant");
    let code = totp(&secret, now(&server));
    let granted = password_grant(&server, Some(&code)).await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    let (_, claims) = jwt_parts(granted.body["access_token"].as_str().unwrap());
    assert_eq!(claims["acr"], "2");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    password_grant(&server, Some(&code))
        .await
        .assert_oauth_error(400, "invalid_grant");
}

async fn approving_a_device_takes_the_second_factor_too(server: TestServer) {
    server.seed(SEED).await;
    let id = server.user_id("strict", "carol").await;
    let imported = server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/strict/users/{id}/credentials/totp"),
            Some(json!({})),
        )
        .await;
    let secret = base32_decode(imported.body["secret"].as_str().unwrap());
    let authorized = server
        .post_form(
            "/realms/strict/connect/device_authorization",
            &[("client_id", "tv-app"), ("scope", "openid profile")],
            None,
        )
        .await;
    assert_eq!(authorized.status, 200, "{}", authorized.text);
    let browser = Browser::new();
    let verification = authorized.body["verification_uri_complete"]
        .as_str()
        .unwrap();
    let login = browser
        .follow(&server.base, browser.get(verification).await)
        .await;
    let form = browser
        .sign_in(&server.base, &login, "carol", "carol-password")
        .await;
    assert!(form.url.contains("/second-factor?"), "{}", form.url);
    let consent =
        give_code_and_follow(&browser, &server, &form, &totp(&secret, now(&server))).await;
    assert!(
        consent.body.contains(r#"name="decision" value="allow""#),
        "{}",
        consent.body
    );
    let action = format!("{}{}", server.base, consent.form_action().unwrap());
    let done = browser
        .post(
            &action,
            &[
                ("csrf", &consent.input("csrf").unwrap()),
                ("user_code", &consent.input("user_code").unwrap()),
                ("decision", "allow"),
            ],
        )
        .await;
    assert!(done.location.unwrap().contains("result=approved"));
    let token = server
        .post_form(
            "/realms/strict/connect/token",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                (
                    "device_code",
                    authorized.body["device_code"].as_str().unwrap(),
                ),
                ("client_id", "tv-app"),
            ],
            None,
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.text);
    let (_, claims) = jwt_parts(token.body["id_token"].as_str().unwrap());
    assert_eq!(claims["acr"], "2");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
}

async fn set_actions(
    server: &TestServer,
    realm: &str,
    id: &str,
    actions: Value,
) -> crate::common::Response {
    server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/{realm}/users/{id}/required-actions"),
            Some(actions),
        )
        .await
}

async fn an_administrator_asks_for_a_new_password(server: TestServer) {
    server.seed(SEED).await;
    let id = server.user_id("relaxed", "erin").await;
    for bad in [
        json!(["verify_email"]),
        json!(["dance"]),
        json!("update_password"),
    ] {
        let refused = set_actions(&server, "relaxed", &id, bad).await;
        assert!(
            refused.status == 422 || refused.status == 400,
            "{}",
            refused.text
        );
    }
    let set = set_actions(
        &server,
        "relaxed",
        &id,
        json!(["update_password", "update_password"]),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["required_actions"], json!(["update_password"]));
    assert_eq!(
        server.audit_events("user.required_actions_set").await.len(),
        1
    );

    // The password grant does not skip the action.
    let grant = |password: &'static str| {
        let server = &server;
        async move {
            server
                .post_form(
                    "/realms/relaxed/connect/token",
                    &[
                        ("grant_type", "password"),
                        ("username", "erin"),
                        ("password", password),
                    ],
                    Some(("cli", "cli-secret")),
                )
                .await
        }
    };
    grant("erin-password")
        .await
        .assert_oauth_error(400, "invalid_grant");

    let client = relying_party(
        &server,
        "relaxed",
        "webapp",
        Some("webapp-secret"),
        CALLBACK,
    )
    .await;
    let started = start(&client, None, false);
    let browser = Browser::new();
    let form = browser
        .authorize_and_sign_in(&server.base, &started.url, "erin", "erin-password")
        .await;
    assert!(
        form.url.contains("/realms/relaxed/update-password?"),
        "{}",
        form.url
    );
    let post = |new: &'static str, again: &'static str| {
        let browser = &browser;
        let form = &form;
        let server = &server;
        async move {
            browser
                .post(
                    &format!("{}{}", server.base, form.form_action().unwrap()),
                    &[
                        ("csrf", form.input("csrf").unwrap().as_str()),
                        ("interaction", form.input("interaction").unwrap().as_str()),
                        ("new_password", new),
                        ("confirm_password", again),
                    ],
                )
                .await
        }
    };
    let mismatch = post("erin-new-password", "erin-other-password").await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let short = post("short", "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let set = post("erin-new-password", "erin-new-password").await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let done = browser.follow(&server.base, set).await;
    let code = code_from(&done, &started, &server.issuer("relaxed"));
    id_token_claims(&client, started, code).await;

    let user = server
        .admin(
            reqwest::Method::GET,
            &format!("/realms/relaxed/users/{id}"),
            None,
        )
        .await;
    assert_eq!(user.body["required_actions"], json!([]));
    grant("erin-password")
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(grant("erin-new-password").await.status, 200);
}

async fn configuring_a_new_app_asks_for_the_old_one_first(server: TestServer) {
    server.seed(SEED).await;
    let id = server.user_id("relaxed", "erin").await;
    let old_text = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let imported = server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/relaxed/users/{id}/credentials/totp"),
            Some(json!({"secret": old_text})),
        )
        .await;
    assert_eq!(imported.status, 201);
    let old = base32_decode(old_text);
    let set = set_actions(&server, "relaxed", &id, json!(["configure_totp"])).await;
    assert_eq!(set.status, 200, "{}", set.text);

    let client = relying_party(
        &server,
        "relaxed",
        "webapp",
        Some("webapp-secret"),
        CALLBACK,
    )
    .await;
    let started = start(&client, None, false);
    let browser = Browser::new();
    let form = browser
        .authorize_and_sign_in(&server.base, &started.url, "erin", "erin-password")
        .await;
    // The password alone does not replace a second factor: the current app first.
    assert!(form.body.contains(r#"name="code""#), "{}", form.body);
    assert!(
        !form.body.contains("totp-secret"),
        "no new secret before the old code"
    );
    let enrol = give_code_and_follow(&browser, &server, &form, &totp(&old, now(&server))).await;
    let new = shown_secret(&enrol);
    assert_ne!(new, old);
    let confirmed = give_code(&browser, &server, &enrol, &totp(&new, now(&server))).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(recovery_codes(&confirmed).len(), 10);
    let next = browser
        .get(&format!(
            "{}/realms/relaxed/second-factor?interaction={}",
            server.base,
            confirmed.input("interaction").unwrap()
        ))
        .await;
    let done = browser.follow(&server.base, next).await;
    let code = code_from(&done, &started, &server.issuer("relaxed"));
    assert_eq!(id_token_claims(&client, started, code).await["acr"], "2");
    let user = server
        .admin(
            reqwest::Method::GET,
            &format!("/realms/relaxed/users/{id}"),
            None,
        )
        .await;
    assert_eq!(user.body["required_actions"], json!([]));

    // The old app no longer signs in; the new one does.
    let started = start(&client, None, false);
    let browser = Browser::new();
    let form = browser
        .authorize_and_sign_in(&server.base, &started.url, "erin", "erin-password")
        .await;
    let refused = give_code(&browser, &server, &form, &totp(&old, now(&server) + 30)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let done =
        give_code_and_follow(&browser, &server, &refused, &totp(&new, now(&server) + 30)).await;
    code_from(&done, &started, &server.issuer("relaxed"));
}

/// Many logins give the same fresh code at once: exactly one is accepted. (Lockout is raised
/// here so that every attempt is judged rather than turned away by the lock.)
async fn one_code_many_logins_one_winner(server: TestServer) {
    server.seed(SEED).await;
    let id = server.user_id("strict", "carol").await;
    let imported = server
        .admin(
            reqwest::Method::POST,
            &format!("/realms/strict/users/{id}/credentials/totp"),
            Some(json!({})),
        )
        .await;
    let secret = base32_decode(imported.body["secret"].as_str().unwrap());
    let client = relying_party(&server, "strict", "webapp", Some("webapp-secret"), CALLBACK).await;
    let mut logins = Vec::new();
    for _ in 0..12 {
        let started = start(&client, None, false);
        let browser = Browser::new();
        let form = browser
            .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
            .await;
        assert!(form.body.contains(r#"name="code""#), "{}", form.body);
        logins.push((browser, form));
    }
    let code = totp(&secret, now(&server));
    let answers = futures::future::join_all(
        logins
            .iter()
            .map(|(browser, form)| give_code(browser, &server, form, &code)),
    )
    .await;
    let accepted = answers
        .iter()
        .filter(|a| a.status == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(accepted, 1, "the code is accepted once");
    for answer in answers.iter().filter(|a| a.status != StatusCode::SEE_OTHER) {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
}

async fn race_sqlite() {
    let server = TestServer::start_with(crate::common::Backend::Sqlite, generous_lockout())
        .await
        .unwrap();
    one_code_many_logins_one_winner(server).await;
}

async fn race_postgres() {
    match TestServer::start_with(crate::common::Backend::Postgres, generous_lockout()).await {
        Some(server) => one_code_many_logins_one_winner(server).await,
        None => eprintln!("skipped: {} is not set", crate::common::PG_ENV),
    }
}

fn generous_lockout() -> crate::common::Options {
    crate::common::Options {
        lockout: server::accounts::LockoutPolicy {
            threshold: 100,
            window: chrono::Duration::minutes(5),
            duration: chrono::Duration::minutes(5),
        },
        ..Default::default()
    }
}

mod same_code_race {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::race_sqlite().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::race_postgres().await;
    }
}

on_both_backends! {
    enrol_then_use_once => a_required_second_factor_is_enrolled_then_used_once,
    lockout => wrong_codes_lock_the_account,
    step_up => step_up_asks_only_for_the_second_factor,
    acr_requests => essential_acr_claims_and_policies,
    admin_credentials => admins_see_import_and_reset_credentials,
    password_grant_otp => the_password_grant_asks_for_the_code_where_required,
    device_approval => approving_a_device_takes_the_second_factor_too,
    update_password => an_administrator_asks_for_a_new_password,
    configure_totp => configuring_a_new_app_asks_for_the_old_one_first,
}

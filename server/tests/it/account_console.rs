//! The account console (CONTRACT §8) with the script-free form client: signing in through the
//! realm (with the second factor the realm asks for), changing the password (the current one
//! required), setting up and removing an authenticator app, new recovery codes, and signing out
//! everywhere.

use reqwest::StatusCode;

use super::browser::{Browser, Page};
use super::second_factor::{shown_secret, totp};
use crate::common::TestServer;
use crate::on_both_backends;

const SEED: &str = r#"
[[realms]]
name = "home"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "gina"
password = "gina-password"
email = "gina@example.com"
claims = { name = "Gina <Example>" }

[[realms]]
name = "vault"
mfa = "required"

[[realms.users]]
username = "hank"
password = "hank-password"
"#;

fn now(server: &TestServer) -> i64 {
    server.state.now().timestamp()
}

/// Opens the console in `browser`, signing in with the password when asked.
async fn open(server: &TestServer, browser: &Browser, realm: &str, user: &str, pass: &str) -> Page {
    let url = server.url(&format!("/realms/{realm}/account"));
    let page = browser.follow(&server.base, browser.get(&url).await).await;
    if page.body.contains(r#"name="password""#) {
        return browser.sign_in(&server.base, &page, user, pass).await;
    }
    page
}

/// Posts the form whose action ends with `action` on `page`, with `fields` besides the CSRF token.
async fn submit(
    server: &TestServer,
    browser: &Browser,
    page: &Page,
    action: &str,
    fields: &[(&str, &str)],
) -> Page {
    let csrf = page.input("csrf").expect("a CSRF token");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browser.post(&server.url(action), &form).await
}

async fn the_console_signs_in_and_manages_the_account(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();
    let console = open(&server, &browser, "home", "gina", "gina-password").await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.body);
    assert!(
        console.url.ends_with("/realms/home/account"),
        "{}",
        console.url
    );
    assert!(console
        .body
        .contains(r#"<dd id="profile-username">gina</dd>"#));
    assert!(console.body.contains("Gina &lt;Example&gt;"), "escaped");
    assert!(console.body.contains("No authenticator app is set up."));
    assert!(console.body.contains("this browser"));

    // A form without the CSRF token changes nothing.
    let forged = browser
        .post(
            &server.url("/realms/home/account/password"),
            &[
                ("current_password", "gina-password"),
                ("new_password", "forged-password"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);

    // The password: the current one is required, the new one follows the rules.
    let wrong = submit(
        &server,
        &browser,
        &console,
        "/realms/home/account/password",
        &[
            ("current_password", "nope"),
            ("new_password", "gina-new-password"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let short = submit(
        &server,
        &browser,
        &console,
        "/realms/home/account/password",
        &[
            ("current_password", "gina-password"),
            ("new_password", "short"),
        ],
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let changed = submit(
        &server,
        &browser,
        &console,
        "/realms/home/account/password",
        &[
            ("current_password", "gina-password"),
            ("new_password", "gina-new-password"),
        ],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body.contains("Your password was changed."));
    let events = server.audit_events("user.password_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "self");

    // An authenticator app: set up, confirmed with a code, recovery codes shown once.
    let setup = browser.get(&server.url("/realms/home/account/totp")).await;
    assert_eq!(setup.status, StatusCode::OK);
    let secret = shown_secret(&setup);
    let wrong = submit(
        &server,
        &browser,
        &setup,
        "/realms/home/account/totp",
        &[("code", "000000")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let done = submit(
        &server,
        &browser,
        &setup,
        "/realms/home/account/totp",
        &[("code", &totp(&secret, now(&server)))],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains(r#"<ul id="recovery-codes">"#));
    let console = browser.get(&server.url("/realms/home/account")).await;
    assert!(console.body.contains("An authenticator app is set up."));
    assert!(console.body.contains("10 unused recovery codes."));

    // New recovery codes replace the old ones.
    let renewed = submit(
        &server,
        &browser,
        &console,
        "/realms/home/account/recovery-codes",
        &[],
    )
    .await;
    assert_eq!(renewed.status, StatusCode::OK);
    assert_eq!(
        server
            .audit_events("user.recovery_codes_generated")
            .await
            .len(),
        1
    );

    // Now that gina has a second factor, a new sign-in to the console asks for it.
    let other = Browser::new();
    let form = open(&server, &other, "home", "gina", "gina-new-password").await;
    assert!(form.url.contains("/second-factor?"), "{}", form.url);

    // Removing the app (allowed where second factors are optional).
    let removed = submit(
        &server,
        &browser,
        &console,
        "/realms/home/account/totp/remove",
        &[],
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert!(removed.body.contains("No authenticator app is set up."));
}

async fn signing_out_everywhere_ends_every_session(server: TestServer) {
    server.seed(SEED).await;
    let first = Browser::new();
    let second = Browser::new();
    let console = open(&server, &first, "home", "gina", "gina-password").await;
    let elsewhere = open(&server, &second, "home", "gina", "gina-password").await;
    assert_eq!(elsewhere.status, StatusCode::OK);
    assert_eq!(console.body.matches("<li>Signed in").count(), 1);
    let console = first.get(&server.url("/realms/home/account")).await;
    assert_eq!(console.body.matches("<li>Signed in").count(), 2);

    let out = submit(
        &server,
        &first,
        &console,
        "/realms/home/account/sessions/end",
        &[],
    )
    .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    for browser in [&first, &second] {
        let again = browser
            .follow(
                &server.base,
                browser.get(&server.url("/realms/home/account")).await,
            )
            .await;
        assert!(
            again.body.contains(r#"name="password""#),
            "signed out: {}",
            again.body
        );
    }
    assert_eq!(
        server
            .audit_events("user.signed_out_everywhere")
            .await
            .len(),
        1
    );
}

async fn a_realm_requiring_a_second_factor_enrols_before_the_console(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();
    let enrol = open(&server, &browser, "vault", "hank", "hank-password").await;
    assert!(
        enrol.url.contains("/realms/vault/second-factor?"),
        "{}",
        enrol.url
    );
    let secret = shown_secret(&enrol);
    let action = format!("{}{}", server.base, enrol.form_action().unwrap());
    let confirmed = browser
        .post(
            &action,
            &[
                ("csrf", enrol.input("csrf").unwrap().as_str()),
                ("interaction", enrol.input("interaction").unwrap().as_str()),
                ("code", &totp(&secret, now(&server))),
            ],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK);
    let next = browser
        .get(&format!(
            "{}/realms/vault/second-factor?interaction={}",
            server.base,
            confirmed.input("interaction").unwrap()
        ))
        .await;
    let console = browser.follow(&server.base, next).await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.body);
    assert!(console.url.ends_with("/realms/vault/account"));
    // Where a second factor is required, the app can be replaced, not removed.
    assert!(!console.body.contains("/account/totp/remove"));
    let refused = submit(
        &server,
        &browser,
        &console,
        "/realms/vault/account/totp/remove",
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

/// Passkeys are renamed and removed from the console (registering one needs a browser; see
/// `passkeys.rs`). A passkey row is stored directly here.
async fn passkeys_are_renamed_and_removed(server: TestServer) {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    server.seed(SEED).await;
    let db = &server.state.caches.store.db;
    let gina = entity::user::Entity::find()
        .filter(entity::user::Column::Username.eq("gina"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let now = server.state.now();
    // Signed in before the passkey existed, then raised as if it had been given (the stored row
    // is no real passkey).
    let browser = Browser::new();
    open(&server, &browser, "home", "gina", "gina-password").await;
    entity::credential::ActiveModel {
        id: Set("passkey-1".into()),
        realm_id: Set(gina.realm_id.clone()),
        user_id: Set(gina.id.clone()),
        kind: Set("passkey".into()),
        label: Set(Some("Old phone".into())),
        lookup_key: Set(Some("credential-id".into())),
        secret: Set("{}".into()),
        confirmed: Set(true),
        last_used_step: Set(None),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    server.sql("UPDATE sessions SET acr = '2'").await;
    let console = browser.get(&server.url("/realms/home/account")).await;
    assert!(console.body.contains("Old phone"), "{}", console.body);
    let rename = "/realms/home/account/passkeys/rename";
    let empty = submit(
        &server,
        &browser,
        &console,
        rename,
        &[("id", "passkey-1"), ("name", " ")],
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let unknown = submit(
        &server,
        &browser,
        &console,
        rename,
        &[("id", "nope"), ("name", "X")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let renamed = submit(
        &server,
        &browser,
        &console,
        rename,
        &[("id", "passkey-1"), ("name", "Work <laptop>")],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert!(renamed.body.contains("Work &lt;laptop&gt;"));
    assert_eq!(server.audit_events("user.passkey_renamed").await.len(), 1);
    let removed = submit(
        &server,
        &browser,
        &console,
        "/realms/home/account/passkeys/remove",
        &[("id", "passkey-1")],
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert!(!removed.body.contains("Work &lt;laptop&gt;"));
}

async fn the_profile_is_edited_and_a_new_address_needs_the_password(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();
    let console = open(&server, &browser, "home", "gina", "gina-password").await;
    let action = "/realms/home/account/profile";
    assert!(console.body.contains(r#"id="profile""#), "{}", console.body);

    // The name alone needs no password; what is stored is shown escaped.
    let named = submit(
        &server,
        &browser,
        &console,
        action,
        &[("name", "Gina <New>"), ("email", "gina@example.com")],
    )
    .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    assert!(named.body.contains("Your profile was saved."));
    assert!(
        named.body.contains(r#"value="Gina &lt;New&gt;""#),
        "{}",
        named.body
    );

    // A new address: refused without the current password, or when it is no address; saved
    // unverified with it.
    for (email, password, status) in [
        ("gina@new.example", "", StatusCode::UNAUTHORIZED),
        (
            "gina@new.example",
            "wrong-password",
            StatusCode::UNAUTHORIZED,
        ),
        ("not an address", "gina-password", StatusCode::BAD_REQUEST),
    ] {
        let refused = submit(
            &server,
            &browser,
            &console,
            action,
            &[
                ("name", "Gina <New>"),
                ("email", email),
                ("current_password", password),
            ],
        )
        .await;
        assert_eq!(refused.status, status, "{email}: {}", refused.body);
        assert!(
            refused.body.contains("gina@example.com (verified)")
                || refused.body.contains("gina@example.com (not verified)")
        );
    }
    let moved = submit(
        &server,
        &browser,
        &console,
        action,
        &[
            ("name", "Gina <New>"),
            ("email", "gina@new.example"),
            ("current_password", "gina-password"),
        ],
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert!(
        moved.body.contains("gina@new.example (not verified)"),
        "{}",
        moved.body
    );
    let gina = server.user_id("home", "gina").await;
    let stored = server
        .admin(
            reqwest::Method::GET,
            &format!("/realms/home/users/{gina}"),
            None,
        )
        .await;
    assert_eq!(stored.body["email"], "gina@new.example");
    assert_eq!(stored.body["email_verified"], false);
    assert_eq!(stored.body["claims"]["name"], "Gina <New>");
    let events = server.audit_events("user.profile_updated").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.actor == "self"));
}

on_both_backends! {
    edits_the_profile => the_profile_is_edited_and_a_new_address_needs_the_password,
    passkeys_renamed => passkeys_are_renamed_and_removed,
    manages_the_account => the_console_signs_in_and_manages_the_account,
    sign_out_everywhere => signing_out_everywhere_ends_every_session,
    enrols_first => a_realm_requiring_a_second_factor_enrols_before_the_console,
}

//! Pending logins as server-side interactions: bound to the browser that started them, ended
//! once (one code however many requests race to finish), and refused with a page, never a 500,
//! when unknown, expired or malformed.

use openidconnect::{AuthorizationCode, TokenResponse};
use reqwest::StatusCode;

use super::authorization_code::{code_from, relying_party, start, WEB_SEED};
use super::browser::Browser;
use super::discovery::http;
use crate::common::TestServer;
use crate::on_both_backends;

const CALLBACK: &str = "http://localhost:8080/callback";

async fn a_pending_login_belongs_to_its_browser(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let victim = Browser::new();
    let login = victim
        .follow(&server.base, victim.get(&started.url).await)
        .await;
    assert!(
        login.url.contains("/realms/web/login?interaction="),
        "the login page names the pending login: {}",
        login.url
    );
    let handle = login.input("interaction").expect("the pending login");

    // Another browser holding the link (or the handle) gets nowhere.
    let other = Browser::new();
    let stolen = other.get(&login.url).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert!(!stolen.body.contains(r#"name="password""#));
    assert!(stolen.body.contains("another browser"), "{}", stolen.body);
    let own_form = other
        .get(&server.url("/realms/web/login"))
        .await
        .input("csrf")
        .expect("a CSRF token of its own");
    let posted = other
        .post(
            &server.url("/realms/web/login"),
            &[
                ("csrf", own_form.as_str()),
                ("interaction", handle.as_str()),
                ("username", "carol"),
                ("password", "carol-password"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST);
    assert!(posted.location.is_none(), "no sign-in, no redirect");
    let resumed = other
        .get(&server.url(&format!(
            "/realms/web/connect/authorize/resume?interaction={handle}"
        )))
        .await;
    assert_eq!(resumed.status, StatusCode::BAD_REQUEST);

    // The browser that started it still finishes it.
    let done = victim
        .sign_in(&server.base, &login, "carol", "carol-password")
        .await;
    code_from(&done, &started, &server.issuer("web"));
}

async fn a_finished_login_yields_one_code(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let posted = browser
        .post(
            &format!("{}{}", server.base, login.form_action().unwrap()),
            &[
                ("csrf", login.input("csrf").unwrap().as_str()),
                ("interaction", login.input("interaction").unwrap().as_str()),
                ("username", "carol"),
                ("password", "carol-password"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    let resume = posted.location.clone().expect("on to the resume endpoint");
    assert!(resume.contains("/connect/authorize/resume?interaction="));

    let attempts = futures::future::join_all((0..16).map(|_| browser.get(&resume))).await;
    let codes: Vec<_> = attempts
        .iter()
        .filter(|page| page.location_param("code").is_some())
        .collect();
    assert_eq!(codes.len(), 1, "exactly one request finishes the login");
    code_from(codes[0], &started, &server.issuer("web"));
    for page in attempts
        .iter()
        .filter(|p| p.location_param("code").is_none())
    {
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.location.is_none(), "never a redirect to the client");
    }
    let left = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::interaction::Entity::find()
            .count(&server.state.caches.store.db)
            .await
            .unwrap()
    };
    assert_eq!(left, 0, "the finished login is gone");
}

async fn unknown_expired_and_malformed_logins_get_a_page(server: TestServer) {
    server.seed(WEB_SEED).await;
    let browser = Browser::new();
    for path in [
        "/realms/web/login?interaction=unknown",
        "/realms/web/consent?interaction=unknown",
        "/realms/web/consent",
        "/realms/web/connect/authorize/resume",
        "/realms/web/connect/authorize/resume?interaction=",
        "/realms/web/connect/authorize/resume?interaction=%FF%FE",
        "/realms/web/connect/authorize/resume?interaction=a&interaction=b",
    ] {
        let page = browser.get(&server.url(path)).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            page.body
        );
        assert!(page.location.is_none(), "{path}");
        assert!(page.body.contains("<html"), "{path}: an HTML page");
    }

    // A login left too long expires.
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    {
        use sea_orm::{sea_query::Expr, EntityTrait};
        let past = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        entity::interaction::Entity::update_many()
            .col_expr(entity::interaction::Column::ExpiresAt, Expr::value(past))
            .exec(&server.state.caches.store.db)
            .await
            .unwrap();
    }
    let expired = browser.get(&login.url).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(expired.body.contains("expired"), "{}", expired.body);
    let posted = browser
        .sign_in(&server.base, &login, "carol", "carol-password")
        .await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST);
    assert!(posted.location.is_none());
}

/// Posts the login form of `page` without following where it leads.
async fn post_login(
    browser: &Browser,
    server: &TestServer,
    page: &super::browser::Page,
    user: &str,
) -> super::browser::Page {
    let mut form = vec![
        ("csrf", page.input("csrf").expect("a CSRF token")),
        ("username", user.to_string()),
        ("password", format!("{user}-password")),
    ];
    if let Some(handle) = page.input("interaction") {
        form.push(("interaction", handle));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser
        .post(
            &format!("{}{}", server.base, page.form_action().unwrap()),
            &form,
        )
        .await
}

async fn steps_count_only_for_the_user_who_did_them(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(
        &server,
        "web",
        "third-party",
        Some("third-secret"),
        "http://localhost:9000/cb",
    )
    .await;
    let started = start(&client, &["email"]);
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let consent = browser
        .follow(
            &server.base,
            post_login(&browser, &server, &login, "carol").await,
        )
        .await;
    assert!(
        consent.body.contains(r#"value="allow""#),
        "{}",
        consent.body
    );
    // Carol allows, but the browser does not follow on to the resume endpoint…
    let allowed = browser
        .post(
            &format!("{}{}", server.base, consent.form_action().unwrap()),
            &[
                ("csrf", consent.input("csrf").unwrap().as_str()),
                (
                    "interaction",
                    consent.input("interaction").unwrap().as_str(),
                ),
                ("decision", "allow"),
            ],
        )
        .await;
    let resume = allowed.location.clone().expect("on to resume");
    // …and Dave signs in to the realm in the same browser before it does.
    let bare = browser.get(&server.url("/realms/web/login")).await;
    let signed_in = post_login(&browser, &server, &bare, "dave").await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    // Carol's consent does not count for Dave: he is asked himself.
    let resumed = browser.get(&resume).await;
    assert!(resumed.location_param("code").is_none(), "no code for Dave");
    let next = resumed.location.clone().unwrap_or_default();
    assert!(
        next.contains("/realms/web/consent?interaction="),
        "Dave is asked for consent: {next}"
    );
}

async fn signing_in_as_someone_else_than_the_hint_ends_with_login_required(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    // An ID token naming Dave.
    let first = start(&client, &[]);
    let browser = Browser::new();
    let done = browser
        .authorize_and_sign_in(&server.base, &first.url, "dave", "dave-password")
        .await;
    let code = code_from(&done, &first, &server.issuer("web"));
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(first.verifier)
        .request_async(&http())
        .await
        .expect("the code is exchanged");
    let hint = tokens.id_token().expect("an ID token").to_string();

    // Another browser asks for Dave, but Carol signs in.
    let other = Browser::new();
    let started = start(&client, &[]);
    let login = other
        .follow(
            &server.base,
            other
                .get(&format!("{}&id_token_hint={hint}", started.url))
                .await,
        )
        .await;
    assert!(login.body.contains(r#"name="password""#));
    let answered = other
        .follow(
            &server.base,
            post_login(&other, &server, &login, "carol").await,
        )
        .await;
    assert_eq!(
        answered.location_param("error").as_deref(),
        Some("login_required"),
        "the client hears that its user did not sign in: {:?}",
        answered.location
    );
    assert_eq!(
        answered.location_param("state").as_deref(),
        Some(started.state.secret().as_str())
    );
}

async fn an_oversized_request_is_refused_before_it_is_stored(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let browser = Browser::new();
    let padding = "x".repeat(20 * 1024);
    let page = browser
        .post(
            &server.url("/realms/web/connect/authorize"),
            &form_urlencoded::parse(started.url.split_once('?').unwrap().1.as_bytes())
                .into_owned()
                .chain([("padding".to_string(), padding)])
                .collect::<Vec<_>>()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("invalid_request"),
        "{:?} {}",
        page.location,
        page.body
    );
    let stored = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::interaction::Entity::find()
            .count(&server.state.caches.store.db)
            .await
            .unwrap()
    };
    assert_eq!(stored, 0);
}

on_both_backends! {
    steps_belong_to_their_user => steps_count_only_for_the_user_who_did_them,
    hint_mismatch => signing_in_as_someone_else_than_the_hint_ends_with_login_required,
    oversized => an_oversized_request_is_refused_before_it_is_stored,
    bound_to_browser => a_pending_login_belongs_to_its_browser,
    one_code => a_finished_login_yields_one_code,
    refused_with_a_page => unknown_expired_and_malformed_logins_get_a_page,
}

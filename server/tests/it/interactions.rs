//! Pending logins as server-side interactions: bound to the browser that started them, ended
//! once (one code however many requests race to finish), and refused with a page, never a 500,
//! when unknown, expired or malformed.

use reqwest::StatusCode;

use super::authorization_code::{code_from, relying_party, start, WEB_SEED};
use super::browser::Browser;
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

on_both_backends! {
    bound_to_browser => a_pending_login_belongs_to_its_browser,
    one_code => a_finished_login_yields_one_code,
    refused_with_a_page => unknown_expired_and_malformed_logins_get_a_page,
}

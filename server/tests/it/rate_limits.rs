//! Request rate limits (CONTRACT §12): per address and per client on the token endpoint, per
//! address on the sign-in form; 429 with `Retry-After` in each endpoint's own format, buckets
//! that refill, limits a realm sets through the admin API, and forwarding headers that an
//! untrusted client cannot use to change the address it is counted under.

use reqwest::Method;
use serde_json::{json, Value};

use super::browser::Browser;
use crate::common::{basic_header, Response, TestServer, BILLING, SERVICES_SEED};
use crate::on_both_backends;

async fn set_limits(server: &TestServer, limits: Value) -> Response {
    server
        .admin(
            Method::PATCH,
            "/realms/services",
            Some(json!({"rate_limits": limits})),
        )
        .await
}

async fn cc(server: &TestServer, client: (&str, &str), forwarded_for: &str) -> Response {
    Response::from(
        server
            .http
            .post(server.url("/realms/services/connect/token"))
            .header("Authorization", basic_header(client.0, client.1))
            .header("X-Forwarded-For", forwarded_for)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn assert_limited(answer: &Response) {
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(answer.body["error"], "temporarily_unavailable");
    let retry: u64 = answer
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds");
    assert!(retry >= 1, "{retry}");
}

async fn limits_per_address_and_per_client(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let view = server.admin(Method::GET, "/realms/services", None).await;
    assert_eq!(
        view.body["rate_limits"]["token"],
        json!({"per_ip": "6000/minute", "per_client": "6000/minute"}),
        "the defaults"
    );
    let bad = set_limits(&server, json!({"token": {"per_ip": "3/fortnight"}})).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(
        bad.body["fields"]["rate_limits.token.per_ip"].is_string(),
        "{}",
        bad.text
    );

    // Per address: a burst of three, then 429, whatever X-Forwarded-For claims (no proxy is
    // trusted); the realm's other limits stay.
    let patched = set_limits(&server, json!({"token": {"per_ip": "3/minute"}})).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(
        patched.body["rate_limits"]["token"],
        json!({"per_ip": "3/minute", "per_client": "6000/minute"})
    );
    for n in 0..3 {
        let ok = cc(&server, BILLING, &format!("203.0.113.{n}")).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    assert_limited(&cc(&server, BILLING, "198.51.100.77").await);

    // Buckets refill: two a second, so the next request passes within a second.
    let patched = set_limits(&server, json!({"token": {"per_ip": "2/second"}})).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let mut refused = 0;
    let started = std::time::Instant::now();
    loop {
        let answer = cc(&server, BILLING, "192.0.2.1").await;
        if answer.status == 200 && refused > 0 {
            break;
        }
        if answer.status == 429 {
            refused += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the bucket never refilled"
        );
    }

    // Per client: one client spends its allowance, another still gets tokens.
    let patched = set_limits(
        &server,
        json!({"token": {"per_ip": null, "per_client": "2/minute"}}),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["rate_limits"]["token"]["per_ip"], Value::Null);
    let created = server
        .admin(
            Method::POST,
            "/realms/services/clients",
            Some(json!({
                "client_id": "other",
                "grant_types": ["client_credentials"],
                "client_secret": "other-secret-0123456789",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    for _ in 0..2 {
        assert_eq!(cc(&server, BILLING, "x").await.status, 200);
    }
    assert_limited(&cc(&server, BILLING, "x").await);
    let other = ("other", "other-secret-0123456789");
    assert_eq!(cc(&server, other, "x").await.status, 200);
}

async fn sign_in_forms_are_limited_per_address(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let patched = set_limits(&server, json!({"login": {"per_ip": "2/hour"}})).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let browser = Browser::new();
    let login = server.url("/realms/services/login");
    for _ in 0..2 {
        let page = browser.post(&login, &[("username", "nobody")]).await;
        assert_ne!(page.status, 429, "{}", page.body);
    }
    let page = browser.post(&login, &[("username", "nobody")]).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.headers.get("retry-after").is_some());
    assert!(page.body.contains("Too many attempts"), "{}", page.body);
}

/// Password guesses through a public client's password grant and at the console's sign-in
/// form count against the realm's sign-in limit, like the sign-in form's; a confidential
/// client (a backend signing its users in) is held to its token limits instead.
async fn password_paths_share_the_sign_in_limit(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let patched = set_limits(&server, json!({"login": {"per_ip": "2/hour"}})).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let created = server
        .admin(
            Method::POST,
            "/realms/services/clients",
            Some(json!({"client_id": "cli", "public": true, "grant_types": ["password"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let server = &server;
    let guess = |client: Option<(&'static str, &'static str)>| {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", "ghost"),
            ("password", "guess"),
        ];
        if client.is_none() {
            form.push(("client_id", "cli"));
        }
        async move {
            server
                .post_form("/realms/services/connect/token", &form, client)
                .await
        }
    };
    for _ in 0..2 {
        guess(None).await.assert_oauth_error(400, "invalid_grant");
    }
    assert_limited(&guess(None).await);
    let backend = guess(Some(("no-cc", "no-cc-secret"))).await;
    backend.assert_oauth_error(400, "invalid_grant");

    // The console signs in to realm master.
    let master = server
        .admin(
            Method::PATCH,
            "/realms/master",
            Some(json!({"rate_limits": {"login": {"per_ip": "1/hour"}}})),
        )
        .await;
    assert_eq!(master.status, 200, "{}", master.text);
    let browser = Browser::new();
    let login = server.url("/admin/login");
    let first = browser.post(&login, &[("username", "admin")]).await;
    assert_ne!(first.status, 429, "{}", first.body);
    let second = browser.post(&login, &[("username", "admin")]).await;
    assert_eq!(second.status, 429, "{}", second.body);
    assert!(second.headers.get("retry-after").is_some());
}

on_both_backends! {
    token_endpoint => limits_per_address_and_per_client,
    sign_in => sign_in_forms_are_limited_per_address,
    password_paths => password_paths_share_the_sign_in_limit,
}

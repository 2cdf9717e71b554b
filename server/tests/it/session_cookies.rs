//! Browser session cookies: names never collide between realms or clients, and a session is
//! honoured only by the realm (and, in `client` mode, the client) that made it, even when its
//! value is presented under another cookie name.

use reqwest::header::{COOKIE, LOCATION};
use reqwest::StatusCode;

use super::authorization_code::{code_from, relying_party, start, Started};
use super::browser::Browser;
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const CALLBACK: &str = "http://localhost:8080/callback";

const SEED: &str = r#"
[[realms]]
name = "a"
cookie_mode = "client"

[[realms.clients]]
client_id = "b_c"
secret = "bc-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.clients]]
client_id = "other"
secret = "other-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "carol"
password = "carol-password"

[[realms]]
name = "a_b"
cookie_mode = "client"

[[realms.clients]]
client_id = "c"
secret = "c-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "dave"
password = "dave-password"

[[realms]]
name = "one"

[[realms.clients]]
client_id = "app"
secret = "app-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "carol"
password = "carol-password"

[[realms]]
name = "two"

[[realms.clients]]
client_id = "app"
secret = "app-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "carol"
password = "carol-password"
"#;

/// The `(name, value)` pairs the browser holds for the server.
fn cookies(server: &TestServer, browser: &Browser) -> Vec<(String, String)> {
    use reqwest::cookie::CookieStore;
    let url = url::Url::parse(&server.base).unwrap();
    let Some(header) = browser.jar.cookies(&url) else {
        return Vec::new();
    };
    header
        .to_str()
        .unwrap()
        .split("; ")
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Signs `user` in to `realm` through `client_id`; returns what the RP keeps.
async fn sign_in(
    server: &TestServer,
    browser: &Browser,
    realm: &str,
    client: (&str, &str),
    user: (&str, &str),
) {
    let rp = relying_party(server, realm, client.0, Some(client.1), CALLBACK).await;
    let started = start(&rp, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, user.0, user.1)
        .await;
    code_from(&done, &started, &server.issuer(realm));
}

/// A silent authorization (`prompt=none`) for `client_id` of `realm` carrying exactly
/// `cookie`: the redirect back to the client, and what the RP kept.
async fn silent(
    server: &TestServer,
    realm: &str,
    client: (&str, &str),
    cookie: &str,
) -> (reqwest::Response, Started) {
    let rp = relying_party(server, realm, client.0, Some(client.1), CALLBACK).await;
    let started = start(&rp, &[]);
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = bare
        .get(format!("{}&prompt=none", started.url))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    (response, started)
}

fn location_param(response: &reqwest::Response, name: &str) -> Option<String> {
    let location = response.headers()[LOCATION].to_str().unwrap();
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Realm `a` with client `b_c` and realm `a_b` with client `c` once shared `tessera_a_b_c`.
async fn colliding_pairs_get_their_own_cookies(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();
    sign_in(
        &server,
        &browser,
        "a",
        ("b_c", "bc-secret"),
        ("carol", "carol-password"),
    )
    .await;
    sign_in(
        &server,
        &browser,
        "a_b",
        ("c", "c-secret"),
        ("dave", "dave-password"),
    )
    .await;
    let held = cookies(&server, &browser);
    assert_eq!(held.len(), 2, "one cookie each: {held:?}");
    assert_ne!(held[0].0, held[1].0);
    assert_ne!(held[0].1, held[1].1, "two sessions");

    // Each cookie signs in its own realm's user, and only there.
    for (realm, client, user) in [
        ("a", ("b_c", "bc-secret"), "carol"),
        ("a_b", ("c", "c-secret"), "dave"),
    ] {
        let mut honoured = 0;
        for (name, value) in &held {
            let (response, started) =
                silent(&server, realm, client, &format!("{name}={value}")).await;
            if location_param(&response, "error").is_some() {
                continue;
            }
            honoured += 1;
            let code = location_param(&response, "code").unwrap();
            let tokens = server
                .post_form(
                    &format!("/realms/{realm}/connect/token"),
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", CALLBACK),
                        ("code_verifier", started.verifier.secret()),
                    ],
                    Some(client),
                )
                .await;
            let (_, claims) = jwt_parts(tokens.body["id_token"].as_str().unwrap());
            let expected = super::password::user_id(&server, realm, user).await;
            assert_eq!(claims["sub"], expected, "{realm} is signed in as {user}");
        }
        assert_eq!(honoured, 1, "exactly one cookie signs in to {realm}");
    }
}

/// A client-mode session presented under another client's cookie name is not honoured.
async fn sessions_are_honoured_only_by_their_client(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();
    sign_in(
        &server,
        &browser,
        "a",
        ("b_c", "bc-secret"),
        ("carol", "carol-password"),
    )
    .await;
    let held = cookies(&server, &browser);
    let [(name, value)] = held.as_slice() else {
        panic!("one session cookie: {held:?}");
    };
    // Under its own name it still signs in silently (so the replay below is a fair test).
    let (own, _) = silent(
        &server,
        "a",
        ("b_c", "bc-secret"),
        &format!("{name}={value}"),
    )
    .await;
    assert!(location_param(&own, "code").is_some());

    // The value under client `other`'s name, and under every name at once.
    let renamed = name.replace("b.5fc", "other").replace("b_c", "other");
    assert_ne!(&renamed, name);
    for cookie in [
        format!("{renamed}={value}"),
        format!("{renamed}={value}; {name}={value}"),
    ] {
        let (replayed, _) = silent(&server, "a", ("other", "other-secret"), &cookie).await;
        assert_eq!(
            location_param(&replayed, "error").as_deref(),
            Some("login_required"),
            "{cookie}"
        );
    }
}

/// A realm-mode session presented under another realm's cookie name is not honoured.
async fn sessions_are_honoured_only_by_their_realm(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();
    sign_in(
        &server,
        &browser,
        "one",
        ("app", "app-secret"),
        ("carol", "carol-password"),
    )
    .await;
    let held = cookies(&server, &browser);
    let [(name, value)] = held.as_slice() else {
        panic!("one session cookie: {held:?}");
    };
    let renamed = name.replace("one", "two");
    assert_ne!(&renamed, name);
    let (replayed, _) = silent(
        &server,
        "two",
        ("app", "app-secret"),
        &format!("{renamed}={value}"),
    )
    .await;
    assert_eq!(
        location_param(&replayed, "error").as_deref(),
        Some("login_required")
    );
    // Shown the login page rather than signed in, when interaction is allowed.
    let rp = relying_party(&server, "two", "app", Some("app-secret"), CALLBACK).await;
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = bare
        .get(start(&rp, &[]).url)
        .header(COOKIE, format!("{renamed}={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(page.headers()[LOCATION]
        .to_str()
        .unwrap()
        .contains("/realms/two/login"));
}

on_both_backends! {
    colliding_cookie_names => colliding_pairs_get_their_own_cookies,
    client_session_replay => sessions_are_honoured_only_by_their_client,
    realm_session_replay => sessions_are_honoured_only_by_their_realm,
}

//! Federation (CONTRACT §9): realm `app` signs people in through realm `corp` of the same
//! server, a real OpenID Connect provider validated as any upstream would be. The scripted
//! browser walks both realms' pages; the `openidconnect` crate is the application's client.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::authorization_code::{code_from, relying_party, start, Started};
use super::browser::{Browser, Page};
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const CALLBACK: &str = "http://localhost:8080/callback";

fn seed(base: &str) -> String {
    format!(
        r#"
[[realms]]
name = "corp"

[[realms.clients]]
client_id = "app-broker"
secret = "app-broker-secret"
grant_types = ["authorization_code"]
redirect_uris = ["{base}/realms/app/broker/corp/callback"]
scopes = ["openid", "profile", "email"]

[[realms.users]]
username = "erin"
password = "erin-password"
email = "erin@corp.example"
claims = {{ name = "Erin Corp" }}

[[realms.users]]
username = "frank"
password = "frank-password"
email = "frank@example.com"

[[realms.users]]
username = "gina"
password = "gina-password"
email = "gina@example.com"

[[realms.users]]
username = "hank"
password = "hank-password"
email = "hank@example.com"

[[realms.users]]
username = "ivan"
password = "ivan-password"
email = "ivan@corp.example"

[[realms]]
name = "app"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
scopes = ["openid", "profile", "email"]

[[realms.users]]
username = "frank-local"
password = "frank-local-password"
email = "frank@example.com"

[[realms.users]]
username = "gina-local"
password = "gina-local-password"
email = "gina@example.com"

[[realms.users]]
username = "hank-local"
password = "hank-local-password"
email = "hank@example.com"
"#
    )
}

/// Seeds both realms and registers `corp` as realm `app`'s provider `corp`.
async fn arrange(server: &TestServer, extra: Value) {
    server.seed(&seed(&server.base)).await;
    let mut body = json!({
        "alias": "corp",
        "display_name": "Corp",
        "issuer": server.issuer("corp"),
        "client_id": "app-broker",
        "client_secret": "app-broker-secret",
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    let created = server
        .admin(Method::POST, "/realms/app/identity-providers", Some(body))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
}

async fn begin(server: &TestServer) -> Started {
    let client = relying_party(server, "app", "webapp", Some("webapp-secret"), CALLBACK).await;
    start(&client, &["email", "profile"])
}

/// The `href` of the element with this id.
fn href_of(page: &Page, id: &str) -> String {
    let marker = format!(r#"id="{id}" href=""#);
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("#{id} in {}", page.body))
        + marker.len();
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end].replace("&amp;", "&")
}

/// From the application's authorization URL to the upstream's login page, through the
/// login page's provider link.
async fn to_upstream_login(server: &TestServer, browser: &Browser, started: &Started) -> Page {
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    assert!(login.body.contains("Sign in with Corp"), "{}", login.body);
    let link = href_of(&login, "idp-corp");
    let upstream = browser
        .follow(&server.base, browser.get(&server.url(&link)).await)
        .await;
    assert!(
        upstream.url.contains("/realms/corp/"),
        "the upstream's page: {}",
        upstream.url
    );
    upstream
}

/// Signs `username` in at the upstream, on to wherever that leads (the application, or a page).
async fn through_corp(
    server: &TestServer,
    browser: &Browser,
    started: &Started,
    username: &str,
    password: &str,
) -> Page {
    let upstream = to_upstream_login(server, browser, started).await;
    browser
        .sign_in(&server.base, &upstream, username, password)
        .await
}

/// The application's tokens for `code`: the token response's JSON.
async fn redeem(server: &TestServer, code: &str, started: &Started) -> Value {
    let response = server
        .post_form(
            "/realms/app/connect/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", started.verifier.secret()),
            ],
            Some(("webapp", "webapp-secret")),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

async fn users_named(server: &TestServer, realm: &str, username: &str) -> usize {
    let listed = server
        .admin(
            Method::GET,
            &format!("/realms/{realm}/users?username={username}"),
            None,
        )
        .await;
    listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["username"] == username)
        .count()
}

async fn brokered_sign_in(server: TestServer) {
    arrange(&server, json!({})).await;
    let view = server
        .admin(Method::GET, "/realms/app/identity-providers/corp", None)
        .await;
    assert_eq!(view.status, 200);
    assert_eq!(view.body["client_secret_set"], true);
    assert!(view.body.get("client_secret").is_none(), "write-only");
    assert!(!view.text.contains("app-broker-secret"));
    assert_eq!(
        view.body["redirect_uri"],
        format!("{}/realms/app/broker/corp/callback", server.base)
    );
    let check = server
        .admin(
            Method::POST,
            "/realms/app/identity-providers/corp/test",
            None,
        )
        .await;
    assert_eq!(check.status, 200, "{}", check.text);
    assert_eq!(check.body["ok"], true, "{}", check.text);
    assert!(check.body["signing_keys"].as_u64().unwrap() >= 1);

    // The application is the `openidconnect` crate: it verifies what the broker issues.
    let client = relying_party(&server, "app", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &["email", "profile"]);
    let browser = Browser::new();
    let done = through_corp(&server, &browser, &started, "erin", "erin-password").await;
    let code = code_from(&done, &started, &server.issuer("app"));
    let tokens = client
        .exchange_code(openidconnect::AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&super::discovery::http())
        .await
        .expect("the code is exchanged");
    let verified = openidconnect::TokenResponse::id_token(&tokens)
        .expect("an ID token")
        .claims(&client.id_token_verifier(), &started.nonce)
        .expect("the ID token verifies")
        .clone();
    assert_eq!(
        verified.email().map(|e| e.as_str()),
        Some("erin@corp.example")
    );
    let (_, id_token) = jwt_parts(
        &openidconnect::TokenResponse::id_token(&tokens)
            .unwrap()
            .to_string(),
    );
    let (_, access) = jwt_parts(openidconnect::OAuth2TokenResponse::access_token(&tokens).secret());
    let erin = server.user_id("app", "erin").await;
    assert_eq!(id_token["sub"], erin.as_str(), "a local user of app");
    assert_ne!(erin, server.user_id("corp", "erin").await);
    assert_eq!(id_token["iss"], server.issuer("app"));
    assert_eq!(id_token["idp"], "corp");
    assert_eq!(access["idp"], "corp");
    assert!(id_token["amr"].as_array().unwrap().contains(&json!("fed")));
    assert_eq!(id_token["email"], "erin@corp.example");
    assert_eq!(id_token["name"], "Erin Corp");
    let links = server
        .admin(
            Method::GET,
            &format!("/realms/app/users/{erin}/links"),
            None,
        )
        .await;
    assert_eq!(links.status, 200, "{}", links.text);
    assert_eq!(links.body[0]["provider"], "corp");
    assert_eq!(
        links.body[0]["subject"],
        server.user_id("corp", "erin").await
    );

    // A later sign-in follows the link: the same user, nobody new.
    let again = begin(&server).await;
    let done = through_corp(&server, &Browser::new(), &again, "erin", "erin-password").await;
    let code = code_from(&done, &again, &server.issuer("app"));
    let tokens = redeem(&server, &code, &again).await;
    let (_, id_token) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["sub"], erin.as_str());
    assert_eq!(users_named(&server, "app", "erin").await, 1);
    assert_eq!(server.audit_events("user.created_by_idp").await.len(), 1);

    // erin signs in to the account console through corp; her only link stays: without a
    // password it is her way in.
    let console_browser = Browser::new();
    let login = console_browser
        .follow(
            &server.base,
            console_browser
                .get(&server.url("/realms/app/account"))
                .await,
        )
        .await;
    let upstream = console_browser
        .follow(
            &server.base,
            console_browser
                .get(&server.url(&href_of(&login, "idp-corp")))
                .await,
        )
        .await;
    let console = console_browser
        .sign_in(&server.base, &upstream, "erin", "erin-password")
        .await;
    assert!(console.body.contains(r#"id="links""#), "{}", console.body);
    let kept = console_browser
        .post(
            &server.url("/realms/app/account/links/remove"),
            &[
                ("csrf", &console.input("csrf").unwrap()),
                ("provider", "corp"),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::CONFLICT, "{}", kept.body);
    assert!(kept.body.contains("how you sign in"));

    // Mapped claims are copied at the first sign-in (`import`), or at every one (`force`).
    let corp_erin = server.user_id("corp", "erin").await;
    let renamed = server
        .admin(
            Method::PATCH,
            &format!("/realms/corp/users/{corp_erin}"),
            Some(json!({"claims": {"name": "Erin Renamed"}})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let name_in_app = || async {
        server
            .admin(Method::GET, &format!("/realms/app/users/{erin}"), None)
            .await
            .body["claims"]["name"]
            .clone()
    };
    let started = begin(&server).await;
    let done = through_corp(&server, &Browser::new(), &started, "erin", "erin-password").await;
    code_from(&done, &started, &server.issuer("app"));
    assert_eq!(name_in_app().await, "Erin Corp", "import: copied once");
    let forced = server
        .admin(
            Method::PATCH,
            "/realms/app/identity-providers/corp",
            Some(json!({"sync_mode": "force"})),
        )
        .await;
    assert_eq!(forced.status, 200, "{}", forced.text);
    let started = begin(&server).await;
    let done = through_corp(&server, &Browser::new(), &started, "erin", "erin-password").await;
    code_from(&done, &started, &server.issuer("app"));
    assert_eq!(
        name_in_app().await,
        "Erin Renamed",
        "force: copied every time"
    );
    assert_eq!(server.audit_events("user.synced_from_idp").await.len(), 1);

    // `idp_hint` skips the login page.
    let hinted = begin(&server).await;
    let browser = Browser::new();
    let page = browser
        .follow(
            &server.base,
            browser.get(&format!("{}&idp_hint=corp", hinted.url)).await,
        )
        .await;
    assert!(page.url.contains("/realms/corp/login"), "{}", page.url);
    let done = browser
        .sign_in(&server.base, &page, "erin", "erin-password")
        .await;
    code_from(&done, &hinted, &server.issuer("app"));

    // What identifies accounts stays while users are linked by it.
    let moved = server
        .admin(
            Method::PATCH,
            "/realms/app/identity-providers/corp",
            Some(json!({"issuer": "https://elsewhere.example"})),
        )
        .await;
    assert_eq!(moved.status, 409, "{}", moved.text);

    // A provider that creates no users signs in only the accounts already linked.
    let closed = server
        .admin(
            Method::PATCH,
            "/realms/app/identity-providers/corp",
            Some(json!({"create_users": false})),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let started = begin(&server).await;
    let refused = through_corp(&server, &Browser::new(), &started, "ivan", "ivan-password").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("No account here is linked"),
        "{}",
        refused.body
    );
    assert_eq!(users_named(&server, "app", "ivan").await, 0);
    let started = begin(&server).await;
    let linked = through_corp(&server, &Browser::new(), &started, "erin", "erin-password").await;
    code_from(&linked, &started, &server.issuer("app"));
}

/// Steps from the upstream's login page up to (not into) the callback; returns its URL.
async fn callback_url(server: &TestServer, browser: &Browser, upstream_login: &Page) -> String {
    let action = server.url(&upstream_login.form_action().unwrap());
    let mut page = browser
        .post(
            &action,
            &[
                ("csrf", &upstream_login.input("csrf").unwrap()),
                ("interaction", &upstream_login.input("interaction").unwrap()),
                ("username", "erin"),
                ("password", "erin-password"),
            ],
        )
        .await;
    for _ in 0..10 {
        let next = page.location.clone().expect("a redirect");
        if next.contains("/broker/corp/callback") {
            return next;
        }
        page = browser.get(&next).await;
    }
    panic!("never reached the callback");
}

async fn callback_refusals(server: TestServer) {
    arrange(&server, json!({})).await;
    let started = begin(&server).await;
    let browser = Browser::new();

    // A forged state finds nothing.
    let forged = browser
        .get(&server.url("/realms/app/broker/corp/callback?code=anything&state=forged-state"))
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert!(forged.body.contains("expired or was already used"));

    // The real answer works once; replayed, it finds nothing.
    let upstream = to_upstream_login(&server, &browser, &started).await;
    let callback = callback_url(&server, &browser, &upstream).await;
    let done = browser
        .follow(&server.base, browser.get(&callback).await)
        .await;
    code_from(&done, &started, &server.issuer("app"));
    let replayed = browser.get(&callback).await;
    assert_eq!(
        replayed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        replayed.body
    );

    // An answer carried into another browser (login CSRF) continues nothing there.
    let started = begin(&server).await;
    let browser = Browser::new();
    let upstream = to_upstream_login(&server, &browser, &started).await;
    let callback = callback_url(&server, &browser, &upstream).await;
    let elsewhere = Browser::new().get(&callback).await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert!(!elsewhere.body.contains("code="));

    // The upstream's refusal comes back to the login page as a sentence.
    let started = begin(&server).await;
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let to_upstream = browser.get(&server.url(&href_of(&login, "idp-corp"))).await;
    let upstream_url = to_upstream.location.unwrap();
    let state = url::Url::parse(&upstream_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let denied = browser
        .get(&server.url(&format!(
            "/realms/app/broker/corp/callback?error=access_denied&state={state}"
        )))
        .await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST);
    assert!(denied.body.contains("was cancelled"), "{}", denied.body);
    assert!(
        denied.body.contains(r#"name="password""#),
        "the login page again"
    );

    // Only erin's one sign-in made a user.
    assert_eq!(server.audit_events("user.created_by_idp").await.len(), 1);
}

async fn existing_accounts(server: TestServer) {
    arrange(&server, json!({})).await;
    let frank_local = server.user_id("app", "frank-local").await;

    // frank's address belongs to a local account: its password first.
    let started = begin(&server).await;
    let browser = Browser::new();
    let page = through_corp(&server, &browser, &started, "frank", "frank-password").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("link-explanation"), "{}", page.body);
    let action = server.url(&page.form_action().unwrap());
    let form = |password: &'static str, page: &Page| {
        vec![
            ("csrf", page.input("csrf").unwrap()),
            ("interaction", page.input("interaction").unwrap()),
            ("link", page.input("link").unwrap()),
            ("password", password.to_string()),
        ]
    };
    let fields = form("wrong-password", &page);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wrong = browser.post(&action, &refs).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let links = server
        .admin(
            Method::GET,
            &format!("/realms/app/users/{frank_local}/links"),
            None,
        )
        .await;
    assert_eq!(links.body, json!([]), "nothing linked on a wrong password");
    let fields = form("frank-local-password", &wrong);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let right = browser.post(&action, &refs).await;
    let done = browser.follow(&server.base, right).await;
    let code = code_from(&done, &started, &server.issuer("app"));
    let tokens = redeem(&server, &code, &started).await;
    let (_, id_token) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["sub"], frank_local.as_str());
    let amr = id_token["amr"].as_array().unwrap();
    assert!(amr.contains(&json!("fed")) && amr.contains(&json!("pwd")));
    assert_eq!(users_named(&server, "app", "frank").await, 0, "nobody new");

    // frank-local sees the link in the account console, and may remove it (he has a password).
    let console_browser = Browser::new();
    let console = console_browser
        .follow(
            &server.base,
            console_browser
                .get(&server.url("/realms/app/account"))
                .await,
        )
        .await;
    let console = console_browser
        .sign_in(
            &server.base,
            &console,
            "frank-local",
            "frank-local-password",
        )
        .await;
    assert!(console.body.contains(r#"id="links""#), "{}", console.body);
    assert!(console.body.contains("Corp"));
    let removed = console_browser
        .post(
            &server.url("/realms/app/account/links/remove"),
            &[
                ("csrf", &console.input("csrf").unwrap()),
                ("provider", "corp"),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert!(removed.body.contains("The link was removed."));
    let links = server
        .admin(
            Method::GET,
            &format!("/realms/app/users/{frank_local}/links"),
            None,
        )
        .await;
    assert_eq!(links.body, json!([]));
    assert_eq!(server.audit_events("user.idp_unlinked").await.len(), 1);
    // The submitted proof is spent.
    let replay = browser.post(&action, &refs).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);

    // Linking by verified address, when the provider allows it and both sides verified it.
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/app/identity-providers/corp",
            Some(json!({"link_by_verified_email": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    server
        .sql("UPDATE users SET email_verified = true WHERE username IN ('gina', 'gina-local', 'hank-local')")
        .await;
    let started = begin(&server).await;
    let done = through_corp(&server, &Browser::new(), &started, "gina", "gina-password").await;
    let code = code_from(&done, &started, &server.issuer("app"));
    let tokens = redeem(&server, &code, &started).await;
    let (_, id_token) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id_token["sub"],
        server.user_id("app", "gina-local").await.as_str()
    );

    // hank's upstream address is unverified: no link to someone else's account by it.
    let started = begin(&server).await;
    let page = through_corp(&server, &Browser::new(), &started, "hank", "hank-password").await;
    assert!(page.body.contains("link-explanation"), "{}", page.body);
    let hank_local = server.user_id("app", "hank-local").await;
    let links = server
        .admin(
            Method::GET,
            &format!("/realms/app/users/{hank_local}/links"),
            None,
        )
        .await;
    assert_eq!(links.body, json!([]));
    assert_eq!(users_named(&server, "app", "hank").await, 0);
}

async fn provider_administration(server: TestServer) {
    server.seed(&seed(&server.base)).await;
    let post = |body: Value| {
        let server = &server;
        async move {
            server
                .admin(Method::POST, "/realms/app/identity-providers", Some(body))
                .await
        }
    };
    let missing = post(json!({"alias": "x"})).await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    assert!(missing.text.contains("client_id"));
    let no_issuer = post(json!({"alias": "x", "client_id": "c"})).await;
    assert_eq!(no_issuer.status, 422);
    assert!(no_issuer.text.contains("issuer"), "{}", no_issuer.text);
    let microsoft = post(json!({"alias": "ms", "template": "microsoft", "client_id": "c"})).await;
    assert_eq!(microsoft.status, 422);
    assert!(
        microsoft.text.contains("login.microsoftonline.com"),
        "{}",
        microsoft.text
    );
    let unknown = post(json!({"alias": "x", "template": "myspace", "client_id": "c"})).await;
    assert_eq!(unknown.status, 422);
    let reserved = post(json!({
        "alias": "x", "template": "google", "client_id": "c",
        "claim_mappings": {"email": "sub"}
    }))
    .await;
    assert_eq!(reserved.status, 422, "{}", reserved.text);
    let bad_url = post(json!({"alias": "x", "issuer": "ftp://nope", "client_id": "c"})).await;
    assert_eq!(bad_url.status, 422);
    let by_email = post(json!({
        "alias": "x", "issuer": "https://idp.example", "client_id": "c", "subject_claim": "email"
    }))
    .await;
    assert_eq!(by_email.status, 422, "OIDC accounts are identified by sub");

    let github = post(json!({"alias": "github", "template": "github", "client_id": "gh", "client_secret": "gh-secret"})).await;
    assert_eq!(github.status, 201, "{}", github.text);
    assert_eq!(github.body["kind"], "oauth2");
    assert_eq!(github.body["subject_claim"], "id");
    assert_eq!(
        github.body["userinfo_endpoint"],
        "https://api.github.com/user"
    );
    assert_eq!(github.body["claim_mappings"]["login"], "username");
    let duplicate = post(json!({"alias": "github", "template": "github", "client_id": "gh"})).await;
    assert_eq!(duplicate.status, 409);
    let google =
        post(json!({"alias": "google", "template": "google", "client_id": "g", "enabled": false}))
            .await;
    assert_eq!(google.status, 201, "{}", google.text);
    assert_eq!(google.body["issuer"], "https://accounts.google.com");

    // The login page lists the enabled ones only.
    let client = relying_party(&server, "app", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    assert!(login.body.contains("Sign in with GitHub"));
    assert!(!login.body.contains("Sign in with Google"));

    // A secret rotated is audited though nothing visible changed; clearing it shows.
    let rotated = server
        .admin(
            Method::PATCH,
            "/realms/app/identity-providers/github",
            Some(json!({"client_secret": "another-secret"})),
        )
        .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(
        server
            .audit_events("identity_provider.secret_changed")
            .await
            .len(),
        1
    );
    let renamed = server
        .admin(
            Method::PATCH,
            "/realms/app/identity-providers/github",
            Some(json!({"alias": "gh2"})),
        )
        .await;
    assert_eq!(renamed.status, 422, "the alias is the key");
    let deleted = server
        .admin(
            Method::DELETE,
            "/realms/app/identity-providers/github",
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let gone = server
        .admin(Method::GET, "/realms/app/identity-providers/github", None)
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        server.audit_events("identity_provider.created").await.len(),
        2
    );
    assert_eq!(
        server.audit_events("identity_provider.deleted").await.len(),
        1
    );
}

/// panva's `oidc-provider` (node), started on loopback for one test: another implementation
/// as the upstream, so that Tessera is not only compatible with itself.
struct NodeProvider {
    child: std::process::Child,
    issuer: String,
}

impl Drop for NodeProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scripts/oidc-provider-upstream` once per test run: installs the locked packages, prints
/// the fixture's path.
fn node_provider_script() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/oidc-provider-upstream");
        let output = std::process::Command::new(&script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", script.display()));
        assert!(
            output.status.success(),
            "{} failed: install Node.js and npm",
            script.display()
        );
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    })
}

impl NodeProvider {
    fn start(client_id: &str, secret: &str, redirect_uri: &str) -> Self {
        use std::io::BufRead;
        let script = node_provider_script();
        let mut child = std::process::Command::new("node")
            .arg(script)
            .env("UPSTREAM_CLIENT_ID", client_id)
            .env("UPSTREAM_CLIENT_SECRET", secret)
            .env("UPSTREAM_REDIRECT_URI", redirect_uri)
            .env("UPSTREAM_SKIP_CONSENT", "1")
            // It exits when this pipe closes, should the test process die without dropping it.
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("oidc-provider said {line:?}"))
            .to_string();
        Self { child, issuer }
    }
}

/// Follows redirects across hosts (Tessera and the upstream) until a page is shown or the
/// browser is sent to the application's callback.
async fn follow_anywhere(browser: &Browser, mut page: Page) -> Page {
    for _ in 0..15 {
        let Some(next) = page
            .location
            .clone()
            .filter(|_| page.status.is_redirection())
        else {
            return page;
        };
        if next.starts_with(CALLBACK) {
            return page;
        }
        let next = url::Url::parse(&page.url).unwrap().join(&next).unwrap();
        page = browser.get(next.as_str()).await;
    }
    panic!("too many redirects");
}

async fn brokering_to_node_oidc_provider(server: TestServer) {
    server.seed(&seed(&server.base)).await;
    let redirect_uri = format!("{}/realms/app/broker/panva/callback", server.base);
    let upstream = NodeProvider::start("tessera", "tessera-upstream-secret", &redirect_uri);
    let created = server
        .admin(
            Method::POST,
            "/realms/app/identity-providers",
            Some(json!({
                "alias": "panva",
                "display_name": "Panva",
                "issuer": upstream.issuer,
                "client_id": "tessera",
                "client_secret": "tessera-upstream-secret",
                "client_auth_method": "client_secret_post",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let check = server
        .admin(
            Method::POST,
            "/realms/app/identity-providers/panva/test",
            None,
        )
        .await;
    assert_eq!(check.body["ok"], true, "{}", check.text);

    let started = begin(&server).await;
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let link = href_of(&login, "idp-panva");
    let form = follow_anywhere(&browser, browser.get(&server.url(&link)).await).await;
    assert!(form.url.starts_with(&upstream.issuer), "{}", form.url);
    assert!(form.body.contains(r#"name="login""#), "{}", form.body);
    let action = format!("{}/interaction/", upstream.issuer);
    let uid = form.url.rsplit('/').next().unwrap();
    let posted = browser
        .post(
            &format!("{action}{uid}"),
            &[("prompt", "login"), ("login", "ivy"), ("password", "any")],
        )
        .await;
    let done = follow_anywhere(&browser, posted).await;
    let code = code_from(&done, &started, &server.issuer("app"));
    let tokens = redeem(&server, &code, &started).await;
    let (_, id_token) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["idp"], "panva");
    assert_eq!(id_token["email"], "ivy@upstream.test");
    let ivy = server.user_id("app", "ivy").await;
    assert_eq!(id_token["sub"], ivy.as_str());
    let links = server
        .admin(Method::GET, &format!("/realms/app/users/{ivy}/links"), None)
        .await;
    assert_eq!(links.body[0]["subject"], "ivy");

    // Cancelled at the upstream: back to Tessera's login page with a sentence, nobody made.
    let started = begin(&server).await;
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let form = follow_anywhere(
        &browser,
        browser
            .get(&server.url(&href_of(&login, "idp-panva")))
            .await,
    )
    .await;
    let aborted =
        follow_anywhere(&browser, browser.get(&format!("{}/abort", form.url)).await).await;
    assert_eq!(aborted.status, StatusCode::BAD_REQUEST, "{}", aborted.body);
    assert!(aborted.body.contains("was cancelled"), "{}", aborted.body);
    assert_eq!(server.audit_events("user.created_by_idp").await.len(), 1);
}

/// The login page's link to `alias`, followed to the upstream's (corp's) login page.
async fn to_login_of(
    server: &TestServer,
    browser: &Browser,
    started: &Started,
    alias: &str,
) -> Page {
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let link = href_of(&login, &format!("idp-{alias}"));
    browser
        .follow(&server.base, browser.get(&server.url(&link)).await)
        .await
}

async fn upstream_failures(server: TestServer) {
    server.seed(&seed(&server.base)).await;
    let corp = server.issuer("corp");
    let callbacks: Vec<String> = ["dead-token", "wrong-keys", "no-keys"]
        .iter()
        .map(|alias| format!("{}/realms/app/broker/{alias}/callback", server.base))
        .collect();
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/corp/clients/app-broker",
            Some(json!({"redirect_uris": callbacks})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let providers = [
        // The token endpoint does not answer.
        json!({"alias": "dead-token", "issuer": corp,
               "authorization_endpoint": format!("{corp}/connect/authorize"),
               "token_endpoint": "http://127.0.0.1:1/token",
               "jwks_uri": format!("{corp}/.well-known/jwks.json")}),
        // ID tokens checked against another issuer's keys: the signature fails.
        json!({"alias": "wrong-keys", "issuer": corp,
               "authorization_endpoint": format!("{corp}/connect/authorize"),
               "token_endpoint": format!("{corp}/connect/token"),
               "jwks_uri": format!("{}/.well-known/jwks.json", server.issuer("app"))}),
        // The signing keys cannot be fetched.
        json!({"alias": "no-keys", "issuer": corp,
               "authorization_endpoint": format!("{corp}/connect/authorize"),
               "token_endpoint": format!("{corp}/connect/token"),
               "jwks_uri": "http://127.0.0.1:1/jwks"}),
        // Discovery cannot be fetched.
        json!({"alias": "down", "issuer": "http://127.0.0.1:1"}),
    ];
    for mut provider in providers {
        provider["client_id"] = json!("app-broker");
        provider["client_secret"] = json!("app-broker-secret");
        let created = server
            .admin(
                Method::POST,
                "/realms/app/identity-providers",
                Some(provider),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }

    for (alias, says) in [
        ("dead-token", "could not be reached"),
        ("wrong-keys", "could not be verified"),
        ("no-keys", "could not be reached"),
    ] {
        let started = begin(&server).await;
        let browser = Browser::new();
        let upstream = to_login_of(&server, &browser, &started, alias).await;
        let answer = browser
            .sign_in(&server.base, &upstream, "erin", "erin-password")
            .await;
        let expected = if says.contains("reached") {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(answer.status, expected, "{alias}: {}", answer.body);
        assert!(answer.body.contains(says), "{alias}: {}", answer.body);
        assert!(
            answer.body.contains(r#"name="password""#),
            "the login page again"
        );
    }
    let started = begin(&server).await;
    let down = to_login_of(&server, &Browser::new(), &started, "down").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.body.contains("could not be reached"), "{}", down.body);
    let check = server
        .admin(
            Method::POST,
            "/realms/app/identity-providers/down/test",
            None,
        )
        .await;
    assert_eq!(check.status, 200);
    assert_eq!(check.body["ok"], false);
    assert!(check.body["error"]
        .as_str()
        .unwrap()
        .contains("unavailable"));

    assert_eq!(users_named(&server, "app", "erin").await, 0, "nobody made");
    assert!(server.audit_events("user.created_by_idp").await.is_empty());
}

/// What the scripted upstream's token endpoint answers next.
#[derive(Clone)]
enum Answer {
    /// An ID token with these claims (merged over valid ones).
    IdToken(Value),
    /// A valid ID token whose header names no key (OIDC Core §10.1: fine with one key).
    IdTokenWithoutKid,
    /// A server error.
    Status500,
    /// Nothing, for longer than the broker waits.
    Hang,
}

/// An upstream whose token endpoint answers what the test scripts: for the ID tokens no real
/// provider would issue (another audience, another nonce, expired) and for its failures.
struct ScriptedUpstream {
    issuer: String,
    kid: String,
    pair: server::keys::ParsedKeyPair,
    answer: std::sync::Arc<std::sync::Mutex<Option<(Answer, String)>>>,
}

impl ScriptedUpstream {
    async fn start() -> Self {
        use server::domain::SigningAlg;
        let key = server::keys::generate(SigningAlg::ES256).unwrap();
        let jwks = json!({"keys": [key.public_jwk]});
        let answer: std::sync::Arc<std::sync::Mutex<Option<(Answer, String)>>> = Default::default();
        let token_answer = answer.clone();
        let app = axum::Router::new()
            .route(
                "/jwks",
                axum::routing::get(move || {
                    let jwks = jwks.clone();
                    async move { axum::Json(jwks) }
                }),
            )
            .route(
                "/token",
                axum::routing::post(move || {
                    let scripted = token_answer.lock().unwrap().take();
                    async move {
                        use axum::response::IntoResponse;
                        match scripted {
                            Some((Answer::IdToken(_) | Answer::IdTokenWithoutKid, token)) => {
                                axum::Json(json!({
                                    "access_token": "upstream-access-token",
                                    "token_type": "Bearer",
                                    "id_token": token,
                                }))
                                .into_response()
                            }
                            Some((Answer::Hang, _)) => {
                                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                                StatusCode::INTERNAL_SERVER_ERROR.into_response()
                            }
                            _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                        }
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            issuer,
            pair: server::keys::ParsedKeyPair::from_pkcs8(SigningAlg::ES256, &key.pkcs8).unwrap(),
            kid: key.kid,
            answer,
        }
    }

    fn sign(&self, claims: &Value, with_kid: bool) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let header = if with_kid {
            json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"})
        } else {
            json!({"alg": "ES256", "typ": "JWT"})
        };
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.pair.sign(message.as_bytes()).unwrap();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Scripts the next token answer for a login whose nonce is `nonce`.
    fn script(&self, answer: Answer, nonce: &str, now: i64) {
        let valid = json!({
            "iss": self.issuer, "sub": "scripted-user", "aud": "tessera",
            "exp": now + 300, "iat": now, "nonce": nonce,
            "email": "scripted@upstream.example", "email_verified": true,
            "preferred_username": "scripted",
        });
        let token = match &answer {
            Answer::IdToken(overrides) => {
                let mut claims = valid;
                for (k, v) in overrides.as_object().unwrap() {
                    claims[k] = v.clone();
                }
                self.sign(&claims, true)
            }
            Answer::IdTokenWithoutKid => self.sign(&valid, false),
            _ => String::new(),
        };
        *self.answer.lock().unwrap() = Some((answer, token));
    }
}

/// Starts a sign-in through `alias` and returns the browser, its pending `state` and `nonce`
/// (read off the redirect to the upstream, which the test plays itself).
async fn redirected(server: &TestServer, alias: &str) -> (Browser, String, String) {
    let (browser, location) = to_upstream_with(server, alias, "").await;
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap()
    };
    assert_eq!(param("code_challenge_method"), "S256");
    (browser, param("state"), param("nonce"))
}

/// The redirect to the upstream for an authorization request with `extra` parameters.
async fn to_upstream_with(server: &TestServer, alias: &str, extra: &str) -> (Browser, url::Url) {
    let started = begin(server).await;
    let browser = Browser::new();
    let login = browser
        .follow(
            &server.base,
            browser.get(&format!("{}{extra}", started.url)).await,
        )
        .await;
    let to_upstream = browser
        .get(&server.url(&href_of(&login, &format!("idp-{alias}"))))
        .await;
    let location = url::Url::parse(&to_upstream.location.expect("a redirect upstream")).unwrap();
    (browser, location)
}

async fn scripted_upstream_answers(server: TestServer) {
    server.seed(&seed(&server.base)).await;
    let upstream = ScriptedUpstream::start().await;
    let created = server
        .admin(
            Method::POST,
            "/realms/app/identity-providers",
            Some(json!({
                "alias": "scripted",
                "issuer": upstream.issuer,
                "authorization_endpoint": format!("{}/authorize", upstream.issuer),
                "token_endpoint": format!("{}/token", upstream.issuer),
                "jwks_uri": format!("{}/jwks", upstream.issuer),
                "client_id": "tessera",
                "client_secret": "scripted-secret",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let callback = |state: &str| {
        server.url(&format!(
            "/realms/app/broker/scripted/callback?code=upstream-code&state={state}"
        ))
    };

    // A fresh sign-in asked of Tessera is asked of the upstream too.
    let (_, location) = to_upstream_with(&server, "scripted", "&prompt=login&max_age=60").await;
    let forwarded: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert!(
        forwarded.contains(&("prompt".into(), "login".into())),
        "{location}"
    );
    assert!(
        forwarded.contains(&("max_age".into(), "60".into())),
        "{location}"
    );

    let now = server.state.now().timestamp();
    // A good answer signs in: the fixture is sound, so the refusals below are about their cause.
    let (browser, state, first_nonce) = redirected(&server, "scripted").await;
    upstream.script(Answer::IdToken(json!({})), &first_nonce, now);
    let done = browser
        .follow(&server.base, browser.get(&callback(&state)).await)
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location.unwrap().starts_with(CALLBACK));
    let (browser, state, nonce) = redirected(&server, "scripted").await;
    upstream.script(Answer::IdTokenWithoutKid, &nonce, now);
    let done = browser
        .follow(&server.base, browser.get(&callback(&state)).await)
        .await;
    assert_eq!(
        done.status,
        StatusCode::SEE_OTHER,
        "a token naming no key: {}",
        done.body
    );

    for (answer, says) in [
        (
            Answer::IdToken(json!({"aud": "someone-else"})),
            "could not be verified",
        ),
        (
            Answer::IdToken(json!({"aud": ["tessera", "other"]})),
            "could not be verified",
        ),
        (
            Answer::IdToken(json!({"iss": "https://elsewhere.example"})),
            "could not be verified",
        ),
        (
            Answer::IdToken(json!({"exp": now - 60})),
            "could not be verified",
        ),
        (
            Answer::IdToken(json!({"sub": "another-user", "nonce": first_nonce})),
            "could not be verified",
        ),
        (Answer::Status500, "could not be reached"),
        (Answer::Hang, "could not be reached"),
    ] {
        let (browser, state, nonce) = redirected(&server, "scripted").await;
        upstream.script(answer, &nonce, now);
        let page = browser.get(&callback(&state)).await;
        let expected = if says.contains("reached") {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(page.status, expected, "{}", page.body);
        assert!(page.body.contains(says), "{says}: {}", page.body);
    }
    // RFC 9207: an answer naming another issuer is a mix-up; its code is not redeemed.
    let (browser, state, nonce) = redirected(&server, "scripted").await;
    upstream.script(Answer::IdToken(json!({"sub": "mixed-up"})), &nonce, now);
    let mixed = browser
        .get(&format!(
            "{}&iss=https%3A%2F%2Felsewhere.example",
            callback(&state)
        ))
        .await;
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST, "{}", mixed.body);
    assert!(
        mixed.body.contains("could not be verified"),
        "{}",
        mixed.body
    );

    assert_eq!(
        server.audit_events("user.created_by_idp").await.len(),
        1,
        "only the good answer made a user"
    );
    assert_eq!(users_named(&server, "app", "another-user").await, 0);
}

on_both_backends! {
    brokered_sign_in => brokered_sign_in,
    callback_refusals => callback_refusals,
    existing_accounts => existing_accounts,
    provider_administration => provider_administration,
    brokering_to_node_oidc_provider => brokering_to_node_oidc_provider,
    upstream_failures => upstream_failures,
    scripted_upstream_answers => scripted_upstream_answers,
}

//! The admin console at `/admin` over plain HTTP against the real server (no browser, no fake
//! port): status codes, redirects, CSRF, sessions, flashes, and the markup conventions the
//! browser tests rely on (`p.field-error[data-field]`, `p.form-error`, `#whoami`,
//! `#client-secret` shown once, key rows with `data-kid`/`data-active`, list rows with
//! `data-key`). State is arranged and checked through the admin REST API or the console itself.
//! SQLite only: what these tests check is the console; the storage paths below it are covered
//! on both backends by `admin_api.rs`.

use reqwest::header;
use serde_json::{json, Value};

use crate::common::{Backend, Response, TestServer};

const ADMIN: (&str, &str) = ("admin", "admin-password-1");

async fn sqlite_server() -> TestServer {
    TestServer::start(Backend::Sqlite)
        .await
        .expect("SQLite always runs")
}

fn assert_has(body: &str, needle: &str) {
    assert!(body.contains(needle), "expected {needle:?} in:\n{body}");
}

/// Whether some start tag carries every one of `attrs` (in any order).
fn has_tag(body: &str, attrs: &[&str]) -> bool {
    body.split('<')
        .map(|t| format!("<{}", t.split('>').next().unwrap_or_default()))
        .any(|tag| attrs.iter().all(|a| tag.contains(a)))
}

fn assert_tag(body: &str, attrs: &[&str]) {
    assert!(
        has_tag(body, attrs),
        "expected a tag with {attrs:?} in:\n{body}"
    );
}

fn assert_field_error(body: &str, field: &str) {
    let data = format!(r#"data-field="{field}""#);
    assert_tag(body, &[r#"class="field-error""#, &data]);
}

/// The text between `open` and the next `close` after it.
fn between<'a>(body: &'a str, open: &str, close: &str) -> &'a str {
    let at = body
        .find(open)
        .unwrap_or_else(|| panic!("expected {open:?} in:\n{body}"));
    let rest = &body[at + open.len()..];
    &rest[..rest.find(close).expect("closing marker")]
}

// ---------------------------------------------------------------------------------------------
// The admin REST API, for arranging and checking state.

async fn admin_token(server: &TestServer) -> String {
    let response = server
        .password_grant("master", ("admin-cli", ""), ADMIN.0, ADMIN.1, None)
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

struct Api<'a> {
    server: &'a TestServer,
    token: String,
}

impl<'a> Api<'a> {
    async fn new(server: &'a TestServer) -> Api<'a> {
        let token = admin_token(server).await;
        Api { server, token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .server
            .http
            .request(method, self.server.url(&format!("/admin/api{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Response::from(request.send().await.expect("request is sent")).await
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self.send(reqwest::Method::POST, path, Some(body)).await;
        assert!(
            r.status == 200 || r.status == 201,
            "POST {path}: {}",
            r.text
        );
        r.body
    }

    async fn patch(&self, path: &str, body: Value) -> Value {
        let r = self.send(reqwest::Method::PATCH, path, Some(body)).await;
        assert_eq!(r.status, 200, "PATCH {path}: {}", r.text);
        r.body
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny cookie-keeping browser: one `tessera_admin` cookie, no redirects followed, so tests see
// every status, `Location` and `Set-Cookie`, and can replay an old cookie.

struct Reply {
    status: u16,
    location: Option<String>,
    set_cookie: Vec<String>,
    body: String,
}

impl Reply {
    /// The value of the first hidden `csrf` input.
    fn csrf(&self) -> String {
        between(&self.body, r#"name="csrf" value=""#, "\"").to_string()
    }
}

struct Browser<'a> {
    server: &'a TestServer,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(server: &'a TestServer) -> Self {
        Self {
            server,
            cookie: None,
        }
    }

    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Reply {
        if let Some(c) = &self.cookie {
            request = request.header(header::COOKIE, format!("tessera_admin={c}"));
        }
        let response = request.send().await.expect("request is sent");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().expect("ASCII location").to_string());
        let set_cookie: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII cookie").to_string())
            .collect();
        for c in &set_cookie {
            let pair = c.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("a name=value cookie");
            assert_eq!(
                name, "tessera_admin",
                "the console sets only its own cookie"
            );
            self.cookie = (!value.is_empty()).then(|| value.to_string());
        }
        let body = response.text().await.expect("body is read");
        Reply {
            status,
            location,
            set_cookie,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        let request = self.server.http.get(self.server.url(path));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let request = self.server.http.post(self.server.url(path)).form(form);
        self.send(request).await
    }

    /// Posts `form` with the CSRF token of the page at `page`.
    async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Reply {
        let csrf = self.get(page).await.csrf();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }

    async fn sign_in_as(&mut self, username: &str, password: &str) {
        let reply = self
            .submit(
                "/admin/login",
                "/admin/login",
                &[("username", username), ("password", password)],
            )
            .await;
        assert_eq!(reply.status, 303, "{}", reply.body);
    }

    async fn sign_in(&mut self) {
        self.sign_in_as(ADMIN.0, ADMIN.1).await;
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_needs_the_right_password_and_rotates_the_session() {
    let server = sqlite_server().await;
    Api::new(&server)
        .await
        .post(
            "/realms/master/users",
            json!({"username": "bob", "password": "bob-password-123"}),
        )
        .await;
    let mut b = Browser::new(&server);
    let page = b.get("/admin/login").await;
    assert_eq!(page.status, 200);
    assert_has(&page.body, "<h1>Sign in");
    let before = b
        .cookie
        .clone()
        .expect("the login page starts a session for its CSRF token");
    let csrf = page.csrf();

    let wrong = b
        .post(
            "/admin/login",
            &[("csrf", &csrf), ("username", "admin"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_tag(&wrong.body, &[r#"class="form-error""#]);
    assert_has(&wrong.body, r#"value="admin""#);
    assert!(!wrong.body.contains("whoami"));

    // A master user with the right password but without the admin role.
    let not_admin = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("password", "bob-password-123"),
            ],
        )
        .await;
    assert_eq!(not_admin.status, 401);
    assert!(!not_admin.body.contains("whoami"));

    let ok = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", ADMIN.0),
                ("password", ADMIN.1),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/admin"));
    let cookie = &ok.set_cookie[0];
    assert!(
        cookie.contains("Path=/admin")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "the test server is plain HTTP");
    assert_ne!(
        b.cookie.as_deref(),
        Some(before.as_str()),
        "a new session id after sign-in"
    );

    let home = b.get("/admin").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location.as_deref(), Some("/admin/realms/master"));
    let dashboard = b.get("/admin/realms/master").await;
    assert_eq!(dashboard.status, 200);
    assert_has(&dashboard.body, r#"<strong id="whoami">admin</strong>"#);
    assert_has(
        &dashboard.body,
        "/realms/master/.well-known/openid-configuration",
    );

    // The sign-in is in the audit trail; the refused attempts are not.
    let signed_in = Api::new(&server)
        .await
        .get("/realms/master/events?type=admin.signed_in")
        .await;
    let events = signed_in["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "{signed_in}");
    assert_eq!(events[0]["actor"], ADMIN.0);
    assert_eq!(events[0]["detail"]["via"], "console");

    // The old session id is dead.
    b.cookie = Some(before);
    let stale = b.get("/admin/realms/master").await;
    assert_eq!(stale.status, 303);
    assert_eq!(
        stale.location.as_deref(),
        Some("/admin/login?next=%2Fadmin%2Frealms%2Fmaster")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_go_to_sign_in_and_come_back() {
    let server = sqlite_server().await;
    let mut b = Browser::new(&server);
    let r = b.get("/admin/realms/default/clients?cursor=x").await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/login?next=%2Fadmin%2Frealms%2Fdefault%2Fclients%3Fcursor%3Dx")
    );
    let login = b.get(r.location.as_deref().expect("location")).await;
    assert_has(
        &login.body,
        r#"name="next" value="/admin/realms/default/clients?cursor=x""#,
    );
    let csrf = login.csrf();
    let ok = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", ADMIN.0),
                ("password", ADMIN.1),
                ("next", "/admin/realms/default/clients?cursor=x"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(
        ok.location.as_deref(),
        Some("/admin/realms/default/clients?cursor=x")
    );

    // A next that leaves the console is not followed.
    let mut b = Browser::new(&server);
    let csrf = b.get("/admin/login").await.csrf();
    let ok = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", ADMIN.0),
                ("password", ADMIN.1),
                ("next", "https://evil.example/admin"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/admin"));

    let mut b = Browser::new(&server);
    let r = b
        .post("/admin/realms/default/new/clients", &[("client_id", "x")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/admin/login"));
    let clients = Api::new(&server).await.get("/realms/default/clients").await;
    assert_eq!(clients["items"], json!([]), "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_session_csrf_token_are_refused() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let keys_before = api.get("/realms/default/keys").await;
    let mut b = Browser::new(&server);
    let login = b.get("/admin/login").await;
    assert_eq!(login.status, 200);
    let r = b
        .post(
            "/admin/login",
            &[
                ("csrf", "forged"),
                ("username", ADMIN.0),
                ("password", ADMIN.1),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!r.body.contains("whoami"));

    b.sign_in().await;
    let r = b
        .post(
            "/admin/realms/default/new/clients",
            &[
                ("csrf", "forged"),
                ("client_id", "web"),
                ("grant_types", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = b
        .post("/admin/realms/default/keys/rotate", &[("client_id", "web")])
        .await;
    assert_eq!(r.status, 403);

    assert_eq!(
        api.get("/realms/default/clients").await["items"],
        json!([]),
        "no client was created"
    );
    assert_eq!(
        api.get("/realms/default/keys").await,
        keys_before,
        "no key was rotated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_client_shows_its_secret_once_and_validation_errors_sit_by_their_fields() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let empty = b.get("/admin/realms/default/clients").await;
    assert_eq!(empty.status, 200);
    assert_has(&empty.body, "No clients yet");
    assert_has(
        &empty.body,
        r#"<a href="/admin/realms/default/new/clients">Create the first one</a>"#,
    );

    let form = "/admin/realms/default/new/clients";
    let page = b.get(form).await;
    for name in [
        "client_id",
        "display_name",
        "redirect_uris",
        "public",
        "client_secret",
    ] {
        assert_has(&page.body, &format!(r#"name="{name}""#));
    }
    assert_has(
        &page.body,
        r#"name="grant_types" value="urn:ietf:params:oauth:grant-type:token-exchange""#,
    );
    // A new client starts enabled and requiring PKCE: a browser submits both boxes ticked.
    assert_has(&page.body, r#"name="enabled" value="true" checked"#);
    assert_has(&page.body, r#"name="require_pkce" value="true" checked"#);

    let refused = b
        .submit(
            form,
            form,
            &[
                ("client_id", "web <app>"),
                ("grant_types", "authorization_code"),
                ("redirect_uris", "not-a-url\r\nhttps://ok.example/cb"),
                ("access_token_lifetime", "soon"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "access_token_lifetime");
    assert_has(&refused.body, r#"value="web &lt;app&gt;""#);
    assert_has(
        &refused.body,
        ">not-a-url\r\nhttps://ok.example/cb</textarea>",
    );

    let refused = b
        .submit(
            form,
            form,
            &[
                ("client_id", "web"),
                ("grant_types", "authorization_code"),
                ("redirect_uris", "not-a-url"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "redirect_uris");
    assert_tag(&refused.body, &[r#"class="form-error""#]);
    assert_has(
        &refused.body,
        r#"name="grant_types" value="authorization_code" checked"#,
    );
    assert_eq!(
        api.get("/realms/default/clients").await["items"],
        json!([]),
        "a refused form creates nothing"
    );

    let created = b
        .submit(
            form,
            form,
            &[
                ("client_id", "web"),
                ("display_name", "<b>Web</b>"),
                ("grant_types", "authorization_code"),
                ("grant_types", "refresh_token"),
                ("grant_types", "client_credentials"),
                ("redirect_uris", "https://web.example/cb"),
                ("require_pkce", "true"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let secret = between(&created.body, r#"<code id="client-secret">"#, "</code>").to_string();
    assert!(secret.len() >= 20, "a generated secret: {secret:?}");
    // The secret shown is the one the token endpoint accepts.
    server.client_token("default", "web", &secret, None).await;
    let stored = api.get("/realms/default/clients/web").await;
    let mut grants: Vec<String> =
        serde_json::from_value(stored["grant_types"].clone()).expect("grant types");
    grants.sort();
    assert_eq!(
        grants,
        ["authorization_code", "client_credentials", "refresh_token"]
    );
    assert_eq!(stored["enabled"], true);
    assert_eq!(stored["require_pkce"], true);
    assert_eq!(stored["public"], false);
    assert_eq!(stored["display_name"], "<b>Web</b>");
    assert_eq!(stored["redirect_uris"], json!(["https://web.example/cb"]));

    let list = b.get("/admin/realms/default/clients").await;
    assert_tag(&list.body, &["<tr", r#"data-key="web""#]);
    assert_has(&list.body, "&lt;b&gt;Web&lt;/b&gt;");
    assert!(!list.body.contains("<b>Web</b>"));
    let edit = b.get("/admin/realms/default/clients/web").await;
    assert_eq!(edit.status, 200);
    assert!(!edit.body.contains(&secret), "the secret is shown once");
    assert!(!edit.body.contains("client-secret\""));

    let conflict = b
        .submit(
            form,
            form,
            &[("client_id", "web"), ("grant_types", "client_credentials")],
        )
        .await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_has(&conflict.body, "already exists");
    assert_field_error(&conflict.body, "client_id");

    let rotate = b.get("/admin/realms/default/clients/web/secret").await;
    assert_eq!(rotate.status, 200);
    assert_has(&rotate.body, r#"id="confirm""#);
    let rotated = b
        .submit(
            "/admin/realms/default/clients/web/secret",
            "/admin/realms/default/clients/web/secret",
            &[],
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = between(&rotated.body, r#"<code id="client-secret">"#, "</code>").to_string();
    assert_ne!(new_secret, secret);
    server
        .client_token("default", "web", &new_secret, None)
        .await;
    let old = server
        .post_form(
            "/realms/default/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("web", &secret)),
        )
        .await;
    old.assert_oauth_error(401, "invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_access_tokens_are_made_shown_once_and_revoked() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    api.patch("/realms/default", json!({"registration": "initial_token"}))
        .await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let page = "/admin/realms/default/initial-access-tokens";
    let settings = b.get("/admin/realms/default/settings").await;
    assert_has(&settings.body, r#"id="initial-access-tokens""#);
    let refused = b
        .submit(page, page, &[("count", "0"), ("expires_in", "600")])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "count");
    let made = b
        .submit(
            page,
            page,
            &[
                ("count", "1"),
                ("expires_in", "600"),
                ("description", "robots"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let token = between(&made.body, r#"<code id="new-token">"#, "</code>").to_string();
    assert!(token.len() > 20);
    // The token registers a client once.
    let registered = server
        .http
        .post(server.url("/realms/default/connect/register"))
        .bearer_auth(&token)
        .json(&json!({"redirect_uris": ["https://robot.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let listed = b.get(page).await;
    assert_has(&listed.body, "robots");
    assert!(!listed.body.contains(&token), "shown once only");
    let id = api.get("/realms/default/initial-access-tokens").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let confirm = format!("{page}/{id}/delete");
    let revoked = b.submit(&confirm, &confirm, &[]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(
        api.get("/realms/default/initial-access-tokens").await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_and_deleting_a_client_redirect_with_a_flash() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let form = "/admin/realms/default/new/clients";
    // The service's rule, not the console's: public clients cannot authenticate.
    let refused = b
        .submit(
            form,
            form,
            &[
                ("client_id", "svc"),
                ("grant_types", "client_credentials"),
                ("public", "true"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "grant_types");
    assert_has(&refused.body, r#"name="public" value="true" checked"#);
    let created = b
        .submit(
            form,
            form,
            &[
                ("client_id", "svc"),
                ("grant_types", "password"),
                ("public", "true"),
                ("require_pkce", "true"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(
        created.location.as_deref(),
        Some("/admin/realms/default/clients/svc")
    );
    let page = b.get("/admin/realms/default/clients/svc").await;
    assert_has(&page.body, r#"class="flash">Client svc created.</div>"#);
    assert_has(&page.body, r#"name="public" value="true" checked"#);
    assert_has(&page.body, "readonly");
    let again = b.get("/admin/realms/default/clients/svc").await;
    assert!(
        !again.body.contains("class=\"flash\""),
        "a flash shows once"
    );
    let stored = api.get("/realms/default/clients/svc").await;
    assert_eq!(stored["public"], true);
    assert_eq!(stored["require_pkce"], true);

    let edit = "/admin/realms/default/clients/svc";
    // Scopes must exist in the realm first.
    let unknown = b
        .submit(
            edit,
            edit,
            &[
                ("client_id", "svc"),
                ("grant_types", "client_credentials"),
                ("scopes", "orders:read"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert_field_error(&unknown.body, "scopes");
    assert_has(&unknown.body, "unknown scope `orders:read`");
    for scope in ["orders:read", "orders:write"] {
        api.post("/realms/default/scopes", json!({"name": scope}))
            .await;
    }
    let saved = b
        .submit(
            edit,
            edit,
            &[
                ("client_id", "svc"),
                ("grant_types", "client_credentials"),
                ("scopes", "orders:read  orders:write"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = api.get("/realms/default/clients/svc").await;
    assert_eq!(stored["scopes"], json!(["orders:read", "orders:write"]));
    assert_eq!(
        stored["require_pkce"], false,
        "an unticked checkbox means false"
    );
    assert_eq!(stored["public"], false, "an unticked checkbox means false");
    assert_eq!(stored["grant_types"], json!(["client_credentials"]));
    assert!(stored["refresh_reuse_grace"].is_null(), "empty inherits");

    // The refresh reuse grace: bounded, and kept when valid.
    let grace = |value: &'static str| {
        [
            ("client_id", "svc"),
            ("grant_types", "client_credentials"),
            ("refresh_reuse_grace", value),
            ("enabled", "true"),
        ]
    };
    let refused = b.submit(edit, edit, &grace("301")).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "refresh_reuse_grace");
    let saved = b.submit(edit, edit, &grace("20")).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        api.get("/realms/default/clients/svc").await["refresh_reuse_grace"],
        20
    );
    let page = b.get(edit).await;
    assert_has(&page.body, r#"name="refresh_reuse_grace""#);

    // Keys and signed requests: a public JWK Set pasted in, checked by the service.
    let jwks = r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
    let keyed = |jwks: &'static str| {
        [
            ("client_id", "svc"),
            ("grant_types", "client_credentials"),
            ("token_endpoint_auth_method", "private_key_jwt"),
            ("jwks", jwks),
            ("dpop_bound_access_tokens", "true"),
            ("enabled", "true"),
        ]
    };
    let refused = b.submit(edit, edit, &keyed("{not json")).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "jwks");
    let refused = b
        .submit(
            edit,
            edit,
            &keyed(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "jwks");
    let saved = b.submit(edit, edit, &keyed(jwks)).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = api.get("/realms/default/clients/svc").await;
    assert_eq!(stored["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(stored["jwks"]["keys"][0]["kid"], "k1");
    assert_eq!(stored["dpop_bound_access_tokens"], true);
    let page = b.get(edit).await;
    assert_has(&page.body, "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
    assert_has(
        &page.body,
        r#"name="dpop_bound_access_tokens" value="true" checked"#,
    );

    let refused = b.submit(edit, edit, &[("client_id", "svc")]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "grant_types");

    let confirm = b.get("/admin/realms/default/clients/svc/delete").await;
    assert_eq!(confirm.status, 200);
    assert_has(
        &confirm.body,
        "Delete client <code>svc</code>? This cannot be undone.</p>",
    );
    assert_tag(
        &confirm.body,
        &[r#"<button"#, r#"type="submit""#, r#"id="confirm""#],
    );
    assert_has(
        &confirm.body,
        r#"href="/admin/realms/default/clients/svc" class="button secondary">Cancel</a>"#,
    );
    let deleted = b
        .submit(
            "/admin/realms/default/clients/svc/delete",
            "/admin/realms/default/clients/svc/delete",
            &[],
        )
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/realms/default/clients")
    );
    let list = b.get("/admin/realms/default/clients").await;
    assert_has(&list.body, "Client svc deleted.");
    assert_has(&list.body, "No clients yet");

    let missing = b.get("/admin/realms/default/clients/svc").await;
    assert_eq!(missing.status, 404);
    let missing = b.get("/admin/realms/nowhere/clients").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_have_json_claims_passwords_and_rows_keyed_by_id() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    api.post(
        "/realms/default/clients",
        json!({"client_id": "app", "public": true, "grant_types": ["password"]}),
    )
    .await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let form = "/admin/realms/default/new/users";
    let refused = b
        .submit(
            form,
            form,
            &[("username", "alice"), ("claims", "{\"name\": ")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "claims");
    assert_has(&refused.body, "{\"name\": </textarea>");

    let created = b
        .submit(
            form,
            form,
            &[
                ("username", "alice"),
                ("password", "alice-password"),
                ("email", "alice@example.com"),
                ("claims", r#"{"name": "Alice"}"#),
                ("roles", "staff\nbuyer"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.location.expect("location");
    let id = location.rsplit('/').next().expect("id").to_string();
    let user = api.get(&format!("/realms/default/users/{id}")).await;
    assert_eq!(user["username"], "alice");
    let mut roles: Vec<String> = serde_json::from_value(user["roles"].clone()).expect("roles");
    roles.sort();
    assert_eq!(roles, ["buyer", "staff"]);
    assert_eq!(user["claims"]["name"], "Alice");
    assert_eq!(user["email"], "alice@example.com");

    let list = b.get("/admin/realms/default/users").await;
    assert_tag(
        &list.body,
        &[
            "<tr",
            &format!(r#"data-key="{id}""#),
            r#"data-label="alice""#,
        ],
    );
    let search = b.get("/admin/realms/default/users?q=bob").await;
    assert_eq!(search.status, 200);
    assert!(!search.body.contains(&format!(r#"data-key="{id}""#)));
    assert_has(&search.body, "No users match “bob”");
    let search = b.get("/admin/realms/default/users?q=ali").await;
    assert_tag(&search.body, &["<tr", &format!(r#"data-key="{id}""#)]);

    let short = b
        .submit(
            &location,
            &format!("{location}/password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(short.status, 422, "{}", short.body);
    assert_field_error(&short.body, "password");
    let set = b
        .submit(
            &location,
            &format!("{location}/password"),
            &[("password", "a-long-password")],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let token = server
        .password_grant("default", ("app", ""), "alice", "a-long-password", None)
        .await;
    assert_eq!(
        token.status, 200,
        "the new password signs in: {}",
        token.text
    );

    // Disabling asks first: the user page links to a confirmation whose form disables.
    let page = b.get(&location).await;
    assert_tag(
        &page.body,
        &[
            "<a",
            r#"id="toggle-enabled""#,
            &format!(r#"href="{location}/enabled""#),
        ],
    );
    let confirm = b.get(&format!("{location}/enabled")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert_has(&confirm.body, r#"id="confirm""#);
    let disabled = b
        .submit(
            &format!("{location}/enabled"),
            &format!("{location}/enabled"),
            &[],
        )
        .await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    let page = b.get(&location).await;
    assert_has(&page.body, "User alice disabled.");
    assert_has(&page.body, "Enable user");
    assert!(
        !page.body.contains(r#"id="unlock""#),
        "no unlock button for an unlocked user"
    );
    assert_eq!(
        api.get(&format!("/realms/default/users/{id}")).await["enabled"],
        false
    );
    // Action URLs left in the address bar lead back to the user.
    for action in ["password", "unlock", "enabled"] {
        let back = b.get(&format!("{location}/{action}")).await;
        assert_eq!(back.status, 303, "GET {action}: {}", back.body);
        assert_eq!(back.location.as_deref(), Some(location.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_behind_a_confirmation() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let kids = |keys: &Value| -> Vec<(String, bool)> {
        keys["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|k| {
                (
                    k["kid"].as_str().expect("kid").to_string(),
                    k["active"].as_bool().expect("active"),
                )
            })
            .collect()
    };
    let before = kids(&api.get("/realms/default/keys").await);
    let (first, _) = before
        .iter()
        .find(|(_, active)| *active)
        .expect("an active key")
        .clone();

    let mut b = Browser::new(&server);
    b.sign_in().await;
    let keys = b.get("/admin/realms/default/keys").await;
    assert_tag(
        &keys.body,
        &[
            r#"class="key-row""#,
            &format!(r#"data-kid="{first}""#),
            r#"data-active="true""#,
        ],
    );
    let confirm = b.get("/admin/realms/default/keys/rotate").await;
    assert_has(&confirm.body, r#"id="confirm""#);
    assert_has(
        &confirm.body,
        r#"action="/admin/realms/default/keys/rotate""#,
    );
    assert_eq!(
        kids(&api.get("/realms/default/keys").await),
        before,
        "showing the confirmation rotates nothing"
    );
    let rotated = b
        .submit(
            "/admin/realms/default/keys/rotate",
            "/admin/realms/default/keys/rotate",
            &[],
        )
        .await;
    assert_eq!(rotated.status, 303, "{}", rotated.body);
    assert_eq!(
        rotated.location.as_deref(),
        Some("/admin/realms/default/keys")
    );
    let after = kids(&api.get("/realms/default/keys").await);
    let (second, _) = after
        .iter()
        .find(|(_, active)| *active)
        .expect("an active key")
        .clone();
    assert_ne!(first, second, "a new active key");

    let keys = b.get("/admin/realms/default/keys").await;
    assert_tag(
        &keys.body,
        &[&format!(r#"data-kid="{first}""#), r#"data-active="false""#],
    );
    assert_tag(
        &keys.body,
        &[&format!(r#"data-kid="{second}""#), r#"data-active="true""#],
    );
    assert_has(&keys.body, "New signing keys published.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realms_are_created_and_validated() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let form = "/admin/new/realm";
    let refused = b
        .submit(
            form,
            form,
            &[("name", "Bad Name"), ("access_token_lifetime", "-5")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "name");
    assert_field_error(&refused.body, "access_token_lifetime");
    let created = b
        .submit(
            form,
            form,
            &[
                ("name", "shop"),
                ("display_name", "The Shop"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(created.location.as_deref(), Some("/admin/realms/shop"));
    let dashboard = b.get("/admin/realms/shop").await;
    assert_eq!(dashboard.status, 200);
    assert_has(&dashboard.body, "<h1>The Shop</h1>");
    assert_has(
        &dashboard.body,
        r#"<option value="shop" selected>shop</option>"#,
    );
    // The last realm visited is where /admin goes.
    let home = b.get("/admin").await;
    assert_eq!(home.location.as_deref(), Some("/admin/realms/shop"));

    let settings = "/admin/realms/shop/settings";
    let saved = b
        .submit(
            settings,
            settings,
            &[
                ("display_name", ""),
                ("signing_alg", "RS256"),
                ("cookie_mode", "client"),
                ("decentralized", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let realm = api.get("/realms/shop").await;
    assert_eq!(realm["display_name"], Value::Null);
    assert_eq!(realm["decentralized"], true);
    assert_eq!(realm["enabled"], false, "an unticked checkbox means false");
    assert_eq!(realm["signing_alg"], "RS256");
    assert_eq!(realm["cookie_mode"], "client");

    let master = b
        .submit(
            "/admin/realms/master/delete",
            "/admin/realms/master/delete",
            &[],
        )
        .await;
    assert_eq!(master.status, 409, "{}", master.body);
    let deleted = b
        .submit(
            "/admin/realms/shop/delete",
            "/admin/realms/shop/delete",
            &[],
        )
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(deleted.location.as_deref(), Some("/admin/realms"));
    let home = b.get("/admin").await;
    assert_eq!(
        home.location.as_deref(),
        Some("/admin/realms/master"),
        "a deleted last realm falls back to master"
    );
    assert_eq!(b.get("/admin/realms/shop").await.status, 404);
}

/// Signs `username` in on the realm's own login page, starting a real SSO session.
async fn sso_sign_in(server: &TestServer, realm: &str, username: &str, password: &str) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(server.url(&format!("/realms/{realm}/login")))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let csrf = between(&page, r#"name="csrf" value=""#, "\"").to_string();
    let signed_in = client
        .post(server.url(&format!("/realms/{realm}/login")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_sessions_and_the_audit_log() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let form = "/admin/realms/default/new/revocations";
    let refused = b
        .submit(form, form, &[("type", "TOKEN"), ("token", "")])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "token");
    // Any non-empty string is a token to the service (opaque ones are hashed as they are).
    let ok = b
        .submit(form, form, &[("type", "TOKEN"), ("token", "short")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let ok = b
        .submit(
            form,
            form,
            &[
                ("type", "CLAIM"),
                ("claim_name", "sub"),
                ("claim_value", "u-1"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let list = b.get("/admin/realms/default/revocations").await;
    assert_has(&list.body, "claims sub");
    assert_has(&list.body, "one token");
    let revocations = api.get("/realms/default/revocations").await;
    assert_eq!(
        revocations["items"].as_array().expect("items").len(),
        2,
        "{revocations}"
    );
    // GLOBAL signs the whole realm out: it takes a deliberate tick.
    let unticked = b.submit(form, form, &[("type", "GLOBAL")]).await;
    assert_eq!(unticked.status, 422, "{}", unticked.body);
    assert_field_error(&unticked.body, "confirm_global");
    let revocations = api.get("/realms/default/revocations").await;
    assert_eq!(revocations["items"].as_array().expect("items").len(), 2);
    let ticked = b
        .submit(
            form,
            form,
            &[("type", "GLOBAL"), ("confirm_global", "true")],
        )
        .await;
    assert_eq!(ticked.status, 303, "{}", ticked.body);
    let revocations = api.get("/realms/default/revocations").await;
    assert_eq!(revocations["items"][0]["type"], "GLOBAL", "{revocations}");

    // A real single sign-on session, from the realm's login page.
    let user = api
        .post(
            "/realms/default/users",
            json!({"username": "sam", "password": "sam-password-1"}),
        )
        .await;
    assert_eq!(user["username"], "sam");
    sso_sign_in(&server, "default", "sam", "sam-password-1").await;
    let live = api.get("/realms/default/sessions").await;
    let session = live["items"][0]["id"]
        .as_str()
        .expect("a session")
        .to_string();

    let sessions = b.get("/admin/realms/default/sessions").await;
    assert_tag(
        &sessions.body,
        &["<tr", &format!(r#"data-key="{session}""#)],
    );
    assert_has(&sessions.body, "sam");
    let end = format!("/admin/realms/default/sessions/{session}/end");
    assert_has(&b.get(&end).await.body, r#"id="confirm""#);
    let ended = b.submit(&end, &end, &[]).await;
    assert_eq!(ended.status, 303, "{}", ended.body);
    assert_has(
        &b.get("/admin/realms/default/sessions").await.body,
        "No active sessions yet",
    );
    assert_eq!(
        api.get("/realms/default/sessions").await["items"],
        json!([])
    );

    // Three clients and three claim types, then filter the log by a type prefix.
    for id in ["a", "b", "c"] {
        let f = "/admin/realms/default/new/claim-types";
        let r = b.submit(f, f, &[("name", id)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let f = "/admin/realms/default/new/clients";
        let r = b
            .submit(
                f,
                f,
                &[
                    ("client_id", id),
                    ("grant_types", "password"),
                    ("public", "true"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let events = b.get("/admin/realms/default/events?type=client.").await;
    assert_eq!(events.status, 200);
    assert_eq!(
        events.body.matches("client.created").count(),
        3,
        "{}",
        events.body
    );
    assert!(!events.body.contains("claim_type.created"));
    assert!(!events.body.contains("id=\"older\""));
    let bad = b.get("/admin/realms/default/events?since=tuesday").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_field_error(&bad.body, "since");
    assert_has(&bad.body, r#"value="tuesday""#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_who_lost_the_role_is_signed_out() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let second = api
        .post(
            "/realms/master/users",
            json!({"username": "second", "password": "second-pass-1", "roles": ["admin"]}),
        )
        .await;
    let id = second["id"].as_str().expect("id").to_string();
    let mut b = Browser::new(&server);
    b.sign_in_as("second", "second-pass-1").await;
    let page = b.get("/admin/realms/master").await;
    assert_eq!(page.status, 200);
    assert_has(&page.body, r#"<strong id="whoami">second</strong>"#);
    let signed_in = b.cookie.clone();

    api.patch(&format!("/realms/master/users/{id}"), json!({"roles": []}))
        .await;
    let r = b.get("/admin/realms/master").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/admin/login"));
    assert!(
        r.set_cookie.iter().any(|c| c.contains("Max-Age=0")),
        "{:?}",
        r.set_cookie
    );
    assert!(b.cookie.is_none(), "the cookie is cleared");

    // The session is gone on the server too: with the role back, the old cookie still does not
    // sign anyone in.
    api.patch(
        &format!("/realms/master/users/{id}"),
        json!({"roles": ["admin"]}),
    )
    .await;
    b.cookie = signed_in;
    let r = b.get("/admin/realms/master").await;
    assert_eq!(r.status, 303);
    assert!(r
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/admin/login")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session() {
    let server = sqlite_server().await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    // A typed address asks first: only the form signs out.
    let asked = b.get("/admin/logout").await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_tag(&asked.body, &["<form", r#"action="/admin/logout""#]);
    assert_eq!(
        b.get("/admin/realms/master").await.status,
        200,
        "still signed in"
    );
    let csrf = asked.csrf();
    let old = b.cookie.clone();
    let out = b.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/admin/login"));
    assert!(out.set_cookie[0].contains("Max-Age=0"));
    b.cookie = old;
    let r = b.get("/admin/realms/master").await;
    assert_eq!(r.status, 303);
    assert!(r
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/admin/login")));
}

/// Unknown console addresses get a console page; the REST API keeps its JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_console_pages_are_console_404s() {
    let server = sqlite_server().await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let missing = b.get("/admin/realms/master/bogus").await;
    assert_eq!(missing.status, 404);
    assert_has(&missing.body, "Page not found");
    assert_tag(&missing.body, &["<a", r#"href="/admin""#]);
    let api = server
        .http
        .get(server.url("/admin/api/bogus"))
        .send()
        .await
        .expect("sent");
    assert_eq!(api.status(), 404);
    assert_eq!(
        api.headers()[header::CONTENT_TYPE],
        "application/json",
        "the API's own 404"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stylesheet_is_served() {
    let server = sqlite_server().await;
    let mut b = Browser::new(&server);
    let css = b.get("/admin/assets/console.css").await;
    assert_eq!(css.status, 200);
    assert_has(&css.body, ".sidebar");
    assert_has(&css.body, "--accent");
}

/// Create forms live under `new/`, so an item or a realm named `new` has its own page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_named_new_have_their_pages() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    api.post("/realms", json!({"name": "new"})).await;
    api.post(
        "/realms/new/clients",
        json!({"client_id": "new", "grant_types": ["client_credentials"]}),
    )
    .await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let dashboard = b.get("/admin/realms/new").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert_has(
        &dashboard.body,
        "/realms/new/.well-known/openid-configuration",
    );
    let client = b.get("/admin/realms/new/clients/new").await;
    assert_eq!(client.status, 200, "{}", client.body);
    assert_tag(
        &client.body,
        &["<input", r#"name="client_id""#, r#"value="new""#],
    );
    let create = b.get("/admin/realms/new/new/clients").await;
    assert_eq!(create.status, 200, "{}", create.body);
    assert_has(&create.body, "<h1>New client");
    let create_realm = b.get("/admin/new/realm").await;
    assert_eq!(create_realm.status, 200, "{}", create_realm.body);
    assert_has(&create_realm.body, "<h1>New realm");
}

/// Every console page allows only scripts carrying that response's nonce, and its own scripts
/// carry it; the nonce changes with every response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_run_only_scripts_with_their_nonce() {
    let server = sqlite_server().await;
    let page = || async {
        let response = server
            .http
            .get(server.url("/admin/login"))
            .send()
            .await
            .expect("the login page answers");
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let body = response.text().await.expect("body is read");
        (headers, body)
    };
    let (headers, body) = page().await;
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ASCII policy");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = between(csp, "script-src 'nonce-", "'").to_string();
    assert!(nonce.len() >= 16, "a random nonce: {csp}");
    let scripts: Vec<&str> = body.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page has its script");
    for script in scripts {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(
            tag.contains(&format!(r#"nonce="{nonce}""#)),
            "every script carries the nonce: <script{tag}>"
        );
    }
    let (again, _) = page().await;
    assert_ne!(
        again[header::CONTENT_SECURITY_POLICY],
        headers[header::CONTENT_SECURITY_POLICY],
        "a fresh nonce per response"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lists_page_with_the_next_cursor() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    for i in 0..55 {
        api.post(
            "/realms/default/claim-types",
            json!({"name": format!("claim-{i:02}")}),
        )
        .await;
    }
    let total = {
        let mut count = 0;
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!(
                    "/realms/default/claim-types?limit=500&cursor={}",
                    form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
                ),
                None => "/realms/default/claim-types?limit=500".to_string(),
            };
            let page = api.get(&path).await;
            count += page["items"].as_array().expect("items").len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break count,
            }
        }
    };
    assert!(total > 50, "{total}");
    let api_first = api.get("/realms/default/claim-types").await;
    let cursor = api_first["next_cursor"]
        .as_str()
        .expect("the API pages at 50 too");

    let mut b = Browser::new(&server);
    b.sign_in().await;
    let first = b.get("/admin/realms/default/claim-types").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body.matches("<tr data-key=").count(), 50);
    let next = format!(
        "/admin/realms/default/claim-types?cursor={}",
        form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
    );
    assert_tag(
        &first.body,
        &["<a", &format!(r#"href="{next}""#), r#"rel="next""#],
    );
    assert!(!first.body.contains("First page"));
    let second = b.get(&next).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body.matches("<tr data-key=").count(), total - 50);
    assert_has(&second.body, "First page");
    assert!(!second.body.contains(r#"rel="next""#));
}

/// A user's page sets what they do at the next sign-in; the second-factors page lists their
/// credentials (never a secret) and removes one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_required_actions_and_second_factors() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let user = api
        .post(
            "/realms/default/users",
            json!({"username": "lena", "password": "lena-password"}),
        )
        .await;
    let id = user["id"].as_str().expect("id").to_string();
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    api.post(
        &format!("/realms/default/users/{id}/credentials/totp"),
        json!({"secret": secret}),
    )
    .await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let page = format!("/admin/realms/default/users/{id}");
    let saved = b
        .submit(
            &page,
            &format!("{page}/required-actions"),
            &[
                ("required_actions", "update_password"),
                ("required_actions", "configure_totp"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let user = api.get(&format!("/realms/default/users/{id}")).await;
    assert_eq!(
        user["required_actions"],
        json!(["update_password", "configure_totp"])
    );
    let shown = b.get(&page).await;
    assert_tag(&shown.body, &[r#"value="update_password""#, "checked"]);
    // verify_email without an address (and without SMTP) is refused by the service.
    let refused = b
        .submit(
            &page,
            &format!("{page}/required-actions"),
            &[("required_actions", "verify_email")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);

    let listed = b.get(&format!("{page}/credentials")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_has(&listed.body, "Authenticator app");
    assert!(!listed.body.contains(secret), "secrets are never shown");
    let credential = between(&listed.body, r#"<tr data-key=""#, "\"").to_string();
    assert_tag(
        &listed.body,
        &[
            &format!(r#"data-key="{credential}""#),
            r#"class="credential-row""#,
        ],
    );
    let removed = b
        .submit(
            &format!("{page}/credentials"),
            &format!("{page}/credentials/{credential}/remove"),
            &[],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let credentials = api
        .get(&format!("/realms/default/users/{id}/credentials"))
        .await;
    assert_eq!(credentials, json!([]));
}

/// A realm's mail settings in the console: validated by the service, the password write-only,
/// removable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_settings_are_edited_in_the_console() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;
    let page = "/admin/realms/default/smtp";
    let settings = b.get("/admin/realms/default/settings").await;
    assert_tag(&settings.body, &[r#"id="mail-settings""#, page]);
    let refused = b
        .submit(
            page,
            page,
            &[
                ("host", "smtp.example.com"),
                ("port", "587"),
                ("security", "starttls"),
                ("from", "not an address"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_field_error(&refused.body, "from");
    let saved = b
        .submit(
            page,
            page,
            &[
                ("host", "smtp.example.com"),
                ("port", "587"),
                ("security", "starttls"),
                ("username", "mailer"),
                ("password", "mail-secret"),
                ("from", "Shop <no-reply@example.com>"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = api.get("/realms/default/smtp").await;
    assert_eq!(stored["host"], "smtp.example.com");
    assert_eq!(stored["has_password"], true);
    let shown = b.get(page).await;
    assert!(!shown.body.contains("mail-secret"), "write-only");
    assert_has(&shown.body, "A password is set.");
    let removed = b.submit(page, &format!("{page}/remove"), &[]).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let gone = api
        .send(reqwest::Method::GET, "/realms/default/smtp", None)
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_a_users_sessions_in_the_console() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;

    // Roles: one created plain, one including it; a cycle is refused by its field.
    let form = "/admin/realms/default/new/roles";
    let reader = b
        .submit(form, form, &[("name", "reader"), ("description", "Reads")])
        .await;
    assert_eq!(reader.status, 303, "{}", reader.body);
    let editor = b
        .submit(form, form, &[("name", "editor"), ("composites", "reader")])
        .await;
    assert_eq!(editor.status, 303, "{}", editor.body);
    let edit = "/admin/realms/default/roles/reader";
    let cycle = b
        .submit(
            edit,
            edit,
            &[("description", "Reads"), ("composites", "editor")],
        )
        .await;
    assert_eq!(cycle.status, 422, "{}", cycle.body);
    assert_field_error(&cycle.body, "composites");
    let list = b.get("/admin/realms/default/roles").await;
    assert_tag(&list.body, &["<tr", r#"data-key="editor""#]);
    assert_eq!(
        api.get("/realms/default/roles/editor").await["composites"],
        json!(["reader"])
    );
    assert_eq!(
        api.get("/realms/default/roles/reader").await["composites"],
        json!([])
    );

    // A user's sessions: listed with where they came from, then all ended at once.
    let user = api
        .post(
            "/realms/default/users",
            json!({"username": "sam", "password": "sam-password-1", "roles": ["editor"]}),
        )
        .await;
    let id = user["id"].as_str().expect("id").to_string();
    sso_sign_in(&server, "default", "sam", "sam-password-1").await;
    sso_sign_in(&server, "default", "sam", "sam-password-1").await;
    let user_page = b.get(&format!("/admin/realms/default/users/{id}")).await;
    assert_tag(&user_page.body, &[r#"id="sessions-link""#]);
    let sessions = format!("/admin/realms/default/users/{id}/sessions");
    let page = b.get(&sessions).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body.matches(r#"class="origin""#).count(),
        2,
        "{}",
        page.body
    );
    assert_has(&page.body, "127.0.0.1");
    let end_all = format!("{sessions}/end");
    assert_has(&b.get(&end_all).await.body, r#"id="confirm""#);
    let ended = b.submit(&end_all, &end_all, &[]).await;
    assert_eq!(ended.status, 303, "{}", ended.body);
    let after = b.get(&sessions).await;
    assert_has(&after.body, "2 sessions ended.");
    assert_has(&after.body, "No active sessions yet");
    assert_eq!(
        api.get(&format!("/realms/default/users/{id}/sessions"))
            .await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_asks_for_an_administrators_second_factor() {
    use super::second_factor::{encode_base32, totp};
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let ops = api
        .post(
            "/realms/master/users",
            json!({"username": "ops", "password": "ops-password-123", "roles": ["admin"]}),
        )
        .await;
    let id = ops["id"].as_str().expect("id").to_string();
    let secret = b"console-second-factor";
    let imported = api
        .post(
            &format!("/realms/master/users/{id}/credentials/totp"),
            json!({"secret": encode_base32(secret)}),
        )
        .await;
    assert!(imported["otpauth_uri"].is_string(), "{imported}");

    let mut b = Browser::new(&server);
    assert_has(&b.get("/admin/login").await.body, r#"name="code""#);
    let attempt = |code: &'static str| {
        [
            ("username", "ops"),
            ("password", "ops-password-123"),
            ("code", code),
        ]
    };
    for code in ["", "000000"] {
        let refused = b
            .submit("/admin/login", "/admin/login", &attempt(code))
            .await;
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_has(&refused.body, "authentication code is wrong");
    }
    let code: &'static str = totp(secret, server.state.now().timestamp()).leak();
    let signed_in = b
        .submit("/admin/login", "/admin/login", &attempt(code))
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    // Used once: the same code does not sign in another browser.
    let mut other = Browser::new(&server);
    let replayed = other
        .submit("/admin/login", "/admin/login", &attempt(code))
        .await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_providers_directories_and_links_in_the_console() {
    let server = sqlite_server().await;
    let api = Api::new(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in().await;

    // A provider from a template: blank fields keep the template's values; the secret is
    // write-only and the redirect URI to register is shown.
    let form = "/admin/realms/default/new/identity-providers";
    let page = b.get(form).await;
    assert_tag(&page.body, &["<select", r#"name="template""#]);
    let created = b
        .submit(
            form,
            form,
            &[
                ("alias", "github"),
                ("template", "github"),
                ("kind", "oidc"),
                ("enabled", "true"),
                ("client_id", "gh-client"),
                ("client_secret", "gh-secret-value"),
                ("client_auth_method", "client_secret_basic"),
                ("pkce", "true"),
                ("sync_mode", "import"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let stored = api.get("/realms/default/identity-providers/github").await;
    assert_eq!(stored["kind"], "oauth2");
    assert_eq!(stored["client_secret_set"], true);
    assert_eq!(stored["claim_mappings"]["login"], "username");
    let edit = "/admin/realms/default/identity-providers/github";
    let page = b.get(edit).await;
    assert_eq!(page.status, 200);
    assert_tag(&page.body, &[r#"id="redirect-uri""#]);
    assert!(!page.body.contains("gh-secret-value"), "write-only");
    assert_has(&page.body, "login = username");
    // A bad mapping line is the field's error.
    let bad = b
        .submit(
            edit,
            edit,
            &[
                ("kind", "oauth2"),
                ("client_id", "gh-client"),
                ("client_auth_method", "client_secret_basic"),
                (
                    "authorization_endpoint",
                    "https://github.com/login/oauth/authorize",
                ),
                (
                    "token_endpoint",
                    "https://github.com/login/oauth/access_token",
                ),
                ("userinfo_endpoint", "https://api.github.com/user"),
                ("subject_claim", "id"),
                ("claim_mappings", "login username"),
                ("sync_mode", "import"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_field_error(&bad.body, "claim_mappings");
    // Test connection answers a page (GitHub's endpoints are not fetched for plain OAuth 2).
    let tested = b.submit(edit, &format!("{edit}/test"), &[]).await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_tag(&tested.body, &[r#"id="test-result""#]);

    // A directory, and its test against nothing listening.
    let form = "/admin/realms/default/new/directories";
    let created = b
        .submit(
            form,
            form,
            &[
                ("name", "corp"),
                ("enabled", "true"),
                ("url", "ldap://127.0.0.1:1"),
                ("user_base_dn", "ou=people,dc=example,dc=org"),
                ("user_filter", "(uid={username})"),
                ("subject_attribute", "entryUUID"),
                ("attribute_mappings", "mail = email\nuid = username"),
                ("group_filter", "(member={dn})"),
                ("group_name_attribute", "cn"),
                ("group_roles", "admins = admin-from-ldap"),
                ("timeout_seconds", "2"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let stored = api.get("/realms/default/directories/corp").await;
    assert_eq!(stored["group_roles"]["admins"], "admin-from-ldap");
    let edit = "/admin/realms/default/directories/corp";
    let tested = b.submit(edit, &format!("{edit}/test"), &[]).await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_tag(&tested.body, &[r#"data-ok="false""#]);
    assert_tag(&tested.body, &[r#"id="test-error""#]);

    // A user's links page, and the sidebar entries.
    let user = api
        .post(
            "/realms/default/users",
            json!({"username": "lena", "password": "lena-password-1"}),
        )
        .await;
    let id = user["id"].as_str().expect("id").to_string();
    let user_page = b.get(&format!("/admin/realms/default/users/{id}")).await;
    assert_tag(&user_page.body, &[r#"id="links-link""#]);
    let links = b
        .get(&format!("/admin/realms/default/users/{id}/links"))
        .await;
    assert_eq!(links.status, 200, "{}", links.body);
    assert_has(&links.body, "No linked accounts yet");
    assert_has(&links.body, "Identity providers");
    assert_has(&links.body, "Directories");
}

//! The console driven in process against a fake admin port: status codes, redirects, CSRF,
//! sessions, and the markup conventions the browser tests rely on.

mod support;

use axum::http::StatusCode;
use support::Browser;

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

#[tokio::test]
async fn signing_in_needs_the_right_password_and_rotates_the_session() {
    let mut b = Browser::new();
    let page = b.get("/admin/login").await;
    assert_eq!(page.status, StatusCode::OK);
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
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_tag(&wrong.body, &[r#"class="form-error""#]);
    assert_has(&wrong.body, r#"value="admin""#);
    assert!(!wrong.body.contains("whoami"));

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
    assert_eq!(not_admin.status, StatusCode::UNAUTHORIZED);

    let ok = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", "admin-password-123"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/admin"));
    let cookie = &ok.set_cookie[0];
    assert!(
        cookie.contains("Path=/admin")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );
    assert!(!cookie.contains("Secure"));
    assert_ne!(
        b.cookie.as_deref(),
        Some(before.as_str()),
        "a new session id after sign-in"
    );

    let home = b.get("/admin").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location.as_deref(), Some("/admin/realms/master"));
    let dashboard = b.get("/admin/realms/master").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert_has(&dashboard.body, r#"<strong id="whoami">admin</strong>"#);
    assert_has(
        &dashboard.body,
        "/realms/master/.well-known/openid-configuration",
    );

    // The old session id is dead.
    b.cookie = Some(before);
    let stale = b.get("/admin/realms/master").await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn anonymous_requests_go_to_sign_in_and_come_back() {
    let mut b = Browser::new();
    let r = b.get("/admin/realms/default/clients?cursor=x").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/login?next=%2Fadmin%2Frealms%2Fdefault%2Fclients%3Fcursor%3Dx")
    );
    let login = b.get(r.location.as_deref().unwrap()).await;
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
                ("username", "admin"),
                ("password", "admin-password-123"),
                ("next", "/admin/realms/default/clients?cursor=x"),
            ],
        )
        .await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/admin/realms/default/clients?cursor=x")
    );

    let mut b = Browser::new();
    let r = b
        .post("/admin/realms/default/clients/new", &[("client_id", "x")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/admin/login"));
}

#[tokio::test]
async fn forms_without_the_session_csrf_token_are_refused() {
    let mut b = Browser::new();
    let login = b.get("/admin/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let r = b
        .post(
            "/admin/login",
            &[
                ("csrf", "forged"),
                ("username", "admin"),
                ("password", "admin-password-123"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    b.sign_in().await;
    let r = b
        .post(
            "/admin/realms/default/clients/new",
            &[
                ("csrf", "forged"),
                ("client_id", "web"),
                ("grant_types", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post("/admin/realms/default/keys/rotate", &[("client_id", "web")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(b.port.state.lock().unwrap().keys["default"].len(), 1);
}

#[tokio::test]
async fn a_confidential_client_shows_its_secret_once_and_validation_errors_sit_by_their_fields() {
    let mut b = Browser::new();
    b.sign_in().await;
    let empty = b.get("/admin/realms/default/clients").await;
    assert_has(&empty.body, "No clients yet");
    assert_has(
        &empty.body,
        r#"<a href="/admin/realms/default/clients/new">Create the first one</a>"#,
    );

    let form = "/admin/realms/default/clients/new";
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
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
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
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&refused.body, "redirect_uris");
    assert_tag(&refused.body, &[r#"class="form-error""#]);
    assert_has(
        &refused.body,
        r#"name="grant_types" value="authorization_code" checked"#,
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
                ("redirect_uris", "https://web.example/cb"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_has(
        &created.body,
        r#"<code id="client-secret">generated-secret-&lt;&amp;&gt;-1234567890</code>"#,
    );
    let stored = b.port.state.lock().unwrap().clients[&("default".into(), "web".into())].clone();
    assert_eq!(stored.grant_types, ["authorization_code", "refresh_token"]);
    assert_eq!(stored.display_name.as_deref(), Some("<b>Web</b>"));

    let list = b.get("/admin/realms/default/clients").await;
    assert_tag(&list.body, &["<tr", r#"data-key="web""#]);
    assert_has(&list.body, "&lt;b&gt;Web&lt;/b&gt;");
    assert!(!list.body.contains("<b>Web</b>"));
    let edit = b.get("/admin/realms/default/clients/web").await;
    assert!(!edit.body.contains("generated-secret"));
    assert!(!edit.body.contains("client-secret\""));

    let conflict = b
        .submit(
            form,
            form,
            &[("client_id", "web"), ("grant_types", "client_credentials")],
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_has(&conflict.body, "already exists");

    let rotate = b.get("/admin/realms/default/clients/web/secret").await;
    assert_has(&rotate.body, r#"id="confirm""#);
    let rotated = b
        .submit(
            "/admin/realms/default/clients/web/secret",
            "/admin/realms/default/clients/web/secret",
            &[],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_has(
        &rotated.body,
        r#"<code id="client-secret">rotated-secret-0987654321</code>"#,
    );
}

#[tokio::test]
async fn editing_and_deleting_a_client_redirect_with_a_flash() {
    let mut b = Browser::new();
    b.sign_in().await;
    let form = "/admin/realms/default/clients/new";
    let created = b
        .submit(
            form,
            form,
            &[
                ("client_id", "svc"),
                ("grant_types", "client_credentials"),
                ("public", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
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

    let edit = "/admin/realms/default/clients/svc";
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
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let stored = b.port.state.lock().unwrap().clients[&("default".into(), "svc".into())].clone();
    assert_eq!(stored.scopes, ["orders:read", "orders:write"]);
    assert!(!stored.require_pkce, "an unticked checkbox means false");

    let refused = b.submit(edit, edit, &[("client_id", "svc")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&refused.body, "grant_types");

    let confirm = b.get("/admin/realms/default/clients/svc/delete").await;
    assert_eq!(confirm.status, StatusCode::OK);
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
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/realms/default/clients")
    );
    let list = b.get("/admin/realms/default/clients").await;
    assert_has(&list.body, "Client svc deleted.");
    assert_has(&list.body, "No clients yet");

    let missing = b.get("/admin/realms/default/clients/svc").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let missing = b.get("/admin/realms/nowhere/clients").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn users_have_json_claims_passwords_and_rows_keyed_by_id() {
    let mut b = Browser::new();
    b.sign_in().await;
    let form = "/admin/realms/default/users/new";
    let refused = b
        .submit(
            form,
            form,
            &[("username", "alice"), ("claims", "{\"name\": ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
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
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.unwrap();
    let id = location.rsplit('/').next().unwrap().to_string();
    let user = b.port.state.lock().unwrap().users[&("default".into(), id.clone())].clone();
    assert_eq!(user.roles, ["staff", "buyer"]);
    assert_eq!(user.claims["name"], "Alice");

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
    assert_has(&search.body, "No users yet");

    let short = b
        .submit(
            &location,
            &format!("{location}/password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&short.body, "password");
    let set = b
        .submit(
            &location,
            &format!("{location}/password"),
            &[("password", "a-long-password")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);

    let disabled = b
        .submit(
            &location,
            &format!("{location}/enabled"),
            &[("enabled", "false")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let page = b.get(&location).await;
    assert_has(&page.body, "User alice disabled.");
    assert_has(&page.body, "Enable user");
    assert!(
        !page.body.contains(r#"id="unlock""#),
        "no unlock button for an unlocked user"
    );
}

#[tokio::test]
async fn keys_rotate_behind_a_confirmation() {
    let mut b = Browser::new();
    b.sign_in().await;
    let keys = b.get("/admin/realms/default/keys").await;
    assert_tag(
        &keys.body,
        &[
            r#"class="key-row""#,
            r#"data-kid="default-k1""#,
            r#"data-active="true""#,
        ],
    );
    let confirm = b.get("/admin/realms/default/keys/rotate").await;
    assert_has(&confirm.body, r#"id="confirm""#);
    assert_has(
        &confirm.body,
        r#"action="/admin/realms/default/keys/rotate""#,
    );
    let rotated = b
        .submit(
            "/admin/realms/default/keys/rotate",
            "/admin/realms/default/keys/rotate",
            &[],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER);
    assert_eq!(
        rotated.location.as_deref(),
        Some("/admin/realms/default/keys")
    );
    let keys = b.get("/admin/realms/default/keys").await;
    assert_tag(
        &keys.body,
        &[r#"data-kid="default-k1""#, r#"data-active="false""#],
    );
    assert_tag(
        &keys.body,
        &[r#"data-kid="default-k2""#, r#"data-active="true""#],
    );
    assert_has(&keys.body, "New signing keys published.");
}

#[tokio::test]
async fn realms_are_created_and_validated() {
    let mut b = Browser::new();
    b.sign_in().await;
    let form = "/admin/realms/new";
    let refused = b
        .submit(
            form,
            form,
            &[("name", "Bad Name"), ("access_token_lifetime", "-5")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&refused.body, "name");
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
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    assert_eq!(created.location.as_deref(), Some("/admin/realms/shop"));
    let dashboard = b.get("/admin/realms/shop").await;
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
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let realm = b.port.state.lock().unwrap().realms["shop"].clone();
    assert_eq!(realm.display_name, None);
    assert!(realm.decentralized && !realm.enabled);
    assert_eq!(realm.signing_alg, "RS256");

    let master = b
        .submit(
            "/admin/realms/master/delete",
            "/admin/realms/master/delete",
            &[],
        )
        .await;
    assert_eq!(master.status, StatusCode::CONFLICT);
    let deleted = b
        .submit(
            "/admin/realms/shop/delete",
            "/admin/realms/shop/delete",
            &[],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location.as_deref(), Some("/admin/realms"));
    let home = b.get("/admin").await;
    assert_eq!(
        home.location.as_deref(),
        Some("/admin/realms/master"),
        "a deleted last realm falls back to master"
    );
}

#[tokio::test]
async fn revocations_sessions_and_the_audit_log() {
    let mut b = Browser::new();
    b.sign_in().await;
    let form = "/admin/realms/default/revocations/new";
    let refused = b
        .submit(form, form, &[("type", "TOKEN"), ("token", "")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&refused.body, "token");
    let refused = b
        .submit(form, form, &[("type", "TOKEN"), ("token", "short")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&refused.body, r#"data-field="token""#);
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
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let list = b.get("/admin/realms/default/revocations").await;
    assert_has(&list.body, "claims sub");

    let sessions = b.get("/admin/realms/default/sessions").await;
    assert_tag(&sessions.body, &["<tr", r#"data-key="sess-1""#]);
    let end = "/admin/realms/default/sessions/sess-1/end";
    assert_has(&b.get(end).await.body, r#"id="confirm""#);
    let ended = b.submit(end, end, &[]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_has(
        &b.get("/admin/realms/default/sessions").await.body,
        "No active sessions yet",
    );

    // Three events, then page through them one at a time.
    for id in ["a", "b", "c"] {
        let f = "/admin/realms/default/claim-types/new";
        let _ = b.submit(f, f, &[("name", id)]).await;
        let f = "/admin/realms/default/clients/new";
        let _ = b
            .submit(
                f,
                f,
                &[
                    ("client_id", id),
                    ("grant_types", "client_credentials"),
                    ("public", "true"),
                ],
            )
            .await;
    }
    let events = b.get("/admin/realms/default/events?type=client.").await;
    assert_eq!(events.status, StatusCode::OK);
    assert_has(&events.body, "client.created");
    assert!(!events.body.contains("id=\"older\""));
    let bad = b.get("/admin/realms/default/events?since=tuesday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&bad.body, "since");
    assert_has(&bad.body, r#"value="tuesday""#);
}

#[tokio::test]
async fn an_admin_who_lost_the_role_is_signed_out() {
    let mut b = Browser::new();
    b.sign_in().await;
    assert_eq!(b.get("/admin/realms/master").await.status, StatusCode::OK);
    b.port.state.lock().unwrap().admin_enabled = false;
    let r = b.get("/admin/realms/master").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/admin/login"));
    assert!(b.cookie.is_none(), "the cookie is cleared");
    assert!(b
        .store
        .0
        .lock()
        .unwrap()
        .values()
        .all(|r| !r.data.contains_key("actor")));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let mut b = Browser::new();
    b.sign_in().await;
    let page = b.get("/admin/realms/master").await;
    let csrf = page.csrf();
    let old = b.cookie.clone();
    let out = b.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/admin/login"));
    assert!(out.set_cookie[0].contains("Max-Age=0"));
    b.cookie = old;
    assert_eq!(
        b.get("/admin/realms/master").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_stylesheet_is_served() {
    let mut b = Browser::new();
    let css = b.get("/admin/assets/console.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_has(&css.body, ".sidebar");
    assert_has(&css.body, "--accent");
}

#[tokio::test]
async fn long_lists_page_with_the_next_cursor() {
    use admin_model::{Actor, AdminPort, ClaimTypeInput};
    let mut b = Browser::new();
    b.sign_in().await;
    let actor = Actor {
        subject: "admin-id".into(),
        name: "admin".into(),
    };
    for i in 0..55 {
        let input = ClaimTypeInput {
            name: Some(format!("claim-{i:02}")),
            description: None,
        };
        b.port
            .create_claim_type(&actor, "default", input)
            .await
            .unwrap();
    }
    let first = b.get("/admin/realms/default/claim-types").await;
    assert_eq!(first.body.matches("<tr data-key=").count(), 50);
    let next = "/admin/realms/default/claim-types?cursor=claim-49";
    assert_tag(
        &first.body,
        &["<a", &format!(r#"href="{next}""#), r#"rel="next""#],
    );
    assert!(!first.body.contains("First page"));
    let second = b.get(next).await;
    assert_eq!(second.body.matches("<tr data-key=").count(), 5);
    assert_has(&second.body, "First page");
    assert!(!second.body.contains(r#"rel="next""#));
}

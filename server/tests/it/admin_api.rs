//! The admin REST API (CONTRACT §4): authentication and the admin role, validation (422 with
//! per-field messages), duplicates (409), unknown items (404), audit events, secrets shown
//! once and never by GET, and the OpenAPI document.

use serde_json::{json, Value};

use crate::common::{Response, TestServer};

const ADMIN: (&str, &str) = ("admin", "admin-password-1");

/// A bearer-authenticated client of the admin API.
struct Api<'a> {
    server: &'a TestServer,
    token: Option<String>,
}

impl<'a> Api<'a> {
    async fn as_admin(server: &'a TestServer) -> Api<'a> {
        let token = master_token(server, ADMIN.0, ADMIN.1).await;
        Api {
            server,
            token: Some(token),
        }
    }

    fn with_token(server: &'a TestServer, token: Option<String>) -> Api<'a> {
        Api { server, token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .server
            .http
            .request(method, self.server.url(&format!("/admin/api{path}")));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Response::from(request.send().await.expect("request is sent")).await
    }

    async fn get(&self, path: &str) -> Response {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

async fn master_token(server: &TestServer, username: &str, password: &str) -> String {
    let response = server
        .password_grant("master", ("admin-cli", ""), username, password, None)
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// Asserts an admin API error: status, code, and (for 422) the field it names.
fn assert_error(response: &Response, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(response.status, status, "{}", response.text);
    assert_eq!(response.body["error"], code, "{}", response.text);
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        response.text
    );
    if let Some(field) = field {
        assert!(
            response.body["fields"][field].is_string(),
            "expected a message for `{field}`: {}",
            response.text
        );
    }
}

fn names(response: &Response, key: &str) -> Vec<String> {
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_needs_a_master_token_with_the_admin_role() {
    let server = TestServer::start(crate::common::Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let anonymous = Api::with_token(&server, None).get("/realms").await;
    assert_error(&anonymous, 401, "unauthorized", None);
    assert!(anonymous
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    let garbage = Api::with_token(&server, Some("not-a-token".into()))
        .get("/realms")
        .await;
    assert_error(&garbage, 401, "unauthorized", None);

    let admin = Api::as_admin(&server).await;
    assert_eq!(admin.get("/realms").await.status, 200);

    // A master user without the role is authenticated but forbidden.
    let plain = admin
        .post(
            "/realms/master/users",
            json!({"username": "operator", "password": "operator-pass-1"}),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.text);
    let operator = master_token(&server, "operator", "operator-pass-1").await;
    assert_error(
        &Api::with_token(&server, Some(operator))
            .get("/realms")
            .await,
        403,
        "forbidden",
        None,
    );

    // A token of another realm is not an admin token, whatever its roles.
    admin
        .post(
            "/realms/default/users",
            json!({"username": "mallory", "password": "mallory-pass-1", "roles": ["admin"]}),
        )
        .await;
    admin
        .post(
            "/realms/default/clients",
            json!({"client_id": "cli", "grant_types": ["password"], "public": true}),
        )
        .await;
    let other = server
        .password_grant("default", ("cli", ""), "mallory", "mallory-pass-1", None)
        .await;
    let other = other.body["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_error(
        &Api::with_token(&server, Some(other)).get("/realms").await,
        401,
        "unauthorized",
        None,
    );

    // A service client of master holding the role may administer.
    let service = admin
        .post(
            "/realms/master/clients",
            json!({"client_id": "automation", "grant_types": ["client_credentials"], "roles": ["admin"]}),
        )
        .await;
    assert_eq!(service.status, 201, "{}", service.text);
    let secret = service.body["client_secret"].as_str().expect("secret");
    let token = server
        .client_token("master", "automation", secret, None)
        .await;
    assert_eq!(
        Api::with_token(&server, Some(token))
            .get("/realms")
            .await
            .status,
        200
    );

    // Disabling an administrator locks their live token out at once.
    let second = admin
        .post(
            "/realms/master/users",
            json!({"username": "second", "password": "second-pass-1", "roles": ["admin"]}),
        )
        .await;
    let second_id = second.body["id"].as_str().expect("id").to_string();
    let second_token = master_token(&server, "second", "second-pass-1").await;
    let second_api = Api::with_token(&server, Some(second_token));
    assert_eq!(second_api.get("/realms").await.status, 200);
    let disabled = admin
        .patch(
            &format!("/realms/master/users/{second_id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_error(&second_api.get("/realms").await, 403, "forbidden", None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_describes_every_route_and_resolves_every_reference() {
    let server = TestServer::start(crate::common::Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let response = Api::with_token(&server, None).get("/openapi.json").await;
    assert_eq!(response.status, 200, "{}", response.text);
    let doc = &response.body;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, method) in [
        ("/admin/api/realms", "post"),
        ("/admin/api/realms/{realm}", "patch"),
        (
            "/admin/api/realms/{realm}/clients/{client_id}/secret",
            "post",
        ),
        ("/admin/api/realms/{realm}/users/{id}/unlock", "post"),
        ("/admin/api/realms/{realm}/scopes/{name}", "delete"),
        ("/admin/api/realms/{realm}/api-resources", "get"),
        ("/admin/api/realms/{realm}/claim-types", "post"),
        (
            "/admin/api/realms/{realm}/exchange-policies/{client_id}",
            "get",
        ),
        ("/admin/api/realms/{realm}/keys/rotate", "post"),
        ("/admin/api/realms/{realm}/revocations/{id}", "delete"),
        ("/admin/api/realms/{realm}/sessions/{id}", "delete"),
        ("/admin/api/realms/{realm}/events", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    // What the body extractor answers is documented wherever a body is taken, and only there.
    for (path, method) in [
        ("/admin/api/realms", "post"),
        ("/admin/api/realms/{realm}", "patch"),
        ("/admin/api/realms/{realm}/revocations", "post"),
    ] {
        for status in ["400", "413", "415"] {
            assert!(
                doc["paths"][path][method]["responses"][status].is_object(),
                "{method} {path} does not document {status}"
            );
        }
    }
    let rotate = &doc["paths"]["/admin/api/realms/{realm}/keys/rotate"]["post"];
    assert!(
        rotate["responses"]["415"].is_null(),
        "rotation takes no body"
    );
    // Page sizes are documented with the bounds the server enforces.
    let list = &doc["paths"]["/admin/api/realms/{realm}/users"]["get"]["parameters"];
    let limit = list
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("a limit parameter");
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
    assert_eq!(limit["schema"]["maximum"], 500, "{limit}");
    // So are the bounds of values.
    let realm = &doc["components"]["schemas"]["RealmInput"]["properties"];
    assert_eq!(realm["name"]["pattern"], "^[a-z0-9][a-z0-9_-]{0,62}$");
    assert_eq!(realm["access_token_lifetime"]["minimum"], 1);
    assert_eq!(realm["access_token_lifetime"]["maximum"], 315_360_000);
    let user = &doc["components"]["schemas"]["UserInput"]["properties"];
    assert_eq!(user["password"]["minLength"], 8);
    // Every $ref points at a schema the document defines.
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {reference}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling reference {reference}"
        );
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_api_errors_and_change_nothing() {
    let server = TestServer::start(crate::common::Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let api = Api::as_admin(&server).await;
    let token = api.token.clone().expect("token");
    let raw = server
        .http
        .post(server.url("/admin/api/realms/default/clients"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"client_id": "x", "#)
        .send()
        .await
        .expect("sent");
    assert_error(&Response::from(raw).await, 400, "bad_request", None);
    assert_error(
        &api.post(
            "/realms/default/clients",
            json!({"client_id": "x", "grant_types": ["password"], "colour": "red"}),
        )
        .await,
        422,
        "validation_failed",
        Some("colour"),
    );
    assert_error(
        &api.post(
            "/realms/default/clients",
            json!({"client_id": "x", "grant_types": "password"}),
        )
        .await,
        422,
        "validation_failed",
        Some("grant_types"),
    );
    assert_error(
        &api.get("/realms/default/clients?limit=many").await,
        422,
        "validation_failed",
        Some("limit"),
    );
    assert_error(
        &api.get("/realms/default/clients?limit=0").await,
        422,
        "validation_failed",
        Some("limit"),
    );
    assert_error(
        &api.get("/realms/default/clients?limit=501").await,
        422,
        "validation_failed",
        Some("limit"),
    );
    assert_error(
        &api.get("/realms/default/events?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z")
            .await,
        422,
        "validation_failed",
        Some("until"),
    );
    assert_error(
        &api.get("/realms/default/clients?cursor=%%%").await,
        422,
        "validation_failed",
        Some("cursor"),
    );
    assert_error(
        &api.get("/realms/nowhere/clients").await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &api.get("/realms/NOT%20A%20NAME").await,
        404,
        "not_found",
        None,
    );
    assert_error(&api.get("/no/such/thing").await, 404, "not_found", None);
    let wrong_method = api
        .send(reqwest::Method::PUT, "/realms", Some(json!({})))
        .await;
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.text);
    // Nothing above wrote anything.
    assert!(names(&api.get("/realms/default/clients").await, "client_id").is_empty());
    assert!(server.audit_events("client.created").await.is_empty());
}

/// A raw admin API request: `body` sent as is with `content_type` (none when `None`).
async fn raw(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = server
        .http
        .request(method, server.url(&format!("/admin/api{path}")))
        .bearer_auth(token)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    Response::from(request.send().await.expect("request is sent")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_must_be_json_objects_of_bounded_size() {
    let server = TestServer::start(crate::common::Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let api = Api::as_admin(&server).await;
    let token = api.token.clone().expect("token");
    let post = |content_type: Option<&'static str>, body: Vec<u8>| {
        raw(
            &server,
            &token,
            reqwest::Method::POST,
            "/realms",
            content_type,
            body,
        )
    };
    let json = Some("application/json");
    // serde would fill a struct from an array by position: `["arr", "Display"]` is no realm.
    let array = post(json, br#"["arr", "Display"]"#.to_vec()).await;
    assert_error(&array, 422, "validation_failed", Some("body"));
    assert_error(&post(json, b"".to_vec()).await, 400, "bad_request", None);
    assert_error(
        &post(json, b"  \n".to_vec()).await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &post(json, b"\"arr\"".to_vec()).await,
        422,
        "validation_failed",
        Some("body"),
    );
    let named = br#"{"name": "typed"}"#.to_vec();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = post(content_type, named.clone()).await;
        assert_error(&response, 415, "unsupported_media_type", None);
    }
    // The server reads and drops the rest of an oversized body, so the refusal arrives intact
    // and the pooled connection stays usable.
    let big = format!(
        r#"{{"name": "big", "display_name": "{}"}}"#,
        "x".repeat(300 * 1024)
    );
    let too_big = server
        .http
        .post(server.url("/admin/api/realms"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("request is sent");
    assert_error(
        &Response::from(too_big).await,
        413,
        "payload_too_large",
        None,
    );
    // A PATCH needs a body too.
    let empty_patch = raw(
        &server,
        &token,
        reqwest::Method::PATCH,
        "/realms/default",
        json,
        "",
    )
    .await;
    assert_error(&empty_patch, 400, "bad_request", None);
    // `+json` types and parameters are JSON.
    let typed = post(Some("application/json; charset=utf-8"), named.clone()).await;
    assert_eq!(typed.status, 201, "{}", typed.text);

    let wrong_method = api
        .send(reqwest::Method::PUT, "/realms", Some(json!({})))
        .await;
    assert_error(&wrong_method, 405, "method_not_allowed", None);
    let nowhere = api.get("/no/such/thing").await;
    assert_error(&nowhere, 404, "not_found", None);
    assert_eq!(nowhere.body["message"], "endpoint not found");

    let realms = names(&api.get("/realms").await, "name");
    assert_eq!(
        realms,
        ["default", "master", "typed"],
        "only the well-formed create landed"
    );
    assert!(server.audit_events("realm.updated").await.is_empty());
}

crate::on_both_backends! {
    hostile_values_are_refused_and_change_nothing => hostile_values,
    the_username_filter_is_a_literal_prefix_ignoring_case => username_filter,
    the_last_master_administrator_stays => last_administrator,
    realms_are_created_changed_and_deleted => realm_lifecycle,
    clients_show_their_secret_once => client_lifecycle,
    users_are_managed_and_paged => user_lifecycle,
    catalogue_items_keep_their_references => catalogue_lifecycle,
    keys_revocations_sessions_and_events => operations,
}

async fn realm_lifecycle(server: TestServer) {
    let api = Api::as_admin(&server).await;
    let created = api
        .post(
            "/realms",
            json!({"name": "acme", "display_name": "ACME", "access_token_lifetime": 600}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("location"), Some("/admin/api/realms/acme"));
    assert_eq!(created.body["issuer"], server.issuer("acme"));
    assert_eq!(created.body["access_token_lifetime"], 600);
    assert_eq!(created.body["cookie_mode"], "realm");
    let scopes = names(&api.get("/realms/acme/scopes").await, "name");
    for standard in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
        "roles",
    ] {
        assert!(
            scopes.contains(&standard.to_string()),
            "{standard} missing: {scopes:?}"
        );
    }
    let discovery = server
        .http
        .get(server.url("/realms/acme/.well-known/openid-configuration"))
        .send()
        .await
        .expect("sent");
    assert_eq!(discovery.status(), 200);

    assert_error(
        &api.post("/realms", json!({"name": "acme"})).await,
        409,
        "conflict",
        None,
    );
    assert_error(
        &api.post("/realms", json!({"name": "Bad Name"})).await,
        422,
        "validation_failed",
        Some("name"),
    );
    assert_error(
        &api.post("/realms", json!({})).await,
        422,
        "validation_failed",
        Some("name"),
    );
    let bad = api
        .post("/realms", json!({"name": "ok", "cookie_mode": "jar", "signing_alg": "HS256", "id_token_lifetime": 0}))
        .await;
    assert_error(&bad, 422, "validation_failed", Some("cookie_mode"));
    assert!(bad.body["fields"]["signing_alg"].is_string());
    assert!(bad.body["fields"]["id_token_lifetime"].is_string());
    assert_error(&api.get("/realms/ok").await, 404, "not_found", None);

    let changed = api
        .patch(
            "/realms/acme",
            json!({"display_name": null, "cookie_mode": "shared", "access_token_lifetime": null}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["display_name"], Value::Null);
    assert_eq!(changed.body["cookie_mode"], "shared");
    assert_eq!(changed.body["access_token_lifetime"], Value::Null);
    // The same values again change nothing: no new `updated_at`, no event (counted below).
    let again = api
        .patch(
            "/realms/acme",
            json!({"display_name": null, "cookie_mode": "shared"}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body, changed.body);
    assert_error(
        &api.patch("/realms/acme", json!({"name": "other"})).await,
        422,
        "validation_failed",
        Some("name"),
    );
    assert_error(
        &api.patch("/realms/acme", json!({"signing_alg": "none"}))
            .await,
        422,
        "validation_failed",
        Some("signing_alg"),
    );
    assert_eq!(api.get("/realms/acme").await.body["signing_alg"], "ES256");
    assert_error(
        &api.patch("/realms/master", json!({"enabled": false})).await,
        422,
        "validation_failed",
        Some("enabled"),
    );
    assert_error(&api.delete("/realms/master").await, 409, "conflict", None);

    let events = api.get("/realms/acme/events?type=realm.").await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(kinds, ["realm.updated", "realm.created"], "{}", events.text);
    let updated = &events.body["items"][0];
    assert_eq!(updated["actor"], "admin");
    assert_eq!(updated["detail"]["before"]["cookie_mode"], "realm");
    assert_eq!(updated["detail"]["after"]["cookie_mode"], "shared");

    assert_eq!(api.delete("/realms/acme").await.status, 204);
    assert_error(&api.get("/realms/acme").await, 404, "not_found", None);
    assert_error(&api.delete("/realms/acme").await, 404, "not_found", None);
    let gone = server
        .http
        .get(server.url("/realms/acme/.well-known/openid-configuration"))
        .send()
        .await
        .expect("sent");
    assert_eq!(gone.status(), 404);
    let deleted = server.audit_events("realm.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].actor, "admin");
}

async fn client_lifecycle(server: TestServer) {
    let api = Api::as_admin(&server).await;
    let created = api
        .post(
            "/realms/default/clients",
            json!({
                "client_id": "reports",
                "grant_types": ["client_credentials"],
                "audiences": ["https://api.example"],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some("/admin/api/realms/default/clients/reports")
    );
    let secret = created.body["client_secret"]
        .as_str()
        .expect("generated secret")
        .to_string();
    assert!(secret.len() >= 32);
    assert_eq!(created.body["has_secret"], true);
    assert_eq!(
        created.body["require_pkce"], true,
        "admin-created clients require PKCE"
    );
    // The secret is never shown again, nor kept in the audit trail.
    let fetched = api.get("/realms/default/clients/reports").await;
    assert_eq!(fetched.status, 200);
    assert!(!fetched.text.contains(&secret));
    assert!(fetched.body.get("client_secret").is_none());
    assert!(!api
        .get("/realms/default/clients")
        .await
        .text
        .contains(&secret));
    let events = api.get("/realms/default/events?type=client.created").await;
    assert_eq!(events.body["items"].as_array().map(Vec::len), Some(1));
    assert!(!events.text.contains(&secret));
    assert_eq!(
        events.body["items"][0]["detail"]["after"]["client_id"],
        "reports"
    );

    // The secret works; rotation replaces it.
    server
        .client_token("default", "reports", &secret, None)
        .await;
    let rotated = api
        .post("/realms/default/clients/reports/secret", json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = rotated.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_ne!(new_secret, secret);
    server
        .client_token("default", "reports", &new_secret, None)
        .await;
    server
        .post_form(
            "/realms/default/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("reports", &secret)),
        )
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(server.audit_events("client.secret_rotated").await.len(), 1);

    // A chosen secret is accepted when long enough.
    let chosen = api
        .post("/realms/default/clients", json!({"client_id": "chosen", "grant_types": ["client_credentials"], "client_secret": "a chosen secret of length"}))
        .await;
    assert_eq!(chosen.status, 201, "{}", chosen.text);
    server
        .client_token("default", "chosen", "a chosen secret of length", None)
        .await;
    assert_error(
        &api.post("/realms/default/clients", json!({"client_id": "short", "grant_types": ["client_credentials"], "client_secret": "short"})).await,
        422, "validation_failed", Some("client_secret"),
    );

    // Validation: every failing field is named, and nothing is written.
    let invalid = api
        .post(
            "/realms/default/clients",
            json!({
                "client_id": "bad client",
                "grant_types": ["authorization_code", "implicit"],
                "redirect_uris": ["http://app.example/cb", "https://app.example/cb#frag"],
                "scopes": ["openid", "no-such-scope"],
            }),
        )
        .await;
    assert_error(&invalid, 422, "validation_failed", Some("client_id"));
    for field in ["grant_types", "redirect_uris", "scopes"] {
        assert!(
            invalid.body["fields"][field].is_string(),
            "{field}: {}",
            invalid.text
        );
    }
    assert_error(
        &api.post(
            "/realms/default/clients",
            json!({"client_id": "spa", "grant_types": ["authorization_code"]}),
        )
        .await,
        422,
        "validation_failed",
        Some("redirect_uris"),
    );
    assert_error(
        &api.post(
            "/realms/default/clients",
            json!({"client_id": "spa", "public": true, "grant_types": ["client_credentials"]}),
        )
        .await,
        422,
        "validation_failed",
        Some("grant_types"),
    );
    assert_error(
        &api.post("/realms/default/clients", json!({"client_id": "spa", "public": true, "grant_types": ["password"], "client_secret": "0123456789abcdef0"})).await,
        422, "validation_failed", Some("client_secret"),
    );
    assert_error(
        &api.post("/realms/default/clients", json!({"client_id": "x"}))
            .await,
        422,
        "validation_failed",
        Some("grant_types"),
    );
    assert_error(
        &api.post(
            "/realms/default/clients",
            json!({"client_id": "reports", "grant_types": ["client_credentials"]}),
        )
        .await,
        409,
        "conflict",
        None,
    );
    assert_error(
        &api.get("/realms/default/clients/spa").await,
        404,
        "not_found",
        None,
    );

    // PATCH changes what it names and nothing else; a secret cannot be set this way.
    let patched = api
        .patch(
            "/realms/default/clients/reports",
            json!({"display_name": "Reports", "access_token_lifetime": 120}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["display_name"], "Reports");
    assert_eq!(patched.body["audiences"], json!(["https://api.example"]));
    let token = server
        .client_token("default", "reports", &new_secret, None)
        .await;
    let (_, claims) = crate::common::jwt_parts(&token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert_error(
        &api.patch(
            "/realms/default/clients/reports",
            json!({"client_secret": "0123456789abcdef0"}),
        )
        .await,
        422,
        "validation_failed",
        Some("client_secret"),
    );
    assert_error(
        &api.patch(
            "/realms/default/clients/reports",
            json!({"grant_types": []}),
        )
        .await,
        422,
        "validation_failed",
        Some("grant_types"),
    );
    assert_error(
        &api.patch("/realms/default/clients/nobody", json!({})).await,
        404,
        "not_found",
        None,
    );

    let listed = api.get("/realms/default/clients").await;
    assert_eq!(names(&listed, "client_id"), ["chosen", "reports"]);

    // Disabled clients stop getting tokens at once; deleted ones disappear.
    api.patch("/realms/default/clients/reports", json!({"enabled": false}))
        .await;
    server
        .post_form(
            "/realms/default/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("reports", &new_secret)),
        )
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        api.delete("/realms/default/clients/reports").await.status,
        204
    );
    assert_error(
        &api.get("/realms/default/clients/reports").await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &api.post("/realms/default/clients/reports/secret", json!({}))
            .await,
        404,
        "not_found",
        None,
    );
}

async fn user_lifecycle(server: TestServer) {
    let api = Api::as_admin(&server).await;
    api.post(
        "/realms/default/clients",
        json!({"client_id": "app", "public": true, "grant_types": ["password", "refresh_token"]}),
    )
    .await;
    let created = api
        .post(
            "/realms/default/users",
            json!({
                "username": "alice",
                "password": "alice-password-1",
                "email": "alice@example.com",
                "claims": {"given_name": "Alice", "department": "sales"},
                "roles": ["editor", "auditor"],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        created.header("location").map(str::to_string),
        Some(format!("/admin/api/realms/default/users/{id}"))
    );
    assert_eq!(created.body["roles"], json!(["auditor", "editor"]));
    assert_eq!(created.body["has_password"], true);
    assert!(!created.text.contains("alice-password-1"));
    assert!(created.body.get("password").is_none());
    let tokens = server
        .password_grant(
            "default",
            ("app", ""),
            "alice",
            "alice-password-1",
            Some("openid offline_access"),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let refresh = tokens.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    assert_error(
        &api.post("/realms/default/users", json!({"username": "alice"}))
            .await,
        409,
        "conflict",
        None,
    );
    let invalid = api
        .post("/realms/default/users", json!({"username": "bob", "password": "short", "email": "nope", "claims": {"sub": "x"}, "roles": ["bad role"]}))
        .await;
    assert_error(&invalid, 422, "validation_failed", Some("password"));
    for field in ["email", "claims", "roles"] {
        assert!(
            invalid.body["fields"][field].is_string(),
            "{field}: {}",
            invalid.text
        );
    }
    assert_error(
        &api.post("/realms/default/users", json!({"claims": []}))
            .await,
        422,
        "validation_failed",
        Some("claims"),
    );
    assert_error(
        &api.get("/realms/default/users/no-such-id").await,
        404,
        "not_found",
        None,
    );
    // Users of one realm are not reachable through another.
    assert_error(
        &api.get(&format!("/realms/master/users/{id}")).await,
        404,
        "not_found",
        None,
    );

    // A new password ends the refresh tokens issued under the old one.
    let changed = api
        .post(
            &format!("/realms/default/users/{id}/password"),
            json!({"password": "alice-password-2"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    server
        .post_form(
            "/realms/default/connect/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "app"),
                ("refresh_token", &refresh),
            ],
            None,
        )
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(
        server
            .password_grant("default", ("app", ""), "alice", "alice-password-2", None)
            .await
            .status,
        200
    );
    assert_error(
        &api.post(
            &format!("/realms/default/users/{id}/password"),
            json!({"password": "x"}),
        )
        .await,
        422,
        "validation_failed",
        Some("password"),
    );

    // Locked out by failed attempts, unlocked by an administrator.
    for _ in 0..3 {
        server
            .password_grant("default", ("app", ""), "alice", "wrong-password", None)
            .await;
    }
    assert_eq!(
        api.get(&format!("/realms/default/users/{id}")).await.body["locked"],
        true
    );
    let unlocked = api
        .post(&format!("/realms/default/users/{id}/unlock"), json!({}))
        .await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.text);
    assert_eq!(unlocked.body["locked"], false);
    assert_eq!(
        server
            .password_grant("default", ("app", ""), "alice", "alice-password-2", None)
            .await
            .status,
        200
    );

    // PATCH: roles and claims are replaced, disabling stops sign-in.
    let patched = api
        .patch(
            &format!("/realms/default/users/{id}"),
            json!({"roles": ["viewer"], "claims": {"given_name": "Al"}, "enabled": false}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["roles"], json!(["viewer"]));
    assert_eq!(patched.body["claims"], json!({"given_name": "Al"}));
    assert_eq!(patched.body["enabled"], false);
    server
        .password_grant("default", ("app", ""), "alice", "alice-password-2", None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let events = api.get("/realms/default/events?type=user.updated").await;
    assert_eq!(
        events.body["items"][0]["detail"]["before"]["roles"],
        json!(["auditor", "editor"])
    );
    assert!(!events.text.contains("password_hash"));
    // A PATCH that only sets the password writes its own event, not `user.updated`.
    let password_only = api
        .patch(
            &format!("/realms/default/users/{id}"),
            json!({"password": "alice-password-3", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!(password_only.status, 200, "{}", password_only.text);
    let count = |kind: &'static str| {
        let api = &api;
        async move {
            let page = api
                .get(&format!("/realms/default/events?type={kind}"))
                .await;
            page.body["items"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(
        count("user.updated").await,
        events.body["items"].as_array().map_or(0, Vec::len)
    );
    assert!(count("user.password_changed").await >= 1);

    // Paging walks the list in username order with opaque cursors; `username` filters by prefix.
    for name in ["bob", "carol", "dave"] {
        assert_eq!(
            api.post("/realms/default/users", json!({"username": name}))
                .await
                .status,
            201
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/realms/default/users?limit=2&cursor={c}"),
            None => "/realms/default/users?limit=2".to_string(),
        };
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(names(&page, "username"));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["alice", "bob", "carol", "dave"]);
    assert_eq!(
        names(
            &api.get("/realms/default/users?username=ca").await,
            "username"
        ),
        ["carol"]
    );

    assert_eq!(
        api.delete(&format!("/realms/default/users/{id}"))
            .await
            .status,
        204
    );
    assert_error(
        &api.get(&format!("/realms/default/users/{id}")).await,
        404,
        "not_found",
        None,
    );
    assert_eq!(server.audit_events("user.deleted").await.len(), 1);
}

async fn catalogue_lifecycle(server: TestServer) {
    let api = Api::as_admin(&server).await;
    let claim = api
        .post(
            "/realms/default/claim-types",
            json!({"name": "department", "description": "Where they work"}),
        )
        .await;
    assert_eq!(claim.status, 201, "{}", claim.text);
    assert_error(
        &api.post("/realms/default/claim-types", json!({"name": "department"}))
            .await,
        409,
        "conflict",
        None,
    );
    assert_error(
        &api.post("/realms/default/claim-types", json!({"name": "bad name"}))
            .await,
        422,
        "validation_failed",
        Some("name"),
    );

    let resource = api
        .post(
            "/realms/default/api-resources",
            json!({"name": "https://orders.example", "secret": "orders introspection secret"}),
        )
        .await;
    assert_eq!(resource.status, 201, "{}", resource.text);
    assert_eq!(resource.body["has_secret"], true);
    assert!(!resource.text.contains("orders introspection secret"));

    let scope = api
        .post("/realms/default/scopes", json!({"name": "orders:read", "claims": ["department"], "audience": "https://orders.example"}))
        .await;
    assert_eq!(scope.status, 201, "{}", scope.text);
    let bad_scope = api
        .post(
            "/realms/default/scopes",
            json!({"name": "x y", "claims": ["nope"], "audience": "https://nowhere"}),
        )
        .await;
    assert_error(&bad_scope, 422, "validation_failed", Some("name"));
    assert!(bad_scope.body["fields"]["claims"].is_string());
    assert!(bad_scope.body["fields"]["audience"].is_string());
    assert_eq!(
        api.patch(
            "/realms/default/api-resources/https:%2F%2Forders.example",
            json!({"scopes": ["orders:read"]})
        )
        .await
        .status,
        200
    );
    // Every catalogue collection lists and reads back what was created.
    for (collection, key, value) in [
        ("claim-types", "name", "department"),
        ("api-resources", "name", "https://orders.example"),
        ("scopes", "name", "orders:read"),
    ] {
        let listed = api
            .get(&format!("/realms/default/{collection}?limit=500"))
            .await;
        assert!(
            names(&listed, key).contains(&value.to_string()),
            "{collection}: {}",
            listed.text
        );
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let one = api
            .get(&format!("/realms/default/{collection}/{encoded}"))
            .await;
        assert_eq!(one.status, 200, "{collection}: {}", one.text);
        assert_eq!(one.body[key], value);
        assert_error(
            &api.get(&format!("/realms/default/{collection}/missing"))
                .await,
            404,
            "not_found",
            None,
        );
    }
    assert_eq!(
        api.get("/realms/default/api-resources/https:%2F%2Forders.example")
            .await
            .body["scopes"],
        json!(["orders:read"])
    );

    // A client granted the scope gets the audience; the resource introspects with its secret.
    let client = api
        .post("/realms/default/clients", json!({"client_id": "shop", "grant_types": ["client_credentials"], "scopes": ["orders:read"]}))
        .await;
    assert_eq!(client.status, 201, "{}", client.text);
    let secret = client.body["client_secret"].as_str().expect("secret");
    let token = server
        .client_token("default", "shop", secret, Some("orders:read"))
        .await;
    let (_, claims) = crate::common::jwt_parts(&token);
    assert!(
        claims["aud"].to_string().contains("https://orders.example"),
        "{claims}"
    );
    let introspection = server
        .post_form(
            "/realms/default/connect/introspect",
            &[("token", &token)],
            Some(("https://orders.example", "orders introspection secret")),
        )
        .await;
    assert_eq!(introspection.body["active"], true, "{}", introspection.text);

    // Items in use cannot be deleted out from under their users.
    assert_error(
        &api.delete("/realms/default/claim-types/department").await,
        409,
        "conflict",
        None,
    );
    assert_error(
        &api.delete("/realms/default/scopes/orders:read").await,
        409,
        "conflict",
        None,
    );
    assert_error(
        &api.delete("/realms/default/api-resources/https:%2F%2Forders.example")
            .await,
        409,
        "conflict",
        None,
    );

    // Exchange policies name existing clients and scopes.
    assert_error(
        &api.post(
            "/realms/default/exchange-policies",
            json!({"client_id": "ghost", "audiences": ["a"]}),
        )
        .await,
        422,
        "validation_failed",
        Some("client_id"),
    );
    assert_error(
        &api.post(
            "/realms/default/exchange-policies",
            json!({"client_id": "shop"}),
        )
        .await,
        422,
        "validation_failed",
        Some("audiences"),
    );
    let policy = api
        .post("/realms/default/exchange-policies", json!({"client_id": "shop", "audiences": ["https://orders.example"], "scopes": ["orders:read"]}))
        .await;
    assert_eq!(policy.status, 201, "{}", policy.text);
    // The policy and the API resource name the scope; the policy names its client.
    let scope_in_use = api.delete("/realms/default/scopes/orders:read").await;
    assert_error(&scope_in_use, 409, "conflict", None);
    let message = scope_in_use.body["message"].as_str().unwrap_or_default();
    for holder in [
        "clients `shop`",
        "API resources `https://orders.example`",
        "exchange policies `shop`",
    ] {
        assert!(message.contains(holder), "{message}");
    }
    let client_in_use = api.delete("/realms/default/clients/shop").await;
    assert_error(&client_in_use, 409, "conflict", None);
    assert!(
        client_in_use.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("exchange policies `shop`")),
        "{}",
        client_in_use.text
    );
    assert_error(
        &api.post(
            "/realms/default/exchange-policies",
            json!({"client_id": "shop", "audiences": ["b"]}),
        )
        .await,
        409,
        "conflict",
        None,
    );
    assert_eq!(
        names(
            &api.get("/realms/default/exchange-policies").await,
            "client_id"
        ),
        ["shop"]
    );
    assert_eq!(
        api.get("/realms/default/exchange-policies/shop").await.body["audiences"],
        json!(["https://orders.example"])
    );
    let patched = api
        .patch(
            "/realms/default/exchange-policies/shop",
            json!({"allow_delegation": true}),
        )
        .await;
    assert_eq!(patched.body["allow_delegation"], true, "{}", patched.text);
    assert_eq!(
        api.delete("/realms/default/exchange-policies/shop")
            .await
            .status,
        204
    );
    assert_error(
        &api.get("/realms/default/exchange-policies/shop").await,
        404,
        "not_found",
        None,
    );

    // Once unused, they go.
    api.patch("/realms/default/clients/shop", json!({"scopes": []}))
        .await;
    api.patch(
        "/realms/default/api-resources/https:%2F%2Forders.example",
        json!({"scopes": []}),
    )
    .await;
    api.patch(
        "/realms/default/scopes/orders:read",
        json!({"claims": [], "audience": null}),
    )
    .await;
    assert_eq!(
        api.delete("/realms/default/scopes/orders:read")
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete("/realms/default/claim-types/department")
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete("/realms/default/api-resources/https:%2F%2Forders.example")
            .await
            .status,
        204
    );
    for kind in [
        "scope.deleted",
        "claim_type.deleted",
        "api_resource.deleted",
        "exchange_policy.created",
    ] {
        assert_eq!(server.audit_events(kind).await.len(), 1, "{kind}");
    }
}

async fn operations(server: TestServer) {
    let api = Api::as_admin(&server).await;
    let keys = api.get("/realms/default/keys").await;
    assert_eq!(keys.status, 200, "{}", keys.text);
    let before: Vec<String> = names(&keys, "kid");
    assert_eq!(
        before.len(),
        2,
        "ES256 and EdDSA; the RSA key is made on first use"
    );
    let rotated = api.post("/realms/default/keys/rotate", json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let items = rotated.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 5, "a rotation makes a key of every algorithm");
    assert_eq!(items.iter().filter(|k| k["active"] == true).count(), 3);
    let jwks = server
        .http
        .get(server.url("/realms/default/.well-known/jwks.json"))
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    let published = server::keys::jwks_kids(&jwks);
    for kid in names(&rotated, "kid") {
        assert!(published.contains(&kid), "{kid} not in the JWKS");
    }
    assert_eq!(server.audit_events("keys.rotated").await.len(), 1);

    // A GLOBAL revocation ends every token issued before it; withdrawing it restores them.
    let client = api
        .post(
            "/realms/default/clients",
            json!({"client_id": "svc", "grant_types": ["client_credentials"]}),
        )
        .await;
    let secret = client.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let token = server.client_token("default", "svc", &secret, None).await;
    let introspect = |token: String| {
        let server = &server;
        let secret = secret.clone();
        async move {
            server
                .post_form(
                    "/realms/default/connect/introspect",
                    &[("token", &token)],
                    Some(("svc", &secret)),
                )
                .await
                .body["active"]
                .clone()
        }
    };
    assert_eq!(introspect(token.clone()).await, true);
    assert_error(
        &api.post(
            "/realms/default/revocations",
            json!({"type": "SOMETIMES", "data": {}}),
        )
        .await,
        422,
        "validation_failed",
        Some("type"),
    );
    assert_error(
        &api.post(
            "/realms/default/revocations",
            json!({"type": "CLAIM", "data": {}}),
        )
        .await,
        422,
        "validation_failed",
        Some("data"),
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let revoked = api
        .post(
            "/realms/default/revocations",
            json!({"type": "GLOBAL", "data": {}}),
        )
        .await;
    assert_eq!(revoked.status, 201, "{}", revoked.text);
    let revocation_id = revoked.body["id"].as_str().expect("id").to_string();
    assert_eq!(introspect(token.clone()).await, false);
    assert_eq!(
        names(&api.get("/realms/default/revocations").await, "id"),
        std::slice::from_ref(&revocation_id)
    );
    assert_eq!(
        api.delete(&format!("/realms/default/revocations/{revocation_id}"))
            .await
            .status,
        204
    );
    assert_eq!(introspect(token).await, true);
    assert_error(
        &api.delete(&format!("/realms/default/revocations/{revocation_id}"))
            .await,
        404,
        "not_found",
        None,
    );

    // Sessions: listed while live, ended once.
    let user = api
        .post(
            "/realms/default/users",
            json!({"username": "sam", "password": "sam-password-1"}),
        )
        .await;
    let user_id = user.body["id"].as_str().expect("id").to_string();
    let realm = server::store::realms::find_by_name(&server.state.caches.store.db, "default")
        .await
        .expect("db")
        .expect("realm");
    let now = server.state.clock.now();
    let session = server::store::sessions::create(
        &server.state.caches.store.db,
        server::store::sessions::NewSession {
            realm_id: &realm.id,
            user_id: &user_id,
            cookie_scope: "realm",
            auth_time: now,
            acr: None,
            amr: &["pwd".to_string()],
            expires_at: now + chrono::Duration::hours(1),
            device: &Default::default(),
            idp: None,
        },
        now,
    )
    .await
    .expect("session");
    let sessions = api.get("/realms/default/sessions").await;
    assert_eq!(names(&sessions, "id"), std::slice::from_ref(&session.id));
    assert_eq!(sessions.body["items"][0]["username"], "sam");
    assert_eq!(
        api.delete(&format!("/realms/default/sessions/{}", session.id))
            .await
            .status,
        204
    );
    assert!(names(&api.get("/realms/default/sessions").await, "id").is_empty());
    assert_error(
        &api.delete(&format!("/realms/default/sessions/{}", session.id))
            .await,
        404,
        "not_found",
        None,
    );

    // The audit trail filters by type (exact or prefix), actor and time, and pages.
    let all = api.get("/realms/default/events?limit=500").await;
    let kinds: Vec<String> = names(&all, "type");
    for kind in [
        "keys.rotated",
        "client.created",
        "revocation.created",
        "revocation.deleted",
        "user.created",
        "session.ended",
    ] {
        assert!(
            kinds.contains(&kind.to_string()),
            "{kind} missing from {kinds:?}"
        );
    }
    assert_eq!(
        names(
            &api.get("/realms/default/events?type=revocation.").await,
            "type"
        ),
        ["revocation.deleted", "revocation.created"]
    );
    assert!(names(
        &api.get("/realms/default/events?actor=admin").await,
        "actor"
    )
    .iter()
    .all(|a| a == "admin"));
    assert!(names(&api.get("/realms/default/events?actor=nobody").await, "id").is_empty());
    let future = (server.state.clock.now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(names(
        &api.get(&format!("/realms/default/events?since={future}"))
            .await,
        "id"
    )
    .is_empty());
    assert_eq!(
        api.get(&format!("/realms/default/events?until={future}"))
            .await
            .body["items"]
            .as_array()
            .map(Vec::len),
        Some(kinds.len().min(50))
    );
    assert_error(
        &api.get("/realms/default/events?since=yesterday").await,
        422,
        "validation_failed",
        Some("since"),
    );
    let first = api.get("/realms/default/events?limit=2").await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_string();
    let second = api
        .get(&format!("/realms/default/events?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        [names(&first, "id"), names(&second, "id")].concat(),
        all.body["items"].as_array().expect("items")[..4]
            .iter()
            .map(|e| e["id"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    );

    let summary = api.get("/realms/default/summary").await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert_eq!(summary.body["clients"], 1);
    assert_eq!(summary.body["users"], 1);
    assert_eq!(summary.body["published_keys"], 5);
}

/// Every documented operation refuses callers without a token (401) and non-administrators (403).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_requires_an_admin() {
    let server = TestServer::start(crate::common::Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let admin = Api::as_admin(&server).await;
    admin
        .post(
            "/realms/master/users",
            json!({"username": "viewer", "password": "viewer-pass-1"}),
        )
        .await;
    let viewer = master_token(&server, "viewer", "viewer-pass-1").await;
    let doc = Api::with_token(&server, None)
        .get("/openapi.json")
        .await
        .body;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{realm}", "default")
            .replace("{client_id}", "some-client")
            .replace("{name}", "some-name")
            .replace("{id}", "some-id");
        let concrete = concrete
            .strip_prefix("/admin/api")
            .expect("under /admin/api");
        for method in item.as_object().expect("operations").keys() {
            let method: reqwest::Method = method.to_uppercase().parse().expect("HTTP method");
            let body = (method != reqwest::Method::GET && method != reqwest::Method::DELETE)
                .then(|| json!({}));
            let anonymous = Api::with_token(&server, None)
                .send(method.clone(), concrete, body.clone())
                .await;
            assert_error(&anonymous, 401, "unauthorized", None);
            let forbidden = Api::with_token(&server, Some(viewer.clone()))
                .send(method.clone(), concrete, body)
                .await;
            assert_error(&forbidden, 403, "forbidden", None);
            operations += 1;
        }
    }
    assert!(operations >= 45, "only {operations} operations documented");
    // Nothing was created or changed by the refused calls.
    assert!(server.audit_events("client.created").await.is_empty());
    assert!(server.audit_events("keys.rotated").await.is_empty());
}

/// Values no item can hold (NUL and other control characters, script URIs, empty entries) get
/// a 4xx naming what is wrong, on both backends: Postgres cannot store or even compare NUL.
async fn hostile_values(server: TestServer) {
    let api = Api::as_admin(&server).await;
    let client = |redirect: &str| {
        json!({"client_id": "hostile", "grant_types": ["authorization_code"],
               "redirect_uris": [redirect]})
    };
    for redirect in [
        "https://app.example/c\u{0}b",
        "https://app.example/c\nb",
        "https://app.example/c b",
        "javascript:alert(1)",
        "data:text/html,hi",
    ] {
        let response = api.post("/realms/default/clients", client(redirect)).await;
        assert_error(&response, 422, "validation_failed", Some("redirect_uris"));
    }
    let long = format!("https://app.example/{}", "a".repeat(100 * 1024));
    let response = api.post("/realms/default/clients", client(&long)).await;
    assert_error(&response, 422, "validation_failed", Some("redirect_uris"));
    let mut with_logout = client("https://app.example/cb");
    with_logout["backchannel_logout_uri"] = json!("https://app.example/logout\u{0}x");
    with_logout["post_logout_redirect_uris"] = json!(["https://app.example/bye\u{0}"]);
    let response = api.post("/realms/default/clients", with_logout).await;
    assert_error(
        &response,
        422,
        "validation_failed",
        Some("backchannel_logout_uri"),
    );
    assert!(response.body["fields"]["post_logout_redirect_uris"].is_string());
    let mut empty_role = client("https://app.example/cb");
    empty_role["roles"] = json!([""]);
    let response = api.post("/realms/default/clients", empty_role).await;
    assert_error(&response, 422, "validation_failed", Some("roles"));
    assert_eq!(
        response.body["fields"]["roles"],
        "entries must not be empty"
    );

    let response = api
        .post(
            "/realms/default/users",
            json!({"username": "hostile", "claims": {"name": "a\u{0}b"}}),
        )
        .await;
    assert_error(&response, 422, "validation_failed", Some("claims"));
    let response = api
        .post(
            "/realms/default/users",
            json!({"username": "hostile", "claims": {"deep": {"list": ["\u{0}"]}}}),
        )
        .await;
    assert_error(&response, 422, "validation_failed", Some("claims"));

    // Keys and filters holding NUL name nothing.
    for path in [
        "/realms/default/clients/a%00b",
        "/realms/default/users/a%00b",
        "/realms/default/scopes/a%00b",
        "/realms/default/api-resources/a%00b",
        "/realms/default/claim-types/a%00b",
        "/realms/default/exchange-policies/a%00b",
    ] {
        assert_error(&api.get(path).await, 404, "not_found", None);
        assert_error(&api.delete(path).await, 404, "not_found", None);
    }
    assert_error(
        &api.delete("/realms/default/revocations/a%00b").await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &api.delete("/realms/default/sessions/a%00b").await,
        404,
        "not_found",
        None,
    );
    for (path, field) in [
        ("/realms/default/users?username=a%00b", "username"),
        ("/realms/default/events?actor=a%00b", "actor"),
        ("/realms/default/events?type=a%00b", "type"),
        ("/realms/default/events?type=a%00.", "type"),
        // base64url of "a\0b": a cursor this server never issued.
        ("/realms/default/clients?cursor=YQBi", "cursor"),
    ] {
        assert_error(&api.get(path).await, 422, "validation_failed", Some(field));
    }

    // Revocations: a claim name with NUL, through the admin API and through Plan B.
    let response = api
        .post(
            "/realms/default/revocations",
            json!({"type": "CLAIM", "data": {"claims": {"s\u{0}ub": "rat"}}}),
        )
        .await;
    assert_error(&response, 422, "validation_failed", Some("data"));
    let response = api
        .post(
            "/realms/default/revocations",
            json!({"type": "CLAIM", "data": {"claims": {"sub": "rat"}, "typo": 1}}),
        )
        .await;
    assert_error(&response, 422, "validation_failed", Some("data"));
    let response = api
        .post("/realms/default/revocations", json!({"type": "SOME"}))
        .await;
    assert_error(&response, 422, "validation_failed", Some("type"));
    let planb = server
        .http
        .post(server.url("/realms/default/revocations"))
        .bearer_auth(api.token.as_deref().expect("token"))
        .json(&json!({"type": "CLAIM", "data": {"claims": {"s\u{0}ub": "rat"}}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(planb.status(), 400);

    // Nothing above was stored.
    let clients = names(&api.get("/realms/default/clients").await, "client_id");
    assert!(!clients.contains(&"hostile".to_string()), "{clients:?}");
    assert!(names(&api.get("/realms/default/users").await, "username").is_empty());
    let revocations = api.get("/realms/default/revocations").await;
    assert_eq!(revocations.body["items"], json!([]), "{}", revocations.text);

    // The console's sign-in takes a NUL username as an unknown one.
    let login = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = login
        .get(server.url("/admin/login"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("the sign-in page");
    let csrf = page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token");
    let refused = login
        .post(server.url("/admin/login"))
        .form(&[
            ("csrf", csrf),
            ("username", "adm\u{0}in"),
            ("password", ADMIN.1),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 401);

    // A GLOBAL revocation needs no `data`: it cuts off at now.
    let global = api
        .post("/realms/default/revocations", json!({"type": "GLOBAL"}))
        .await;
    assert_eq!(global.status, 201, "{}", global.text);
}

/// `?username=` is a prefix taken literally (`_` and `%` are not wildcards), ignoring case, the
/// same on both backends.
async fn username_filter(server: TestServer) {
    let api = Api::as_admin(&server).await;
    for username in ["a_b", "axb", "Alice", "alice", "bob+1", "bobby"] {
        let response = api
            .post("/realms/default/users", json!({"username": username}))
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
    }
    let found = |prefix: &str| {
        let path = format!(
            "/realms/default/users?username={}",
            form_urlencoded::byte_serialize(prefix.as_bytes()).collect::<String>()
        );
        let api = &api;
        async move {
            let mut names = names(&api.get(&path).await, "username");
            names.sort();
            names
        }
    };
    assert_eq!(found("a_").await, ["a_b"]);
    assert_eq!(found("_").await, Vec::<String>::new());
    assert_eq!(found("%").await, Vec::<String>::new());
    assert_eq!(found("bob%").await, Vec::<String>::new());
    assert_eq!(found("bob+").await, ["bob+1"]);
    assert_eq!(found("ALI").await, ["Alice", "alice"]);
    assert_eq!(found("b").await, ["bob+1", "bobby"]);
}

/// Realm `master` keeps at least one enabled administrator: the last one cannot lose the role,
/// be disabled or be deleted (409), and nobody demotes or disables themselves.
async fn last_administrator(server: TestServer) {
    let api = Api::as_admin(&server).await;
    let users = api.get("/realms/master/users?username=admin").await;
    let admin_id = users.body["items"][0]["id"]
        .as_str()
        .expect("the bootstrap admin")
        .to_string();
    let admin_path = format!("/realms/master/users/{admin_id}");
    for change in [json!({"roles": []}), json!({"enabled": false})] {
        let response = api.patch(&admin_path, change).await;
        assert_error(&response, 409, "conflict", None);
    }
    assert_eq!(api.get(&admin_path).await.body["roles"], json!(["admin"]));

    // A service client with the role deletes the last human administrator: refused too.
    let service = api
        .post(
            "/realms/master/clients",
            json!({"client_id": "robot", "grant_types": ["client_credentials"], "roles": ["admin"]}),
        )
        .await;
    assert_eq!(service.status, 201, "{}", service.text);
    let secret = service.body["client_secret"].as_str().expect("a secret");
    let robot = server.client_token("master", "robot", secret, None).await;
    let robot = Api::with_token(&server, Some(robot));
    assert_error(&robot.delete(&admin_path).await, 409, "conflict", None);

    // Nobody demotes or disables themselves, even with another administrator around.
    let second = api
        .post(
            "/realms/master/users",
            json!({"username": "second", "password": "second-password-1", "roles": ["admin"]}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    for change in [json!({"roles": ["viewer"]}), json!({"enabled": false})] {
        let response = api.patch(&admin_path, change).await;
        assert_error(&response, 409, "conflict", None);
    }
    // The second administrator may demote the first.
    let second_api = Api::with_token(
        &server,
        Some(master_token(&server, "second", "second-password-1").await),
    );
    let demoted = second_api.patch(&admin_path, json!({"roles": []})).await;
    assert_eq!(demoted.status, 200, "{}", demoted.text);
    assert_eq!(demoted.body["roles"], json!([]));
    // Now `second` is the last one (and the demoted admin's token no longer works).
    assert_error(&api.get("/realms").await, 403, "forbidden", None);
    let second_path = format!(
        "/realms/master/users/{}",
        second.body["id"].as_str().expect("id")
    );
    assert_error(
        &robot.patch(&second_path, json!({"enabled": false})).await,
        409,
        "conflict",
        None,
    );
    // Other realms have no such rule.
    let plain = robot
        .post(
            "/realms/default/users",
            json!({"username": "x", "roles": ["admin"]}),
        )
        .await;
    let plain_path = format!(
        "/realms/default/users/{}",
        plain.body["id"].as_str().expect("id")
    );
    assert_eq!(
        robot.patch(&plain_path, json!({"roles": []})).await.status,
        200
    );
}

/// Path keys arrive by name, percent-decoded; one that is not UTF-8 once decoded is a 400 in
/// the API's format, on every collection, before any lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_keys_are_named_decoded_and_utf8() {
    let server = TestServer::start(crate::common::Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let api = Api::as_admin(&server).await;
    for path in [
        "/realms/%FF",
        "/realms/default/clients/%FF",
        "/realms/default/users/%C3%28/unlock",
        "/realms/default/scopes/%FF",
        "/realms/default/exchange-policies/%FF",
    ] {
        let response = api.get(path).await;
        if path.ends_with("/unlock") {
            // Only POST is routed there; the method is refused before the path is read.
            assert_eq!(response.status, 405, "{path}: {:?}", response.body);
            let response = api.post(path, json!({})).await;
            assert_error(&response, 400, "bad_request", None);
            continue;
        }
        assert_error(&response, 400, "bad_request", None);
    }
    // Decoded keys name the item: `%20` is a space, and no scope holds one.
    let response = api.get("/realms/default/scopes/no%20such").await;
    assert_error(&response, 404, "not_found", None);
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("scope `no such`")),
        "{:?}",
        response.body
    );
    let response = api.get("/realms/default/clients/no%2Dsuch").await;
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("client `no-such`")),
        "{:?}",
        response.body
    );
}

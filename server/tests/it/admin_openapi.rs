//! The admin API's OpenAPI document, checked two ways: against the official OpenAPI 3.1
//! schema (vendored in `fixtures/`, the text published by the OpenAPI Initiative), and against
//! the server itself: bodies and parameters the server refuses with 422 are refused by the
//! document's schemas too, and bodies it accepts are valid there.

use serde_json::{json, Value};

use crate::common::{Response, TestServer};
use crate::on_both_backends;

/// <https://spec.openapis.org/oas/3.1/schema/2022-10-07>, as published.
const OAS_31_SCHEMA: &str = include_str!("fixtures/openapi-3.1-schema.json");

async fn document(server: &TestServer) -> Value {
    let response = server
        .http
        .get(server.url("/admin/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn admin_token(server: &TestServer) -> String {
    let response = server
        .password_grant(
            "master",
            ("admin-cli", ""),
            "admin",
            "admin-password-1",
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["access_token"].as_str().unwrap().to_string()
}

async fn send(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Response {
    let mut request = server
        .http
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    Response::from(request.send().await.unwrap()).await
}

/// A validator for `schema` (a schema object of `doc`), its `$ref`s resolved in `doc`.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.as_object().cloned().unwrap_or_default();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::new(&Value::Object(root)).expect("the schema compiles")
}

/// The request body schema of an operation.
fn body_schema<'d>(doc: &'d Value, method: &str, path: &str) -> &'d Value {
    let schema =
        &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} documents its body");
    schema
}

/// The schema of a query parameter of an operation.
fn parameter_schema<'d>(doc: &'d Value, method: &str, path: &str, name: &str) -> &'d Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path} has parameters"))
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{method} {path} documents `{name}`"))
}

async fn document_is_valid_openapi_3_1(server: TestServer) {
    let doc = document(&server).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "utoipa emits OpenAPI 3.1: {}",
        doc["openapi"]
    );
    let oas: Value = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    let oas = jsonschema::draft202012::new(&oas).expect("the OAS schema compiles");
    let errors: Vec<String> = oas
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // Every schema of the document compiles as JSON Schema 2020-12 (patterns included).
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let _ = validator(&doc, schema);
        let _ = name;
    }
    // The grant type enum is the server's list.
    let grants: Vec<&str> = doc["components"]["schemas"]["GrantTypeName"]["enum"]
        .as_array()
        .expect("an enum of grant types")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(grants, server::domain::grant_type::ALL);
}

/// What the server refuses with 422, the document refuses too; what it accepts, the document
/// accepts.
async fn document_refuses_what_the_server_refuses(server: TestServer) {
    use reqwest::Method;
    let doc = document(&server).await;
    let token = admin_token(&server).await;
    let realms = "/admin/api/realms";
    let realm = "/admin/api/realms/{realm}";
    let clients = "/admin/api/realms/{realm}/clients";
    let users = "/admin/api/realms/{realm}/users";
    let password = "/admin/api/realms/{realm}/users/{id}/password";
    let scopes = "/admin/api/realms/{realm}/scopes";
    let resources = "/admin/api/realms/{realm}/api-resources";
    let claim_types = "/admin/api/realms/{realm}/claim-types";
    let policies = "/admin/api/realms/{realm}/exchange-policies";
    let revocations = "/admin/api/realms/{realm}/revocations";

    // Accepted by both (and setting up what the refusals below address).
    let valid: Vec<(Method, &str, Value)> = vec![
        (
            Method::POST,
            realms,
            json!({"name": "shop", "signing_alg": "EdDSA", "cookie_mode": "client",
                   "access_token_lifetime": 600, "display_name": "Shop"}),
        ),
        (
            Method::PATCH,
            realm,
            json!({"display_name": null, "id_token_signing_alg": "ES256",
                   "refresh_token_lifetime": null, "code_lifetime": 60.0}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "svc", "grant_types": ["client_credentials"],
                   "client_secret": "a-secret-of-16-chars", "access_token_signing_alg": null,
                   "roles": ["reader"], "audiences": ["https://api.example"]}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "web", "grant_types": ["authorization_code"], "public": true,
                   "redirect_uris": ["http://127.0.0.1/cb", "com.example.app:/cb"],
                   "backchannel_logout_uri": "https://web.example/logout"}),
        ),
        (
            Method::POST,
            users,
            json!({"username": "bob", "password": "long-enough", "email": "bob@example.com",
                   "claims": {"nickname": "Bobby"}, "roles": ["reader"]}),
        ),
        (
            Method::POST,
            claim_types,
            json!({"name": "shoe_size", "description": "What fits"}),
        ),
        (
            Method::POST,
            scopes,
            json!({"name": "orders.read", "claims": ["shoe_size"]}),
        ),
        (
            Method::POST,
            resources,
            json!({"name": "https://orders.example", "scopes": ["orders.read"],
                   "secret": "introspection-secret"}),
        ),
        (
            Method::POST,
            policies,
            json!({"client_id": "svc", "audiences": ["https://orders.example"]}),
        ),
        (
            Method::POST,
            revocations,
            json!({"type": "GLOBAL", "data": {}}),
        ),
        // Empty strings that mean "none".
        (
            Method::POST,
            clients,
            json!({"client_id": "svc2", "grant_types": ["client_credentials"],
                   "backchannel_logout_uri": ""}),
        ),
        (Method::POST, users, json!({"username": "dan", "email": ""})),
        (
            Method::POST,
            scopes,
            json!({"name": "orders.write", "audience": ""}),
        ),
    ];
    for (method, template, body) in &valid {
        let schema = body_schema(&doc, &method.as_str().to_lowercase(), template);
        let check = validator(&doc, schema);
        let errors: Vec<String> = check.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{method} {template} {body}: {errors:?}");
        let path = template.replace("{realm}", "shop");
        let response = send(&server, &token, method.clone(), &path, Some(body)).await;
        assert!(
            response.status == 200 || response.status == 201,
            "{method} {path} {body}: {} {}",
            response.status,
            response.text
        );
    }
    let listed = send(
        &server,
        &token,
        Method::GET,
        "/admin/api/realms/shop/users",
        None,
    )
    .await;
    let bob = listed.body["items"][0]["id"].as_str().unwrap().to_string();

    let refused: Vec<(Method, &str, Value)> = vec![
        // enums
        (
            Method::POST,
            realms,
            json!({"name": "r1", "signing_alg": "HS256"}),
        ),
        (
            Method::POST,
            realms,
            json!({"name": "r1", "cookie_mode": "global"}),
        ),
        (
            Method::PATCH,
            realm,
            json!({"id_token_signing_alg": "PS256"}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["implicit"]}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["client_credentials"],
                   "access_token_signing_alg": "none"}),
        ),
        (
            Method::POST,
            revocations,
            json!({"type": "EVERYTHING", "data": {}}),
        ),
        // required members
        (Method::POST, realms, json!({"display_name": "No name"})),
        (
            Method::POST,
            clients,
            json!({"grant_types": ["client_credentials"]}),
        ),
        (Method::POST, clients, json!({"client_id": "c1"})),
        (Method::POST, users, json!({"password": "long-enough"})),
        (Method::POST, realms, json!({"name": null})),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": null}),
        ),
        (Method::POST, scopes, json!({"description": "nameless"})),
        (Method::POST, resources, json!({"display_name": "nameless"})),
        (
            Method::POST,
            claim_types,
            json!({"description": "nameless"}),
        ),
        (Method::POST, policies, json!({"client_id": "svc"})),
        (Method::POST, password, json!({})),
        // lengths
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["client_credentials"],
                   "client_secret": "short"}),
        ),
        (
            Method::POST,
            users,
            json!({"username": "carol", "password": "short"}),
        ),
        (Method::POST, password, json!({"password": "short"})),
        (
            Method::POST,
            resources,
            json!({"name": "api-2", "secret": "too-short"}),
        ),
        (
            Method::PATCH,
            realm,
            json!({"display_name": "x".repeat(201)}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": []}),
        ),
        // integer, not number; bounds
        (
            Method::POST,
            realms,
            json!({"name": "r1", "access_token_lifetime": 3600.5}),
        ),
        (
            Method::POST,
            realms,
            json!({"name": "r1", "access_token_lifetime": "3600"}),
        ),
        (Method::PATCH, realm, json!({"code_lifetime": 0})),
        // patterns
        (Method::POST, realms, json!({"name": "Bad Name!"})),
        (Method::POST, realms, json!({"name": "-leading"})),
        (
            Method::POST,
            clients,
            json!({"client_id": "web app", "grant_types": ["client_credentials"]}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["authorization_code"],
                   "redirect_uris": ["https://app.example/cb#fragment"]}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["authorization_code"],
                   "redirect_uris": ["https://*.example/cb"]}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["client_credentials"],
                   "roles": ["a role"]}),
        ),
        (
            Method::POST,
            clients,
            json!({"client_id": "c1", "grant_types": ["client_credentials"],
                   "backchannel_logout_uri": "ftp://example.com/logout"}),
        ),
        (
            Method::POST,
            users,
            json!({"username": "carol", "email": "not-an-email"}),
        ),
        (
            Method::POST,
            users,
            json!({"username": "carol", "roles": ["r", "r"]}),
        ),
        (
            Method::POST,
            users,
            json!({"username": "carol", "claims": {"sub": "someone-else"}}),
        ),
        (
            Method::POST,
            users,
            json!({"username": "carol", "claims": {"bad name": 1}}),
        ),
        (Method::POST, scopes, json!({"name": "has space"})),
        (Method::POST, resources, json!({"name": "has space"})),
        (Method::PATCH, realm, json!({"display_name": "bell\u{7}"})),
        // unknown members
        (
            Method::POST,
            realms,
            json!({"name": "r1", "colour": "blue"}),
        ),
    ];
    for (method, template, body) in &refused {
        let path = template.replace("{realm}", "shop").replace("{id}", &bob);
        let response = send(&server, &token, method.clone(), &path, Some(body)).await;
        assert_eq!(
            response.status, 422,
            "{method} {path} {body}: {}",
            response.text
        );
        let schema = body_schema(&doc, &method.as_str().to_lowercase(), template);
        assert!(
            !validator(&doc, schema).is_valid(body),
            "the document calls valid what the server refuses: {method} {template} {body}"
        );
    }

    // Query parameters: a cursor this server could not have issued, a page size out of range.
    for (name, value, raw) in [
        (
            "cursor",
            json!("not a cursor!"),
            "cursor=not%20a%20cursor%21",
        ),
        ("cursor", json!("A"), "cursor=A"),
        ("cursor", json!("AB"), "cursor=AB"),
        ("limit", json!(0), "limit=0"),
        ("limit", json!(501), "limit=501"),
    ] {
        let response = send(
            &server,
            &token,
            Method::GET,
            &format!("/admin/api/realms/shop/clients?{raw}"),
            None,
        )
        .await;
        assert_eq!(response.status, 422, "{raw}: {}", response.text);
        let schema = parameter_schema(&doc, "get", clients, name);
        assert!(
            !validator(&doc, schema).is_valid(&value),
            "the document calls valid what the server refuses: {raw}"
        );
    }
    // And a cursor the server issued is valid in both.
    let first = send(
        &server,
        &token,
        Method::GET,
        "/admin/api/realms/shop/clients?limit=1",
        None,
    )
    .await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let schema = parameter_schema(&doc, "get", clients, "cursor");
    assert!(validator(&doc, schema).is_valid(&json!(cursor)), "{cursor}");
    let next = send(
        &server,
        &token,
        Method::GET,
        &format!("/admin/api/realms/shop/clients?limit=1&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(next.status, 200, "{}", next.text);
}

on_both_backends! {
    openapi_is_valid => document_is_valid_openapi_3_1,
    openapi_refuses_what_the_server_refuses => document_refuses_what_the_server_refuses,
}

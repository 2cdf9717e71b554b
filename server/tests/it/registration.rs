//! Clients that register themselves (CONTRACT §11): RFC 8414 path-insertion metadata, RFC 7591
//! registration under the realm's policy (`off`, `initial_token`, `open`), and RFC 7592
//! management with the registration access token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};

use super::signed_requests::KEYS_SEED;
use crate::common::{Response, TestServer};
use crate::on_both_backends;

const REGISTER: &str = "/realms/keys/connect/register";

async fn register(server: &TestServer, token: Option<&str>, body: Value) -> Response {
    let mut request = server.http.post(server.url(REGISTER)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Response::from(request.send().await.unwrap()).await
}

async fn set_policy(server: &TestServer, policy: &str) {
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"registration": policy})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
}

async fn client_count(server: &TestServer) -> usize {
    let listed = server
        .admin(Method::GET, "/realms/keys/clients?limit=500", None)
        .await;
    listed.body["items"].as_array().unwrap().len()
}

async fn metadata_where_clients_look(server: TestServer) {
    server.seed(KEYS_SEED).await;
    for path in [
        "/.well-known/oauth-authorization-server/realms/keys",
        "/.well-known/openid-configuration/realms/keys",
        "/realms/keys/.well-known/oauth-authorization-server",
    ] {
        let document: Value = server
            .http
            .get(server.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(document["issuer"], server.issuer("keys"), "{path}");
        assert_eq!(
            document["code_challenge_methods_supported"],
            json!(["S256"])
        );
        assert!(
            document.get("registration_endpoint").is_none(),
            "off: not advertised"
        );
    }
    let unknown = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server/realms/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    register(
        &server,
        None,
        json!({"redirect_uris": ["https://app.example/cb"]}),
    )
    .await
    .assert_oauth_error(403, "access_denied");
    set_policy(&server, "open").await;
    let document: Value = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server/realms/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["registration_endpoint"], server.url(REGISTER));
}

async fn open_registration_and_management(server: TestServer) {
    server.seed(KEYS_SEED).await;
    set_policy(&server, "open").await;
    let before = client_count(&server).await;
    let refusals = [
        (
            json!({"redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["myapp:/cb"]}),
            "invalid_redirect_uri",
        ),
        (json!({}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "scope": "openid orders.read"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "logo_uri": "javascript:alert(1)"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "https://app.example/cb"}),
            "invalid_client_metadata",
        ),
        (json!(["not", "an", "object"]), "invalid_client_metadata"),
    ];
    for (body, code) in refusals {
        register(&server, None, body.clone())
            .await
            .assert_oauth_error(400, code);
    }
    assert_eq!(client_count(&server).await, before, "nothing stored");

    let created = register(
        &server,
        None,
        json!({
            "redirect_uris": ["http://127.0.0.1/callback", "com.example.app:/cb"],
            "client_name": "Agent Smith",
            "logo_uri": "https://agent.example/logo.png",
            "unknown_member": "ignored",
        }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let body = &created.body;
    let client_id = body["client_id"].as_str().unwrap().to_string();
    let token = body["registration_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
    assert_eq!(body["response_types"], json!(["code"]));
    assert_eq!(body["scope"], "openid profile email offline_access");
    assert!(body.get("client_secret").is_none(), "a public client");
    let uri = body["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(uri, server.url(&format!("{REGISTER}/{client_id}")));
    let view = server
        .admin(
            Method::GET,
            &format!("/realms/keys/clients/{client_id}"),
            None,
        )
        .await;
    assert_eq!(view.body["registered_via"], "open");
    assert_eq!(view.body["require_consent"], true, "its users decide");
    assert_eq!(view.body["public"], true);
    assert_eq!(server.audit_events("client.registered").await.len(), 1);

    // It can start a login.
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", "http://127.0.0.1:45123/callback")
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256")
        .finish();
    let login = server
        .http
        .get(server.url(&format!("/realms/keys/connect/authorize?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "on to the login page");

    // RFC 7592: read with the registration access token only.
    let read = |token: String| {
        let (server, uri) = (&server, uri.clone());
        async move {
            Response::from(
                server
                    .http
                    .get(&uri)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let got = read(token.clone()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["client_name"], "Agent Smith");
    assert!(got.body.get("registration_access_token").is_none());
    let wrong = read("not-the-token".into()).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("www-authenticate").is_some());

    // Update: the whole metadata again, naming the client; a new token replaces the old.
    let put = |token: String, body: Value| {
        let (server, uri) = (&server, uri.clone());
        async move {
            Response::from(
                server
                    .http
                    .put(&uri)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    put(
        token.clone(),
        json!({"redirect_uris": ["https://agent.example/cb"]}),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    put(
        token.clone(),
        json!({"client_id": client_id, "redirect_uris": ["https://agent.example/cb"], "scope": "openid orders.read"}),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    let updated = put(
        token.clone(),
        json!({"client_id": client_id, "redirect_uris": ["https://agent.example/cb"], "client_name": "Agent Smith 2"}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(
        updated.body["redirect_uris"],
        json!(["https://agent.example/cb"])
    );
    let new_token = updated.body["registration_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_token, token);
    assert_eq!(read(token).await.status, 401, "the old token is gone");
    assert_eq!(read(new_token.clone()).await.status, 200);

    // Delete.
    let deleted = server
        .http
        .delete(&uri)
        .bearer_auth(&new_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(read(new_token).await.status, 401);
    assert_eq!(client_count(&server).await, before);

    // Open registration is rate limited per address.
    let mut limited = None;
    for attempt in 0..25 {
        let answer = register(
            &server,
            None,
            json!({"redirect_uris": ["https://app.example/cb"]}),
        )
        .await;
        if answer.status == 429 {
            limited = Some((attempt, answer));
            break;
        }
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    let (attempt, answer) = limited.expect("rate limited before 25 registrations");
    assert!(attempt <= 20, "{attempt}");
    assert!(answer.header("retry-after").is_some());
}

async fn initial_access_tokens(server: TestServer) {
    server.seed(KEYS_SEED).await;
    set_policy(&server, "initial_token").await;
    let metadata = json!({
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "orders.read",
        "client_name": "Billing robot",
    });
    register(&server, None, metadata.clone())
        .await
        .assert_oauth_error(401, "invalid_token");
    register(&server, Some("made-up"), metadata.clone())
        .await
        .assert_oauth_error(401, "invalid_token");
    let refused = server
        .admin(
            Method::POST,
            "/realms/keys/initial-access-tokens",
            Some(json!({"count": 0})),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    let made = server
        .admin(
            Method::POST,
            "/realms/keys/initial-access-tokens",
            Some(json!({"count": 1, "expires_in": 600, "description": "billing team"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let token = made.body["token"].as_str().unwrap().to_string();
    let id = made.body["id"].as_str().unwrap().to_string();

    // Racing registrations with a token good for one: one wins.
    let server = Arc::new(server);
    let wins = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (server, token, metadata, wins) = (
            server.clone(),
            token.clone(),
            metadata.clone(),
            wins.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let answer = register(&server, Some(&token), metadata).await;
            match answer.status {
                201 => {
                    wins.fetch_add(1, Ordering::SeqCst);
                    Some(answer.body)
                }
                401 => None,
                other => panic!("unexpected {other}: {}", answer.text),
            }
        }));
    }
    let mut registered = Vec::new();
    for task in tasks {
        registered.extend(task.await.unwrap());
    }
    assert_eq!(wins.load(Ordering::SeqCst), 1);
    let body = &registered[0];
    let client_id = body["client_id"].as_str().unwrap();
    let secret = body["client_secret"].as_str().unwrap();
    assert_eq!(body["client_secret_expires_at"], 0);
    // The confidential client it made works.
    let token = server
        .client_token("keys", client_id, secret, Some("orders.read"))
        .await;
    assert!(!token.is_empty());
    let view = server
        .admin(
            Method::GET,
            &format!("/realms/keys/clients/{client_id}"),
            None,
        )
        .await;
    assert_eq!(view.body["registered_via"], format!("initial_token:{id}"));
    let listed = server
        .admin(Method::GET, "/realms/keys/initial-access-tokens", None)
        .await;
    assert_eq!(listed.body[0]["remaining_uses"], 0);
    assert!(listed.body[0].get("token").is_none(), "shown once only");
    let deleted = server
        .admin(
            Method::DELETE,
            &format!("/realms/keys/initial-access-tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
}

/// A realm widens what openly registered clients may ask for (an API for agents lists its
/// scopes); administrators can name only the realm's scopes there.
async fn realm_chooses_self_service_scopes(server: TestServer) {
    server.seed(KEYS_SEED).await;
    set_policy(&server, "open").await;
    let view = server.admin(Method::GET, "/realms/keys", None).await;
    assert_eq!(
        view.body["self_service_scopes"],
        json!(["openid", "profile", "email", "offline_access"]),
        "the default"
    );
    let asking =
        json!({"redirect_uris": ["https://agent.example/cb"], "scope": "openid orders.read"});
    register(&server, None, asking.clone())
        .await
        .assert_oauth_error(400, "invalid_client_metadata");

    let unknown = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"self_service_scopes": ["openid", "no.such.scope"]})),
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert!(
        unknown.body["fields"]["self_service_scopes"].is_string(),
        "{}",
        unknown.text
    );
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"self_service_scopes": ["openid", "orders.read"]})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(
        patched.body["self_service_scopes"],
        json!(["openid", "orders.read"])
    );

    let created = register(&server, None, asking).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["scope"], "openid orders.read");
    // Still not another API's scope, nor one the list dropped.
    for scope in ["openid invoices.read", "openid email"] {
        register(
            &server,
            None,
            json!({"redirect_uris": ["https://agent.example/cb"], "scope": scope}),
        )
        .await
        .assert_oauth_error(400, "invalid_client_metadata");
    }
    // Without a scope, a client gets what self-registered clients may have.
    let plain = register(
        &server,
        None,
        json!({"redirect_uris": ["https://agent.example/cb"]}),
    )
    .await;
    assert_eq!(plain.body["scope"], "openid orders.read");
}

on_both_backends! {
    well_known => metadata_where_clients_look,
    self_service_scopes => realm_chooses_self_service_scopes,
    open_registration => open_registration_and_management,
    initial_tokens => initial_access_tokens,
}

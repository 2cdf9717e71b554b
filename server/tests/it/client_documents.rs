//! Client ID metadata documents: a client known only by the URL of its JSON metadata, served
//! here by a test server on loopback (the realm allows private fetches in this test only), with
//! the documents that must be refused: another client_id, too large, a redirect, too slow.

use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as AxumResponse};
use reqwest::Method;
use serde_json::{json, Value};

use super::browser::Browser;
use super::signed_requests::query_of;
use super::signed_requests::{pkce, KEYS_SEED};
use crate::common::{Response, TestServer};
use crate::on_both_backends;

/// Serves metadata documents on loopback; returns its base URL.
async fn document_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let own = base.clone();
    let app = axum::Router::new().route(
        "/{name}",
        axum::routing::get(move |axum::extract::Path(name): axum::extract::Path<String>| {
            let base = own.clone();
            async move {
                let url = format!("{base}/{name}");
                let json = |body: Value| -> AxumResponse {
                    (
                        [
                            (header::CONTENT_TYPE, "application/json"),
                            (header::CACHE_CONTROL, "max-age=300"),
                        ],
                        body.to_string(),
                    )
                        .into_response()
                };
                match name.as_str() {
                    "agent.json" => json(json!({
                        "client_id": url,
                        "client_name": "Research Agent",
                        "redirect_uris": ["http://127.0.0.1/callback"],
                        "grant_types": ["authorization_code", "refresh_token"],
                    })),
                    "impostor.json" => json(json!({
                        "client_id": format!("{base}/agent.json"),
                        "redirect_uris": ["http://127.0.0.1/callback"],
                    })),
                    "huge.json" => json(json!({
                        "client_id": url,
                        "redirect_uris": ["http://127.0.0.1/callback"],
                        "padding": "x".repeat(8 * 1024),
                    })),
                    "moved.json" => (
                        StatusCode::FOUND,
                        [(header::LOCATION, format!("{base}/agent.json"))],
                    )
                        .into_response(),
                    "slow.json" => {
                        tokio::time::sleep(Duration::from_secs(8)).await;
                        json(json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/callback"]}))
                    }
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn authorize_url(server: &TestServer, client_id: &str, challenge: &str) -> String {
    let query = query_of(&[
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", "http://127.0.0.1:41234/callback"),
        ("scope", "openid email offline_access"),
        ("state", "doc-state"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]);
    server.url(&format!("/realms/keys/connect/authorize?{query}"))
}

async fn a_client_known_by_its_document(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let base = document_server().await;
    let agent = format!("{base}/agent.json");
    let (verifier, challenge) = pkce();

    // Off by default: the URL is an unknown client.
    let page = Browser::new()
        .get(&authorize_url(&server, &agent, &challenge))
        .await;
    assert_eq!(page.status, reqwest::StatusCode::BAD_REQUEST);
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"client_id_metadata_documents": true, "allow_private_fetch": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let discovery: Value = server
        .http
        .get(server.url("/realms/keys/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["client_id_metadata_document_supported"], true);

    // The full flow: login, a consent page naming the client and its host, code, tokens.
    let browser = Browser::new();
    let consent = browser
        .authorize_and_sign_in(
            &server.base,
            &authorize_url(&server, &agent, &challenge),
            "erin",
            "erin-password",
        )
        .await;
    assert_eq!(consent.status, reqwest::StatusCode::OK, "{}", consent.body);
    assert!(
        consent.body.contains("Research Agent (127.0.0.1)"),
        "{}",
        consent.body
    );
    let action = format!("{}{}", server.base, consent.form_action().unwrap());
    let allowed = browser
        .post(
            &action,
            &[
                ("csrf", &consent.input("csrf").unwrap()),
                ("interaction", &consent.input("interaction").unwrap()),
                ("decision", "allow"),
            ],
        )
        .await;
    let allowed = browser.follow(&server.base, allowed).await;
    let code = allowed
        .location_param("code")
        .unwrap_or_else(|| panic!("a code: {:?} {}", allowed.location, allowed.body));
    let tokens = server
        .post_form(
            "/realms/keys/connect/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &agent),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:41234/callback"),
                ("code_verifier", &verifier),
            ],
            None,
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let (_, claims) = crate::common::jwt_parts(tokens.body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], agent);
    // Nothing was stored as a client.
    let listed = server
        .admin(Method::GET, "/realms/keys/clients?limit=500", None)
        .await;
    assert!(!listed.text.contains("agent.json"));

    // Documents that must be refused, each before any login starts.
    for name in [
        "impostor.json",
        "huge.json",
        "moved.json",
        "slow.json",
        "missing.json",
    ] {
        let started = std::time::Instant::now();
        let page = Browser::new()
            .get(&authorize_url(
                &server,
                &format!("{base}/{name}"),
                &challenge,
            ))
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::BAD_REQUEST,
            "{name}: {}",
            page.body
        );
        assert!(
            page.body.contains("invalid_client"),
            "{name}: {}",
            page.body
        );
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{name}: time-limited"
        );
    }
    // A redirect URI the document does not list is refused too.
    let query = query_of(&[
        ("client_id", &agent),
        ("response_type", "code"),
        ("redirect_uri", "https://evil.example/callback"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let page = Browser::new()
        .get(&server.url(&format!("/realms/keys/connect/authorize?{query}")))
        .await;
    assert_eq!(page.status, reqwest::StatusCode::BAD_REQUEST);
    // At the token endpoint a bad document is invalid_client.
    let refused: Response = server
        .post_form(
            "/realms/keys/connect/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &format!("{base}/impostor.json")),
                ("code", "x"),
                ("redirect_uri", "http://127.0.0.1/callback"),
            ],
            None,
        )
        .await;
    refused.assert_oauth_error(401, "invalid_client");
}

on_both_backends! {
    documents => a_client_known_by_its_document,
}

//! panva's node `openid-client` (an outside relying party that speaks PAR, JAR, DPoP and
//! `private_key_jwt`) against Tessera: full code flows and client credentials, driven through
//! the fixture in `server/tests/rp/` (installed by `scripts/openid-client-rp`).

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::{json, Value};

use super::browser::Browser;
use super::signed_requests::{create_client, CALLBACK, KEYS_SEED};
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

/// `scripts/openid-client-rp` once per test run: installs the locked packages, prints the
/// fixture's path.
pub fn rp_script() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/openid-client-rp");
        let output = Command::new(&script)
            .stderr(Stdio::inherit())
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

/// Runs one command of the fixture with `input` on stdin; its JSON answer, or a panic with
/// the fixture's error.
async fn rp(command: &str, input: Value) -> Value {
    let command = command.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new("node")
            .arg(rp_script())
            .arg(&command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "openid-client {command} said {}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        assert!(
            output.status.success(),
            "openid-client {command} failed: {answer:#}"
        );
        answer
    })
    .await
    .unwrap()
}

async fn full_flow_with_par_jar_dpop_and_private_key_jwt(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let keys = rp("keygen", json!({"alg": "ES256"})).await;
    create_client(
        &server,
        json!({
            "client_id": "node-rp",
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "redirect_uris": [CALLBACK],
            "scopes": ["openid", "profile", "email", "offline_access", "orders.read"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [keys["public_jwk"]]},
            "require_par": true,
            "require_signed_request_object": true,
            "dpop_bound_access_tokens": true,
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("flow.json");
    let begun = rp(
        "begin",
        json!({
            "issuer": server.issuer("keys"),
            "client_id": "node-rp",
            "private_jwk": keys["private_jwk"],
            "redirect_uri": CALLBACK,
            "scope": "openid email offline_access orders.read",
            "resource": ["https://orders.example"],
            "par": true,
            "jar": true,
            "dpop": true,
            "state_file": state_file,
        }),
    )
    .await;
    let url = begun["authorization_url"].as_str().unwrap();
    assert!(url.contains("request_uri="), "{url}");
    let page = Browser::new()
        .authorize_and_sign_in(&server.base, url, "erin", "erin-password")
        .await;
    let callback = page
        .location
        .clone()
        .unwrap_or_else(|| panic!("a redirect to the client: {}", page.body));
    let finished = rp(
        "finish",
        json!({"state_file": state_file, "callback_url": callback}),
    )
    .await;
    assert!(
        finished["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop")),
        "{finished:#}"
    );
    let (_, claims) = jwt_parts(finished["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], finished["dpop_jkt"]);
    assert_eq!(claims["aud"], "https://orders.example");
    assert_eq!(finished["id_token_claims"]["email"], "erin@example.com");
    assert_eq!(finished["userinfo"]["email"], "erin@example.com");
    assert!(
        finished["refresh"]["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop")),
        "{finished:#}"
    );

    // Client credentials with private_key_jwt and DPoP.
    let service = rp(
        "client_credentials",
        json!({
            "issuer": server.issuer("keys"),
            "client_id": "node-rp",
            "private_jwk": keys["private_jwk"],
            "scope": "orders.read",
            "dpop": true,
        }),
    )
    .await;
    let (_, claims) = jwt_parts(service["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], service["dpop_jkt"]);
    assert_eq!(claims["scope"], "orders.read");

    // With server nonces on, openid-client retries with the nonce it is given.
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"use_dpop_nonce": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let with_nonce = rp(
        "client_credentials",
        json!({
            "issuer": server.issuer("keys"),
            "client_id": "node-rp",
            "private_jwk": keys["private_jwk"],
            "scope": "orders.read",
            "dpop": true,
        }),
    )
    .await;
    assert!(with_nonce["access_token"].is_string(), "{with_nonce:#}");
}

on_both_backends! {
    full_flow => full_flow_with_par_jar_dpop_and_private_key_jwt,
}

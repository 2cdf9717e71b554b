//! Discovery (OIDC Discovery 1.0, RFC 8414), JWKS and the `default` realm aliases, read by the
//! `openidconnect` crate as a relying party would.

use openidconnect::core::CoreProviderMetadata;
use openidconnect::{IssuerUrl, JsonWebKey};

use crate::common::TestServer;
use crate::on_both_backends;

pub fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn discover(server: &TestServer, realm: &str) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer(realm)).unwrap(), &http())
        .await
        .expect("discovery succeeds")
}

async fn openidconnect_discovers_every_seeded_realm(server: TestServer) {
    for realm in ["master", "default"] {
        let metadata = discover(&server, realm).await;
        assert_eq!(metadata.issuer().as_str(), server.issuer(realm));
        assert_eq!(
            metadata.token_endpoint().unwrap().as_str(),
            format!("{}/connect/token", server.issuer(realm))
        );
        // The crate fetched the JWKS too: one key per algorithm.
        assert_eq!(
            metadata.jwks().keys().len(),
            3,
            "ES256, RS256 and EdDSA keys"
        );
    }
    // Realms do not share keys.
    let master = discover(&server, "master").await;
    let default = discover(&server, "default").await;
    for key in master.jwks().keys() {
        assert!(!default
            .jwks()
            .keys()
            .iter()
            .any(|k| k.key_id() == key.key_id()));
    }
}

async fn metadata_is_true_to_what_is_implemented(server: TestServer) {
    let oidc = server
        .http
        .get(server.url("/realms/default/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    let oidc: serde_json::Value = oidc.json().await.unwrap();
    let mut grants: Vec<String> =
        serde_json::from_value(oidc["grant_types_supported"].clone()).unwrap();
    grants.sort();
    assert_eq!(
        grants,
        vec![
            "authorization_code",
            "client_credentials",
            "password",
            "public_refresh_token",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ]
    );
    assert_eq!(
        oidc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none"
        ])
    );
    let scopes = oidc["scopes_supported"].as_array().unwrap();
    for standard in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
        "roles",
    ] {
        assert!(scopes.iter().any(|s| s == standard), "{standard} is seeded");
    }
    assert_eq!(
        oidc["userinfo_endpoint"],
        format!("{}/connect/userinfo", server.issuer("default"))
    );
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);

    let rfc8414 = server
        .http
        .get(server.url("/realms/default/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(rfc8414.status(), 200);
    let rfc8414: serde_json::Value = rfc8414.json().await.unwrap();
    assert_eq!(rfc8414["issuer"], server.issuer("default"));
    assert_eq!(
        rfc8414["introspection_endpoint"],
        format!("{}/connect/introspect", server.issuer("default"))
    );
    assert!(rfc8414.get("subject_types_supported").is_none());

    let jwks = server
        .http
        .get(server.url("/realms/default/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let jwks: serde_json::Value = jwks.json().await.unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} must not be published"
            );
        }
    }
}

async fn aliases_serve_the_default_realm(server: TestServer) {
    server
        .seed(
            r#"
[[realms]]
name = "default"
[[realms.clients]]
client_id = "svc"
secret = "svc-secret"
grant_types = ["client_credentials"]
"#,
        )
        .await;
    let response = server
        .post_form(
            "/connect/token",
            &[("grant_type", "client_credentials")],
            Some(("svc", "svc-secret")),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (_, claims) = crate::common::jwt_parts(response.body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["iss"],
        server.issuer("default"),
        "the issuer stays /realms/default"
    );

    let jwks = server
        .http
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
}

async fn unknown_realms_and_paths_are_json_404s(server: TestServer) {
    for path in [
        "/realms/nope/.well-known/openid-configuration",
        "/realms/nope/.well-known/jwks.json",
        "/nothing-here",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not_found");
    }
    let response = server
        .post_form(
            "/realms/nope/connect/token",
            &[("grant_type", "client_credentials")],
            None,
        )
        .await;
    assert_eq!(response.status, 404);
}

async fn health_and_readiness(server: TestServer) {
    let health = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let headers = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(headers.headers()["x-frame-options"], "DENY");
    assert_eq!(
        headers.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
}

on_both_backends! {
    openidconnect_discovery => openidconnect_discovers_every_seeded_realm,
    truthful_metadata => metadata_is_true_to_what_is_implemented,
    default_realm_aliases => aliases_serve_the_default_realm,
    unknown_realm => unknown_realms_and_paths_are_json_404s,
    health => health_and_readiness,
}

//! RFC 7662 introspection: authenticated callers only; `{"active": false}` and nothing else
//! for anything that is not a live access token of this realm.

use serde_json::json;

use crate::common::{TestServer, BILLING, SERVICES_SEED};
use crate::on_both_backends;

const PATH: &str = "/realms/services/connect/introspect";

async fn active_tokens_show_their_claims(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let token = server
        .client_token("services", BILLING.0, BILLING.1, Some("orders.read"))
        .await;
    // A client and an API resource may both introspect.
    for caller in [
        ("reporting", "reporting-secret"),
        ("orders-api", "orders-api-secret"),
    ] {
        let response = server
            .post_form(PATH, &[("token", &token)], Some(caller))
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let body = &response.body;
        assert_eq!(body["active"], true);
        assert_eq!(body["client_id"], "billing");
        assert_eq!(body["scope"], "orders.read");
        assert_eq!(body["sub"], "billing");
        assert_eq!(body["iss"], server.issuer("services"));
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["exp"].is_i64() && body["iat"].is_i64());
    }
}

async fn inactive_means_only_active_false(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let other_realm_token = server
        .client_token("other", "billing", "other-billing-secret", None)
        .await;
    let good = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    // Flip one character of the signature.
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    // Same header and claims, claims re-encoded with a different subject.
    let mut parts: Vec<&str> = good.split('.').collect();
    use base64::Engine;
    let forged_claims =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"root"}"#);
    parts[1] = &forged_claims;
    let forged = parts.join(".");
    for token in [
        other_realm_token.as_str(),
        "garbage",
        "a.b.c",
        tampered.as_str(),
        forged.as_str(),
    ] {
        let response = server
            .post_form(PATH, &[("token", token)], Some(BILLING))
            .await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, json!({"active": false}), "token {token}");
    }
}

async fn introspection_requires_authentication(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let token = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    server
        .post_form(PATH, &[("token", &token)], None)
        .await
        .assert_oauth_error(401, "invalid_client");
    server
        .post_form(PATH, &[("token", &token)], Some(("orders-api", "wrong")))
        .await
        .assert_oauth_error(401, "invalid_client");
    // A public client cannot introspect.
    server
        .post_form(PATH, &[("token", &token), ("client_id", "spa")], None)
        .await
        .assert_oauth_error(401, "invalid_client");
    // Authenticated but no token.
    server
        .post_form(PATH, &[], Some(BILLING))
        .await
        .assert_oauth_error(400, "invalid_request");
}

on_both_backends! {
    active_token => active_tokens_show_their_claims,
    inactive_tokens => inactive_means_only_active_false,
    authentication_required => introspection_requires_authentication,
}

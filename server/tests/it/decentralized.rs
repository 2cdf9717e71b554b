//! Decentralized mode (CONTRACT §6): tokens whose claims and scopes the caller supplies, their
//! refresh, the public refresh of a paired client, and the refusals.

use serde_json::json;

use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const P7_SEED: &str = r#"
[[realms]]
name = "p7"
decentralized = true

[[realms.scopes]]
name = "arbitrary"

[[realms.scopes]]
name = "revocations:write"

[[realms.clients]]
client_id = "resource-owner-client"
secret = "secret"
grant_types = ["password", "client_credentials", "refresh_token"]
scopes = ["arbitrary", "offline_access"]
allow_arbitrary_claims = true

[[realms.clients]]
client_id = "public-resource-owner-client"
public = true
grant_types = ["public_refresh_token"]
scopes = ["arbitrary", "offline_access"]

[[realms.clients]]
client_id = "other-owner"
secret = "other-secret"
grant_types = ["password", "refresh_token"]
scopes = ["arbitrary", "offline_access"]
allow_arbitrary_claims = true

[[realms.clients]]
client_id = "plain-client"
secret = "plain-secret"
grant_types = ["password", "client_credentials"]
scopes = ["arbitrary"]

[[realms.clients]]
client_id = "revoker"
secret = "revoker-secret"
grant_types = ["client_credentials"]
scopes = ["revocations:write"]

[[realms]]
name = "userstore"

[[realms.clients]]
client_id = "trusted"
secret = "trusted-secret"
grant_types = ["password"]
allow_arbitrary_claims = true
"#;

/// The request of CONTRACT §6, byte for byte in meaning.
const SEED_REQUEST: &str =
    "grant_type=password&client_id=resource-owner-client&client_secret=secret\
&handler=arbitrary-claims-service&username=rat&password=anything&scope=arbitrary%20offline_access\
&arbitrary-claims=%7B%22naguid%22%3A%221234abcd%22%2C%22In%22%3A%22Flames%22%7D\
&arbitrary-scopes=A%20quick%20brown%20fox";

async fn post_raw(server: &TestServer, path: &str, body: &str) -> crate::common::Response {
    let response = server
        .http
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    crate::common::Response::from(response).await
}

fn assert_p7_content(claims: &serde_json::Value, client_id: &str) {
    assert_eq!(claims["sub"], "rat");
    assert_eq!(claims["naguid"], "1234abcd");
    assert_eq!(claims["In"], "Flames");
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(
        claims["scope"],
        "arbitrary offline_access A quick brown fox"
    );
}

async fn the_contract_request_its_refresh_and_public_refresh(server: TestServer) {
    server.seed(P7_SEED).await;
    let minted = post_raw(&server, "/realms/p7/connect/token", SEED_REQUEST).await;
    assert_eq!(minted.status, 200, "{}", minted.text);
    let (header, claims) = jwt_parts(minted.body["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_p7_content(&claims, "resource-owner-client");
    super::client_credentials::assert_signed_by_realm(
        &server,
        "p7",
        minted.body["access_token"].as_str().unwrap(),
    )
    .await;
    let refresh = minted.body["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token");

    let refreshed = server
        .refresh("p7", ("resource-owner-client", "secret"), refresh, None)
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let (_, claims) = jwt_parts(refreshed.body["access_token"].as_str().unwrap());
    assert_p7_content(&claims, "resource-owner-client");
    let rotated = refreshed.body["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, refresh);

    let public = post_raw(
        &server,
        "/realms/p7/connect/token",
        &format!("grant_type=public_refresh_token&client_id=public-resource-owner-client&refresh_token={rotated}"),
    )
    .await;
    assert_eq!(public.status, 200, "{}", public.text);
    let (_, outer) = jwt_parts(public.body["access_token"].as_str().unwrap());
    assert_p7_content(&outer, "public-resource-owner-client");
    let inner = &public.body["inner_response"];
    assert_eq!(inner["token_type"], "Bearer");
    let (_, inner_claims) = jwt_parts(inner["access_token"].as_str().unwrap());
    assert_p7_content(&inner_claims, "resource-owner-client");
    let next = inner["refresh_token"]
        .as_str()
        .expect("the rotated refresh token");
    assert_ne!(next, rotated);
    // The rotated one keeps working with the confidential client.
    let last = server
        .refresh("p7", ("resource-owner-client", "secret"), next, None)
        .await;
    assert_eq!(last.status, 200, "{}", last.text);
    // The public grant follows the same reuse rule: without a grace, presenting a rotated token
    // again revokes the whole family, whichever grant carries it.
    post_raw(
        &server,
        "/realms/p7/connect/token",
        &format!("grant_type=public_refresh_token&client_id=public-resource-owner-client&refresh_token={rotated}"),
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
    let newest = last.body["refresh_token"].as_str().unwrap();
    server
        .refresh("p7", ("resource-owner-client", "secret"), newest, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
}

async fn public_refresh_is_limited_to_the_paired_client(server: TestServer) {
    server.seed(P7_SEED).await;
    let other = post_raw(
        &server,
        "/realms/p7/connect/token",
        "grant_type=password&client_id=other-owner&client_secret=other-secret&handler=arbitrary-claims-service\
&username=rat&password=x&scope=offline_access",
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.text);
    let token = other.body["refresh_token"].as_str().unwrap();
    post_raw(
        &server,
        "/realms/p7/connect/token",
        &format!("grant_type=public_refresh_token&client_id=public-resource-owner-client&refresh_token={token}"),
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
    post_raw(
        &server,
        "/realms/p7/connect/token",
        "grant_type=public_refresh_token&client_id=public-resource-owner-client&refresh_token=garbage",
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
}

async fn refusals(server: TestServer) {
    server.seed(P7_SEED).await;
    let base = "grant_type=password&client_id=resource-owner-client&client_secret=secret\
&handler=arbitrary-claims-service&username=rat&password=x&scope=arbitrary";
    for claims in [
        r#"{"sub":"root"}"#,
        r#"{"exp":1}"#,
        r#"{"client_id":"x"}"#,
        r#"["array"]"#,
        "nope",
    ] {
        let body = format!(
            "{base}&arbitrary-claims={}",
            form_urlencoded::byte_serialize(claims.as_bytes()).collect::<String>()
        );
        post_raw(&server, "/realms/p7/connect/token", &body)
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    let oversized = format!("{{\"big\":\"{}\"}}", "x".repeat(10_000));
    let body = format!(
        "{base}&arbitrary-claims={}",
        form_urlencoded::byte_serialize(oversized.as_bytes()).collect::<String>()
    );
    post_raw(&server, "/realms/p7/connect/token", &body)
        .await
        .assert_oauth_error(400, "invalid_request");
    // A client without the flag.
    post_raw(
        &server,
        "/realms/p7/connect/token",
        "grant_type=password&client_id=plain-client&client_secret=plain-secret&handler=arbitrary-claims-service\
&username=rat&password=x&arbitrary-claims=%7B%7D",
    )
    .await
    .assert_oauth_error(400, "unauthorized_client");
    // A realm with a user store.
    post_raw(
        &server,
        "/realms/userstore/connect/token",
        "grant_type=password&client_id=trusted&client_secret=trusted-secret&handler=arbitrary-claims-service\
&username=rat&password=x&arbitrary-claims=%7B%7D",
    )
    .await
    .assert_oauth_error(400, "invalid_request");
    // No handler in a decentralized realm: there are no users to check.
    post_raw(
        &server,
        "/realms/p7/connect/token",
        "grant_type=password&client_id=resource-owner-client&client_secret=secret&username=rat&password=x",
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
}

async fn client_credentials_and_claim_revocation(server: TestServer) {
    server.seed(P7_SEED).await;
    let cc = post_raw(
        &server,
        "/realms/p7/connect/token",
        "grant_type=client_credentials&client_id=resource-owner-client&client_secret=secret\
&handler=arbitrary-claims-service&arbitrary-claims=%7B%22tenant%22%3A%22t1%22%7D&arbitrary-scopes=x%09y",
    )
    .await;
    assert_eq!(cc.status, 200, "{}", cc.text);
    let (_, claims) = jwt_parts(cc.body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "resource-owner-client");
    assert_eq!(claims["tenant"], "t1");
    assert_eq!(claims["scope"], "arbitrary x y");

    let minted = post_raw(&server, "/realms/p7/connect/token", SEED_REQUEST).await;
    let access = minted.body["access_token"].as_str().unwrap();
    let refresh = minted.body["refresh_token"].as_str().unwrap();
    let (_, minted_claims) = jwt_parts(access);
    let bearer = server
        .client_token("p7", "revoker", "revoker-secret", None)
        .await;
    let revoked = server
        .http
        .post(server.url("/realms/p7/revocations"))
        .bearer_auth(&bearer)
        .json(
            &json!({"type": "CLAIM", "data": {"claims": {"naguid": "1234abcd"},
            "issued_before": minted_claims["iat"].as_i64().unwrap() + 1}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 201);
    let introspected = server
        .post_form(
            "/realms/p7/connect/introspect",
            &[("token", access)],
            Some(("resource-owner-client", "secret")),
        )
        .await;
    assert_eq!(introspected.body, json!({"active": false}));
    server
        .refresh("p7", ("resource-owner-client", "secret"), refresh, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    // Tokens without that claim value are untouched.
    let other = post_raw(
        &server,
        "/realms/p7/connect/token",
        "grant_type=password&client_id=resource-owner-client&client_secret=secret&handler=arbitrary-claims-service\
&username=rat&password=x&arbitrary-claims=%7B%22naguid%22%3A%22other%22%7D",
    )
    .await;
    let introspected = server
        .post_form(
            "/realms/p7/connect/introspect",
            &[("token", other.body["access_token"].as_str().unwrap())],
            Some(("resource-owner-client", "secret")),
        )
        .await;
    assert_eq!(introspected.body["active"], true);
}

on_both_backends! {
    contract_request => the_contract_request_its_refresh_and_public_refresh,
    public_refresh_pairing => public_refresh_is_limited_to_the_paired_client,
    decentralized_refusals => refusals,
    claims_and_revocation => client_credentials_and_claim_revocation,
}

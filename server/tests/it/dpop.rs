//! DPoP (RFC 9449) end to end: bound tokens from the token endpoint, proofs checked at the
//! token and userinfo endpoints, bound codes (`dpop_jkt`) and public clients' refresh tokens,
//! server nonces, and the refusals of §4.3 and §7.

use reqwest::Method;
use serde_json::{json, Value};

use super::signed_requests::{
    code_for, create_client, now, pkce, random_id, TestKey, CALLBACK, KEYS_SEED,
};
use crate::common::{jwt_parts, Response, TestServer};
use crate::on_both_backends;

const TOKEN: &str = "/realms/keys/connect/token";

/// A confidential client with a secret, optionally DPoP-bound.
async fn service(server: &TestServer, client_id: &str, bound: bool) {
    create_client(
        server,
        json!({
            "client_id": client_id,
            "grant_types": ["client_credentials"],
            "scopes": ["orders.read"],
            "client_secret": "service-secret-123456",
            "dpop_bound_access_tokens": bound,
        }),
    )
    .await;
}

/// Client credentials for `client_id`, with the DPoP headers given.
async fn cc(server: &TestServer, client_id: &str, proofs: &[&str]) -> Response {
    let mut request = server
        .http
        .post(server.url(TOKEN))
        .basic_auth(client_id, Some("service-secret-123456"))
        .form(&[("grant_type", "client_credentials")]);
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    Response::from(request.send().await.unwrap()).await
}

async fn token_endpoint_binds_and_refuses_bad_proofs(server: TestServer) {
    server.seed(KEYS_SEED).await;
    service(&server, "svc", false).await;
    service(&server, "bound", true).await;
    let key = TestKey::new();
    let url = server.url(TOKEN);

    // Without a proof: a Bearer token, as before.
    let plain = cc(&server, "svc", &[]).await;
    assert_eq!(plain.body["token_type"], "Bearer", "{}", plain.text);

    let proof = key.proof("POST", &url, None, None);
    let bound = cc(&server, "svc", &[&proof]).await;
    assert_eq!(bound.status, 200, "{}", bound.text);
    assert_eq!(bound.body["token_type"], "DPoP");
    let token = bound.body["access_token"].as_str().unwrap().to_string();
    let (_, claims) = jwt_parts(&token);
    assert_eq!(claims["cnf"]["jkt"], key.jkt());

    // Introspection and Plan B tokeninfo show the binding.
    let introspected = server
        .post_form(
            "/realms/keys/connect/introspect",
            &[("token", &token)],
            Some(("svc", "service-secret-123456")),
        )
        .await;
    assert_eq!(
        introspected.body["token_type"], "DPoP",
        "{}",
        introspected.text
    );
    assert_eq!(introspected.body["cnf"]["jkt"], key.jkt());
    let info: Value = server
        .http
        .get(server.url("/realms/keys/oauth2/tokeninfo"))
        .query(&[("access_token", &token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["token_type"], "DPoP", "{info}");
    assert_eq!(info["cnf"]["jkt"], key.jkt());

    // The same proof again is a replay.
    cc(&server, "svc", &[&proof])
        .await
        .assert_oauth_error(400, "invalid_dpop_proof");

    let mut private_jwk = key.jwk.clone();
    private_jwk["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    let claims = |htm: &str, htu: &str, iat: i64| json!({"htm": htm, "htu": htu, "iat": iat, "jti": random_id()});
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk});
    let other_key = TestKey::new();
    let bad = [
        (
            "another method",
            key.sign(&header, &claims("GET", &url, now())),
        ),
        (
            "another URL",
            key.sign(
                &header,
                &claims("POST", "https://elsewhere.example/token", now()),
            ),
        ),
        (
            "stale",
            key.sign(&header, &claims("POST", &url, now() - 3600)),
        ),
        (
            "from the future",
            key.sign(&header, &claims("POST", &url, now() + 3600)),
        ),
        (
            "wrong typ",
            key.sign(
                &json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk}),
                &claims("POST", &url, now()),
            ),
        ),
        (
            "private key in the header",
            key.sign(
                &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private_jwk}),
                &claims("POST", &url, now()),
            ),
        ),
        (
            "signed by a key other than its jwk",
            other_key.sign(&header, &claims("POST", &url, now())),
        ),
        ("not a JWT", "not.a-jwt".to_string()),
    ];
    for (what, proof) in bad {
        let refused = cc(&server, "svc", &[&proof]).await;
        assert_eq!(refused.status, 400, "{what}: {}", refused.text);
        assert_eq!(
            refused.body["error"], "invalid_dpop_proof",
            "{what}: {}",
            refused.text
        );
    }
    let one = key.proof("POST", &url, None, None);
    let two = key.proof("POST", &url, None, None);
    cc(&server, "svc", &[&one, &two])
        .await
        .assert_oauth_error(400, "invalid_dpop_proof");

    // A DPoP-bound client gets tokens only with a proof.
    cc(&server, "bound", &[])
        .await
        .assert_oauth_error(400, "invalid_dpop_proof");
    let ok = cc(&server, "bound", &[&key.proof("POST", &url, None, None)]).await;
    assert_eq!(ok.body["token_type"], "DPoP", "{}", ok.text);
}

async fn server_nonces_are_demanded_and_honoured(server: TestServer) {
    server.seed(KEYS_SEED).await;
    service(&server, "svc", false).await;
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"use_dpop_nonce": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let key = TestKey::new();
    let url = server.url(TOKEN);
    let first = cc(&server, "svc", &[&key.proof("POST", &url, None, None)]).await;
    first.assert_oauth_error(400, "use_dpop_nonce");
    let nonce = first.header("dpop-nonce").expect("a nonce").to_string();
    let made_up = cc(
        &server,
        "svc",
        &[&key.proof("POST", &url, None, Some("made-up"))],
    )
    .await;
    made_up.assert_oauth_error(400, "use_dpop_nonce");
    let ok = cc(
        &server,
        "svc",
        &[&key.proof("POST", &url, None, Some(&nonce))],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(
        ok.header("dpop-nonce").is_some(),
        "success carries the next nonce"
    );
}

/// A public client of realm `keys` for the code flow with refresh tokens.
async fn public_app(server: &TestServer) {
    create_client(
        server,
        json!({
            "client_id": "app",
            "public": true,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [CALLBACK],
            "scopes": ["openid", "profile", "email", "offline_access"],
        }),
    )
    .await;
}

fn authorize_url(server: &TestServer, challenge: &str, extra: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "app")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", "openid email offline_access")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .extend_pairs(extra)
        .finish();
    server.url(&format!("/realms/keys/connect/authorize?{query}"))
}

async fn token_request(
    server: &TestServer,
    form: &[(&str, &str)],
    proof: Option<String>,
) -> Response {
    let mut request = server.http.post(server.url(TOKEN)).form(form);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    Response::from(request.send().await.unwrap()).await
}

async fn userinfo(server: &TestServer, authorization: &str, proof: Option<String>) -> Response {
    let mut request = server
        .http
        .get(server.url("/realms/keys/connect/userinfo"))
        .header("Authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    Response::from(request.send().await.unwrap()).await
}

async fn bound_codes_userinfo_and_public_refresh(server: TestServer) {
    server.seed(KEYS_SEED).await;
    public_app(&server).await;
    let key = TestKey::new();
    let intruder = TestKey::new();
    let token_url = server.url(TOKEN);
    let userinfo_url = server.url("/realms/keys/connect/userinfo");

    // The code is bound to `dpop_jkt` at the authorization endpoint.
    let (verifier, challenge) = pkce();
    let jkt = key.jkt();
    let code = code_for(
        &server,
        &authorize_url(&server, &challenge, &[("dpop_jkt", &jkt)]),
    )
    .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "app"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier.as_str()),
    ];
    token_request(
        &server,
        &form,
        Some(intruder.proof("POST", &token_url, None, None)),
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
    token_request(&server, &form, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    // Neither attempt used the code up.
    let tokens = token_request(
        &server,
        &form,
        Some(key.proof("POST", &token_url, None, None)),
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.body["token_type"], "DPoP");
    let access = tokens.body["access_token"].as_str().unwrap().to_string();
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_string();

    // Userinfo wants the DPoP scheme and a proof of the bound key for this token.
    let ok = userinfo(
        &server,
        &format!("DPoP {access}"),
        Some(key.proof("GET", &userinfo_url, Some(&access), None)),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["email"], "erin@example.com");
    let as_bearer = userinfo(&server, &format!("Bearer {access}"), None).await;
    assert_eq!(as_bearer.status, 401);
    assert!(as_bearer
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("DPoP")));
    for (what, proof) in [
        ("no proof", None),
        (
            "another key",
            Some(intruder.proof("GET", &userinfo_url, Some(&access), None)),
        ),
        (
            "another token",
            Some(key.proof("GET", &userinfo_url, Some("other-token"), None)),
        ),
        ("no ath", Some(key.proof("GET", &userinfo_url, None, None))),
        (
            "another method",
            Some(key.proof("POST", &userinfo_url, Some(&access), None)),
        ),
    ] {
        let refused = userinfo(&server, &format!("DPoP {access}"), proof).await;
        assert_eq!(refused.status, 401, "{what}: {}", refused.text);
        assert!(
            refused
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("DPoP") && h.contains("error=")),
            "{what}"
        );
    }

    // The public client's refresh token is bound to the key too: a thief's attempts fail and
    // burn nothing.
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("client_id", "app"),
        ("refresh_token", refresh.as_str()),
    ];
    token_request(
        &server,
        &refresh_form,
        Some(intruder.proof("POST", &token_url, None, None)),
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
    token_request(&server, &refresh_form, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let refreshed = token_request(
        &server,
        &refresh_form,
        Some(key.proof("POST", &token_url, None, None)),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_eq!(refreshed.body["token_type"], "DPoP");
    let (_, claims) = jwt_parts(refreshed.body["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], key.jkt());
}

/// The admin API and the Plan B revocation lists take tokens as credentials: a bound one
/// counts only with a proof of its key.
async fn bound_tokens_need_their_key_everywhere(server: TestServer) {
    let key = TestKey::new();
    let token_url = server.url("/realms/master/connect/token");
    let mut request = server.http.post(&token_url).form(&[
        ("grant_type", "password"),
        ("client_id", "admin-cli"),
        ("username", "admin"),
        ("password", "admin-password-1"),
    ]);
    request = request.header("DPoP", key.proof("POST", &token_url, None, None));
    let issued = Response::from(request.send().await.unwrap()).await;
    assert_eq!(issued.body["token_type"], "DPoP", "{}", issued.text);
    let token = issued.body["access_token"].as_str().unwrap().to_string();

    let realms_url = server.url("/admin/api/realms");
    let as_bearer = server
        .http
        .get(&realms_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), 401);
    let with_proof = server
        .http
        .get(&realms_url)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", key.proof("GET", &realms_url, Some(&token), None))
        .send()
        .await
        .unwrap();
    assert_eq!(with_proof.status(), 200);
    let other = TestKey::new();
    let wrong_key = server
        .http
        .get(&realms_url)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", other.proof("GET", &realms_url, Some(&token), None))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status(), 401);

    // Plan B revocation lists accept a master admin token the same way.
    let lists_url = server.url("/realms/default/revocations");
    let as_bearer = server
        .http
        .get(&lists_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), 401);
    let with_proof = server
        .http
        .get(&lists_url)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", key.proof("GET", &lists_url, Some(&token), None))
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_proof.status(),
        200,
        "{}",
        with_proof.text().await.unwrap()
    );
}

on_both_backends! {
    everywhere => bound_tokens_need_their_key_everywhere,
    token_endpoint => token_endpoint_binds_and_refuses_bad_proofs,
    nonces => server_nonces_are_demanded_and_honoured,
    bound_flows => bound_codes_userinfo_and_public_refresh,
}

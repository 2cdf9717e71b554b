//! Keys instead of shared secrets (CONTRACT §10): `private_key_jwt` and `client_secret_jwt`
//! client authentication, JWK Sets inline and at a `jwks_uri`, pushed authorization requests,
//! signed request objects, RFC 8707 resources carried through codes and refreshes, and the
//! FAPI 2.0 realm profile — each with the refusals the RFCs' security considerations ask for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use super::browser::Browser;
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

/// A client's (or a DPoP holder's) P-256 key: signs JWTs, publishes its public JWK.
pub struct TestKey {
    pair: EcdsaKeyPair,
    pub jwk: Value,
    pub kid: String,
}

impl TestKey {
    pub fn new() -> Self {
        let generated = server::keys::generate(server::domain::SigningAlg::ES256).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &generated.pkcs8).unwrap();
        assert!(!pair.public_key().as_ref().is_empty());
        Self {
            pair,
            jwk: generated.public_jwk,
            kid: generated.kid,
        }
    }

    /// The public JWK Set of this key.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.jwk]})
    }

    /// The RFC 7638 thumbprint of the public key.
    pub fn jkt(&self) -> String {
        let members = json!({
            "crv": self.jwk["crv"], "kty": "EC", "x": self.jwk["x"], "y": self.jwk["y"]
        });
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            members.to_string().as_bytes(),
        ))
    }

    /// A compact JWS of `claims` under `header`, signed with this key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    /// A `private_key_jwt` client assertion for `client_id`, addressed to `aud`.
    pub fn assertion(&self, client_id: &str, aud: &str) -> String {
        let now = now();
        self.sign(
            &json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"}),
            &json!({
                "iss": client_id, "sub": client_id, "aud": aud,
                "iat": now, "exp": now + 60, "jti": random_id(),
            }),
        )
    }

    /// A DPoP proof for `method` at `url`, optionally for an access token and with a nonce.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let mut claims = json!({"htm": method, "htu": url, "iat": now(), "jti": random_id()});
        if let Some(token) = token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                token.as_bytes()
            )));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.sign(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}),
            &claims,
        )
    }

    /// A signed request object of `client_id` for the issuer `aud` with these parameters.
    pub fn request_object(&self, client_id: &str, aud: &str, params: Value) -> String {
        let mut claims = params;
        claims["iss"] = json!(client_id);
        claims["aud"] = json!(aud);
        claims["client_id"] = json!(client_id);
        claims["exp"] = json!(now() + 300);
        claims["nbf"] = json!(now() - 5);
        self.sign(
            &json!({"alg": "ES256", "kid": self.kid, "typ": "oauth-authz-req+jwt"}),
            &claims,
        )
    }
}

/// The wall clock, as an outside client reads it when it signs (the test servers run on it).
#[allow(clippy::disallowed_methods)]
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Form-encoded query parameters.
pub fn query_of(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An HMAC-SHA256 JWS (`client_secret_jwt`).
fn sign_hs256(secret: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const CALLBACK: &str = "http://localhost:8080/callback";

/// A realm `keys` with an API resource, a user, and scopes for it.
pub const KEYS_SEED: &str = r#"
[[realms]]
name = "keys"

[[realms.scopes]]
name = "orders.read"

[[realms.scopes]]
name = "invoices.read"

[[realms.api_resources]]
name = "https://orders.example"
scopes = ["orders.read"]

[[realms.api_resources]]
name = "https://invoices.example"
scopes = ["invoices.read"]

[[realms.users]]
username = "erin"
password = "erin-password"
email = "erin@example.com"
"#;

/// Creates a client of realm `keys` through the admin API; returns its answer.
pub async fn create_client(server: &TestServer, body: Value) -> Value {
    let created = server
        .admin(Method::POST, "/realms/keys/clients", Some(body))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body
}

/// A confidential web client authenticating with `private_key_jwt` and `key`.
pub async fn key_client(
    server: &TestServer,
    client_id: &str,
    key: &TestKey,
    extra: Value,
) -> Value {
    let mut body = json!({
        "client_id": client_id,
        "grant_types": ["authorization_code", "client_credentials", "refresh_token"],
        "redirect_uris": [CALLBACK],
        "scopes": ["openid", "profile", "email", "offline_access", "orders.read", "invoices.read"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": key.jwks(),
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    create_client(server, body).await
}

fn token_path() -> &'static str {
    "/realms/keys/connect/token"
}

/// Client credentials with the assertion `jwt`.
async fn cc_with_assertion(
    server: &TestServer,
    client_id: &str,
    jwt: &str,
) -> crate::common::Response {
    server
        .post_form(
            token_path(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", jwt),
            ],
            None,
        )
        .await
}

async fn private_key_jwt_authenticates_once_per_assertion(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let key = TestKey::new();
    key_client(&server, "signer", &key, json!({})).await;
    let issuer = server.issuer("keys");

    // The issuer and the token endpoint's URL are both good audiences.
    for aud in [issuer.clone(), server.url(token_path())] {
        let jwt = key.assertion("signer", &aud);
        let ok = cc_with_assertion(&server, "signer", &jwt).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
        let (_, claims) = jwt_parts(ok.body["access_token"].as_str().unwrap());
        assert_eq!(claims["client_id"], "signer");
        // RFC 7523 §3 / RFC 9700: the same assertion again is a replay.
        cc_with_assertion(&server, "signer", &jwt)
            .await
            .assert_oauth_error(401, "invalid_client");
    }

    // Many processes' worth of concurrent requests with one assertion: one wins.
    let jwt = key.assertion("signer", &issuer);
    let wins = Arc::new(AtomicUsize::new(0));
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (server, jwt, wins) = (server.clone(), jwt.clone(), wins.clone());
        tasks.push(tokio::spawn(async move {
            let response = cc_with_assertion(&server, "signer", &jwt).await;
            match response.status {
                200 => {
                    wins.fetch_add(1, Ordering::SeqCst);
                }
                401 => {}
                other => panic!("unexpected {other}: {}", response.text),
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(wins.load(Ordering::SeqCst), 1, "one use of a jti");

    let now = now();
    let other = TestKey::new();
    let refused = [
        // Signed by a key the client did not register.
        other.assertion("signer", &issuer),
        // Addressed elsewhere.
        key.assertion("signer", "https://elsewhere.example"),
        // Expired, and too long-lived.
        key.sign(
            &json!({"alg": "ES256", "kid": key.kid}),
            &json!({"iss": "signer", "sub": "signer", "aud": issuer, "exp": now - 10, "jti": random_id()}),
        ),
        key.sign(
            &json!({"alg": "ES256", "kid": key.kid}),
            &json!({"iss": "signer", "sub": "signer", "aud": issuer, "exp": now + 86_400, "jti": random_id()}),
        ),
        // Without a jti, and with another issuer.
        key.sign(
            &json!({"alg": "ES256", "kid": key.kid}),
            &json!({"iss": "signer", "sub": "signer", "aud": issuer, "exp": now + 60}),
        ),
        key.sign(
            &json!({"alg": "ES256", "kid": key.kid}),
            &json!({"iss": "someone", "sub": "signer", "aud": issuer, "exp": now + 60, "jti": random_id()}),
        ),
        // Another kind of JWT of the client's: a request object is no assertion.
        key.sign(
            &json!({"alg": "ES256", "kid": key.kid, "typ": "oauth-authz-req+jwt"}),
            &json!({"iss": "signer", "sub": "signer", "aud": issuer, "exp": now + 60, "jti": random_id()}),
        ),
        // An unsigned assertion, and an HMAC one for a key client.
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(json!({"iss": "signer", "sub": "signer", "aud": issuer, "exp": now + 60, "jti": random_id()}).to_string())
        ),
        sign_hs256(
            "guessed-secret-guessed-secret",
            &json!({"iss": "signer", "sub": "signer", "aud": issuer, "exp": now + 60, "jti": random_id()}),
        ),
    ];
    for jwt in refused {
        cc_with_assertion(&server, "signer", &jwt)
            .await
            .assert_oauth_error(401, "invalid_client");
    }
    // A key client may not fall back to a secret, nor name another client.
    server
        .post_form(
            token_path(),
            &[("grant_type", "client_credentials")],
            Some(("signer", "whatever-secret-123")),
        )
        .await
        .assert_oauth_error(401, "invalid_client");
    let jwt = key.assertion("signer", &issuer);
    server
        .post_form(
            token_path(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "someone-else"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &jwt),
            ],
            None,
        )
        .await
        .assert_oauth_error(401, "invalid_client");

    // Introspection and revocation take the same authentication.
    let token = {
        let jwt = key.assertion("signer", &issuer);
        let ok = cc_with_assertion(&server, "signer", &jwt).await;
        ok.body["access_token"].as_str().unwrap().to_string()
    };
    let jwt = key.assertion("signer", &server.url("/realms/keys/connect/introspect"));
    let introspected = server
        .post_form(
            "/realms/keys/connect/introspect",
            &[
                ("token", &token),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &jwt),
            ],
            None,
        )
        .await;
    assert_eq!(introspected.status, 200, "{}", introspected.text);
    assert_eq!(introspected.body["active"], true);
}

async fn client_secret_jwt_uses_the_sealed_secret(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let created = create_client(
        &server,
        json!({
            "client_id": "hmac",
            "grant_types": ["client_credentials"],
            "scopes": ["orders.read"],
            "token_endpoint_auth_method": "client_secret_jwt",
        }),
    )
    .await;
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let issuer = server.issuer("keys");
    let claims = |jti: &str| json!({"iss": "hmac", "sub": "hmac", "aud": issuer, "exp": now() + 60, "jti": jti});
    let ok = cc_with_assertion(&server, "hmac", &sign_hs256(&secret, &claims("one"))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    cc_with_assertion(
        &server,
        "hmac",
        &sign_hs256("not-the-secret-at-all", &claims("two")),
    )
    .await
    .assert_oauth_error(401, "invalid_client");
    // The plain secret is not accepted for a client_secret_jwt client.
    server
        .post_form(
            token_path(),
            &[("grant_type", "client_credentials")],
            Some(("hmac", &secret)),
        )
        .await
        .assert_oauth_error(401, "invalid_client");
    // A rotated secret is sealed too.
    let rotated = server
        .admin(Method::POST, "/realms/keys/clients/hmac/secret", None)
        .await;
    let secret = rotated.body["client_secret"].as_str().unwrap().to_string();
    let ok = cc_with_assertion(&server, "hmac", &sign_hs256(&secret, &claims("three"))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

/// Serves a JWK Set (or something worse) on loopback; the shared state holds the mode
/// (`ok`, `huge`, `slow`, `redirect`) and the set.
async fn jwks_server(state: Arc<std::sync::Mutex<(String, Value)>>) -> String {
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/jwks",
        get(move || {
            let state = state.clone();
            async move {
                let (mode, jwks) = state.lock().unwrap().clone();
                let json = |body: String| -> Response {
                    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                };
                match mode.as_str() {
                    "huge" => json(format!(
                        "{{\"keys\": [], \"pad\": \"{}\"}}",
                        "x".repeat(200 * 1024)
                    )),
                    "slow" => {
                        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
                        json(jwks.to_string())
                    }
                    "redirect" => (
                        StatusCode::FOUND,
                        [(header::LOCATION, "http://127.0.0.1:9/jwks")],
                    )
                        .into_response(),
                    _ => json(jwks.to_string()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{address}/jwks")
}

async fn jwks_uri_is_fetched_guarded_and_refreshed(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let first = TestKey::new();
    let served = Arc::new(std::sync::Mutex::new(("ok".to_string(), first.jwks())));
    let uri = jwks_server(served.clone()).await;
    create_client(
        &server,
        json!({
            "client_id": "fetcher",
            "grant_types": ["client_credentials"],
            "scopes": ["orders.read"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": uri,
        }),
    )
    .await;
    let issuer = server.issuer("keys");
    // Loopback is a private address: refused until the realm allows private fetches.
    let refused = cc_with_assertion(&server, "fetcher", &first.assertion("fetcher", &issuer)).await;
    refused.assert_oauth_error(401, "invalid_client");
    assert!(refused.text.contains("private"), "{}", refused.text);
    let allowed = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"allow_private_fetch": true})),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    let ok = cc_with_assertion(&server, "fetcher", &first.assertion("fetcher", &issuer)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    // The client rotates to a new key: its unknown kid makes Tessera fetch the set again.
    let second = TestKey::new();
    served.lock().unwrap().1 = json!({"keys": [first.jwk, second.jwk]});
    let ok = cc_with_assertion(&server, "fetcher", &second.assertion("fetcher", &issuer)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    // A set that grew huge, or answers with a redirect, gives nothing (a fresh client so no
    // cached set helps).
    for (mode, client_id) in [
        ("huge", "huge"),
        ("redirect", "redirected"),
        ("slow", "slow"),
    ] {
        let served = Arc::new(std::sync::Mutex::new((mode.to_string(), first.jwks())));
        let uri = jwks_server(served).await;
        create_client(
            &server,
            json!({
                "client_id": client_id,
                "grant_types": ["client_credentials"],
                "scopes": ["orders.read"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": uri,
            }),
        )
        .await;
        let started = std::time::Instant::now();
        cc_with_assertion(&server, client_id, &first.assertion(client_id, &issuer))
            .await
            .assert_oauth_error(401, "invalid_client");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(7),
            "the fetch is time-limited"
        );
    }
}

async fn admin_checks_keys_and_methods(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let key = TestKey::new();
    let mut private = key.jwk.clone();
    private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    for (body, field) in [
        (
            json!({"client_id": "a", "grant_types": ["client_credentials"], "jwks": {"keys": [private]}}),
            "jwks",
        ),
        (
            json!({"client_id": "b", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"client_id": "c", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"client_id": "d", "grant_types": ["client_credentials"], "jwks": key.jwks(), "jwks_uri": "https://keys.example/jwks"}),
            "jwks_uri",
        ),
        (
            json!({"client_id": "e", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "magic"}),
            "token_endpoint_auth_method",
        ),
    ] {
        let refused = server
            .admin(Method::POST, "/realms/keys/clients", Some(body))
            .await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(refused.text.contains(field), "{}", refused.text);
    }
    let created = key_client(&server, "shown", &key, json!({"require_par": true})).await;
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(created["jwks"], key.jwks());
    assert_eq!(created["require_par"], true);
    let profile = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"profile": "fapi3"})),
        )
        .await;
    assert_eq!(profile.status, 422, "{}", profile.text);

    let discovery = server
        .http
        .get(server.url("/realms/keys/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        server.url("/realms/keys/connect/par")
    );
    assert_eq!(discovery["request_parameter_supported"], true);
    assert!(discovery["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));
    assert_eq!(discovery["require_pushed_authorization_requests"], false);
}

/// Pushes an authorization request for `client_id` (authenticated with `key`); returns the
/// response.
pub async fn push(
    server: &TestServer,
    client_id: &str,
    key: &TestKey,
    params: &[(&str, &str)],
    dpop: Option<&str>,
) -> crate::common::Response {
    let assertion = key.assertion(client_id, &server.issuer("keys"));
    let mut form: Vec<(&str, &str)> = vec![
        ("client_id", client_id),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &assertion),
    ];
    form.extend_from_slice(params);
    let mut request = server
        .http
        .post(server.url("/realms/keys/connect/par"))
        .form(&form);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    crate::common::Response::from(request.send().await.unwrap()).await
}

/// PKCE: a verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("{}{}", random_id(), random_id());
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

/// Signs erin in at `authorize_url` and returns the code (after checking `iss`).
pub async fn code_for(server: &TestServer, authorize_url: &str) -> String {
    let browser = Browser::new();
    let page = browser
        .authorize_and_sign_in(&server.base, authorize_url, "erin", "erin-password")
        .await;
    assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.location_param("iss").as_deref(),
        Some(server.issuer("keys").as_str())
    );
    page.location_param("code")
        .unwrap_or_else(|| panic!("a code: {:?}", page.location))
}

/// Redeems `code` with `private_key_jwt`, optionally with a DPoP proof and resources.
pub async fn redeem(
    server: &TestServer,
    client_id: &str,
    key: &TestKey,
    code: &str,
    verifier: &str,
    extra: &[(&str, &str)],
    dpop: Option<&str>,
) -> crate::common::Response {
    let assertion = key.assertion(client_id, &server.issuer("keys"));
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &assertion),
    ];
    form.extend_from_slice(extra);
    let mut request = server.http.post(server.url(token_path())).form(&form);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    crate::common::Response::from(request.send().await.unwrap()).await
}

async fn pushed_requests_are_validated_and_used_once(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let key = TestKey::new();
    key_client(&server, "pusher", &key, json!({"require_par": true})).await;
    let (verifier, challenge) = pkce();
    let params = [
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid orders.read"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let pushed = push(&server, "pusher", &key, &params, None).await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    assert_eq!(pushed.body["expires_in"], 60);
    let request_uri = pushed.body["request_uri"].as_str().unwrap().to_string();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(pushed.header("cache-control"), Some("no-store"));

    let authorize = |uri: &str, client: &str| {
        let query = query_of(&[("client_id", client), ("request_uri", uri)]);
        server.url(&format!("/realms/keys/connect/authorize?{query}"))
    };
    let code = code_for(&server, &authorize(&request_uri, "pusher")).await;
    let token = redeem(&server, "pusher", &key, &code, &verifier, &[], None).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let (_, claims) = jwt_parts(token.body["access_token"].as_str().unwrap());
    assert_eq!(claims["scope"], "openid orders.read");

    // The request_uri is good once.
    let again = Browser::new().get(&authorize(&request_uri, "pusher")).await;
    assert_eq!(
        again.status,
        reqwest::StatusCode::BAD_REQUEST,
        "{}",
        again.body
    );
    assert!(again.body.contains("invalid_request_uri"), "{}", again.body);

    // Another client cannot use it, nor burn it; an expired one is gone.
    key_client(&server, "bystander", &TestKey::new(), json!({})).await;
    let pushed = push(&server, "pusher", &key, &params, None).await;
    let uri = pushed.body["request_uri"].as_str().unwrap().to_string();
    let other = Browser::new().get(&authorize(&uri, "bystander")).await;
    assert_eq!(other.status, reqwest::StatusCode::BAD_REQUEST);
    assert!(other.body.contains("invalid_request_uri"), "{}", other.body);
    let code = code_for(&server, &authorize(&uri, "pusher")).await;
    assert!(!code.is_empty());
    let pushed = push(&server, "pusher", &key, &params, None).await;
    let uri = pushed.body["request_uri"].as_str().unwrap().to_string();
    server
        .sql("UPDATE pushed_requests SET expires_at = '2000-01-01 00:00:00+00:00'")
        .await;
    let expired = Browser::new().get(&authorize(&uri, "pusher")).await;
    assert_eq!(expired.status, reqwest::StatusCode::BAD_REQUEST);
    assert!(
        expired.body.contains("invalid_request_uri"),
        "{}",
        expired.body
    );

    // A client that must push cannot send its request through the browser.
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "pusher")
        .extend_pairs(params)
        .finish();
    let direct = Browser::new()
        .get(&server.url(&format!("/realms/keys/connect/authorize?{query}")))
        .await;
    assert_eq!(direct.status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(
        direct.location_param("error").as_deref(),
        Some("invalid_request")
    );

    // Bad requests fail at the push, in JSON, and store nothing.
    server.sql("DELETE FROM pushed_requests").await;
    for (name, bad) in [
        ("redirect_uri", "https://evil.example/cb"),
        ("scope", "openid admin"),
        ("response_type", "token"),
        ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
    ] {
        let mut params: Vec<(&str, &str)> =
            params.iter().copied().filter(|(n, _)| *n != name).collect();
        params.push((name, bad));
        let refused = push(&server, "pusher", &key, &params, None).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.text);
        assert!(refused.body["error"].is_string(), "{}", refused.text);
    }
    let left = server
        .admin(Method::GET, "/realms/keys/clients/pusher", None)
        .await;
    assert_eq!(left.status, 200);
    assert_pushed_count(&server, 0).await;

    // An unauthenticated push is refused.
    let anonymous = server
        .post_form(
            "/realms/keys/connect/par",
            &[("client_id", "pusher"), ("response_type", "code")],
            None,
        )
        .await;
    anonymous.assert_oauth_error(401, "invalid_client");
}

async fn assert_pushed_count(server: &TestServer, expected: usize) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let count = entity::pushed_request::Entity::find()
        .count(&server.state.caches.store.db)
        .await
        .unwrap();
    assert_eq!(count as usize, expected);
}

async fn request_objects_carry_the_only_parameters(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let key = TestKey::new();
    key_client(
        &server,
        "jar",
        &key,
        json!({"require_signed_request_object": true}),
    )
    .await;
    let issuer = server.issuer("keys");
    let (verifier, challenge) = pkce();
    let object = key.request_object(
        "jar",
        &issuer,
        json!({
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": "openid orders.read",
            "state": "jar-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": ["https://orders.example"],
        }),
    );
    // Parameters outside the object do not count (RFC 9101 §6.3): the query's scope is ignored.
    let query = query_of(&[
        ("client_id", "jar"),
        ("request", &object),
        ("scope", "openid invoices.read"),
    ]);
    let code = code_for(
        &server,
        &server.url(&format!("/realms/keys/connect/authorize?{query}")),
    )
    .await;
    let token = redeem(&server, "jar", &key, &code, &verifier, &[], None).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let (_, claims) = jwt_parts(token.body["access_token"].as_str().unwrap());
    assert_eq!(claims["scope"], "openid orders.read");
    assert_eq!(claims["aud"], "https://orders.example");

    let other = TestKey::new();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(
            json!({"client_id": "jar", "aud": issuer, "exp": now() + 60, "response_type": "code", "redirect_uri": CALLBACK})
                .to_string()
        )
    );
    for (what, object) in [
        ("unsigned", unsigned),
        (
            "another key",
            other.request_object(
                "jar",
                &issuer,
                json!({"response_type": "code", "redirect_uri": CALLBACK}),
            ),
        ),
        (
            "another audience",
            key.request_object(
                "jar",
                "https://elsewhere.example",
                json!({"response_type": "code", "redirect_uri": CALLBACK}),
            ),
        ),
    ] {
        let query = query_of(&[("client_id", "jar"), ("request", &object)]);
        let page = Browser::new()
            .get(&server.url(&format!("/realms/keys/connect/authorize?{query}")))
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::BAD_REQUEST,
            "{what}: {}",
            page.body
        );
        assert!(
            page.body.contains("invalid_request_object"),
            "{what}: {}",
            page.body
        );
    }
    // This client must sign: a plain request is refused at its redirect URI.
    let query = query_of(&[
        ("client_id", "jar"),
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let plain = Browser::new()
        .get(&server.url(&format!("/realms/keys/connect/authorize?{query}")))
        .await;
    assert_eq!(
        plain.location_param("error").as_deref(),
        Some("invalid_request")
    );

    // A request object may be pushed too.
    let object = key.request_object(
        "jar",
        &issuer,
        json!({
            "response_type": "code", "redirect_uri": CALLBACK, "scope": "openid",
            "code_challenge": challenge, "code_challenge_method": "S256",
        }),
    );
    let pushed = push(&server, "jar", &key, &[("request", &object)], None).await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    let unsigned_push = push(
        &server,
        "jar",
        &key,
        &[("response_type", "code"), ("redirect_uri", CALLBACK)],
        None,
    )
    .await;
    unsigned_push.assert_oauth_error(400, "invalid_request");
}

async fn resources_narrow_through_code_and_refresh(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let key = TestKey::new();
    key_client(&server, "multi", &key, json!({})).await;
    let (verifier, challenge) = pkce();
    let query = query_of(&[
        ("client_id", "multi"),
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid offline_access orders.read invoices.read"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("resource", "https://orders.example"),
        ("resource", "https://invoices.example"),
    ]);
    let url = server.url(&format!("/realms/keys/connect/authorize?{query}"));
    let code = code_for(&server, &url).await;
    // A resource outside the grant is refused, and the code survives that.
    let outside = redeem(
        &server,
        "multi",
        &key,
        &code,
        &verifier,
        &[("resource", "https://other.example")],
        None,
    )
    .await;
    outside.assert_oauth_error(400, "invalid_target");
    let code = code_for(&server, &url).await;
    let token = redeem(
        &server,
        "multi",
        &key,
        &code,
        &verifier,
        &[("resource", "https://orders.example")],
        None,
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.text);
    let (_, claims) = jwt_parts(token.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://orders.example");
    assert_eq!(
        claims["scope"], "openid offline_access orders.read",
        "the other resource's scope stays out"
    );
    // The refresh may pick the other resource of the grant, never a new one.
    let refresh = token.body["refresh_token"].as_str().unwrap().to_string();
    let refresh_with = |refresh: String, resource: &'static str| {
        let server = &server;
        let key = &key;
        async move {
            let assertion = key.assertion("multi", &server.issuer("keys"));
            server
                .post_form(
                    token_path(),
                    &[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", &refresh),
                        ("resource", resource),
                        ("client_assertion_type", JWT_BEARER),
                        ("client_assertion", &assertion),
                    ],
                    None,
                )
                .await
        }
    };
    refresh_with(refresh.clone(), "https://other.example")
        .await
        .assert_oauth_error(400, "invalid_target");
    let refreshed = refresh_with(refresh, "https://invoices.example").await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let (_, claims) = jwt_parts(refreshed.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://invoices.example");
    assert_eq!(claims["scope"], "openid offline_access invoices.read");

    // At the authorization endpoint, an unknown resource is invalid_target at the client.
    let query = query_of(&[
        ("client_id", "multi"),
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("resource", "https://unknown.example"),
    ]);
    let page = Browser::new()
        .get(&server.url(&format!("/realms/keys/connect/authorize?{query}")))
        .await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("invalid_target")
    );
}

async fn fapi2_realm_enforces_its_profile(server: TestServer) {
    server.seed(KEYS_SEED).await;
    let key = TestKey::new();
    key_client(&server, "bank", &key, json!({})).await;
    create_client(
        &server,
        json!({
            "client_id": "secretive",
            "grant_types": ["client_credentials"],
            "scopes": ["orders.read"],
            "client_secret": "a-long-enough-secret-1234",
        }),
    )
    .await;
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/keys",
            Some(json!({"profile": "fapi2"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["profile"], "fapi2");
    let discovery: Value = server
        .http
        .get(server.url("/realms/keys/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["require_pushed_authorization_requests"], true);
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );

    // Assertions name the issuer itself, nothing else (FAPI 2.0 after the 2025 advisory).
    let holder_for_cc = TestKey::new();
    let token_url = server.url(token_path());
    let to_endpoint = key.assertion("bank", &token_url);
    let refused = server
        .http
        .post(&token_url)
        .header("DPoP", holder_for_cc.proof("POST", &token_url, None, None))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "bank"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &to_endpoint),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // Shared secrets are refused.
    server
        .post_form(
            token_path(),
            &[("grant_type", "client_credentials")],
            Some(("secretive", "a-long-enough-secret-1234")),
        )
        .await
        .assert_oauth_error(401, "invalid_client");
    // Tokens are sender-constrained: a key client without a DPoP proof gets none.
    let bare = cc_with_assertion(
        &server,
        "bank",
        &key.assertion("bank", &server.issuer("keys")),
    )
    .await;
    bare.assert_oauth_error(400, "invalid_dpop_proof");

    // Requests must be pushed; pushed ones with PKCE and DPoP go through.
    let (verifier, challenge) = pkce();
    let query = query_of(&[
        ("client_id", "bank"),
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let direct = Browser::new()
        .get(&server.url(&format!("/realms/keys/connect/authorize?{query}")))
        .await;
    assert_eq!(
        direct.location_param("error").as_deref(),
        Some("invalid_request")
    );
    let without_pkce = push(
        &server,
        "bank",
        &key,
        &[("response_type", "code"), ("redirect_uri", CALLBACK)],
        None,
    )
    .await;
    without_pkce.assert_oauth_error(400, "invalid_request");

    let holder = TestKey::new();
    let par_url = server.url("/realms/keys/connect/par");
    let pushed = push(
        &server,
        "bank",
        &key,
        &[
            ("response_type", "code"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
        Some(&holder.proof("POST", &par_url, None, None)),
    )
    .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    let uri = pushed.body["request_uri"].as_str().unwrap();
    let query = query_of(&[("client_id", "bank"), ("request_uri", uri)]);
    let code = code_for(
        &server,
        &server.url(&format!("/realms/keys/connect/authorize?{query}")),
    )
    .await;
    let token_url = server.url(token_path());
    // The code is bound to the PAR proof's key: another key cannot redeem it.
    let intruder = TestKey::new();
    redeem(
        &server,
        "bank",
        &key,
        &code,
        &verifier,
        &[],
        Some(&intruder.proof("POST", &token_url, None, None)),
    )
    .await
    .assert_oauth_error(400, "invalid_grant");
    let token = redeem(
        &server,
        "bank",
        &key,
        &code,
        &verifier,
        &[],
        Some(&holder.proof("POST", &token_url, None, None)),
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.text);
    assert_eq!(token.body["token_type"], "DPoP");
    let (_, claims) = jwt_parts(token.body["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], holder.jkt());
}

on_both_backends! {
    private_key_jwt => private_key_jwt_authenticates_once_per_assertion,
    client_secret_jwt => client_secret_jwt_uses_the_sealed_secret,
    jwks_uri => jwks_uri_is_fetched_guarded_and_refreshed,
    admin_keys => admin_checks_keys_and_methods,
    par => pushed_requests_are_validated_and_used_once,
    jar => request_objects_carry_the_only_parameters,
    resources => resources_narrow_through_code_and_refresh,
    fapi2 => fapi2_realm_enforces_its_profile,
}

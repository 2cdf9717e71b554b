//! Token exchange (RFC 8693) under exchange policies: allowed, refused, never widening, `act`
//! with delegation, trusted and untrusted issuers, expired subject tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use server::domain::SigningAlg;
use server::keys::{generate, ParsedKeyPair};

use super::password::user_id;
use crate::common::{jwt_parts, Response, TestServer};
use crate::on_both_backends;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const REFRESH: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const PARTNER: &str = "https://partner.example";

fn seed(jwks_url: &str) -> String {
    format!(
        r#"
[[realms]]
name = "exchange"

[[realms.scopes]]
name = "orders.read"

[[realms.scopes]]
name = "orders.write"

[[realms.api_resources]]
name = "orders-api"
scopes = ["orders.read", "orders.write"]

[[realms.clients]]
client_id = "frontend"
secret = "frontend-secret"
grant_types = ["password", "refresh_token"]
scopes = ["orders.read", "orders.write", "offline_access"]

[[realms.clients]]
client_id = "gateway"
secret = "gateway-secret"
grant_types = ["client_credentials", "{GRANT}"]

[[realms.clients]]
client_id = "strict"
secret = "strict-secret"
grant_types = ["{GRANT}"]

[[realms.clients]]
client_id = "nopolicy"
secret = "nopolicy-secret"
grant_types = ["{GRANT}"]

[[realms.users]]
username = "erin"
password = "erin-password"

[[realms.exchange_policies]]
client_id = "gateway"
audiences = ["orders-api"]
scopes = ["orders.read"]
subject_clients = ["frontend", "gateway"]
allow_delegation = true

[[realms.exchange_policies]]
client_id = "strict"
audiences = ["orders-api"]

[[realms.trusted_issuers]]
issuer = "{PARTNER}"
jwks_url = "{jwks_url}"
"#
    )
}

/// An issuer outside Tessera: a key, its JWKS served on loopback, and JWTs signed with it.
struct Partner {
    kid: String,
    pair: ParsedKeyPair,
    jwks_url: String,
}

impl Partner {
    async fn start() -> Self {
        let key = generate(SigningAlg::ES256).unwrap();
        let jwks = json!({"keys": [key.public_jwk]});
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks_url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            pair: ParsedKeyPair::from_pkcs8(SigningAlg::ES256, &key.pkcs8).unwrap(),
            kid: key.kid,
            jwks_url,
        }
    }

    fn token(&self, claims: Value) -> String {
        let header = json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"});
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.pair.sign(message.as_bytes()).unwrap();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

async fn setup(server: &TestServer) -> Partner {
    let partner = Partner::start().await;
    server.seed(&seed(&partner.jwks_url)).await;
    partner
}

async fn erin_tokens(server: &TestServer, scope: &str) -> (String, String) {
    let response = server
        .password_grant(
            "exchange",
            ("frontend", "frontend-secret"),
            "erin",
            "erin-password",
            Some(scope),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    (
        response.body["access_token"].as_str().unwrap().to_string(),
        response.body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn exchange(server: &TestServer, client: (&str, &str), form: &[(&str, &str)]) -> Response {
    let mut all = vec![("grant_type", GRANT)];
    all.extend_from_slice(form);
    server
        .post_form("/realms/exchange/connect/token", &all, Some(client))
        .await
}

const GATEWAY: (&str, &str) = ("gateway", "gateway-secret");

async fn allowed_by_policy(server: TestServer) {
    let _partner = setup(&server).await;
    let (access, refresh) = erin_tokens(&server, "orders.read orders.write offline_access").await;
    let response = exchange(
        &server,
        GATEWAY,
        &[("subject_token", &access), ("subject_token_type", ACCESS)],
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["issued_token_type"], ACCESS);
    assert_eq!(response.body["token_type"], "Bearer");
    let (_, claims) = jwt_parts(response.body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], user_id(&server, "exchange", "erin").await);
    assert_eq!(claims["client_id"], "gateway");
    assert_eq!(claims["aud"], "orders-api");
    assert_eq!(
        claims["scope"], "orders.read",
        "narrowed to what the policy allows"
    );
    assert!(claims.get("act").is_none(), "no actor, no act");

    // A refresh token may be the subject too.
    let response = exchange(
        &server,
        GATEWAY,
        &[("subject_token", &refresh), ("subject_token_type", REFRESH)],
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

async fn refusals(server: TestServer) {
    let _partner = setup(&server).await;
    let (access, _) = erin_tokens(&server, "orders.read").await;
    let subject = [
        ("subject_token", access.as_str()),
        ("subject_token_type", ACCESS),
    ];
    exchange(&server, ("nopolicy", "nopolicy-secret"), &subject)
        .await
        .assert_oauth_error(400, "unauthorized_client");
    let mut widening = subject.to_vec();
    widening.push(("scope", "orders.write"));
    exchange(&server, GATEWAY, &widening)
        .await
        .assert_oauth_error(400, "invalid_scope");
    let mut elsewhere = subject.to_vec();
    elsewhere.push(("audience", "billing-api"));
    exchange(&server, GATEWAY, &elsewhere)
        .await
        .assert_oauth_error(400, "invalid_target");
    exchange(&server, GATEWAY, &[("subject_token", &access)])
        .await
        .assert_oauth_error(400, "invalid_request");
    exchange(
        &server,
        GATEWAY,
        &[("subject_token", "garbage"), ("subject_token_type", ACCESS)],
    )
    .await
    .assert_oauth_error(400, "invalid_request");
    let mut odd_type = subject.to_vec();
    odd_type[1] = ("subject_token_type", "urn:example:saml");
    exchange(&server, GATEWAY, &odd_type)
        .await
        .assert_oauth_error(400, "invalid_request");
    // Delegation is not allowed for `strict`.
    let actor = server
        .client_token("exchange", "gateway", "gateway-secret", None)
        .await;
    let mut delegated = subject.to_vec();
    delegated.extend([
        ("actor_token", actor.as_str()),
        ("actor_token_type", ACCESS),
    ]);
    exchange(&server, ("strict", "strict-secret"), &delegated)
        .await
        .assert_oauth_error(400, "invalid_request");
}

async fn delegation_adds_nested_act(server: TestServer) {
    let partner = setup(&server).await;
    let (access, _) = erin_tokens(&server, "orders.read").await;
    let actor = server
        .client_token("exchange", "gateway", "gateway-secret", None)
        .await;
    let first = exchange(
        &server,
        GATEWAY,
        &[
            ("subject_token", &access),
            ("subject_token_type", ACCESS),
            ("actor_token", &actor),
            ("actor_token_type", ACCESS),
        ],
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let delegated = first.body["access_token"].as_str().unwrap();
    let (_, claims) = jwt_parts(delegated);
    assert_eq!(
        claims["act"],
        json!({"sub": "gateway", "client_id": "gateway"})
    );

    // A second hop nests the first actor inside the new one.
    let second = exchange(
        &server,
        GATEWAY,
        &[
            ("subject_token", delegated),
            ("subject_token_type", ACCESS),
            ("actor_token", &actor),
            ("actor_token_type", ACCESS),
        ],
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let (_, claims) = jwt_parts(second.body["access_token"].as_str().unwrap());
    assert_eq!(claims["act"]["sub"], "gateway");
    assert_eq!(
        claims["act"]["act"],
        json!({"sub": "gateway", "client_id": "gateway"})
    );

    // Introspection shows the chain.
    let second = second.body["access_token"].as_str().unwrap().to_string();
    let introspected = server
        .post_form(
            "/realms/exchange/connect/introspect",
            &[("token", &second)],
            Some(GATEWAY),
        )
        .await;
    assert_eq!(
        introspected.body["act"]["act"]["sub"], "gateway",
        "{}",
        introspected.text
    );

    // An exchange without a new actor keeps the chain: it cannot be washed off.
    let kept = exchange(
        &server,
        GATEWAY,
        &[("subject_token", &second), ("subject_token_type", ACCESS)],
    )
    .await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    let (_, claims) = jwt_parts(kept.body["access_token"].as_str().unwrap());
    assert_eq!(claims["act"]["act"]["sub"], "gateway");

    // A third hop is within the policy's default of three actors; a fourth is not.
    let hop = |subject: String| {
        let (server, actor) = (&server, actor.clone());
        async move {
            exchange(
                server,
                GATEWAY,
                &[
                    ("subject_token", &subject),
                    ("subject_token_type", ACCESS),
                    ("actor_token", &actor),
                    ("actor_token_type", ACCESS),
                ],
            )
            .await
        }
    };
    let third = hop(second).await;
    assert_eq!(third.status, 200, "{}", third.text);
    let fourth = hop(third.body["access_token"].as_str().unwrap().to_string()).await;
    fourth.assert_oauth_error(400, "invalid_request");
    assert!(fourth.text.contains("delegation chain"), "{}", fourth.text);

    // RFC 8693 §4.4: a subject token naming who may act for it admits only that actor.
    let now = server.state.now().timestamp();
    for (may_act, allowed) in [
        (json!({"sub": "gateway"}), true),
        (json!({"sub": "gateway", "client_id": "gateway"}), true),
        (json!({"sub": "someone-else"}), false),
        (json!({"client_id": "strict"}), false),
    ] {
        let subject = partner.token(json!({
            "iss": PARTNER, "sub": "partner-user", "client_id": "frontend",
            "scope": "orders.read", "iat": now, "exp": now + 300, "may_act": may_act,
        }));
        let answer = exchange(
            &server,
            GATEWAY,
            &[
                ("subject_token", &subject),
                ("subject_token_type", JWT),
                ("actor_token", &actor),
                ("actor_token_type", ACCESS),
            ],
        )
        .await;
        if allowed {
            assert_eq!(answer.status, 200, "{may_act}: {}", answer.text);
        } else {
            answer.assert_oauth_error(400, "invalid_request");
        }
    }
}

async fn trusted_and_untrusted_issuers(server: TestServer) {
    let partner = setup(&server).await;
    let now = server.state.now().timestamp();
    let trusted = partner.token(json!({
        "iss": PARTNER, "sub": "partner-user", "client_id": "frontend",
        "scope": "orders.read", "iat": now, "exp": now + 300,
    }));
    let response = exchange(
        &server,
        GATEWAY,
        &[("subject_token", &trusted), ("subject_token_type", JWT)],
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (_, claims) = jwt_parts(response.body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "partner-user");
    assert_eq!(claims["iss"], server.issuer("exchange"));

    let untrusted = partner.token(json!({
        "iss": "https://stranger.example", "sub": "x", "client_id": "frontend",
        "scope": "orders.read", "iat": now, "exp": now + 300,
    }));
    exchange(
        &server,
        GATEWAY,
        &[("subject_token", &untrusted), ("subject_token_type", JWT)],
    )
    .await
    .assert_oauth_error(400, "invalid_request");
    let expired = partner.token(json!({
        "iss": PARTNER, "sub": "partner-user", "client_id": "frontend",
        "scope": "orders.read", "iat": now - 600, "exp": now - 300,
    }));
    exchange(
        &server,
        GATEWAY,
        &[("subject_token", &expired), ("subject_token_type", JWT)],
    )
    .await
    .assert_oauth_error(400, "invalid_request");
    // Signed by someone else while claiming the trusted issuer.
    let impostor = Partner::start().await.token(json!({
        "iss": PARTNER, "sub": "partner-user", "client_id": "frontend",
        "scope": "orders.read", "iat": now, "exp": now + 300,
    }));
    exchange(
        &server,
        GATEWAY,
        &[("subject_token", &impostor), ("subject_token_type", JWT)],
    )
    .await
    .assert_oauth_error(400, "invalid_request");
}

/// RFC 9449 §7: a DPoP-bound subject token is exchanged only with a proof of its key.
async fn bound_subject_tokens_need_their_key(server: TestServer) {
    let _partner = setup(&server).await;
    let key = super::signed_requests::TestKey::new();
    let token_url = server.url("/realms/exchange/connect/token");
    let issued = Response::from(
        server
            .http
            .post(&token_url)
            .basic_auth("frontend", Some("frontend-secret"))
            .header("DPoP", key.proof("POST", &token_url, None, None))
            .form(&[
                ("grant_type", "password"),
                ("username", "erin"),
                ("password", "erin-password"),
                ("scope", "orders.read"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(issued.body["token_type"], "DPoP", "{}", issued.text);
    let bound = issued.body["access_token"].as_str().unwrap().to_string();
    let subject = [
        ("subject_token", bound.as_str()),
        ("subject_token_type", ACCESS),
    ];
    exchange(&server, GATEWAY, &subject)
        .await
        .assert_oauth_error(400, "invalid_grant");
    let mut form = vec![("grant_type", GRANT)];
    form.extend_from_slice(&subject);
    let with_key = Response::from(
        server
            .http
            .post(&token_url)
            .basic_auth(GATEWAY.0, Some(GATEWAY.1))
            .header("DPoP", key.proof("POST", &token_url, None, None))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(with_key.status, 200, "{}", with_key.text);
    let (_, claims) = jwt_parts(with_key.body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["cnf"]["jkt"],
        key.jkt(),
        "the new token is bound too"
    );
}

on_both_backends! {
    bound_subject => bound_subject_tokens_need_their_key,
    policy_allows => allowed_by_policy,
    exchange_refusals => refusals,
    delegation => delegation_adds_nested_act,
    issuers => trusted_and_untrusted_issuers,
}

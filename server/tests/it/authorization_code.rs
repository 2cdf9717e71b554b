//! Interactive OpenID Connect end to end: the `openidconnect` crate as the relying party, a
//! scripted browser signing in through Tessera's pages, and the negative cases named after the
//! OpenID conformance modules.

use std::sync::{Arc, Mutex};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::json;

use super::browser::{Browser, Page};
use super::discovery::{discover, http};
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

pub const WEB_SEED: &str = r#"
[[realms]]
name = "web"

[[realms.scopes]]
name = "orders.read"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://localhost:8080/callback", "http://127.0.0.1/native"]
post_logout_redirect_uris = ["http://localhost:8080/signed-out"]
scopes = ["openid", "profile", "email", "offline_access", "orders.read"]

[[realms.clients]]
client_id = "spa"
public = true
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:3000/cb"]
scopes = ["openid", "profile"]

[[realms.clients]]
client_id = "third-party"
secret = "third-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:9000/cb"]
scopes = ["openid", "email"]
require_consent = true

[[realms.users]]
username = "carol"
password = "carol-password"
email = "carol@example.com"
claims = { name = "Carol Example" }

[[realms.users]]
username = "dave"
password = "dave-password"

[[realms]]
name = "web2"

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "carol"
password = "carol-password"
"#;

const CALLBACK: &str = "http://localhost:8080/callback";

/// The `openidconnect` client as discovery configures it.
pub type RelyingParty = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// A relying party: the `openidconnect` client of `client_id` in `realm`.
pub async fn relying_party(
    server: &TestServer,
    realm: &str,
    client_id: &str,
    secret: Option<&str>,
    redirect: &str,
) -> RelyingParty {
    let metadata = discover(server, realm).await;
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.into()),
        secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap())
}

/// An authorization URL with PKCE, and what the RP must keep.
pub struct Started {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

pub fn start(client: &RelyingParty, scopes: &[&str]) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).into()));
    }
    let (url, state, nonce) = request.url();
    Started {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

/// The code from a final redirect, after checking `state` and `iss` came back.
pub fn code_from(page: &Page, started: &Started, issuer: &str) -> String {
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "a redirect to the client: {}",
        page.body
    );
    assert_eq!(
        page.location_param("state").as_deref(),
        Some(started.state.secret().as_str())
    );
    assert_eq!(
        page.location_param("iss").as_deref(),
        Some(issuer),
        "RFC 9207 iss"
    );
    page.location_param("code").expect("a code")
}

async fn full_flow_with_openidconnect(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &["email", "profile", "offline_access"]);
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(
        login.headers["content-security-policy"],
        "frame-ancestors 'none'"
    );
    assert!(login.body.contains(r#"<form method="post""#));

    // A wrong password re-renders the form and never redirects to the client.
    let wrong = browser.sign_in(&server.base, &login, "carol", "nope").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.location.is_none());
    assert!(wrong.body.contains("Invalid username or password"));

    let done = browser
        .sign_in(&server.base, &wrong, "carol", "carol-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("web"));
    assert!(done.location.as_deref().unwrap().starts_with(CALLBACK));

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&http())
        .await
        .expect("the code is exchanged");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &started.nonce)
        .expect("the ID token verifies");
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("carol@example.com")
    );
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash");
    let (header, raw) = jwt_parts(&id_token.to_string());
    assert_eq!(header["alg"], "RS256", "ID tokens default to RS256");
    assert_eq!(raw["azp"], "webapp");
    assert!(raw["sid"].is_string());
    assert_eq!(raw["amr"], json!(["pwd"]));

    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http())
        .await
        .expect("userinfo answers");
    assert_eq!(userinfo.subject(), claims.subject());
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some("carol@example.com")
    );

    let refreshed = client
        .exchange_refresh_token(
            tokens
                .refresh_token()
                .expect("offline_access gives a refresh token"),
        )
        .unwrap()
        .request_async(&http())
        .await
        .expect("refresh works");
    assert!(refreshed.refresh_token().is_some());

    // Logout with id_token_hint returns to the registered URI with state; the session is over
    // and the refresh tokens born in it are revoked.
    let logout_url = format!(
        "{}/connect/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
        server.issuer("web"),
        id_token,
        "http%3A%2F%2Flocalhost%3A8080%2Fsigned-out"
    );
    let out = browser.get(&logout_url).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        out.location.as_deref(),
        Some("http://localhost:8080/signed-out?state=bye")
    );
    let again = start(&client, &[]);
    let silent = browser.get(&format!("{}&prompt=none", again.url)).await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("login_required")
    );
    let after = server
        .post_form(
            "/realms/web/connect/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refreshed.refresh_token().unwrap().secret()),
            ],
            Some(("webapp", "webapp-secret")),
        )
        .await;
    after.assert_oauth_error(400, "invalid_grant");
}

/// Signs carol in and returns the code of a fresh authorization for `client`.
pub async fn code_for(server: &TestServer, started: &Started) -> String {
    let browser = Browser::new();
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    code_from(&done, started, &server.issuer("web"))
}

pub async fn exchange(
    server: &TestServer,
    code: &str,
    verifier: Option<&str>,
) -> crate::common::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    server
        .post_form(
            "/realms/web/connect/token",
            &form,
            Some(("webapp", "webapp-secret")),
        )
        .await
}

async fn oidcc_codereuse(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &["offline_access"]);
    let code = code_for(&server, &started).await;
    let first = exchange(&server, &code, Some(started.verifier.secret())).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second = exchange(&server, &code, Some(started.verifier.secret())).await;
    second.assert_oauth_error(400, "invalid_grant");
    // Everything the code produced is revoked.
    let access = first.body["access_token"].as_str().unwrap();
    let introspected = server
        .post_form(
            "/realms/web/connect/introspect",
            &[("token", access)],
            Some(("webapp", "webapp-secret")),
        )
        .await;
    assert_eq!(introspected.body, json!({"active": false}));
    let refresh = first.body["refresh_token"].as_str().unwrap();
    server
        .post_form(
            "/realms/web/connect/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Some(("webapp", "webapp-secret")),
        )
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(
        server
            .audit_events("authorization_code.replayed")
            .await
            .len(),
        1
    );
}

async fn oidcc_ensure_registered_redirect_uri(server: TestServer) {
    server.seed(WEB_SEED).await;
    let browser = Browser::new();
    for redirect in [
        "http://localhost:8080/callback/extra",
        "http://LOCALHOST:8080/Callback",
        "http://localhost:8080/callback?x=1",
        "https://attacker.example/callback",
    ] {
        let url = format!(
            "{}/connect/authorize?client_id=webapp&response_type=code&scope=openid&state=s&redirect_uri={}",
            server.issuer("web"),
            form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
        );
        let page = browser.get(&url).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{redirect}");
        assert!(page.location.is_none(), "never redirects for {redirect}");
        assert!(page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    // Unknown client: an error page too.
    let page = browser
        .get(&format!(
            "{}/connect/authorize?client_id=nobody&response_type=code&redirect_uri={}",
            server.issuer("web"),
            "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.location.is_none());
    // A loopback redirect URI may use another port for public clients only (RFC 8252 §7.3);
    // `webapp` is confidential, so it must match exactly (see loopback_redirects.rs).
    let client = relying_party(
        &server,
        "web",
        "webapp",
        Some("webapp-secret"),
        "http://127.0.0.1:51234/native",
    )
    .await;
    let started = start(&client, &[]);
    let page = browser.get(&started.url).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.location.is_none());
}

async fn oidcc_prompt_none_not_logged_in(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let page = Browser::new()
        .get(&format!("{}&prompt=none", started.url))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.as_deref().unwrap().starts_with(CALLBACK));
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        page.location_param("state").as_deref(),
        Some(started.state.secret().as_str())
    );
    assert_eq!(page.location_param("iss"), Some(server.issuer("web")));
}

async fn oidcc_max_age_1(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let browser = Browser::new();
    let first = start(&client, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &first.url, "carol", "carol-password")
        .await;
    let code = code_from(&done, &first, &server.issuer("web"));
    let tokens = exchange(&server, &code, Some(first.verifier.secret())).await;
    let (_, first_claims) = jwt_parts(tokens.body["id_token"].as_str().unwrap());

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let second = start(&client, &[]);
    let page = browser
        .follow(
            &server.base,
            browser.get(&format!("{}&max_age=1", second.url)).await,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "max_age forces a new login");
    assert!(page.body.contains(r#"name="password""#));
    let done = browser
        .sign_in(&server.base, &page, "carol", "carol-password")
        .await;
    let code = code_from(&done, &second, &server.issuer("web"));
    let tokens = exchange(&server, &code, Some(second.verifier.secret())).await;
    let (_, second_claims) = jwt_parts(tokens.body["id_token"].as_str().unwrap());
    assert!(second_claims["auth_time"].as_i64() > first_claims["auth_time"].as_i64());
}

async fn oidcc_request_without_nonce_and_with_unknown_parameter(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    // Drop the nonce and add a parameter Tessera does not know.
    let url: String = {
        let mut parsed = url::Url::parse(&started.url).unwrap();
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "nonce")
            .chain([("extra_unknown".to_string(), "whatever".to_string())])
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(kept);
        parsed.to_string()
    };
    let browser = Browser::new();
    let done = browser
        .authorize_and_sign_in(&server.base, &url, "carol", "carol-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("web"));
    let tokens = exchange(&server, &code, Some(started.verifier.secret())).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let (_, claims) = jwt_parts(tokens.body["id_token"].as_str().unwrap());
    assert!(claims.get("nonce").is_none());
}

async fn oidcc_userinfo_post_body_and_bearer_errors(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &["email"]);
    let code = code_for(&server, &started).await;
    let tokens = exchange(&server, &code, Some(started.verifier.secret())).await;
    let access = tokens.body["access_token"].as_str().unwrap();
    let userinfo = server.url("/realms/web/connect/userinfo");
    let posted = server
        .http
        .post(&userinfo)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let body: serde_json::Value = posted.json().await.unwrap();
    assert_eq!(body["email"], "carol@example.com");

    let missing = server.http.get(&userinfo).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["www-authenticate"],
        r#"Bearer realm="tessera""#
    );
    let bad = server
        .http
        .get(&userinfo)
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(bad.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    // Another realm's token is worthless here.
    let other_realm = server
        .http
        .get(server.url("/realms/web2/connect/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(other_realm.status(), 401);
}

async fn pkce_is_enforced(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    // Wrong verifier, then missing verifier.
    let started = start(&client, &[]);
    let code = code_for(&server, &started).await;
    exchange(&server, &code, Some(&"x".repeat(43)))
        .await
        .assert_oauth_error(400, "invalid_grant");
    let started = start(&client, &[]);
    let code = code_for(&server, &started).await;
    exchange(&server, &code, None)
        .await
        .assert_oauth_error(400, "invalid_grant");

    let browser = Browser::new();
    let base = format!(
        "{}/connect/authorize?client_id=webapp&response_type=code&scope=openid&state=s&redirect_uri={}",
        server.issuer("web"),
        "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    );
    // plain is refused; so is a challenge without a method (which means plain).
    for extra in [
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain",
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "",
    ] {
        let page = browser.get(&format!("{base}{extra}")).await;
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("invalid_request"),
            "{extra}"
        );
        assert_eq!(page.location_param("state").as_deref(), Some("s"));
    }
    // A verifier without a challenge: the confidential client opted out of PKCE? Not allowed by
    // default either, so reach it through a code whose request had no challenge is impossible;
    // the token endpoint still refuses a stray verifier for a code that had none.
    let spa = relying_party(&server, "web", "spa", None, "http://localhost:3000/cb").await;
    let unprotected = browser
        .get(&format!(
            "{}/connect/authorize?client_id=spa&response_type=code&scope=openid&state=t&redirect_uri={}",
            server.issuer("web"),
            "http%3A%2F%2Flocalhost%3A3000%2Fcb"
        ))
        .await;
    assert_eq!(
        unprotected.location_param("error").as_deref(),
        Some("invalid_request"),
        "public clients need PKCE"
    );
    drop(spa);
}

async fn unsupported_response_types_and_form_post(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let browser = Browser::new();
    let token_flow = browser
        .get(
            &started
                .url
                .replace("response_type=code", "response_type=token"),
        )
        .await;
    assert_eq!(
        token_flow.location_param("error").as_deref(),
        Some("unsupported_response_type")
    );

    let form_post = format!("{}&response_mode=form_post", started.url);
    let done = browser
        .authorize_and_sign_in(&server.base, &form_post, "carol", "carol-password")
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains(&format!(r#"action="{CALLBACK}""#)));
    assert!(done.input("code").is_some());
    assert_eq!(
        done.input("state").as_deref(),
        Some(started.state.secret().as_str())
    );
    assert_eq!(done.input("iss"), Some(server.issuer("web")));
}

async fn realms_are_isolated(server: TestServer) {
    server.seed(WEB_SEED).await;
    let browser = Browser::new();
    let web = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&web, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    code_from(&done, &started, &server.issuer("web"));
    // Signed in to `web`, the same browser is not signed in to `web2`.
    let web2 = relying_party(&server, "web2", "webapp", Some("webapp-secret"), CALLBACK).await;
    let other = start(&web2, &[]);
    let page = browser.get(&format!("{}&prompt=none", other.url)).await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("login_required")
    );
    assert_eq!(page.location_param("iss"), Some(server.issuer("web2")));
}

async fn csrf_token_is_required(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let browser = Browser::new();
    let login = browser
        .follow(&server.base, browser.get(&started.url).await)
        .await;
    let interaction = login.input("interaction").unwrap();
    let action = format!("{}{}", server.base, login.form_action().unwrap());
    for csrf in [None, Some("forged")] {
        let mut form = vec![
            ("interaction", interaction.as_str()),
            ("username", "carol"),
            ("password", "carol-password"),
        ];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let page = browser.post(&action, &form).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.location.is_none());
    }
    let page = browser
        .get(&format!("{}&prompt=none", start(&client, &[]).url))
        .await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("login_required"),
        "nobody signed in"
    );
}

async fn consent_is_asked_remembered_and_deniable(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(
        &server,
        "web",
        "third-party",
        Some("third-secret"),
        "http://localhost:9000/cb",
    )
    .await;
    let browser = Browser::new();
    let started = start(&client, &["email"]);
    let consent = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(consent.body.contains(r#"name="decision" value="allow""#));
    assert!(consent.body.contains(r#"name="decision" value="deny""#));
    // prompt=none cannot show it.
    let silent = browser
        .get(&format!("{}&prompt=none", start(&client, &["email"]).url))
        .await;
    assert_eq!(
        silent.location_param("error").as_deref(),
        Some("consent_required")
    );

    let action = format!("{}{}", server.base, consent.form_action().unwrap());
    let csrf = consent.input("csrf").unwrap();
    let interaction = consent.input("interaction").unwrap();
    let denied = browser
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("interaction", &interaction),
                ("decision", "deny"),
            ],
        )
        .await;
    assert_eq!(
        denied.location_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        denied.location_param("state").as_deref(),
        Some(started.state.secret().as_str())
    );

    let allowed = browser
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("interaction", &interaction),
                ("decision", "allow"),
            ],
        )
        .await;
    let done = browser.follow(&server.base, allowed).await;
    code_from(&done, &started, &server.issuer("web"));
    // Remembered: the next authorization goes straight through.
    let next = start(&client, &["email"]);
    let done = browser
        .follow(&server.base, browser.get(&next.url).await)
        .await;
    code_from(&done, &next, &server.issuer("web"));
}

async fn backchannel_logout_tokens_are_delivered(server: TestServer) {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/backchannel", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    server
        .seed(&format!(
            r#"
[[realms]]
name = "web"
[[realms.clients]]
client_id = "bcl-app"
secret = "bcl-secret"
grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
scopes = ["openid"]
backchannel_logout_uri = "{receiver}"
"#
        ))
        .await;
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "bcl-app", Some("bcl-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let browser = Browser::new();
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("web"));
    let tokens = server
        .post_form(
            "/realms/web/connect/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", started.verifier.secret()),
            ],
            Some(("bcl-app", "bcl-secret")),
        )
        .await;
    let id_token = tokens.body["id_token"].as_str().unwrap().to_string();
    let (_, id_claims) = jwt_parts(&id_token);
    let out = browser
        .get(&format!(
            "{}/connect/logout?id_token_hint={id_token}",
            server.issuer("web")
        ))
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.body.contains("signed out"));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let body = loop {
        if let Some(body) = received.lock().unwrap().first().cloned() {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no logout token arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let token = form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .expect("a logout_token");
    super::client_credentials::assert_signed_by_realm(&server, "web", &token).await;
    let (header, claims) = jwt_parts(&token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], server.issuer("web"));
    assert_eq!(claims["aud"], "bcl-app");
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
}

async fn logout_without_hint_asks_and_refuses_unregistered_uris(server: TestServer) {
    server.seed(WEB_SEED).await;
    let browser = Browser::new();
    let confirm = browser
        .get(&format!("{}/connect/logout", server.issuer("web")))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.input("csrf").is_some(),
        "a confirmation form with CSRF protection"
    );
    let bad = browser
        .get(&format!(
            "{}/connect/logout?client_id=webapp&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
            server.issuer("web")
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.location.is_none());
}

on_both_backends! {
    full_flow => full_flow_with_openidconnect,
    codereuse => oidcc_codereuse,
    registered_redirect_uri => oidcc_ensure_registered_redirect_uri,
    prompt_none_not_logged_in => oidcc_prompt_none_not_logged_in,
    max_age_1 => oidcc_max_age_1,
    without_nonce_and_unknown_parameter => oidcc_request_without_nonce_and_with_unknown_parameter,
    userinfo => oidcc_userinfo_post_body_and_bearer_errors,
    pkce => pkce_is_enforced,
    response_types => unsupported_response_types_and_form_post,
    realm_isolation => realms_are_isolated,
    csrf => csrf_token_is_required,
    consent => consent_is_asked_remembered_and_deniable,
    backchannel => backchannel_logout_tokens_are_delivered,
    logout_confirmation => logout_without_hint_asks_and_refuses_unregistered_uris,
}

async fn client_cookie_mode_keeps_two_users_apart(server: TestServer) {
    server
        .seed(
            r#"
[[realms]]
name = "multi"
cookie_mode = "client"

[[realms.clients]]
client_id = "app-a"
secret = "a-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.clients]]
client_id = "app-b"
secret = "b-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]

[[realms.users]]
username = "carol"
password = "carol-password"

[[realms.users]]
username = "dave"
password = "dave-password"
"#,
        )
        .await;
    let browser = Browser::new();
    let a = relying_party(&server, "multi", "app-a", Some("a-secret"), CALLBACK).await;
    let b = relying_party(&server, "multi", "app-b", Some("b-secret"), CALLBACK).await;
    let issuer = server.issuer("multi");
    let started = start(&a, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    code_from(&done, &started, &issuer);
    let started = start(&b, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "dave", "dave-password")
        .await;
    code_from(&done, &started, &issuer);

    // Each app silently gets its own user.
    for (rp, secret, user) in [(&a, "a-secret", "carol"), (&b, "b-secret", "dave")] {
        let started = start(rp, &[]);
        let page = browser.get(&format!("{}&prompt=none", started.url)).await;
        let code = code_from(&page, &started, &issuer);
        let client_id = rp.client_id().as_str().to_string();
        let tokens = server
            .post_form(
                "/realms/multi/connect/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", started.verifier.secret()),
                ],
                Some((&client_id, secret)),
            )
            .await;
        let (_, claims) = jwt_parts(tokens.body["id_token"].as_str().unwrap());
        let expected = super::password::user_id(&server, "multi", user).await;
        assert_eq!(
            claims["sub"], expected,
            "{client_id} is signed in as {user}"
        );
    }
}

on_both_backends! {
    client_cookie_mode => client_cookie_mode_keeps_two_users_apart,
}

async fn prompt_login_and_stray_verifiers(server: TestServer) {
    server.seed(WEB_SEED).await;
    server
        .seed(
            r#"
[[realms]]
name = "web"
[[realms.clients]]
client_id = "legacy"
secret = "legacy-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid"]
require_pkce = false
"#,
        )
        .await;
    let browser = Browser::new();
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let started = start(&client, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    code_from(&done, &started, &server.issuer("web"));
    // Signed in, but prompt=login asks again; login_hint fills the username.
    let again = start(&client, &[]);
    let page = browser
        .follow(
            &server.base,
            browser
                .get(&format!("{}&prompt=login&login_hint=carol", again.url))
                .await,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.input("username").as_deref(), Some("carol"));

    // A client that opted out of PKCE: a code without a challenge refuses a stray verifier.
    let url = format!(
        "{}/connect/authorize?client_id=legacy&response_type=code&scope=openid&state=s&redirect_uri={}",
        server.issuer("web"),
        "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    );
    let done = browser.follow(&server.base, browser.get(&url).await).await;
    let code = done.location_param("code").expect("a code without PKCE");
    server
        .post_form(
            "/realms/web/connect/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &"v".repeat(43)),
            ],
            Some(("legacy", "legacy-secret")),
        )
        .await
        .assert_oauth_error(400, "invalid_grant");
}

on_both_backends! {
    prompt_login => prompt_login_and_stray_verifiers,
}

async fn prompt_consent_asks_every_client(server: TestServer) {
    server.seed(WEB_SEED).await;
    let client = relying_party(&server, "web", "webapp", Some("webapp-secret"), CALLBACK).await;
    let browser = Browser::new();
    let first = start(&client, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &first.url, "carol", "carol-password")
        .await;
    code_from(&done, &first, &server.issuer("web"));
    let asked = start(&client, &[]);
    let page = browser
        .follow(
            &server.base,
            browser.get(&format!("{}&prompt=consent", asked.url)).await,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"name="decision" value="allow""#),
        "prompt=consent shows the consent form"
    );
    let action = format!("{}{}", server.base, page.form_action().unwrap());
    let allowed = browser
        .post(
            &action,
            &[
                ("csrf", &page.input("csrf").unwrap()),
                ("interaction", &page.input("interaction").unwrap()),
                ("decision", "allow"),
            ],
        )
        .await;
    let done = browser.follow(&server.base, allowed).await;
    code_from(&done, &asked, &server.issuer("web"));
}

on_both_backends! {
    prompt_consent => prompt_consent_asks_every_client,
}

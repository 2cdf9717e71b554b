//! Loopback redirect URIs: the port may vary for public (native) clients only (RFC 8252 §7.3);
//! confidential clients match exactly (RFC 9700 §4.1.3).

use reqwest::StatusCode;

use super::authorization_code::{code_from, relying_party, start};
use super::browser::Browser;
use crate::common::TestServer;
use crate::on_both_backends;

const SEED: &str = r#"
[[realms]]
name = "loop"

[[realms.clients]]
client_id = "server-app"
secret = "server-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/cb", "http://[::1]/cb"]
scopes = ["openid"]

[[realms.clients]]
client_id = "native-app"
public = true
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/cb", "http://[::1]/cb"]
scopes = ["openid"]

[[realms.users]]
username = "carol"
password = "carol-password"
"#;

/// Signs carol in through `redirect` of `client_id` and exchanges the code at the same URI.
async fn full_flow(
    server: &TestServer,
    browser: &Browser,
    client_id: &str,
    secret: Option<&str>,
    redirect: &str,
) {
    let rp = relying_party(server, "loop", client_id, secret, redirect).await;
    let started = start(&rp, &[]);
    let done = browser
        .authorize_and_sign_in(&server.base, &started.url, "carol", "carol-password")
        .await;
    let code = code_from(&done, &started, &server.issuer("loop"));
    assert!(
        done.location.as_deref().unwrap().starts_with(redirect),
        "{client_id} is sent back to {redirect}"
    );
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", started.verifier.secret()),
    ];
    let basic = match secret {
        Some(secret) => Some((client_id, secret)),
        None => {
            form.push(("client_id", client_id));
            None
        }
    };
    let tokens = server
        .post_form("/realms/loop/connect/token", &form, basic)
        .await;
    assert_eq!(
        tokens.status, 200,
        "{client_id} at {redirect}: {}",
        tokens.text
    );
}

async fn loopback_ports_vary_for_public_clients_only(server: TestServer) {
    server.seed(SEED).await;
    let browser = Browser::new();

    // A confidential client registered with a port-less loopback URI: another port is an
    // error page, never a redirect.
    for other_port in ["http://127.0.0.1:51234/cb", "http://[::1]:51234/cb"] {
        let rp = relying_party(
            &server,
            "loop",
            "server-app",
            Some("server-secret"),
            other_port,
        )
        .await;
        let page = browser.get(&start(&rp, &[]).url).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{other_port}");
        assert!(page.location.is_none(), "never redirects to {other_port}");
        assert!(page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }

    // Exact matches work for both kinds of client.
    for exact in ["http://127.0.0.1/cb", "http://[::1]/cb"] {
        full_flow(
            &server,
            &browser,
            "server-app",
            Some("server-secret"),
            exact,
        )
        .await;
        full_flow(&server, &browser, "native-app", None, exact).await;
    }

    // A native app still gets its code on whatever port it listens on.
    for other_port in ["http://127.0.0.1:51234/cb", "http://[::1]:51234/cb"] {
        full_flow(&server, &browser, "native-app", None, other_port).await;
    }
}

on_both_backends! {
    loopback_ports => loopback_ports_vary_for_public_clients_only,
}

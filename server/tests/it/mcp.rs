//! MCP end to end: an MCP server built with `rmcp` (streamable HTTP over axum) and protected by
//! `tessera-resource`, and the official TypeScript MCP SDK as the client with its own OAuth
//! support, unmodified (`server/tests/rp/mcp-client.mjs`). The SDK meets a 401, reads the
//! RFC 9728 metadata, discovers the realm, registers itself openly, runs code + PKCE with
//! `resource`, and calls a tool that sees the user the token was issued for.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{json, Value};
use tessera_resource::{AccessToken, Config, RequireToken, Verifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::browser::Browser;
use super::openid_client::rp_script;
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const SEED: &str = r#"
[[realms]]
name = "agents"

[[realms.scopes]]
name = "notes:read"

[[realms.users]]
username = "erin"
password = "erin-password"
email = "erin@example.com"
"#;

/// The scope the MCP server's tools need.
const TOOLS_SCOPE: &str = "notes:read";

/// An MCP server with one tool, `whoami`, answering with the user and client of the token
/// that `tessera-resource` admitted for the request.
#[derive(Clone)]
struct Notes;

impl ServerHandler for Notes {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object", "properties": {}});
        let Value::Object(schema) = schema else {
            unreachable!("an object literal")
        };
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "whoami",
            "Who the access token was issued for",
            Arc::new(schema),
        )]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "whoami" {
            return Err(ErrorData::invalid_params("no such tool", None));
        }
        // rmcp hands tools the HTTP request's parts; the layer left the token there.
        let token = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<AccessToken>())
            .ok_or_else(|| ErrorData::internal_error("no access token on the request", None))?;
        let text = format!(
            "{} via {}",
            token.subject(),
            token.client_id().unwrap_or_default()
        );
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// Starts the MCP server on loopback behind `tessera-resource`; returns its endpoint URL.
async fn start_mcp_server(server: &TestServer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let endpoint = format!("{base}/mcp");
    let mut config = Config::new(server.issuer("agents"), &endpoint);
    config.scopes_supported = vec![TOOLS_SCOPE.into()];
    let verifier = Verifier::new(config).unwrap();
    let mcp = StreamableHttpService::new(
        || Ok(Notes),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new()
        .nest_service("/mcp", mcp)
        .layer(RequireToken::new(verifier.clone()).scopes([TOOLS_SCOPE]))
        .merge(verifier.metadata_router());
    tokio::spawn(async move { axum::serve(listener, app).await });
    endpoint
}

/// The SDK client process and its line-per-message conversation.
struct McpClient {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl McpClient {
    fn start() -> Self {
        let script = std::path::Path::new(rp_script()).with_file_name("mcp-client.mjs");
        let mut child = tokio::process::Command::new("node")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Self {
            child,
            stdin,
            stdout,
        }
    }

    async fn send(&mut self, message: Value) {
        let line = format!("{message}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The client's next message; a panic with its error if it failed.
    async fn receive(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.stdout.next_line())
            .await
            .expect("the MCP client answers within a minute")
            .unwrap()
            .expect("the MCP client said something");
        let message: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("the MCP client said {line}"));
        assert!(
            message.get("error").is_none(),
            "the MCP client failed: {message:#}"
        );
        message
    }
}

async fn the_mcp_sdk_registers_signs_in_and_calls_a_tool(server: TestServer) {
    server.seed(SEED).await;
    let endpoint = start_mcp_server(&server).await;
    // The MCP server is an API of the realm, known by its URL (its RFC 8707 resource), and
    // agents may register themselves and ask for its scope.
    let created = server
        .admin(
            Method::POST,
            "/realms/agents/api-resources",
            Some(json!({"name": endpoint, "scopes": [TOOLS_SCOPE]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/agents",
            Some(json!({
                "registration": "open",
                "self_service_scopes": ["openid", "profile", TOOLS_SCOPE],
            })),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);

    let mut client = McpClient::start();
    let redirect = "http://127.0.0.1:53682/callback";
    client
        .send(json!({"server_url": endpoint, "redirect_url": redirect, "tool": "whoami"}))
        .await;
    let asked = client.receive().await;
    let authorization_url = asked["authorization_url"].as_str().unwrap().to_string();
    let query: Vec<(String, String)> = url::Url::parse(&authorization_url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert!(
        authorization_url.starts_with(&server.url("/realms/agents/connect/authorize")),
        "{authorization_url}"
    );
    assert_eq!(param("resource").as_deref(), Some(endpoint.as_str()));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("scope").as_deref(), Some(TOOLS_SCOPE));
    let client_id = param("client_id").expect("a client_id");

    // The SDK registered a public client; the user signs in and agrees.
    let registered = server
        .admin(
            Method::GET,
            &format!("/realms/agents/clients/{client_id}"),
            None,
        )
        .await;
    assert_eq!(registered.status, 200, "{}", registered.text);
    assert_eq!(registered.body["registered_via"], "open");
    assert_eq!(registered.body["public"], true);
    let browser = Browser::new();
    let consent = browser
        .authorize_and_sign_in(&server.base, &authorization_url, "erin", "erin-password")
        .await;
    assert!(
        consent.body.contains("Tessera MCP test client"),
        "a consent page naming the client: {}",
        consent.body
    );
    let allowed = browser
        .post(
            &format!("{}{}", server.base, consent.form_action().unwrap()),
            &[
                ("csrf", &consent.input("csrf").unwrap()),
                ("interaction", &consent.input("interaction").unwrap()),
                ("decision", "allow"),
            ],
        )
        .await;
    let callback = browser.follow(&server.base, allowed).await;
    let callback_url = callback
        .location
        .clone()
        .filter(|l| l.starts_with(redirect))
        .unwrap_or_else(|| panic!("a redirect to the client: {}", callback.body));

    client.send(json!({"callback_url": callback_url})).await;
    let done = client.receive().await;
    assert_eq!(done["client_id"], client_id);
    assert_eq!(done["tools"], json!(["whoami"]));
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(text, format!("{} via {client_id}", user_id(&server).await));
    let (_, claims) = jwt_parts(done["tokens"]["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], endpoint, "a token for this MCP server only");
    assert_eq!(claims["scope"], TOOLS_SCOPE);
    assert!(client.child.wait().await.unwrap().success());

    // Without a good token the MCP server answers 401 (tokens for other audiences are refused
    // by the same verifier: resource_server.rs).
    let refused = server
        .http
        .post(&endpoint)
        .bearer_auth("not-a-token")
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

/// Erin's subject identifier.
async fn user_id(server: &TestServer) -> String {
    let users = server
        .admin(Method::GET, "/realms/agents/users?username=erin", None)
        .await;
    users.body["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("erin: {}", users.text))
        .to_string()
}

on_both_backends! {
    mcp_sdk => the_mcp_sdk_registers_signs_in_and_calls_a_tool,
}

//! OpenTelemetry traces: the real binary with `TESSERA_OTLP_ENDPOINT` set sends its spans over
//! OTLP/HTTP to a receiver this test runs on loopback, which decodes them with the protocol's
//! own protobuf types. A token request carrying a W3C `traceparent` yields a server span
//! parented by it, a grant span under that, database statement spans and an outgoing fetch
//! span in the same trace; the fetch of a URL a client chose does not tell its server the
//! trace.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Backend, TestServer};
use crate::multiprocess::spawn_process;
use crate::signed_requests::TestKey;

#[derive(Debug, Clone)]
struct SpanSeen {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    /// OTLP span kind: 2 server, 3 client.
    kind: i32,
    attributes: BTreeMap<String, String>,
}

/// What the loopback receiver has seen: decoded spans, and the `traceparent` headers of
/// requests made to its JWK Set.
#[derive(Default)]
struct Seen {
    spans: Vec<SpanSeen>,
    jwks_traceparents: Vec<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(body: &[u8]) -> Vec<SpanSeen> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
    let mut spans = Vec::new();
    for resource in &request.resource_spans {
        for scope in &resource.scope_spans {
            for span in &scope.spans {
                let attributes = span
                    .attributes
                    .iter()
                    .map(|kv| {
                        let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(AnyValue::StringValue(s)) => s.clone(),
                            Some(AnyValue::IntValue(i)) => i.to_string(),
                            Some(AnyValue::BoolValue(b)) => b.to_string(),
                            other => format!("{other:?}"),
                        };
                        (kv.key.clone(), value)
                    })
                    .collect();
                spans.push(SpanSeen {
                    name: span.name.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: span.kind,
                    attributes,
                });
            }
        }
    }
    spans
}

/// Starts the receiver: OTLP at `/v1/traces`, a JWK Set at `/jwks`. Returns its base URL.
async fn receiver(seen: Arc<Mutex<Seen>>, jwks: Value) -> String {
    let traces = seen.clone();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(move |headers: HeaderMap, body: Bytes| {
                let seen = traces.clone();
                async move {
                    assert_eq!(
                        headers.get("content-type").unwrap(),
                        "application/x-protobuf"
                    );
                    seen.lock().unwrap().spans.extend(decode(&body));
                    ""
                }
            }),
        )
        .route(
            "/jwks",
            get(move |headers: HeaderMap| {
                let seen = seen.clone();
                let jwks = jwks.clone();
                async move {
                    if let Some(parent) = headers.get("traceparent") {
                        let parent = parent.to_str().unwrap().to_string();
                        seen.lock().unwrap().jwks_traceparents.push(parent);
                    }
                    axum::Json(jwks)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_receiver_parented_and_propagated() {
    let first = TestServer::start(Backend::Sqlite).await.unwrap();
    let key = TestKey::new();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let base = receiver(seen.clone(), key.jwks()).await;

    let created = first
        .admin(Method::POST, "/realms", Some(json!({"name": "traced"})))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let allowed = first
        .admin(
            Method::PATCH,
            "/realms/traced",
            Some(json!({"allow_private_fetch": true})),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    let client = first
        .admin(
            Method::POST,
            "/realms/traced/clients",
            Some(json!({
                "client_id": "agent",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": format!("{base}/jwks"),
            })),
        )
        .await;
    assert_eq!(client.status, 201, "{}", client.text);

    let second = spawn_process(
        &first,
        &[
            ("TESSERA_OTLP_ENDPOINT", base.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    )
    .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let assertion = key.assertion("agent", &first.issuer("traced"));
    let response = first
        .http
        .post(format!("{}/realms/traced/connect/token", second.base))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "agent"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // Spans are batched; poll until the trace is complete.
    let deadline = Instant::now() + Duration::from_secs(15);
    let trace = loop {
        let spans: Vec<SpanSeen> = {
            let seen = seen.lock().unwrap();
            seen.spans
                .iter()
                .filter(|s| s.trace_id == trace_id)
                .cloned()
                .collect()
        };
        let complete = spans.iter().any(|s| s.name.starts_with("POST "))
            && spans.iter().any(|s| s.name.starts_with("grant "))
            && spans.iter().any(|s| s.name == "GET")
            && spans
                .iter()
                .any(|s| s.attributes.contains_key("db.system.name"));
        if complete {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "the trace did not arrive: {spans:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let request = trace
        .iter()
        .find(|s| s.name == "POST /realms/{realm}/connect/token")
        .expect("the request span is named by its route template");
    assert_eq!(request.kind, 2, "a server span");
    assert_eq!(
        request.parent_span_id, caller_span,
        "parented by the caller"
    );
    assert_eq!(request.attributes["http.response.status_code"], "200");
    assert_eq!(
        request.attributes["url.path"],
        "/realms/traced/connect/token"
    );

    let grant = trace
        .iter()
        .find(|s| s.name == "grant client_credentials")
        .unwrap();
    assert_eq!(grant.parent_span_id, request.span_id);
    assert_eq!(grant.attributes["tessera.realm"], "traced");

    let ids: Vec<&str> = trace.iter().map(|s| s.span_id.as_str()).collect();
    let statements: Vec<&SpanSeen> = trace
        .iter()
        .filter(|s| s.attributes.contains_key("db.system.name"))
        .collect();
    for statement in &statements {
        assert_eq!(statement.attributes["db.system.name"], "sqlite");
        assert_eq!(statement.kind, 3, "a client span");
        assert!(ids.contains(&statement.parent_span_id.as_str()));
        assert!(
            !statement.attributes["db.query.text"].contains("agent"),
            "statements carry their SQL, never the values bound to it"
        );
    }

    let fetch = trace.iter().find(|s| s.name == "GET").unwrap();
    assert_eq!(fetch.kind, 3);
    assert_eq!(fetch.attributes["url.full"], format!("{base}/jwks"));
    assert!(ids.contains(&fetch.parent_span_id.as_str()));
    // A client chose that URL: its server is not told the trace (operator-configured
    // upstreams are).
    let carried = seen.lock().unwrap().jwks_traceparents.clone();
    assert!(carried.is_empty(), "traceparent withheld: {carried:?}");
    drop(second);
}

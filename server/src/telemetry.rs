//! Logs and traces. Logs go to standard error, human-readable or JSON for log shippers.
//! Traces go over OTLP (HTTP, protobuf) when `TESSERA_OTLP_ENDPOINT` is set: a span per
//! request (its parent taken from a W3C `traceparent`), per grant, per database statement and
//! per outgoing fetch (which carries the trace on). Unset, no span is even made on the hot
//! paths: [`exporting`] is one relaxed load.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::MatchedPath;
use axum::http::Request;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::field::Empty;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{ConfigError, LogFormat};

/// The instrumentation scope of every span.
pub const TRACER: &str = "tessera";

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported; code that makes spans only for traces asks first.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] sends what is still queued.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the exporter (it blocks, so off the async workers).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = flushed {
                eprintln!("sending the last traces failed: {e}");
            }
        }
    }
}

/// Sets up logging, and trace export to `otlp_traces_url` when given (the full URL, ending
/// in `/v1/traces`). The log filter applies to logs only: traces take every span at `info`.
pub fn init(
    filter: &str,
    format: LogFormat,
    otlp_traces_url: Option<&str>,
) -> Result<Telemetry, ConfigError> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| ConfigError::new("TESSERA_LOG", e.to_string()))?;
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Pretty => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    }
    .with_filter(filter);
    let provider = otlp_traces_url.map(provider).transpose()?;
    // Spans at `info`; events (which become span events) only from `warn` up.
    let traced = tracing_subscriber::filter::filter_fn(|meta| {
        let floor = if meta.is_span() {
            LevelFilter::INFO
        } else {
            LevelFilter::WARN
        };
        *meta.level() <= floor
    });
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(TRACER))
            .with_filter(traced)
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()
        .map_err(|e| ConfigError::new("TESSERA_LOG_FORMAT", e.to_string()))?;
    if let Some(provider) = &provider {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        opentelemetry::global::set_tracer_provider(provider.clone());
        EXPORTING.store(true, Ordering::Relaxed);
    }
    Ok(Telemetry { provider })
}

/// The exporter: batches sent from a thread of its own, so a slow collector never holds up
/// a request. `OTEL_BSP_*` variables tune the batching, `OTEL_SERVICE_NAME` the name.
fn provider(url: &str) -> Result<SdkTracerProvider, ConfigError> {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|e| ConfigError::new("TESSERA_OTLP_ENDPOINT", e.to_string()))?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("tessera");
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The span of one HTTP request, named by its route template (never the raw path, which
/// may carry tokens in its query), parented by the caller's `traceparent`. Without export it
/// is the `debug` span the logs have always had.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let method = request.method();
    let path = request.uri().path();
    if !exporting() {
        return tracing::debug_span!("request", %method, %path);
    }
    // Any token is a method to hyper: unknown ones share one name, as OpenTelemetry asks.
    let method = known_method(method);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = route,
        url.path = path,
        http.response.status_code = Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
    });
    // Fails only when the span is disabled; it then has nothing to parent.
    let _ = span.set_parent(parent);
    span
}

/// The method's name if it is a standard one, else `_OTHER`.
fn known_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// Records the answer's status on the request span; a 5xx marks it failed.
pub fn record_status<B>(
    response: &axum::http::Response<B>,
    latency: std::time::Duration,
    span: &Span,
) {
    if !exporting() {
        tracing::debug!(
            status = response.status().as_u16(),
            latency_ms = latency.as_millis() as u64,
            "finished processing request"
        );
        return;
    }
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}

/// A span for one grant at the token endpoint (none unless exporting).
pub fn grant_span(realm: &str, grant_type: &str) -> Span {
    if !exporting() {
        return Span::none();
    }
    tracing::info_span!(
        "grant",
        otel.name = %format_args!("grant {grant_type}"),
        oauth.grant_type = grant_type,
        oauth.error = Empty,
        tessera.realm = realm,
    )
}

/// Whether an outgoing request tells its server the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// To servers the operator configured (upstream providers, trusted issuers).
    Carry,
    /// To URLs clients or other parties chose (`jwks_uri`, metadata documents, back-channel
    /// logout): they learn nothing of the server's traces.
    Withhold,
}

/// A span for work that goes on after its request has been answered (back-channel logout
/// deliveries): linked to the request's span rather than holding it open.
pub fn detached_span(name: &'static str) -> Span {
    if !exporting() {
        return Span::none();
    }
    let span = tracing::info_span!(parent: None, "detached", otel.name = name);
    span.follows_from(Span::current());
    span
}

/// Sends an outgoing request in a client span that names the host, with the trace carried
/// on in `traceparent` where `propagation` allows. The span leaves out the query, which may
/// carry secrets.
pub async fn send(
    request: reqwest::RequestBuilder,
    propagation: Propagation,
) -> reqwest::Result<reqwest::Response> {
    if !exporting() {
        return request.send().await;
    }
    let (client, request) = request.build_split();
    let mut request = request?;
    let url = request.url();
    let span = tracing::info_span!(
        "fetch",
        otel.name = %request.method(),
        otel.kind = "client",
        otel.status_code = Empty,
        http.request.method = %request.method(),
        server.address = url.host_str().unwrap_or_default(),
        url.full = %format_args!("{}{}", url.origin().ascii_serialization(), url.path()),
        http.response.status_code = Empty,
    );
    if propagation == Propagation::Carry {
        let context = span.context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(
                &context,
                &mut opentelemetry_http::HeaderInjector(request.headers_mut()),
            )
        });
    }
    let sent = tracing::Instrument::instrument(client.execute(request), span.clone()).await;
    match &sent {
        Ok(response) => {
            span.record("http.response.status_code", response.status().as_u16());
            if response.status().is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
        }
        Err(_) => {
            span.record("otel.status_code", "ERROR");
        }
    }
    sent
}

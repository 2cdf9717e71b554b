//! Database statements as trace spans, installed only when traces are exported: one client
//! span per statement inside a traced request, named by its operation, carrying its SQL text
//! (never the values bound to it, which may be hashes or personal data).

use std::time::SystemTime;

use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::KeyValue;
use sea_orm::metric::Info;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{DatabaseKind, Store};

impl Store {
    /// Makes a span of every statement run inside a traced request from now on (clones
    /// made before this call do not).
    pub fn trace_statements(&mut self) {
        let system = match self.kind {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgresql",
        };
        self.db
            .set_metric_callback(move |info: &Info<'_>| record(info, system));
        if let Some(writer) = &mut self.writer {
            writer.set_metric_callback(move |info: &Info<'_>| record(info, system));
        }
    }
}

/// The span of a statement that just ran; SeaORM reports it once it is done, so the span is
/// dated back by its duration. Statements outside any request (background jobs) are left
/// out rather than each starting a trace of its own.
fn record(info: &Info<'_>, system: &'static str) {
    let parent = tracing::Span::current().context();
    if !parent.span().span_context().is_valid() {
        return;
    }
    // Span times are wall-clock times like those the SDK stamps on every other span; no
    // decision rests on them, so the injected clock has no say.
    #[allow(clippy::disallowed_methods)]
    let end = SystemTime::now();
    let start = end.checked_sub(info.elapsed).unwrap_or(end);
    let sql = &info.statement.sql;
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or("statement")
        .to_ascii_uppercase();
    static TRACER: std::sync::OnceLock<opentelemetry::global::BoxedTracer> =
        std::sync::OnceLock::new();
    let tracer = TRACER.get_or_init(|| opentelemetry::global::tracer("tessera"));
    let builder = tracer
        .span_builder(operation.clone())
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("db.query.text", sql.clone()),
        ]);
    let mut span = tracer.build_with_context(builder, &parent);
    if info.failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

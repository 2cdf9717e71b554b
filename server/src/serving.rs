//! The HTTP listener: accepts connections up to a cap, closes the slow and the idle ones, and
//! runs every request on its own task so a client that goes away cannot cancel a handler
//! half-way through a database transaction.
//!
//! axum::serve offers none of these limits, so connections are driven here with hyper's
//! HTTP/1 connection builder.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::FutureExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// Default cap on open client connections: well under the usual 65536 descriptor limit of a
/// service, leaving room for the database pool, files and outgoing requests.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How the listener bounds what clients can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Connections served at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Time from the first byte of a request head to its end (slowloris).
    pub header_read_timeout: Duration,
    /// Time a connection may wait for its next request, from its opening or from its previous
    /// response, before it is closed.
    pub idle_timeout: Duration,
    /// After a stop signal: how long readiness says 503 while the listener still accepts, so
    /// load balancers take the process out before it stops taking connections.
    pub shutdown_delay: Duration,
    /// After the listener closes: how long accepted requests get to finish before the
    /// connections still open are cut.
    pub drain_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            shutdown_delay: Duration::ZERO,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Accepts and serves connections until `shutdown` completes, then asks every connection to
/// finish its current request and waits until all are closed, or until the drain timeout.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, say: back off instead of spinning on the error.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            // Over the cap: closing at once keeps descriptors and memory bounded, and tells
            // the client to go elsewhere sooner than a queue would.
            tracing::debug!(%remote, "connection refused: connection limit reached");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            serve_connection(stream, remote, router, limits, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it is closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain_timeout, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            open = limits.max_connections - permits.available_permits(),
            drain_timeout_s = limits.drain_timeout.as_secs(),
            "connections still open after the drain timeout are cut"
        );
    }
    Ok(())
}

/// What the watchdog of one connection needs to know about it.
#[derive(Debug)]
struct Activity {
    /// Requests whose handler has not finished.
    in_flight: usize,
    /// Since when the connection has been waiting for a request.
    waiting_since: Instant,
    /// When the first byte of the awaited request arrived.
    head_started: Option<Instant>,
}

type Shared = Arc<Mutex<Activity>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Activity> {
    // The state is plain data; a panic elsewhere cannot leave it inconsistent.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: ServeLimits,
    mut stop: watch::Receiver<bool>,
) {
    let shared: Shared = Arc::new(Mutex::new(Activity {
        in_flight: 0,
        waiting_since: Instant::now(),
        head_started: None,
    }));
    let io = TokioIo::new(Watched {
        inner: stream,
        shared: shared.clone(),
    });
    let service = hyper::service::service_fn({
        let shared = shared.clone();
        move |request: Request<Incoming>| {
            let router = router.clone();
            let shared = shared.clone();
            async move {
                {
                    let mut activity = lock(&shared);
                    activity.in_flight += 1;
                    activity.head_started = None;
                }
                let _done = RequestDone(shared);
                Ok::<_, Infallible>(handle(router, remote, request).await)
            }
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let (deadline, _) = next_deadline(&lock(&shared), &limits);
        tokio::select! {
            // The connection is what wakes this task almost every time: poll it first, and skip
            // select!'s random start.
            biased;
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%remote, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                let (deadline, head_late) = next_deadline(&lock(&shared), &limits);
                if deadline > Instant::now() || lock(&shared).in_flight > 0 {
                    continue;
                }
                if head_late || closing {
                    // A head trickling in too slowly (or a close that does not finish): drop
                    // the socket; there is no request to answer.
                    tracing::debug!(%remote, "closing a connection: request head too slow");
                    return;
                }
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            changed = stop.changed(), if !closing => {
                let _ = changed;
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// When the watchdog must look again, and whether that deadline is a late request head.
fn next_deadline(activity: &Activity, limits: &ServeLimits) -> (Instant, bool) {
    let now = Instant::now();
    if activity.in_flight > 0 {
        // A handler runs: nothing to time out; look again later.
        return (now + limits.idle_timeout, false);
    }
    match activity.head_started {
        Some(started) => (started + limits.header_read_timeout, true),
        // A head may start any moment and its own deadline be sooner than the idle one.
        None => (
            (activity.waiting_since + limits.idle_timeout).min(now + limits.header_read_timeout),
            false,
        ),
    }
}

/// Marks the end of a request's handling, even when its future is dropped.
struct RequestDone(Shared);

impl Drop for RequestDone {
    fn drop(&mut self) {
        let mut activity = lock(&self.0);
        activity.in_flight = activity.in_flight.saturating_sub(1);
        activity.waiting_since = Instant::now();
        activity.head_started = None;
    }
}

/// Runs one request to its end even if its caller stops waiting: if the client disconnects,
/// hyper drops the future that waits here, and the handler (with any transaction it holds) is
/// then moved onto a task of its own to finish. While the client waits nothing is spawned, so
/// the common case costs one allocation, not a task and a wake-up.
async fn handle(router: Router, remote: SocketAddr, mut request: Request<Incoming>) -> Response {
    request.extensions_mut().insert(ConnectInfo(remote));
    let handler = AssertUnwindSafe(router.oneshot(request)).catch_unwind();
    match (FinishOnDrop {
        inner: Some(Box::pin(handler)),
    })
    .await
    {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => {
            tracing::error!("a request handler panicked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A future that, when dropped before it is done, finishes on a task of its own.
struct FinishOnDrop<F: Future + Send + 'static>
where
    F::Output: Send,
{
    inner: Option<Pin<Box<F>>>,
}

impl<F: Future + Send + 'static> Future for FinishOnDrop<F>
where
    F::Output: Send,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Pending;
        };
        let output = std::task::ready!(inner.as_mut().poll(cx));
        self.inner = None;
        Poll::Ready(output)
    }
}

impl<F: Future + Send + 'static> Drop for FinishOnDrop<F>
where
    F::Output: Send,
{
    fn drop(&mut self) {
        if let Some(unfinished) = self.inner.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = unfinished.await;
                });
            }
        }
    }
}

/// The TCP stream, noting when bytes of an awaited request head arrive.
struct Watched {
    inner: TcpStream,
    shared: Shared,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut activity = lock(&self.shared);
            if activity.in_flight == 0 && activity.head_started.is_none() {
                activity.head_started = Some(Instant::now());
            }
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

//! Hostile connections: idle keep-alive sockets, slowloris request heads and floods past the
//! connection cap are closed by the server within its limits, while normal requests go on.

use std::time::{Duration, Instant};

use server::serving::ServeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Backend, Options, TestServer, BILLING, SERVICES_SEED};

const LIMITS: ServeLimits = ServeLimits {
    max_connections: 200,
    header_read_timeout: Duration::from_secs(1),
    idle_timeout: Duration::from_secs(2),
    shutdown_delay: Duration::ZERO,
    drain_timeout: Duration::from_secs(30),
};

/// No test waits on a socket longer than this.
const GIVE_UP: Duration = Duration::from_secs(10);

async fn start(backend: Backend) -> Option<TestServer> {
    let server = TestServer::start_with(
        backend,
        Options {
            serve: LIMITS,
            ..Options::default()
        },
    )
    .await?;
    server.seed(SERVICES_SEED).await;
    Some(server)
}

fn address(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Waits until the server closes `stream` (EOF or reset); the time it took, or `None` when it
/// stayed open for [`GIVE_UP`].
async fn closed_after(mut stream: TcpStream, opened: Instant) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    let deadline = opened + GIVE_UP;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed()),
            // A response (to a slowloris head, say): keep waiting for the close.
            Ok(Ok(_)) => continue,
        }
    }
}

/// Sends a request head one header byte at a time, every 200 ms, never finishing it; returns
/// when the server closes the socket, with the time it took.
async fn slowloris(address: String) -> Option<Duration> {
    let mut stream = TcpStream::connect(&address).await.ok()?;
    let opened = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .ok()?;
    let mut buf = [0u8; 256];
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    while opened.elapsed() < GIVE_UP {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Some(opened.elapsed()),
                Ok(_) => {}
            },
            _ = ticker.tick() => {
                if stream.write_all(b"X").await.is_err() {
                    return Some(opened.elapsed());
                }
            }
        }
    }
    None
}

async fn token_request_latency(server: &TestServer) -> Duration {
    let started = Instant::now();
    let token = server
        .client_token("services", BILLING.0, BILLING.1, Some("orders.read"))
        .await;
    assert!(!token.is_empty());
    started.elapsed()
}

async fn idle_and_slow_connections_are_closed(server: TestServer) {
    let address = address(&server);
    // Warm the caches so the latency below measures serving, not first loads.
    token_request_latency(&server).await;

    let opened = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..150 {
        let stream = TcpStream::connect(&address).await.expect("connect");
        idle.push(tokio::spawn(closed_after(stream, Instant::now())));
    }
    let slow: Vec<_> = (0..20)
        .map(|_| tokio::spawn(slowloris(address.clone())))
        .collect();

    // Normal requests keep their latency meanwhile.
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        worst = worst.max(token_request_latency(&server).await);
    }
    assert!(
        worst < Duration::from_millis(500),
        "token requests slowed to {worst:?}"
    );

    let mut slow_times = Vec::new();
    for handle in slow {
        let took = handle.await.unwrap().expect("slowloris connection closed");
        slow_times.push(took);
    }
    let slowest = slow_times.iter().max().copied().unwrap();
    assert!(
        slowest >= LIMITS.header_read_timeout && slowest < LIMITS.header_read_timeout * 2,
        "slowloris heads closed after {slow_times:?}, header read timeout {:?}",
        LIMITS.header_read_timeout
    );

    let mut idle_times = Vec::new();
    for handle in idle {
        idle_times.push(handle.await.unwrap().expect("idle connection closed"));
    }
    let first = idle_times.iter().min().copied().unwrap();
    let last = idle_times.iter().max().copied().unwrap();
    assert!(
        first >= LIMITS.idle_timeout - Duration::from_millis(100),
        "idle connections closed early: {first:?}"
    );
    assert!(
        last < LIMITS.idle_timeout + Duration::from_secs(2),
        "idle connections closed late: {last:?}"
    );
    eprintln!(
        "150 idle connections closed after {first:?}..{last:?}; 20 slowloris heads after {:?}..{slowest:?}; worst token request {worst:?}; total {:?}",
        slow_times.iter().min().unwrap(),
        opened.elapsed()
    );

    // A keep-alive connection idles out after a response too, and can be reused before that.
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let ok = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(ok.status(), 200);
    }
}

async fn connections_past_the_cap_are_closed_at_once(server: TestServer) {
    let address = address(&server);
    let mut held = Vec::new();
    for _ in 0..LIMITS.max_connections + 100 {
        let stream = TcpStream::connect(&address).await.expect("connect");
        held.push(tokio::spawn(closed_after(stream, Instant::now())));
    }
    let mut times = Vec::new();
    for handle in held {
        times.push(handle.await.unwrap().expect("every connection is closed"));
    }
    let quick = times
        .iter()
        .filter(|t| **t < Duration::from_millis(500))
        .count();
    let idled = times
        .iter()
        .filter(|t| **t >= LIMITS.idle_timeout - Duration::from_millis(100))
        .count();
    assert!(
        quick >= 100,
        "only {quick} of the connections past the cap were closed at once"
    );
    assert!(
        idled <= LIMITS.max_connections,
        "{idled} connections were held, the cap is {}",
        LIMITS.max_connections
    );
    eprintln!(
        "{} connections: {quick} closed at once (past the cap), {idled} held until the idle timeout",
        times.len()
    );

    // Once they are gone, the server serves again.
    let latency = token_request_latency(&server).await;
    assert!(latency < Duration::from_secs(1), "{latency:?}");
}

macro_rules! with_limits {
    ($($name:ident => $body:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::common::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$body(super::start(Backend::Sqlite).await.unwrap()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match super::start(Backend::Postgres).await {
                        Some(server) => super::$body(server).await,
                        None => eprintln!("skipped: {} is not set", crate::common::PG_ENV),
                    }
                }
            }
        )*
    };
}

with_limits! {
    idle_and_slowloris => idle_and_slow_connections_are_closed,
    connection_cap => connections_past_the_cap_are_closed_at_once,
}

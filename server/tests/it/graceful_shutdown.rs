//! SIGTERM to the real binary under load: readiness turns 503 at once, the listener keeps
//! accepting for the shutdown delay, every request of the load is answered in full, a request
//! that was half-sent when the signal came is answered in full, and the process exits cleanly
//! within the drain time.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::multiprocess::spawn_process;
use crate::common::{basic_header, TestServer, BILLING, SERVICES_SEED};
use crate::on_both_backends;

async fn sigterm_drains_accepted_requests(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let mut process = spawn_process(
        &server,
        &[
            ("TESSERA_SHUTDOWN_DELAY", "1"),
            ("TESSERA_SHUTDOWN_DRAIN", "10"),
        ],
    )
    .await;
    let base = process.base.clone();
    let token_request = || {
        server
            .http
            .post(format!("{base}/realms/services/connect/token"))
            .header("Authorization", basic_header(BILLING.0, BILLING.1))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };

    // A request whose body is still on its way when the signal comes.
    let address = base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let body = "grant_type=client_credentials";
    let head = format!(
        "POST /realms/services/connect/token HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        basic_header(BILLING.0, BILLING.1),
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..10]).await.unwrap();

    // Load: eight callers sending token requests back to back until readiness says the
    // process is draining (as a load balancer would stop sending).
    let draining = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (http, base, draining) = (server.http.clone(), base.clone(), draining.clone());
            tokio::spawn(async move {
                let mut answered = Vec::new();
                let mut failures = Vec::new();
                while !draining.load(Ordering::Relaxed) {
                    let sent = http
                        .post(format!("{base}/realms/services/connect/token"))
                        .header("Authorization", basic_header(BILLING.0, BILLING.1))
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 200 => answered.push(Instant::now()),
                        Ok(r) => failures.push(format!("status {}", r.status())),
                        Err(e) => failures.push(format!("{e:?}")),
                    }
                }
                (answered, failures)
            })
        })
        .collect();
    // The head is read before the signal: the request has been accepted.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // Readiness turns 503 while the listener still takes requests (the shutdown delay).
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let ready = server
            .http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap();
        if ready.status() == 503 {
            let body: serde_json::Value = ready.json().await.unwrap();
            assert_eq!(body["status"], "draining");
            draining.store(true, Ordering::Relaxed);
            break;
        }
        assert!(Instant::now() < deadline, "readiness did not turn 503");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let during_delay = token_request().await.unwrap();
    assert_eq!(during_delay.status(), 200, "still served during the delay");
    let (mut answered, mut after_signal) = (0, 0);
    for caller in callers {
        let (times, failures) = tokio::time::timeout(Duration::from_secs(15), caller)
            .await
            .expect("every caller finishes")
            .unwrap();
        assert!(
            failures.is_empty(),
            "requests of the load failed: {failures:?}"
        );
        answered += times.len();
        after_signal += times.iter().filter(|t| **t > signalled).count();
    }
    assert!(answered >= 8, "the load ran: {answered} answers");
    assert!(after_signal > 0, "the load overlapped the signal");

    // Past the delay the listener is closed: new connections are refused while the half-sent
    // request is still in flight, and that request still completes.
    let deadline = Instant::now() + Duration::from_secs(3);
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener never closed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    slow.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_string(&mut answer))
        .await
        .expect("the in-flight request is answered")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("access_token"), "{answer}");

    // The process has stopped taking connections and exits cleanly within the drain time.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the process did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
}

on_both_backends! {
    sigterm => sigterm_drains_accepted_requests,
}

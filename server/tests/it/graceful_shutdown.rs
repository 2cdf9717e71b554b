//! SIGTERM to the real binary: readiness turns 503 at once, the listener keeps accepting for
//! the shutdown delay, a request that was half-sent when the signal came is answered in full,
//! and the process exits cleanly within the drain time.

use std::process::Command;
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
    // The head is read before the signal: the request has been accepted.
    tokio::time::sleep(Duration::from_millis(200)).await;

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
            break;
        }
        assert!(Instant::now() < deadline, "readiness did not turn 503");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let during_delay = token_request().await.unwrap();
    assert_eq!(during_delay.status(), 200, "still served during the delay");

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

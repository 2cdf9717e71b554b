//! Email (CONTRACT §8): a realm's SMTP settings through the admin API (the password write-only),
//! and "forgot password" against a real SMTP conversation with a small receiver started here on
//! loopback: the link arrives and works once, an unknown address gets the same page and no mail,
//! an expired link is refused.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

use super::browser::Browser;
use crate::common::TestServer;
use crate::on_both_backends;

const SEED: &str = r#"
[[realms]]
name = "mailer"

[[realms.users]]
username = "judy"
password = "judy-password"
email = "Judy@Example.com"

[[realms.users]]
username = "kim"
password = "kim-password"

[[realms.clients]]
client_id = "cli"
secret = "cli-secret"
grant_types = ["password"]
scopes = ["profile"]
"#;

/// A minimal SMTP receiver (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that keeps
/// every message it is given.
struct SmtpReceiver {
    port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpReceiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (kept, notify) = (messages.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, notify) = (kept.clone(), notify.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 receiver ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                kept.lock().unwrap().push(data.take().unwrap());
                                notify.notify_waiters();
                                let _ = write.write_all(b"250 kept\r\n").await;
                            } else {
                                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-receiver\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
                            "AUTH" => b"235 accepted\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(answer).await;
                    }
                });
            }
        });
        Self {
            port,
            messages,
            arrived,
            task,
        }
    }

    fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    /// Waits until `n` messages have arrived, and returns the last.
    async fn nth(&self, n: usize) -> String {
        let wait = async {
            loop {
                let notified = self.arrived.notified();
                if self.count() >= n {
                    return self.messages.lock().unwrap()[n - 1].clone();
                }
                notified.await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(15), wait)
            .await
            .expect("the mail arrives")
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Asks for a reset link for `identifier`; the page is the same whatever it names.
async fn forgot(server: &TestServer, identifier: &str) -> String {
    let browser = Browser::new();
    let form = browser
        .get(&server.url("/realms/mailer/forgot-password"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let done = browser
        .post(
            &server.url("/realms/mailer/forgot-password"),
            &[
                ("csrf", form.input("csrf").unwrap().as_str()),
                ("identifier", identifier),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    done.body
}

/// The body as a mail client shows it: quoted-printable decoded (RFC 2045 §6.7).
fn decoded(message: &str) -> String {
    let joined = message.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn link_in(message: &str) -> String {
    let message = decoded(message);
    let start = message.find("http://").expect("a link in the mail");
    message[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

async fn a_forgotten_password_is_reset_once_by_mail(server: TestServer) {
    server.seed(SEED).await;
    let receiver = SmtpReceiver::start().await;

    // Settings: validated, the password write-only.
    let bad = server
        .admin(
            reqwest::Method::PUT,
            "/realms/mailer/smtp",
            Some(json!({"host": "", "port": 0, "security": "ssl", "from": "nobody"})),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    for field in ["host", "port", "security", "from"] {
        assert!(
            bad.body["fields"][field].is_string(),
            "{field}: {}",
            bad.text
        );
    }
    let missing = server
        .admin(reqwest::Method::GET, "/realms/mailer/smtp", None)
        .await;
    assert_eq!(missing.status, 404);
    let set = server
        .admin(
            reqwest::Method::PUT,
            "/realms/mailer/smtp",
            Some(json!({
                "host": "127.0.0.1", "port": receiver.port, "security": "none",
                "username": "relay", "password": "relay-secret",
                "from": "Tessera <no-reply@example.com>"
            })),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["has_password"], true);
    assert!(!set.text.contains("relay-secret"), "never shown");
    let events = server.audit_events("realm.smtp_set").await;
    assert_eq!(events.len(), 1);
    assert!(!events[0].detail.to_string().contains("relay-secret"));

    // An unknown address: the same page, no mail, no link stored.
    let unknown = forgot(&server, "nobody@example.com").await;
    let known = forgot(&server, "judy@example.com").await;
    assert_eq!(
        unknown,
        known.replace(|_: char| false, ""),
        "the same answer"
    );
    let message = receiver.nth(1).await;
    assert!(
        message.contains("To: judy@example.com") || message.contains("To: Judy@Example.com"),
        "{message}"
    );
    assert!(message.contains("Subject: Set a new password"), "{message}");
    let link = link_in(&message);
    assert!(
        link.starts_with(&server.url("/realms/mailer/reset-password?token=")),
        "{link}"
    );
    assert_eq!(receiver.count(), 1, "no mail for the unknown address");
    let stored = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::action_token::Entity::find()
            .count(&server.state.caches.store.db)
            .await
            .unwrap()
    };
    assert_eq!(stored, 1);

    // The link: a typo keeps it, the right password uses it up.
    let browser = Browser::new();
    let form = browser.get(&link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let post = |new: &'static str, again: &'static str| {
        let (browser, form, server) = (&browser, &form, &server);
        async move {
            browser
                .post(
                    &server.url("/realms/mailer/reset-password"),
                    &[
                        ("csrf", form.input("csrf").unwrap().as_str()),
                        ("token", form.input("token").unwrap().as_str()),
                        ("new_password", new),
                        ("confirm_password", again),
                    ],
                )
                .await
        }
    };
    assert_eq!(
        post("judy-new-password", "judy-other").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(post("short", "short").await.status, StatusCode::BAD_REQUEST);
    let done = post("judy-new-password", "judy-new-password").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("reset-done"));
    let again = post("judy-third-password", "judy-third-password").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a link works once");
    assert_eq!(browser.get(&link).await.status, StatusCode::BAD_REQUEST);

    let grant = |password: &'static str| {
        let server = &server;
        async move {
            server
                .post_form(
                    "/realms/mailer/connect/token",
                    &[
                        ("grant_type", "password"),
                        ("username", "judy"),
                        ("password", password),
                    ],
                    Some(("cli", "cli-secret")),
                )
                .await
        }
    };
    assert_eq!(grant("judy-new-password").await.status, 200);
    grant("judy-password")
        .await
        .assert_oauth_error(400, "invalid_grant");

    // An expired link is refused and changes nothing.
    forgot(&server, "judy").await;
    let link = link_in(&receiver.nth(2).await);
    server
        .sql("UPDATE action_tokens SET expires_at = created_at WHERE used_at IS NULL")
        .await;
    let expired = browser.get(&link).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(expired.body.contains("expired"));
    assert_eq!(grant("judy-new-password").await.status, 200);
}

async fn an_address_is_verified_by_its_link(server: TestServer) {
    server.seed(SEED).await;
    let judy = server.user_id("mailer", "judy").await;
    let kim = server.user_id("mailer", "kim").await;
    let ask = |id: String| {
        let server = &server;
        async move {
            server
                .admin(
                    reqwest::Method::POST,
                    &format!("/realms/mailer/users/{id}/required-actions"),
                    Some(json!(["verify_email"])),
                )
                .await
        }
    };
    // Without SMTP settings, or without an address, there is nothing to verify with.
    assert_eq!(ask(judy.clone()).await.status, 422);
    let receiver = SmtpReceiver::start().await;
    let set = server
        .admin(
            reqwest::Method::PUT,
            "/realms/mailer/smtp",
            Some(
                json!({"host": "127.0.0.1", "port": receiver.port, "security": "none",
                    "from": "no-reply@example.com"}),
            ),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(ask(kim).await.status, 422, "kim has no address");
    assert_eq!(ask(judy.clone()).await.status, 200);

    // Signing in (to the account console) waits for the link.
    let browser = Browser::new();
    let login = browser
        .follow(
            &server.base,
            browser.get(&server.url("/realms/mailer/account")).await,
        )
        .await;
    let waiting = browser
        .sign_in(&server.base, &login, "judy", "judy-password")
        .await;
    assert!(
        waiting.url.contains("/realms/mailer/verify-email?"),
        "{}",
        waiting.url
    );
    assert!(waiting.body.contains("Judy@Example.com"));
    // Reloading does not send another mail while the link is live.
    browser.get(&waiting.url).await;
    let message = receiver.nth(1).await;
    assert!(message.contains("Subject: Verify your email address"));
    let action = server.url("/realms/mailer/verify-email");
    let fields = |choice: &'static str| {
        vec![
            ("csrf", waiting.input("csrf").unwrap()),
            ("interaction", waiting.input("interaction").unwrap()),
            ("action", choice.to_string()),
        ]
    };
    let press = |choice: &'static str| {
        let (browser, action, fields) = (&browser, &action, fields(choice));
        async move {
            let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post(action, &form).await
        }
    };
    let early = press("continue").await;
    assert_eq!(early.status, StatusCode::CONFLICT, "not verified yet");
    assert_eq!(receiver.count(), 1);

    // The link, opened in another browser, verifies the address once.
    let link = link_in(&message);
    let elsewhere = Browser::new();
    let verified = elsewhere.get(&link).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert_eq!(elsewhere.get(&link).await.status, StatusCode::BAD_REQUEST);
    let done = press("continue").await;
    let console = browser.follow(&server.base, done).await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.body);
    assert!(
        console.url.ends_with("/realms/mailer/account"),
        "{}",
        console.url
    );
    let user = server
        .admin(
            reqwest::Method::GET,
            &format!("/realms/mailer/users/{judy}"),
            None,
        )
        .await;
    assert_eq!(user.body["email_verified"], true);
    assert_eq!(user.body["required_actions"], json!([]));
    assert_eq!(server.audit_events("user.email_verified").await.len(), 1);
}

on_both_backends! {
    forgot_password => a_forgotten_password_is_reset_once_by_mail,
    verify_email => an_address_is_verified_by_its_link,
}

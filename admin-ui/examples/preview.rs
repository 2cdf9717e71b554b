//! The console on the in-memory fake port used by the tests, for looking at pages without a
//! database: `cargo run -p admin-ui --example preview`, then sign in at
//! http://127.0.0.1:7798/admin/login as `admin` / `admin-password-123`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use admin_model::{Actor, AdminPort, ClientInput, UserInput};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = Arc::new(support::FakePort::new());
    let admin = Actor {
        subject: "admin-id".into(),
        name: "admin".into(),
    };
    // A few items so the lists are not all empty.
    let _ = port
        .create_client(
            &admin,
            "default",
            ClientInput {
                client_id: Some("shop-web".into()),
                display_name: Some(Some("The Shop".into())),
                grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
                redirect_uris: Some(vec!["https://shop.example/callback".into()]),
                scopes: Some(vec!["openid".into(), "profile".into()]),
                ..ClientInput::default()
            },
        )
        .await;
    let _ = port
        .create_user(
            &admin,
            "default",
            UserInput {
                username: Some("alice".into()),
                email: Some(Some("alice@example.com".into())),
                roles: Some(vec!["staff".into()]),
                ..UserInput::default()
            },
        )
        .await;
    let app = admin_ui::router::<()>(admin_ui::Console {
        port,
        sessions: Arc::new(support::MemoryStore::default()),
        secure_cookies: false,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:7798").await?;
    println!("http://127.0.0.1:7798/admin/login  (admin / admin-password-123)");
    axum::serve(listener, app).await
}

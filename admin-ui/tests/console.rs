//! The console driven in process against a fake admin port.

mod support;

use axum::http::StatusCode;
use support::Browser;

#[tokio::test]
async fn sign_in_page_renders() {
    let mut b = Browser::new();
    let r = b.get("/admin/login").await;
    println!("{}", r.body);
    assert_eq!(r.status, StatusCode::OK);
}

//! The sign-in page: realm `master` users holding the role `admin`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;

use crate::render;
use crate::Ctx;

#[derive(Clone, Default)]
pub struct LoginData {
    pub username: String,
    pub error: Option<String>,
}

pub async fn show(State(_ctx): State<Ctx>) -> Response {
    render::page(StatusCode::OK, LoginData::default(), login_page).await
}

fn login_page(data: LoginData) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <title>"Sign in · Tessera"</title>
                <link rel="stylesheet" href="/admin/assets/console.css"/>
            </head>
            <body>
                <main class="card">
                    <h1>"Sign in"</h1>
                    {data.error.map(|e| view! { <p class="form-error">{e}</p> })}
                    <form method="post">
                        <label for="username">"Username"</label>
                        <input type="text" id="username" name="username" value=data.username/>
                        <label for="password">"Password"</label>
                        <input type="password" id="password" name="password"/>
                        <button type="submit">"Sign in"</button>
                    </form>
                </main>
            </body>
        </html>
    }
}

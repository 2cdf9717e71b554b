//! Test support: the fake port, an in-memory session store, and a tiny cookie-keeping client
//! that drives the console router in process.

#![allow(dead_code)]

pub mod fake;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use admin_ui::{router, Console};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

pub use fake::FakePort;

#[derive(Debug, Default)]
pub struct MemoryStore(pub Mutex<HashMap<Id, Record>>);

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut map = self.0.lock().unwrap();
        while map.contains_key(&record.id) {
            record.id = Id::default();
        }
        map.insert(record.id, record.clone());
        Ok(())
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.lock().unwrap().insert(record.id, record.clone());
        Ok(())
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.lock().unwrap().remove(id);
        Ok(())
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub body: String,
}

impl Reply {
    /// The value of the first hidden `csrf` input.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .expect("a csrf input");
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

pub struct Browser {
    pub app: Router,
    pub cookie: Option<String>,
    pub port: Arc<FakePort>,
    pub store: Arc<MemoryStore>,
}

impl Browser {
    pub fn new() -> Self {
        let port = Arc::new(FakePort::new());
        let store = Arc::new(MemoryStore::default());
        let app = router(Console {
            port: port.clone(),
            sessions: store.clone(),
            secure_cookies: false,
        });
        Self {
            app,
            cookie: None,
            port,
            store,
        }
    }

    async fn send(&mut self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let set_cookie: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookie {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            assert_eq!(name, "tessera_admin");
            self.cookie = (!value.is_empty()).then(|| value.to_string());
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            location,
            set_cookie,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let mut request = Request::builder().uri(path);
        if let Some(c) = &self.cookie {
            request = request.header(header::COOKIE, format!("tessera_admin={c}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = &self.cookie {
            request = request.header(header::COOKIE, format!("tessera_admin={c}"));
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Posts `form` with the CSRF token of the page at `page`.
    pub async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Reply {
        let csrf = self.get(page).await.csrf();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }

    pub async fn sign_in(&mut self) {
        let reply = self
            .submit(
                "/admin/login",
                "/admin/login",
                &[("username", "admin"), ("password", "admin-password-123")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    }
}

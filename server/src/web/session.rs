//! Browser sessions on tower-sessions, stored in the server's own database so any process can
//! serve any request. The cookie follows the realm's `cookie_mode`: one per realm (default), one
//! per client, or one shared by every realm. Inside, each realm's sign-in lives under its own key,
//! so a shared cookie still never signs a user into a realm they did not sign into.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{header, HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::config::DatabaseKind;
use crate::domain::{CookieMode, Realm};
use crate::store::Store;

/// How long a browser session lives without use.
pub const IDLE_LIFETIME: time::Duration = time::Duration::hours(10);

/// The tower-sessions store in our database, whichever database that is.
#[derive(Debug, Clone)]
pub enum BrowserStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl BrowserStore {
    /// Opens the store on the server's pool and creates its table if needed.
    pub async fn open(store: &Store) -> Result<Self, String> {
        match store.kind {
            DatabaseKind::Sqlite => {
                let s = SqliteStore::new(store.db.get_sqlite_connection_pool().clone());
                s.migrate().await.map_err(|e| e.to_string())?;
                Ok(Self::Sqlite(s))
            }
            DatabaseKind::Postgres => {
                let s = PostgresStore::new(store.db.get_postgres_connection_pool().clone());
                s.migrate().await.map_err(|e| e.to_string())?;
                Ok(Self::Postgres(s))
            }
        }
    }
}

impl BrowserStore {
    /// Deletes expired browser sessions.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        use tower_sessions::ExpiredDeletion;
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait]
impl SessionStore for BrowserStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

/// A realm's sign-in as the browser session remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignIn {
    pub user_id: String,
    /// The SSO session (`sessions.id`), published as `sid`.
    pub sid: String,
    pub auth_time: DateTime<Utc>,
}

const CSRF_KEY: &str = "csrf";

fn sign_in_key(realm: &Realm) -> String {
    format!("sign_in:{}", realm.id)
}

/// Keeps cookie names to RFC 6265 token characters.
fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The cookie that carries the session for this realm (and client, in `client` mode).
pub fn cookie_name(realm: &Realm, client_id: Option<&str>) -> String {
    match (realm.cookie_mode, client_id) {
        (CookieMode::Shared, _) => "tessera_session".to_string(),
        (CookieMode::Client, Some(client)) => {
            format!("tessera_{}_{}", sanitize(&realm.name), sanitize(client))
        }
        _ => format!("tessera_{}", sanitize(&realm.name)),
    }
}

/// The session a request carries under `name`, or a fresh one that is stored only if written.
pub struct BrowserSession {
    pub session: Session,
    pub cookie: String,
    secure: bool,
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl BrowserSession {
    pub fn from_request(
        store: &Arc<BrowserStore>,
        headers: &HeaderMap,
        cookie: String,
        secure: bool,
    ) -> Self {
        let id = cookie_value(headers, &cookie).and_then(|v| v.parse::<Id>().ok());
        Self {
            session: Session::new(id, store.clone(), Some(Expiry::OnInactivity(IDLE_LIFETIME))),
            cookie,
            secure,
        }
    }

    pub async fn sign_in(&self, realm: &Realm) -> Option<SignIn> {
        self.session
            .get::<SignIn>(&sign_in_key(realm))
            .await
            .ok()
            .flatten()
    }

    /// Records a sign-in, with a new session id so a planted cookie cannot ride along
    /// (session fixation).
    pub async fn set_sign_in(&self, realm: &Realm, sign_in: &SignIn) -> Result<(), String> {
        self.session.cycle_id().await.map_err(|e| e.to_string())?;
        self.session
            .insert(&sign_in_key(realm), sign_in)
            .await
            .map_err(|e| e.to_string())?;
        self.session.save().await.map_err(|e| e.to_string())
    }

    pub async fn clear_sign_in(&self, realm: &Realm) -> Result<(), String> {
        self.session
            .remove_value(&sign_in_key(realm))
            .await
            .map_err(|e| e.to_string())?;
        self.session.save().await.map_err(|e| e.to_string())
    }

    /// The session's CSRF token, created (and the session stored) on first use.
    pub async fn csrf_token(&self) -> Result<String, String> {
        if let Some(token) = self
            .session
            .get::<String>(CSRF_KEY)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(token);
        }
        let token = crate::crypto::random::opaque_token();
        self.session
            .insert(CSRF_KEY, &token)
            .await
            .map_err(|e| e.to_string())?;
        self.session.save().await.map_err(|e| e.to_string())?;
        Ok(token)
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub async fn csrf_matches(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        match self.session.get::<String>(CSRF_KEY).await {
            Ok(Some(expected)) => {
                crate::crypto::constant_time_eq(expected.as_bytes(), presented.as_bytes())
            }
            _ => false,
        }
    }

    /// The `Set-Cookie` header for this session, when it has an id.
    pub fn set_cookie(&self) -> Option<HeaderValue> {
        let id = self.session.id()?;
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.cookie,
            IDLE_LIFETIME.whole_seconds()
        ))
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LifetimeOverrides;
    use crate::keys::SigningAlg;

    fn realm(name: &str, mode: CookieMode) -> Realm {
        Realm {
            id: "id".into(),
            name: name.into(),
            display_name: None,
            enabled: true,
            decentralized: false,
            signing_alg: SigningAlg::ES256,
            id_token_signing_alg: SigningAlg::RS256,
            cookie_mode: mode,
            lifetimes: LifetimeOverrides::default(),
            revocation_salt: String::new(),
        }
    }

    #[test]
    fn cookie_names_follow_the_mode_and_are_sanitised() {
        assert_eq!(
            cookie_name(&realm("acme", CookieMode::Realm), Some("app")),
            "tessera_acme"
        );
        assert_eq!(
            cookie_name(&realm("acme", CookieMode::Client), Some("my app;x=1")),
            "tessera_acme_my_app_x_1"
        );
        assert_eq!(
            cookie_name(&realm("acme", CookieMode::Shared), Some("app")),
            "tessera_session"
        );
    }
}

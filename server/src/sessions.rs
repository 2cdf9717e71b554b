//! Browser sessions on tower-sessions, stored in the server's own database so any process can
//! serve any request. The cookie follows the realm's `cookie_mode`: one per realm (default), one
//! per client, or one shared by every realm. Inside, each realm's sign-in lives under its own key,
//! so a shared cookie still never signs a user into a realm they did not sign into. Cookie names
//! are injective, and each session records its owner (realm, or realm and client), so a session
//! is honoured only where it was made, whatever name its cookie is presented under. A session
//! also holds its CSRF token and the handles of the pending logins (`oauth::interaction`) this
//! browser started, which only it may continue.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{header, HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::domain::{CookieMode, Realm};
use crate::store::DatabaseKind;
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
/// Who the session belongs to (see [`SessionCookie`]).
const OWNER_KEY: &str = "owner";
/// The pending logins this browser started, by their stored ids, newest last.
const INTERACTIONS_KEY: &str = "interactions";
/// How many pending logins a browser keeps at once (tabs signing in side by side).
const MAX_INTERACTIONS: usize = 16;

fn sign_in_key(realm: &Realm) -> String {
    format!("sign_in:{}", realm.id)
}

/// Which browser session a request uses: the cookie's name, and the owner the session records
/// so that it is honoured only where it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    pub name: String,
    owner: String,
}

/// Encodes one name part with RFC 6265 token characters only and never `_`, so parts can be
/// joined with `_` and the result read back unambiguously: ASCII letters, digits and `-` stay,
/// every other byte becomes `.` and two hex digits (`a_b` → `a.5fb`).
fn encode_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!(".{byte:02x}"));
        }
    }
    out
}

/// The cookie that carries the session for this realm (and client, in `client` mode). Names
/// are injective: `tessera_session` (shared), `tessera_r_<realm>` (realm),
/// `tessera_c_<realm>_<client>` (client), each part encoded by [`encode_part`], so no two
/// realms or clients share a cookie and none is the console's `tessera_admin`.
pub fn cookie_name(realm: &Realm, client_id: Option<&str>) -> SessionCookie {
    match (realm.cookie_mode, client_id) {
        (CookieMode::Shared, _) => SessionCookie {
            name: "tessera_session".to_string(),
            // Shared by every realm on purpose; each realm's sign-in lives under its own key.
            owner: "shared".to_string(),
        },
        (CookieMode::Client, Some(client)) => SessionCookie {
            name: format!(
                "tessera_c_{}_{}",
                encode_part(&realm.name),
                encode_part(client)
            ),
            owner: format!("client:{}:{client}", realm.id),
        },
        _ => SessionCookie {
            name: format!("tessera_r_{}", encode_part(&realm.name)),
            owner: format!("realm:{}", realm.id),
        },
    }
}

/// The session a request carries under its cookie name, or a fresh one that is stored only if
/// written. A session recorded for another owner (a cookie value replayed under another name)
/// is not honoured: the request gets a fresh session instead, and the other is left untouched.
pub struct BrowserSession {
    presented: Session,
    resolved: tokio::sync::OnceCell<Session>,
    store: Arc<BrowserStore>,
    owner: String,
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
        cookie: SessionCookie,
        secure: bool,
    ) -> Self {
        let id = cookie_value(headers, &cookie.name).and_then(|v| v.parse::<Id>().ok());
        Self {
            presented: Session::new(id, store.clone(), Some(Expiry::OnInactivity(IDLE_LIFETIME))),
            resolved: tokio::sync::OnceCell::new(),
            store: store.clone(),
            owner: cookie.owner,
            cookie: cookie.name,
            secure,
        }
    }

    /// The session this request may use: the presented one if it is new, empty or ours,
    /// otherwise a fresh one. Sessions from before owners were recorded hold data but no owner
    /// and are not honoured either (their users sign in once more).
    async fn session(&self) -> &Session {
        self.resolved
            .get_or_init(|| async {
                let presented = &self.presented;
                let ours = match presented.get::<String>(OWNER_KEY).await {
                    Ok(Some(owner)) => owner == self.owner,
                    Ok(None) => presented.is_empty().await,
                    Err(_) => false,
                };
                if ours {
                    presented.clone()
                } else {
                    Session::new(
                        None,
                        self.store.clone(),
                        Some(Expiry::OnInactivity(IDLE_LIFETIME)),
                    )
                }
            })
            .await
    }

    /// Stores the session, recording who owns it.
    async fn save(&self, session: &Session) -> Result<(), String> {
        session
            .insert(OWNER_KEY, &self.owner)
            .await
            .map_err(|e| e.to_string())?;
        session.save().await.map_err(|e| e.to_string())
    }

    pub async fn sign_in(&self, realm: &Realm) -> Option<SignIn> {
        self.session()
            .await
            .get::<SignIn>(&sign_in_key(realm))
            .await
            .ok()
            .flatten()
    }

    /// Records a sign-in, with a new session id so a planted cookie cannot ride along
    /// (session fixation).
    pub async fn set_sign_in(&self, realm: &Realm, sign_in: &SignIn) -> Result<(), String> {
        let session = self.session().await;
        session.cycle_id().await.map_err(|e| e.to_string())?;
        session
            .insert(&sign_in_key(realm), sign_in)
            .await
            .map_err(|e| e.to_string())?;
        self.save(session).await
    }

    pub async fn clear_sign_in(&self, realm: &Realm) -> Result<(), String> {
        let session = self.session().await;
        session
            .remove_value(&sign_in_key(realm))
            .await
            .map_err(|e| e.to_string())?;
        self.save(session).await
    }

    /// Keeps a ceremony's server-side state (a WebAuthn challenge, say) under `key` until
    /// [`BrowserSession::take_state`] uses it up.
    pub async fn put_state<T: serde::Serialize + Send + Sync>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), String> {
        let session = self.session().await;
        session
            .insert(&format!("state:{key}"), value)
            .await
            .map_err(|e| e.to_string())?;
        self.save(session).await
    }

    /// The state kept under `key`, removed so it is used once.
    pub async fn take_state<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let session = self.session().await;
        let value = session
            .remove::<T>(&format!("state:{key}"))
            .await
            .ok()
            .flatten()?;
        self.save(session).await.ok()?;
        Some(value)
    }

    /// Records that this browser started the pending login stored as `id`, so only it may
    /// continue it: a login link sent to someone else leads nowhere.
    pub async fn bind_interaction(&self, id: &str) -> Result<(), String> {
        let session = self.session().await;
        let mut bound: Vec<String> = session
            .get(INTERACTIONS_KEY)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        bound.push(id.to_string());
        let excess = bound.len().saturating_sub(MAX_INTERACTIONS);
        bound.drain(..excess);
        session
            .insert(INTERACTIONS_KEY, &bound)
            .await
            .map_err(|e| e.to_string())?;
        self.save(session).await
    }

    /// Whether this browser started the pending login stored as `id`.
    pub async fn owns_interaction(&self, id: &str) -> bool {
        match self
            .session()
            .await
            .get::<Vec<String>>(INTERACTIONS_KEY)
            .await
        {
            Ok(Some(bound)) => bound
                .iter()
                .any(|b| crate::crypto::constant_time_eq(b.as_bytes(), id.as_bytes())),
            _ => false,
        }
    }

    /// The session's CSRF token, created (and the session stored) on first use.
    pub async fn csrf_token(&self) -> Result<String, String> {
        let session = self.session().await;
        if let Some(token) = session
            .get::<String>(CSRF_KEY)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(token);
        }
        let token = crate::crypto::random::opaque_token();
        session
            .insert(CSRF_KEY, &token)
            .await
            .map_err(|e| e.to_string())?;
        self.save(session).await?;
        Ok(token)
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub async fn csrf_matches(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        match self.session().await.get::<String>(CSRF_KEY).await {
            Ok(Some(expected)) => {
                crate::crypto::constant_time_eq(expected.as_bytes(), presented.as_bytes())
            }
            _ => false,
        }
    }

    /// The `Set-Cookie` header for this session, when it has an id.
    pub fn set_cookie(&self) -> Option<HeaderValue> {
        let id = self.resolved.get().unwrap_or(&self.presented).id()?;
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
    use crate::domain::SigningAlg;

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
            mfa: Default::default(),
            revocation_salt: String::new(),
            security: Default::default(),
        }
    }

    #[test]
    fn cookie_names_follow_the_mode_and_are_encoded() {
        assert_eq!(
            cookie_name(&realm("acme", CookieMode::Realm), Some("app")).name,
            "tessera_r_acme"
        );
        assert_eq!(
            cookie_name(&realm("acme", CookieMode::Client), Some("my app;x=1")).name,
            "tessera_c_acme_my.20app.3bx.3d1"
        );
        assert_eq!(
            cookie_name(&realm("acme", CookieMode::Shared), Some("app")).name,
            "tessera_session"
        );
    }

    fn is_token(name: &str) -> bool {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    }

    #[test]
    fn cookie_names_never_collide() {
        let cases = [
            ("a", CookieMode::Client, Some("b_c")),
            ("a_b", CookieMode::Client, Some("c")),
            ("a", CookieMode::Client, Some("b-c")),
            ("a-b", CookieMode::Client, Some("c")),
            ("a", CookieMode::Client, Some("b.c")),
            ("a", CookieMode::Client, Some("b c")),
            ("a", CookieMode::Client, Some("b")),
            ("a_b", CookieMode::Realm, None),
            ("a-b", CookieMode::Realm, None),
            ("a", CookieMode::Client, Some("b")),
            ("session", CookieMode::Realm, None),
            ("admin", CookieMode::Realm, None),
            ("x", CookieMode::Shared, None),
        ];
        let mut names = std::collections::HashMap::new();
        for (realm_name, mode, client) in cases {
            let name = cookie_name(&realm(realm_name, mode), client).name;
            assert!(is_token(&name), "{name}");
            assert_ne!(name, "tessera_admin", "the console's cookie");
            if let Some(before) = names.insert(name.clone(), (realm_name, client)) {
                assert_eq!(before, (realm_name, client), "{name} is shared");
            }
        }
    }
}

//! The console's own browser session: the `tessera_admin` cookie (Path=/admin) naming a
//! record in the server's tower-sessions store. The record holds the signed-in actor, the
//! CSRF token, a one-shot flash message and the last realm visited.

use std::sync::Arc;

use admin_model::Actor;
use async_trait::async_trait;
use axum::http::{header, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session};

use crate::csrf;

/// The cookie carrying the console session.
pub const COOKIE: &str = "tessera_admin";
/// How long a console session lives without use.
pub const IDLE_LIFETIME: time::Duration = time::Duration::hours(8);

const ACTOR: &str = "actor";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const REALM: &str = "realm";

/// The store the server hands us, behind a sized type because `Session::new` wants one.
#[derive(Debug, Clone)]
pub struct Store(pub Arc<dyn SessionStore>);

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// The actor as the session stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredActor {
    subject: String,
    name: String,
}

/// The session store failed; the console answers 500 and logs nothing secret.
#[derive(Debug)]
pub struct SessionError;

impl From<tower_sessions::session::Error> for SessionError {
    fn from(error: tower_sessions::session::Error) -> Self {
        tracing::error!(%error, "console session store failed");
        SessionError
    }
}

/// The session a request carries, or a fresh one that is stored only when saved.
#[derive(Clone)]
pub struct AdminSession {
    session: Session,
    secure: bool,
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl AdminSession {
    pub fn from_headers(store: &Arc<Store>, headers: &HeaderMap, secure: bool) -> Self {
        let id = cookie_value(headers, COOKIE).and_then(|v| v.parse::<Id>().ok());
        Self {
            session: Session::new(id, store.clone(), Some(Expiry::OnInactivity(IDLE_LIFETIME))),
            secure,
        }
    }

    /// The signed-in admin, if any.
    pub async fn actor(&self) -> Result<Option<Actor>, SessionError> {
        Ok(self
            .session
            .get::<StoredActor>(ACTOR)
            .await?
            .map(|a| Actor {
                subject: a.subject,
                name: a.name,
            }))
    }

    /// Signs `actor` in under a new session id and a new CSRF token, so nothing planted
    /// before sign-in survives it (session fixation).
    pub async fn sign_in(&self, actor: &Actor) -> Result<(), SessionError> {
        self.session.cycle_id().await?;
        self.session
            .insert(
                ACTOR,
                StoredActor {
                    subject: actor.subject.clone(),
                    name: actor.name.clone(),
                },
            )
            .await?;
        let token = csrf::new_token().ok_or(SessionError)?;
        self.session.insert(CSRF, token).await?;
        self.session.save().await?;
        Ok(())
    }

    /// Forgets everything and deletes the record.
    pub async fn sign_out(&self) -> Result<(), SessionError> {
        self.session.flush().await?;
        Ok(())
    }

    /// The session's CSRF token, created (and the session stored) on first use.
    pub async fn csrf_token(&self) -> Result<String, SessionError> {
        if let Some(token) = self.session.get::<String>(CSRF).await? {
            return Ok(token);
        }
        let token = csrf::new_token().ok_or(SessionError)?;
        self.session.insert(CSRF, &token).await?;
        self.session.save().await?;
        Ok(token)
    }

    /// Whether `presented` is this session's CSRF token.
    pub async fn csrf_matches(&self, presented: Option<&str>) -> bool {
        match self.session.get::<String>(CSRF).await {
            Ok(Some(expected)) => csrf::matches(&expected, presented),
            _ => false,
        }
    }

    /// Leaves a message for the next page shown.
    pub async fn set_flash(&self, message: impl Into<String>) -> Result<(), SessionError> {
        self.session.insert(FLASH, message.into()).await?;
        self.session.save().await?;
        Ok(())
    }

    /// Takes the pending flash message (without saving; [`Self::touch`] does).
    pub async fn take_flash(&self) -> Result<Option<String>, SessionError> {
        Ok(self.session.remove::<String>(FLASH).await?)
    }

    /// The realm the admin looked at last.
    pub async fn last_realm(&self) -> Result<Option<String>, SessionError> {
        Ok(self.session.get::<String>(REALM).await?)
    }

    pub async fn remember_realm(&self, realm: &str) -> Result<(), SessionError> {
        if self.last_realm().await?.as_deref() != Some(realm) {
            self.session.insert(REALM, realm).await?;
        }
        Ok(())
    }

    /// Stores the session, which also pushes its idle expiry forward.
    pub async fn touch(&self) -> Result<(), SessionError> {
        self.session.save().await?;
        Ok(())
    }

    /// The `Set-Cookie` value for this session, when it is stored.
    pub fn set_cookie(&self) -> Option<HeaderValue> {
        let id = self.session.id()?;
        HeaderValue::from_str(&format!(
            "{COOKIE}={id}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age={}{}",
            IDLE_LIFETIME.whole_seconds(),
            self.secure_attr()
        ))
        .ok()
    }

    /// The `Set-Cookie` value that makes the browser drop the cookie.
    pub fn clear_cookie(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            "{COOKIE}=; Path=/admin; HttpOnly; SameSite=Lax; Max-Age=0{}",
            self.secure_attr()
        ))
        .ok()
    }

    fn secure_attr(&self) -> &'static str {
        if self.secure {
            "; Secure"
        } else {
            ""
        }
    }
}

//! The admin service: every admin operation, whichever front end asks. Each change runs in
//! one transaction with its audit event (`before`/`after` views, never a secret), then tells
//! the caches.

mod auth;
mod catalog;
mod clients;
mod directories;
mod identity_providers;
mod operations;
mod realms;
mod roles;
mod users;

use admin_model::{Actor, AdminError, AdminResult, Page, PageRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::domain::Realm;
use crate::state::AppState;
use crate::store::{self, Conn, Keyset, StoreError, StoreResult, Tx};

/// The admin service over the server's state.
#[derive(Clone)]
pub struct AdminService {
    state: AppState,
}

impl AdminService {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    fn db(&self) -> &impl Conn {
        self.state.caches.store.conn()
    }

    /// A transaction for a change and its audit event.
    async fn begin(&self) -> AdminResult<Tx> {
        Ok(self.state.caches.store.begin().await?)
    }

    /// The realm named `name`, enabled or not, read from the database (not a cache: admins
    /// must see their own changes at once).
    async fn realm(&self, name: &str) -> AdminResult<Realm> {
        if !crate::validation::is_realm_name(name) {
            return Err(AdminError::not_found(format!("realm `{name}`")));
        }
        store::realms::find_by_name(self.db(), name)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("realm `{name}`")))
    }

    /// Records an admin change.
    async fn audit(
        &self,
        db: &impl Conn,
        realm_id: &str,
        actor: &Actor,
        kind: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> AdminResult<()> {
        store::audit::record(
            db,
            store::audit::NewEvent {
                realm_id: Some(realm_id),
                kind,
                actor: &actor.label(),
                target: Some(target),
                detail,
            },
            self.state.now(),
        )
        .await?;
        Ok(())
    }

    /// Ends an update of `target`: commits it with its `kind` event when it changed what
    /// callers see, else rolls it back, so an edit that changes nothing leaves no trace.
    /// Says whether it committed.
    #[allow(clippy::too_many_arguments)]
    async fn finish_update(
        &self,
        txn: Tx,
        realm_id: &str,
        actor: &Actor,
        kind: &str,
        target: &str,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> AdminResult<bool> {
        if !changed(before, after)? {
            txn.rollback().await?;
            return Ok(false);
        }
        self.audit(
            &txn,
            realm_id,
            actor,
            kind,
            target,
            diff(Some(before), Some(after))?,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// As [`AdminService::finish_update`], for an item with a write-only secret: when
    /// `new_secret` names one set by the update (the event's kind, and the field it is shown
    /// under as `"changed"`), the update is recorded even though callers see nothing differ.
    #[allow(clippy::too_many_arguments)]
    async fn finish_update_with_secret(
        &self,
        txn: Tx,
        realm_id: &str,
        actor: &Actor,
        kind: &str,
        target: &str,
        before: &impl Serialize,
        after: &impl Serialize,
        new_secret: Option<(&str, &str)>,
    ) -> AdminResult<bool> {
        let Some((secret_kind, field)) = new_secret else {
            return self
                .finish_update(txn, realm_id, actor, kind, target, before, after)
                .await;
        };
        let mut detail = diff(Some(before), Some(after))?;
        if let Some(fields) = detail.as_object_mut() {
            fields.insert(field.into(), serde_json::json!("changed"));
        }
        self.audit(&txn, realm_id, actor, secret_kind, target, detail)
            .await?;
        txn.commit().await?;
        Ok(true)
    }
}

/// The keyset a page request asks for: its checked limit and decoded cursor.
fn keyset(request: &PageRequest) -> AdminResult<Keyset> {
    let limit = request
        .effective_limit()
        .map_err(|m| AdminError::field("limit", m))?;
    let after = request.cursor.as_deref().map(decode_cursor).transpose()?;
    Ok(Keyset {
        after,
        limit: limit.into(),
    })
}

/// One page of rows converted by `view`; the cursor is the last row's key.
fn page_of<R, V>(
    rows: Vec<R>,
    more: bool,
    key_of: impl Fn(&R) -> String,
    view: impl Fn(R) -> AdminResult<V>,
) -> AdminResult<Page<V>> {
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&key_of(last))),
        _ => None,
    };
    let items = rows
        .into_iter()
        .map(view)
        .collect::<AdminResult<Vec<_>>>()?;
    Ok(Page { items, next_cursor })
}

/// The item `found` looks up by `key`, or a 404 naming the `what` and key. A key no stored
/// item could have is refused before the lookup runs.
async fn keyed<T>(
    what: &str,
    key: &str,
    found: impl std::future::Future<Output = StoreResult<Option<T>>>,
) -> AdminResult<T> {
    let missing = || AdminError::not_found(format!("{what} `{key}`"));
    if !could_be_key(key) {
        return Err(missing());
    }
    found.await?.ok_or_else(missing)
}

/// Whether `key` could name a stored item. Stored keys passed validation, which admits no
/// control characters: a key holding one names nothing, and Postgres could not even compare
/// text holding NUL.
fn could_be_key(key: &str) -> bool {
    !key.chars().any(char::is_control)
}

/// A filter value of a list (`?username=`, `?actor=`) that some stored key could match.
fn filter_value(field: &str, value: &str) -> AdminResult<()> {
    if could_be_key(value) {
        Ok(())
    } else {
        Err(AdminError::field(
            field,
            "must not contain control characters",
        ))
    }
}

/// The detail of an admin change: the item before and after, as views (which hold no secret).
fn diff(
    before: Option<&impl Serialize>,
    after: Option<&impl Serialize>,
) -> AdminResult<serde_json::Value> {
    Ok(serde_json::json!({
        "before": before.map(serde_json::to_value).transpose().map_err(internal)?,
        "after": after.map(serde_json::to_value).transpose().map_err(internal)?,
    }))
}

/// Whether an update changed what callers see, its own `updated_at` aside.
fn changed(before: &impl Serialize, after: &impl Serialize) -> AdminResult<bool> {
    fn visible(item: &impl Serialize) -> AdminResult<serde_json::Value> {
        let mut value = serde_json::to_value(item).map_err(internal)?;
        if let Some(fields) = value.as_object_mut() {
            fields.remove("updated_at");
        }
        Ok(value)
    }
    Ok(visible(before)? != visible(after)?)
}

/// Cursors are opaque to callers: the base64url of the last key seen.
fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

fn decode_cursor(cursor: &str) -> AdminResult<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|key| could_be_key(key))
        .ok_or_else(|| AdminError::field("cursor", "not a cursor this server issued"))
}

/// Logs the cause and answers a bare 500.
fn internal(cause: impl std::fmt::Display) -> AdminError {
    tracing::error!(error = %cause, "admin operation failed");
    AdminError::Internal
}

impl From<crate::realm_io::RealmIoError> for AdminError {
    fn from(e: crate::realm_io::RealmIoError) -> Self {
        use crate::realm_io::RealmIoError;
        match e {
            RealmIoError::Invalid(message) => AdminError::Invalid {
                message,
                fields: Default::default(),
            },
            RealmIoError::NotFound(name) => AdminError::not_found(format!("realm `{name}`")),
            RealmIoError::Store(e) => e.into(),
            RealmIoError::Keys(e) => internal(e),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AdminError::Conflict(format!("{what} already exists")),
            StoreError::NotFound(what) => AdminError::NotFound(what),
            other => internal(other),
        }
    }
}

/// A JSON list column as strings.
fn list(value: &serde_json::Value, column: &str) -> AdminResult<Vec<String>> {
    Ok(store::string_list(value, column)?)
}

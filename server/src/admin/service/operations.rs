//! A realm's running state: signing keys (list, rotate), revocations, sessions and the audit
//! trail.

use std::sync::Arc;

use admin_model::{
    Actor, AdminError, AdminResult, EventFilter, EventView, KeyView, OperationsAdmin, Page,
    PageRequest, RevocationInput, RevocationView, SessionView,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::{list, AdminService};
use crate::changes::Change;
use crate::domain::Realm;
use crate::state::RealmCtx;
use crate::store;
use crate::store::audit::{EventQuery, KindFilter, StoredEvent};
use crate::store::keys::StoredKey;
use crate::store::revocations::{kind, StoredRevocation};

fn key_view(row: StoredKey) -> KeyView {
    KeyView {
        kid: row.kid,
        alg: row.alg,
        active: row.active,
        created_at: row.created_at,
        retired_at: row.retired_at,
        publish_until: row.publish_until,
    }
}

fn revocation_view(row: StoredRevocation) -> RevocationView {
    RevocationView {
        id: row.id,
        kind: row.kind,
        jti: row.jti,
        claim_names: row.claim_names,
        issued_before: row.issued_before,
        revoked_at: row.revoked_at,
        expires_at: row.expires_at,
    }
}

fn event_view(row: StoredEvent) -> EventView {
    EventView {
        id: row.id,
        kind: row.kind,
        actor: row.actor,
        target: row.target,
        detail: row.detail,
        created_at: row.created_at,
    }
}

fn instant(field: &str, value: &Option<String>) -> AdminResult<Option<DateTime<Utc>>> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    AdminError::field(field, "an RFC 3339 instant, such as 2026-11-23T10:00:00Z")
                })
        })
        .transpose()
}

impl AdminService {
    pub(super) fn realm_ctx(&self, realm: Realm) -> RealmCtx {
        RealmCtx {
            issuer: self.state.issuer(&realm.name),
            realm: Arc::new(realm),
        }
    }

    async fn published_keys(&self, realm: &Realm) -> AdminResult<Vec<KeyView>> {
        let now = self.state.now();
        let mut keys: Vec<KeyView> = store::keys::published_oldest_first(self.db(), &realm.id, now)
            .await?
            .into_iter()
            .map(key_view)
            .collect();
        keys.sort_by(|a, b| {
            b.active
                .cmp(&a.active)
                .then(b.created_at.cmp(&a.created_at))
        });
        Ok(keys)
    }
}

/// A session as admins see it.
pub(super) fn session_view(
    s: store::sessions::StoredSession,
    username: Option<String>,
) -> AdminResult<SessionView> {
    Ok(SessionView {
        client_ids: list(&s.client_ids, "sessions.client_ids")?,
        amr: list(&s.amr, "sessions.amr")?,
        acr: s
            .acr
            .unwrap_or_else(|| crate::tokens::id_token::ACR_ONE_FACTOR.to_string()),
        username,
        id: s.id,
        user_id: s.user_id,
        auth_time: s.auth_time,
        ip_address: s.ip_address,
        user_agent: s.user_agent,
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
    })
}

#[async_trait]
impl OperationsAdmin for AdminService {
    async fn list_keys(&self, realm: &str) -> AdminResult<Vec<KeyView>> {
        let realm = self.realm(realm).await?;
        self.published_keys(&realm).await
    }

    async fn rotate_keys(&self, actor: &Actor, realm: &str) -> AdminResult<Vec<KeyView>> {
        let realm = self.realm(realm).await?;
        let store = &self.state.caches.store;
        let grace = crate::keys::rotation_grace(store, &realm).await?;
        let kids = self
            .state
            .caches
            .keys
            .rotate(&realm.id, Duration::seconds(grace), self.state.now())
            .await
            .map_err(super::internal)?;
        self.state.metrics.key_rotation(&realm.name);
        self.audit(
            self.db(),
            &realm.id,
            actor,
            "keys.rotated",
            &realm.name,
            super::diff(
                None::<&()>,
                Some(
                    &serde_json::json!({"new_kids": kids, "old_keys_published_for_seconds": grace}),
                ),
            )?,
        )
        .await?;
        self.state
            .caches
            .publish(Change::Keys {
                realm_id: realm.id.clone(),
            })
            .await;
        self.published_keys(&realm).await
    }

    async fn list_revocations(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<RevocationView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) =
            store::revocations::page(self.db(), &realm.id, self.state.now(), &keyset).await?;
        super::page_of(rows, more, |r| r.id.clone(), |r| Ok(revocation_view(r)))
    }

    async fn create_revocation(
        &self,
        actor: &Actor,
        realm: &str,
        input: RevocationInput,
    ) -> AdminResult<RevocationView> {
        let realm = self.realm_ctx(self.realm(realm).await?);
        let now = self.state.now();
        let retention = crate::planb::revocations::retention(&self.state, &realm)
            .await
            .map_err(|p| AdminError::field("type", p.detail))?;
        if ![kind::TOKEN, kind::CLAIM, kind::GLOBAL].contains(&input.kind.as_str()) {
            return Err(AdminError::field("type", "must be TOKEN, CLAIM or GLOBAL"));
        }
        // Without `data`, a GLOBAL entry cuts off at now; the other types say what is missing.
        let data = match input.data {
            serde_json::Value::Null => serde_json::json!({}),
            data => data,
        };
        let body = serde_json::json!({"type": input.kind, "data": data});
        let new = crate::planb::revocations::parse(&self.state, &realm, &body, now, retention)
            .await
            .map_err(|p| AdminError::field("data", p.detail))?;
        let txn = self.begin().await?;
        let row = store::revocations::insert(&txn, &realm.realm.id, new, now).await?;
        let view = revocation_view(row.clone());
        self.audit(
            &txn,
            &realm.realm.id,
            actor,
            "revocation.created",
            &view.id,
            super::diff(None::<&()>, Some(&view))?,
        )
        .await?;
        txn.commit().await?;
        self.state.caches.revocations.insert(row);
        self.state.caches.publish(Change::Revocations).await;
        Ok(view)
    }

    async fn delete_revocation(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = super::keyed(
            "revocation",
            id,
            store::revocations::find_in_realm(self.db(), &realm.id, id),
        )
        .await?;
        let before = revocation_view(row);
        let txn = self.begin().await?;
        store::revocations::delete_in_realm(&txn, &realm.id, id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "revocation.deleted",
            id,
            super::diff(Some(&before), None::<&()>)?,
        )
        .await?;
        txn.commit().await?;
        // Reloading drops the entry from every process's index.
        self.state.caches.publish(Change::Revocations).await;
        Ok(())
    }

    async fn list_sessions(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<SessionView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) =
            store::sessions::page_live(self.db(), &realm.id, self.state.now(), &keyset).await?;
        let page = super::page_of(rows, more, |s| s.id.clone(), Ok)?;
        let user_ids: Vec<String> = page.items.iter().map(|s| s.user_id.clone()).collect();
        let names = store::users::usernames(self.db(), user_ids).await?;
        let items = page
            .items
            .into_iter()
            .map(|s| {
                let username = names.get(&s.user_id).cloned();
                session_view(s, username)
            })
            .collect::<AdminResult<Vec<_>>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    async fn end_session(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let now = self.state.now();
        let missing = || AdminError::not_found(format!("session `{id}`"));
        if !super::could_be_key(id) {
            return Err(missing());
        }
        let live = store::sessions::live(self.db(), id, now)
            .await?
            .filter(|s| s.realm_id == realm.id)
            .ok_or_else(missing)?;
        let txn = self.begin().await?;
        store::sessions::end(&txn, id, now).await?;
        let revoked = store::refresh::revoke_session_families(&txn, id, now).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "session.ended",
            id,
            super::diff(
                None::<&()>,
                Some(&serde_json::json!({"user_id": live.user_id, "revoked_families": revoked})),
            )?,
        )
        .await?;
        txn.commit().await?;
        let clients = store::sessions::client_ids(&live)?;
        let realm = self.realm_ctx(realm);
        crate::oauth::logout::notify_clients(&self.state, &realm, &live.user_id, id, clients).await;
        Ok(())
    }

    async fn list_events(&self, realm: &str, filter: EventFilter) -> AdminResult<Page<EventView>> {
        let realm = self.realm(realm).await?;
        let mut query = EventQuery::default();
        for (field, value) in [("type", &filter.kind), ("actor", &filter.actor)] {
            if let Some(value) = value {
                super::filter_value(field, value)?;
            }
        }
        match filter.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(prefix) if prefix.ends_with('.') => {
                // Event types are lower case, so ignoring case changes nothing.
                query.kind = Some(KindFilter::Prefix(prefix.to_string()));
            }
            Some(kind) => query.kind = Some(KindFilter::Exact(kind.to_string())),
            None => {}
        }
        if let Some(actor) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
            query.actor = Some(actor.to_string());
        }
        let since = instant("since", &filter.since)?;
        let until = instant("until", &filter.until)?;
        if let (Some(since), Some(until)) = (since, until) {
            if until <= since {
                return Err(AdminError::field("until", "must be later than `since`"));
            }
        }
        query.since = since;
        query.until = until;
        let page = PageRequest {
            limit: filter.limit,
            cursor: filter.cursor,
        };
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::audit::page(self.db(), &realm.id, &query, &keyset).await?;
        super::page_of(rows, more, |e| e.id.clone(), |e| Ok(event_view(e)))
    }
}

//! The audit trail: who changed what, when.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, Set};
use serde_json::Value;

use super::rows::{self, Keyset, Order};
use super::{Conn, StoreResult};

pub type StoredEvent = audit_event::Model;

pub struct NewEvent<'a> {
    pub realm_id: Option<&'a str>,
    pub kind: &'a str,
    pub actor: &'a str,
    pub target: Option<&'a str>,
    pub detail: Value,
}

pub async fn record(db: &impl Conn, event: NewEvent<'_>, now: DateTime<Utc>) -> StoreResult<()> {
    audit_event::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(event.realm_id.map(str::to_string)),
        kind: Set(event.kind.to_string()),
        actor: Set(event.actor.to_string()),
        target: Set(event.target.map(str::to_string)),
        detail: Set(event.detail),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Which events of a realm a listing wants; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub kind: Option<KindFilter>,
    pub actor: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub enum KindFilter {
    /// The event type starts with this, ignoring ASCII case.
    Prefix(String),
    Exact(String),
}

/// One keyset page of the realm's events matching `query`, newest first.
pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    query: &EventQuery,
    keyset: &Keyset,
) -> StoreResult<(Vec<StoredEvent>, bool)> {
    let mut condition = Condition::all().add(audit_event::Column::RealmId.eq(realm_id));
    match &query.kind {
        Some(KindFilter::Prefix(prefix)) => {
            condition = condition.add(rows::starts_with_ignoring_case(
                audit_event::Column::Kind,
                prefix,
            ));
        }
        Some(KindFilter::Exact(kind)) => {
            condition = condition.add(audit_event::Column::Kind.eq(kind.as_str()))
        }
        None => {}
    }
    if let Some(actor) = &query.actor {
        condition = condition.add(audit_event::Column::Actor.eq(actor.as_str()));
    }
    if let Some(since) = query.since {
        condition = condition.add(audit_event::Column::CreatedAt.gte(since));
    }
    if let Some(until) = query.until {
        condition = condition.add(audit_event::Column::CreatedAt.lt(until));
    }
    rows::page::<audit_event::Entity>(
        db,
        condition,
        audit_event::Column::Id,
        Order::NewestFirst,
        keyset,
    )
    .await
}

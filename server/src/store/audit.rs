//! The audit trail: who changed what, when.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::Value;

use super::{Conn, StoreResult};

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

//! Pending redirects to an upstream provider, by the hash of their `state`; each is taken once.

use chrono::{DateTime, Utc};
use entity::broker_login;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::rows;
use super::{Conn, StoreResult};

pub type BrokerLoginRow = broker_login::Model;

pub async fn insert(db: &impl Conn, row: BrokerLoginRow) -> StoreResult<()> {
    let active = broker_login::ActiveModel {
        id: Set(row.id),
        realm_id: Set(row.realm_id),
        provider_id: Set(row.provider_id),
        interaction_id: Set(row.interaction_id),
        sealed: Set(row.sealed),
        created_at: Set(row.created_at),
        expires_at: Set(row.expires_at),
    };
    rows::insert(db, active, || "pending upstream login".to_string()).await?;
    Ok(())
}

/// The realm's unexpired pending login with this id, left in place.
pub async fn live(
    db: &impl Conn,
    realm_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<BrokerLoginRow>> {
    Ok(broker_login::Entity::find_by_id(id)
        .filter(broker_login::Column::RealmId.eq(realm_id))
        .filter(broker_login::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// The realm's unexpired pending login with this id, deleted as it is read: of several callers
/// only one gets it (a callback replayed, or raced, finds nothing).
pub async fn take(
    db: &impl Conn,
    realm_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<BrokerLoginRow>> {
    let Some(row) = broker_login::Entity::find_by_id(id)
        .filter(broker_login::Column::RealmId.eq(realm_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = broker_login::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected;
    Ok((deleted == 1 && row.expires_at > now).then_some(row))
}

/// Deletes up to `batch` expired pending logins; returns how many went.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    let expired: Vec<String> = broker_login::Entity::find()
        .select_only()
        .column(broker_login::Column::Id)
        .filter(broker_login::Column::ExpiresAt.lte(now))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if expired.is_empty() {
        return Ok(0);
    }
    Ok(broker_login::Entity::delete_many()
        .filter(broker_login::Column::Id.is_in(expired))
        .exec(db)
        .await?
        .rows_affected)
}

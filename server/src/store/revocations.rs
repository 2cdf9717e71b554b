//! Revocation entries (RFC 7009 `jti`s and Plan B TOKEN/CLAIM/GLOBAL lists).

use chrono::{DateTime, Utc};
use entity::revocation;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::rows::{self, Keyset, Order};
use super::{Conn, StoreResult};

pub type StoredRevocation = revocation::Model;

/// The kinds of entries; `JTI` records an access token revoked through RFC 7009.
pub mod kind {
    pub const JTI: &str = "JTI";
    pub const TOKEN: &str = "TOKEN";
    pub const CLAIM: &str = "CLAIM";
    pub const GLOBAL: &str = "GLOBAL";
}

#[derive(Debug, Clone, Default)]
pub struct NewRevocation {
    pub kind: &'static str,
    pub token_hash: Option<String>,
    pub jti: Option<String>,
    pub claim_names: Option<String>,
    pub value_hash: Option<String>,
    pub issued_before: i64,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(
    db: &impl Conn,
    realm_id: &str,
    new: NewRevocation,
    now: DateTime<Utc>,
) -> StoreResult<StoredRevocation> {
    Ok(revocation::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        kind: Set(new.kind.to_string()),
        token_hash: Set(new.token_hash),
        jti: Set(new.jti),
        claim_names: Set(new.claim_names),
        value_hash: Set(new.value_hash),
        issued_before: Set(new.issued_before),
        revoked_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await?)
}

/// Every entry that still matters at `now`, across realms (loads the in-memory index).
pub async fn live(db: &impl Conn, now: DateTime<Utc>) -> StoreResult<Vec<StoredRevocation>> {
    Ok(revocation::Entity::find()
        .filter(revocation::Column::ExpiresAt.gt(now))
        .order_by_asc(revocation::Column::RevokedAt)
        .all(db)
        .await?)
}

/// Deletes up to `batch` expired entries; returns how many went.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    let ids: Vec<String> = revocation::Entity::find()
        .select_only()
        .column(revocation::Column::Id)
        .filter(revocation::Column::ExpiresAt.lte(now))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let result = revocation::Entity::delete_many()
        .filter(revocation::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// A realm's live entries revoked at or after `since`, oldest first (the Plan B listing).
pub async fn listed_since(
    db: &impl Conn,
    realm_id: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<StoredRevocation>> {
    Ok(revocation::Entity::find()
        .filter(revocation::Column::RealmId.eq(realm_id))
        .filter(revocation::Column::RevokedAt.gte(since))
        .filter(revocation::Column::ExpiresAt.gt(now))
        .order_by_asc(revocation::Column::RevokedAt)
        .all(db)
        .await?)
}

fn in_realm(realm_id: &str, id: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(revocation::Column::RealmId.eq(realm_id))
        .add(revocation::Column::Id.eq(id))
}

/// One keyset page of the realm's unexpired entries, newest first.
pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    now: DateTime<Utc>,
    keyset: &Keyset,
) -> StoreResult<(Vec<StoredRevocation>, bool)> {
    rows::page::<revocation::Entity>(
        db,
        sea_orm::Condition::all()
            .add(revocation::Column::RealmId.eq(realm_id))
            .add(revocation::Column::ExpiresAt.gt(now)),
        revocation::Column::Id,
        Order::NewestFirst,
        keyset,
    )
    .await
}

pub async fn find_in_realm(
    db: &impl Conn,
    realm_id: &str,
    id: &str,
) -> StoreResult<Option<StoredRevocation>> {
    rows::one::<revocation::Entity>(db, in_realm(realm_id, id)).await
}

pub async fn delete_in_realm(db: &impl Conn, realm_id: &str, id: &str) -> StoreResult<u64> {
    rows::delete::<revocation::Entity>(db, in_realm(realm_id, id)).await
}

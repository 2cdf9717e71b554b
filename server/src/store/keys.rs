//! Signing keys of a realm: the encrypted private halves and their publication window.

use chrono::{DateTime, Utc};
use entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::Value;

use super::{Conn, StoreResult};

/// A key row as stored.
pub type StoredKey = signing_key::Model;

pub struct NewKey<'a> {
    pub kid: &'a str,
    pub alg: &'a str,
    pub public_jwk: &'a Value,
    pub private_key_encrypted: String,
}

pub async fn insert(
    db: &impl Conn,
    realm_id: &str,
    key: NewKey<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    signing_key::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        kid: Set(key.kid.to_string()),
        alg: Set(key.alg.to_string()),
        public_jwk: Set(key.public_jwk.clone()),
        private_key_encrypted: Set(key.private_key_encrypted),
        active: Set(true),
        created_at: Set(now),
        retired_at: Set(None),
        publish_until: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Keys still published at `now`: the active ones and retired ones whose tokens may live on.
pub async fn published(
    db: &impl Conn,
    realm_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<StoredKey>> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::RealmId.eq(realm_id))
        .filter(
            Condition::any()
                .add(signing_key::Column::Active.eq(true))
                .add(signing_key::Column::PublishUntil.gt(now)),
        )
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Retires every active key of the realm, keeping it published until `publish_until`.
pub async fn retire_active(
    db: &impl Conn,
    realm_id: &str,
    now: DateTime<Utc>,
    publish_until: DateTime<Utc>,
) -> StoreResult<u64> {
    let result = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::Active, Expr::value(false))
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .col_expr(
            signing_key::Column::PublishUntil,
            Expr::value(publish_until),
        )
        .filter(signing_key::Column::RealmId.eq(realm_id))
        .filter(signing_key::Column::Active.eq(true))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Keys still published at `now`, oldest first (the admin views order them themselves).
pub async fn published_oldest_first(
    db: &impl Conn,
    realm_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<StoredKey>> {
    super::rows::all::<signing_key::Entity>(
        db,
        Condition::all()
            .add(signing_key::Column::RealmId.eq(realm_id))
            .add(
                Condition::any()
                    .add(signing_key::Column::Active.eq(true))
                    .add(signing_key::Column::PublishUntil.gt(now)),
            ),
        signing_key::Column::CreatedAt,
    )
    .await
}

/// The algorithms the realm has an active key of.
pub async fn active_algs(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<String>> {
    use sea_orm::QuerySelect;
    Ok(signing_key::Entity::find()
        .select_only()
        .column(signing_key::Column::Alg)
        .filter(signing_key::Column::RealmId.eq(realm_id))
        .filter(signing_key::Column::Active.eq(true))
        .into_tuple()
        .all(db)
        .await?)
}

/// Holds the realm's key-making turn until the transaction ends, across processes (Postgres;
/// SQLite's single writer already serialises the transactions that make keys).
pub async fn lock_for_making(db: &impl Conn, realm_id: &str) -> StoreResult<()> {
    super::advisory_lock(db, "tessera realm keys ", realm_id).await
}

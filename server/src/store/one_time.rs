//! Things accepted once: client assertion ids (`jti`, until the assertion expires) and pushed
//! authorization requests (until the authorization endpoint takes them).

use chrono::{DateTime, Utc};
use entity::{pushed_request, used_jti};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};

use super::{Conn, StoreResult};

/// Records `id` as used until `expires_at`; false when it already was (by any process sharing
/// the database). One statement: the primary key decides between racing callers.
pub async fn use_jti(db: &impl Conn, id: &str, expires_at: DateTime<Utc>) -> StoreResult<bool> {
    let row = used_jti::ActiveModel {
        id: Set(id.to_string()),
        expires_at: Set(expires_at),
    };
    match used_jti::Entity::insert(row)
        .on_conflict(
            OnConflict::column(used_jti::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec(db)
        .await
    {
        Ok(_) => Ok(true),
        Err(DbErr::RecordNotInserted) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub type PushedRequestRow = pushed_request::Model;

pub async fn insert_pushed(db: &impl Conn, row: PushedRequestRow) -> StoreResult<()> {
    let active = pushed_request::ActiveModel {
        id: Set(row.id),
        realm_id: Set(row.realm_id),
        client_id: Set(row.client_id),
        params: Set(row.params),
        expires_at: Set(row.expires_at),
    };
    super::rows::insert(db, active, || "pushed authorization request".to_string()).await?;
    Ok(())
}

/// The pushed request of `client_id` in the realm with this id, deleted as it is read: of
/// several callers only one gets it, an expired one is gone for all, and another client's
/// attempt leaves it alone.
pub async fn take_pushed(
    db: &impl Conn,
    realm_id: &str,
    client_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<PushedRequestRow>> {
    let Some(row) = pushed_request::Entity::find_by_id(id)
        .filter(pushed_request::Column::RealmId.eq(realm_id))
        .filter(pushed_request::Column::ClientId.eq(client_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = pushed_request::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected;
    Ok((deleted == 1 && row.expires_at > now).then_some(row))
}

/// Deletes up to `batch` expired assertion ids and as many expired pushed requests.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    let jtis: Vec<String> = used_jti::Entity::find()
        .select_only()
        .column(used_jti::Column::Id)
        .filter(used_jti::Column::ExpiresAt.lte(now))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let pushed: Vec<String> = pushed_request::Entity::find()
        .select_only()
        .column(pushed_request::Column::Id)
        .filter(pushed_request::Column::ExpiresAt.lte(now))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    if !jtis.is_empty() {
        deleted += used_jti::Entity::delete_many()
            .filter(used_jti::Column::Id.is_in(jtis))
            .exec(db)
            .await?
            .rows_affected;
    }
    if !pushed.is_empty() {
        deleted += pushed_request::Entity::delete_many()
            .filter(pushed_request::Column::Id.is_in(pushed))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

//! Authorization codes and device codes (stored as hashes only).

use chrono::{DateTime, Utc};
use entity::{authorization_code, device_code};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{Conn, StoreResult};

/// Deletes up to `batch` expired authorization codes and as many expired device codes.
/// Codes are kept a day past expiry so a late replay is still recognised as a replay.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    let cutoff = now - chrono::Duration::days(1);
    let codes: Vec<String> = authorization_code::Entity::find()
        .select_only()
        .column(authorization_code::Column::Id)
        .filter(authorization_code::Column::ExpiresAt.lte(cutoff))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    if !codes.is_empty() {
        deleted += authorization_code::Entity::delete_many()
            .filter(authorization_code::Column::Id.is_in(codes))
            .exec(db)
            .await?
            .rows_affected;
    }
    let devices: Vec<String> = device_code::Entity::find()
        .select_only()
        .column(device_code::Column::Id)
        .filter(device_code::Column::ExpiresAt.lte(cutoff))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if !devices.is_empty() {
        deleted += device_code::Entity::delete_many()
            .filter(device_code::Column::Id.is_in(devices))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

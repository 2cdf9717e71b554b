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

pub type StoredCode = authorization_code::Model;

#[derive(Debug, Clone)]
pub struct NewCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: DateTime<Utc>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// The upstream provider the sign-in came through (its alias).
    pub idp: Option<String>,
    /// The thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
    /// The RFC 8707 resources the request named (none: empty).
    pub resources: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_code(
    db: &impl Conn,
    realm_id: &str,
    new: NewCode,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    use sea_orm::{ActiveModelTrait, Set};
    authorization_code::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        code_hash: Set(new.code_hash),
        client_id: Set(new.client_id),
        user_id: Set(new.user_id),
        session_id: Set(new.session_id),
        redirect_uri: Set(new.redirect_uri),
        scope: Set(new.scope),
        nonce: Set(new.nonce),
        code_challenge_method: Set(new.code_challenge.as_ref().map(|_| "S256".to_string())),
        code_challenge: Set(new.code_challenge),
        auth_time: Set(new.auth_time),
        acr: Set(new.acr),
        amr: Set(super::json_list(&new.amr)),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        consumed_at: Set(None),
        issued_jti: Set(None),
        replayed_at: Set(None),
        idp: Set(new.idp),
        dpop_jkt: Set(new.dpop_jkt),
        resources: Set(super::optional_list(&new.resources)),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find_code(db: &impl Conn, code_hash: &str) -> StoreResult<Option<StoredCode>> {
    Ok(authorization_code::Entity::find()
        .filter(authorization_code::Column::CodeHash.eq(code_hash))
        .one(db)
        .await?)
}

/// Marks the code used, only if nobody used it first. Returns whether this call won.
pub async fn consume_code(db: &impl Conn, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let result = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::ConsumedAt, Expr::value(now))
        .filter(authorization_code::Column::Id.eq(id))
        .filter(authorization_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Remembers which access token a code was exchanged for, only while nobody has replayed the
/// code. Returns whether the issuance stands; `false` means a replay came first and the tokens
/// must not be handed out.
pub async fn claim_issuance(db: &impl Conn, id: &str, jti: &str) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let result = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::IssuedJti, Expr::value(jti))
        .filter(authorization_code::Column::Id.eq(id))
        .filter(authorization_code::Column::ReplayedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records that a redeemed code was presented again (the first time stays), and returns the code
/// as it is after the mark: whatever issuance claimed it before is visible now.
pub async fn mark_replayed(
    db: &impl Conn,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoredCode>> {
    use sea_orm::sea_query::Expr;
    authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::ReplayedAt, Expr::value(now))
        .filter(authorization_code::Column::Id.eq(id))
        .filter(authorization_code::Column::ReplayedAt.is_null())
        .exec(db)
        .await?;
    Ok(authorization_code::Entity::find_by_id(id).one(db).await?)
}

pub type StoredDeviceCode = device_code::Model;

/// Status of a device authorization (RFC 8628).
pub mod device_status {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const DENIED: &str = "denied";
    pub const REDEEMED: &str = "redeemed";
}

#[derive(Debug, Clone)]
pub struct NewDeviceCode {
    pub device_code_hash: String,
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    pub interval_secs: i32,
    pub expires_at: DateTime<Utc>,
}

/// Inserts a device code; `Ok(false)` when the user code collides with a live one.
pub async fn insert_device_code(
    db: &impl Conn,
    realm_id: &str,
    new: NewDeviceCode,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    use sea_orm::{ActiveModelTrait, Set};
    let result = device_code::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        device_code_hash: Set(new.device_code_hash),
        user_code: Set(new.user_code),
        client_id: Set(new.client_id),
        scope: Set(new.scope),
        status: Set(device_status::PENDING.to_string()),
        user_id: Set(None),
        session_id: Set(None),
        auth_time: Set(None),
        interval_secs: Set(new.interval_secs),
        last_polled_at: Set(None),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_device_code(
    db: &impl Conn,
    device_code_hash: &str,
) -> StoreResult<Option<StoredDeviceCode>> {
    Ok(device_code::Entity::find()
        .filter(device_code::Column::DeviceCodeHash.eq(device_code_hash))
        .one(db)
        .await?)
}

/// A pending, unexpired device authorization of the realm by its user code.
pub async fn pending_by_user_code(
    db: &impl Conn,
    realm_id: &str,
    user_code: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoredDeviceCode>> {
    Ok(device_code::Entity::find()
        .filter(device_code::Column::RealmId.eq(realm_id))
        .filter(device_code::Column::UserCode.eq(user_code))
        .filter(device_code::Column::Status.eq(device_status::PENDING))
        .filter(device_code::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Records a poll, and a slower interval when the device polled too fast.
pub async fn record_poll(
    db: &impl Conn,
    id: &str,
    interval_secs: i32,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    use sea_orm::sea_query::Expr;
    device_code::Entity::update_many()
        .col_expr(device_code::Column::LastPolledAt, Expr::value(now))
        .col_expr(
            device_code::Column::IntervalSecs,
            Expr::value(interval_secs),
        )
        .filter(device_code::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's decision on a pending authorization; `false` if it was no longer pending.
pub async fn decide_device_code(
    db: &impl Conn,
    id: &str,
    approved_by: Option<(&str, &str, DateTime<Utc>)>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let mut update = device_code::Entity::update_many();
    match approved_by {
        Some((user_id, session_id, auth_time)) => {
            update = update
                .col_expr(
                    device_code::Column::Status,
                    Expr::value(device_status::APPROVED),
                )
                .col_expr(device_code::Column::UserId, Expr::value(user_id))
                .col_expr(device_code::Column::SessionId, Expr::value(session_id))
                .col_expr(device_code::Column::AuthTime, Expr::value(auth_time));
        }
        None => {
            update = update.col_expr(
                device_code::Column::Status,
                Expr::value(device_status::DENIED),
            );
        }
    }
    let result = update
        .filter(device_code::Column::Id.eq(id))
        .filter(device_code::Column::Status.eq(device_status::PENDING))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks an approved authorization redeemed, only once.
pub async fn redeem_device_code(db: &impl Conn, id: &str) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let result = device_code::Entity::update_many()
        .col_expr(
            device_code::Column::Status,
            Expr::value(device_status::REDEEMED),
        )
        .filter(device_code::Column::Id.eq(id))
        .filter(device_code::Column::Status.eq(device_status::APPROVED))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

//! A realm's SMTP settings and the single-use tokens sent by mail.

use chrono::{DateTime, Utc};
use entity::{action_token, realm_smtp};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::{Conn, StoreResult};

/// SMTP settings as stored.
pub type StoredSmtp = realm_smtp::Model;

pub async fn smtp(db: &impl Conn, realm_id: &str) -> StoreResult<Option<StoredSmtp>> {
    Ok(realm_smtp::Entity::find_by_id(realm_id).one(db).await?)
}

/// Writes the realm's settings, replacing any.
pub async fn put_smtp(db: &impl Conn, settings: StoredSmtp) -> StoreResult<StoredSmtp> {
    let exists = smtp(db, &settings.realm_id).await?.is_some();
    let active = settings.into_active_model().reset_all();
    Ok(if exists {
        active.update(db).await?
    } else {
        active.insert(db).await?
    })
}

pub async fn delete_smtp(db: &impl Conn, realm_id: &str) -> StoreResult<bool> {
    let result = realm_smtp::Entity::delete_by_id(realm_id).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Purposes of action tokens.
pub mod purpose {
    pub const RESET_PASSWORD: &str = "reset_password";
    pub const VERIFY_EMAIL: &str = "verify_email";
}

/// Whether the user has a live token of `purpose` (a link already on its way).
pub async fn has_live_token(
    db: &impl Conn,
    user_id: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(action_token::Entity::find()
        .filter(action_token::Column::UserId.eq(user_id))
        .filter(action_token::Column::Purpose.eq(purpose))
        .filter(action_token::Column::UsedAt.is_null())
        .filter(action_token::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

pub async fn insert_token(
    db: &impl Conn,
    hash: &str,
    realm_id: &str,
    user_id: &str,
    purpose: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    action_token::ActiveModel {
        id: Set(hash.to_string()),
        realm_id: Set(realm_id.to_string()),
        user_id: Set(user_id.to_string()),
        purpose: Set(purpose.to_string()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The realm's unused, unexpired token of `purpose` with this hash.
pub async fn live_token(
    db: &impl Conn,
    realm_id: &str,
    hash: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<action_token::Model>> {
    Ok(action_token::Entity::find_by_id(hash)
        .filter(action_token::Column::RealmId.eq(realm_id))
        .filter(action_token::Column::Purpose.eq(purpose))
        .filter(action_token::Column::UsedAt.is_null())
        .filter(action_token::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Uses the token up; true for the one caller that did (a link works once).
pub async fn use_token(db: &impl Conn, hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let result = action_token::Entity::update_many()
        .col_expr(action_token::Column::UsedAt, Expr::value(now))
        .filter(action_token::Column::Id.eq(hash))
        .filter(action_token::Column::UsedAt.is_null())
        .filter(action_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes tokens that expired (used or not).
pub async fn delete_expired_tokens(db: &impl Conn, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(action_token::Entity::delete_many()
        .filter(action_token::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

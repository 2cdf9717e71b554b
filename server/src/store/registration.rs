//! Initial access tokens (RFC 7591 §3), stored hashed, each good for a number of registrations
//! until it expires.

use chrono::{DateTime, Utc};
use entity::initial_access_token;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Conn, StoreResult};

pub type InitialAccessTokenRow = initial_access_token::Model;

pub async fn insert(db: &impl Conn, row: InitialAccessTokenRow) -> StoreResult<()> {
    let active = initial_access_token::ActiveModel {
        id: Set(row.id),
        realm_id: Set(row.realm_id),
        token_hash: Set(row.token_hash),
        description: Set(row.description),
        remaining_uses: Set(row.remaining_uses),
        created_at: Set(row.created_at),
        expires_at: Set(row.expires_at),
    };
    super::rows::insert(db, active, || "initial access token".to_string()).await?;
    Ok(())
}

/// The realm's tokens, newest first.
pub async fn list(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<InitialAccessTokenRow>> {
    Ok(initial_access_token::Entity::find()
        .filter(initial_access_token::Column::RealmId.eq(realm_id))
        .order_by_desc(initial_access_token::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn delete(db: &impl Conn, realm_id: &str, id: &str) -> StoreResult<u64> {
    Ok(initial_access_token::Entity::delete_many()
        .filter(initial_access_token::Column::RealmId.eq(realm_id))
        .filter(initial_access_token::Column::Id.eq(id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Whether the realm has a live token with this hash (expired and used-up ones are not).
pub async fn is_live(
    db: &impl Conn,
    realm_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(initial_access_token::Entity::find()
        .filter(initial_access_token::Column::RealmId.eq(realm_id))
        .filter(initial_access_token::Column::TokenHash.eq(token_hash))
        .filter(initial_access_token::Column::RemainingUses.gt(0))
        .filter(initial_access_token::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// Uses the realm's live token with this hash once; its id, or `None` when there is no such
/// token, it expired or it is used up. One conditional update: racing registrations cannot
/// use more than it allows.
pub async fn use_once(
    db: &impl Conn,
    realm_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    let Some(row) = initial_access_token::Entity::find()
        .filter(initial_access_token::Column::RealmId.eq(realm_id))
        .filter(initial_access_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let used = initial_access_token::Entity::update_many()
        .col_expr(
            initial_access_token::Column::RemainingUses,
            Expr::col(initial_access_token::Column::RemainingUses).sub(1),
        )
        .filter(initial_access_token::Column::Id.eq(row.id.as_str()))
        .filter(initial_access_token::Column::RemainingUses.gt(0))
        .filter(initial_access_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected;
    Ok((used == 1).then_some(row.id))
}

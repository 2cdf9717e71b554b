//! Refresh-token families and their rotating tokens (stored as hashes only).

use chrono::{DateTime, Utc};
use entity::{refresh_token, refresh_token_family};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::Value;

use super::{Conn, StoreResult};

pub type Family = refresh_token_family::Model;
pub type Token = refresh_token::Model;

#[derive(Debug, Clone)]
pub struct NewFamily {
    pub client_id: String,
    pub user_id: Option<String>,
    pub subject: String,
    pub scope: String,
    pub claims: Value,
    pub auth_time: Option<DateTime<Utc>>,
    /// The sign-in's `acr` and `amr` (user families).
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub session_id: Option<String>,
    pub authorization_code_id: Option<String>,
    pub absolute_expires_at: DateTime<Utc>,
    /// The DPoP key every refresh of the family must prove (public clients).
    pub dpop_jkt: Option<String>,
    /// The RFC 8707 resources the grant covers (none named: empty).
    pub resources: Vec<String>,
}

/// Creates a family with its first token, in one transaction: a request dropped half-way leaves
/// neither behind.
pub async fn create_family(
    db: &(impl Conn + TransactionTrait),
    realm_id: &str,
    new: NewFamily,
    token_hash: &str,
    token_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Family> {
    let txn = db.begin().await?;
    let family = refresh_token_family::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        client_id: Set(new.client_id),
        user_id: Set(new.user_id),
        subject: Set(new.subject),
        scope: Set(new.scope),
        claims: Set(new.claims),
        auth_time: Set(new.auth_time),
        session_id: Set(new.session_id),
        authorization_code_id: Set(new.authorization_code_id),
        created_at: Set(now),
        absolute_expires_at: Set(new.absolute_expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        acr: Set(new.acr),
        amr: Set((!new.amr.is_empty()).then(|| super::json_list(&new.amr))),
        dpop_jkt: Set(new.dpop_jkt),
        resources: Set(super::optional_list(&new.resources)),
    }
    .insert(&txn)
    .await?;
    insert_token(
        &txn,
        &crate::crypto::random::id(),
        &family.id,
        token_hash,
        token_expires_at,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(family)
}

pub async fn insert_token(
    db: &impl Conn,
    id: &str,
    family_id: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(id.to_string()),
        family_id: Set(family_id.to_string()),
        token_hash: Set(token_hash.to_string()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        rotated_at: Set(None),
        successor_id: Set(None),
        sealed_response: Set(None),
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| super::conflict_or_db(e, || "the refresh token".into()))?;
    Ok(())
}

/// A token found by [`find_chain`], with its family and the family's user (if it has one).
pub type ChainRow = (Token, Family, Option<entity::user::Model>);

/// The tokens with any of these hashes, each with its family and the family's user, in one
/// statement: a token and the successors it would have (their hashes are derived from it), so
/// one read tells whether it was rotated and whether its successor was in turn, and brings
/// the user whose claims the rotation re-issues.
pub async fn find_chain(db: &impl Conn, hashes: &[&str]) -> StoreResult<Vec<ChainRow>> {
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.is_in(hashes.iter().copied()))
        .find_also_related(refresh_token_family::Entity)
        .and_also_related(entity::user::Entity)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter_map(|(token, family, user)| family.map(|f| (token, f, user)))
        .collect())
}

/// The token with this hash and its family.
pub async fn find_by_hash(
    db: &impl Conn,
    token_hash: &str,
) -> StoreResult<Option<(Token, Family)>> {
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .find_also_related(refresh_token_family::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(token, family)| family.map(|f| (token, f))))
}

/// Keeps the sealed response that handed out token `token_id` (for retries within the grace).
pub async fn set_sealed_response(db: &impl Conn, token_id: &str, sealed: &str) -> StoreResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::SealedResponse, Expr::value(sealed))
        .filter(refresh_token::Column::Id.eq(token_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes up to `batch` dead families (expired, or revoked more than a day ago) with their
/// tokens, then up to `batch` expired tokens; returns how many rows went.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    let dead: Vec<String> = refresh_token_family::Entity::find()
        .select_only()
        .column(refresh_token_family::Column::Id)
        .filter(
            Condition::any()
                .add(refresh_token_family::Column::AbsoluteExpiresAt.lte(now))
                .add(refresh_token_family::Column::RevokedAt.lte(now - chrono::Duration::days(1))),
        )
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    if !dead.is_empty() {
        // Tokens go first so SQLite without cascading deletes behaves like Postgres.
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::FamilyId.is_in(dead.clone()))
            .exec(db)
            .await?;
        deleted += refresh_token_family::Entity::delete_many()
            .filter(refresh_token_family::Column::Id.is_in(dead))
            .exec(db)
            .await?
            .rows_affected;
    }
    let expired: Vec<String> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::Id)
        .filter(refresh_token::Column::ExpiresAt.lte(now))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if !expired.is_empty() {
        deleted += refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::Id.is_in(expired))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

/// Revokes every live family matching `filter` (idempotent: the first reason stays).
async fn revoke_where(
    db: &impl Conn,
    filter: Condition,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let result = refresh_token_family::Entity::update_many()
        .col_expr(refresh_token_family::Column::RevokedAt, Expr::value(now))
        .col_expr(
            refresh_token_family::Column::RevokedReason,
            Expr::value(reason),
        )
        .filter(filter)
        .filter(refresh_token_family::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

pub async fn revoke_family(
    db: &impl Conn,
    family_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let filter = Condition::all().add(refresh_token_family::Column::Id.eq(family_id));
    revoke_where(db, filter, reason, now).await.map(|_| ())
}

/// Every family of a user (password changed, user disabled); returns how many.
pub async fn revoke_user_families(
    db: &impl Conn,
    user_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let filter = Condition::all().add(refresh_token_family::Column::UserId.eq(user_id));
    revoke_where(db, filter, reason, now).await
}

/// The family an authorization code started (the code was replayed).
pub async fn revoke_code_families(
    db: &impl Conn,
    code_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let filter =
        Condition::all().add(refresh_token_family::Column::AuthorizationCodeId.eq(code_id));
    revoke_where(db, filter, "authorization code replayed", now).await
}

/// The families born in a login session (the session ended).
pub async fn revoke_session_families(
    db: &impl Conn,
    session_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let filter = Condition::all().add(refresh_token_family::Column::SessionId.eq(session_id));
    revoke_where(db, filter, "session ended", now).await
}

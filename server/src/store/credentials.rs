//! A user's credentials besides the password: TOTP secrets (sealed) and recovery codes (hashed).
//! Accepting a code is one conditional statement, so concurrent requests with the same code
//! have one winner.

use chrono::{DateTime, Utc};
use entity::credential;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Conn, StoreResult};

/// A credential as stored.
pub type StoredCredential = credential::Model;

/// The kinds of credential (`credentials.kind`).
pub mod kind {
    pub const TOTP: &str = "totp";
    pub const RECOVERY_CODE: &str = "recovery_code";
    pub const PASSKEY: &str = "passkey";
}

/// Every credential of the user, oldest first.
pub async fn of_user(db: &impl Conn, user_id: &str) -> StoreResult<Vec<StoredCredential>> {
    Ok(credential::Entity::find()
        .filter(credential::Column::UserId.eq(user_id))
        .order_by_asc(credential::Column::CreatedAt)
        .order_by_asc(credential::Column::Id)
        .all(db)
        .await?)
}

/// The user's confirmed TOTP credential, if any.
pub async fn confirmed_totp(
    db: &impl Conn,
    user_id: &str,
) -> StoreResult<Option<StoredCredential>> {
    Ok(credential::Entity::find()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Kind.eq(kind::TOTP))
        .filter(credential::Column::Confirmed.eq(true))
        .one(db)
        .await?)
}

/// The TOTP secret shown to the user for enrolment and not yet confirmed, if any.
pub async fn pending_totp(db: &impl Conn, user_id: &str) -> StoreResult<Option<StoredCredential>> {
    Ok(credential::Entity::find()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Kind.eq(kind::TOTP))
        .filter(credential::Column::Confirmed.eq(false))
        .one(db)
        .await?)
}

/// What a new credential holds.
#[derive(Debug, Clone)]
pub struct NewCredential<'a> {
    pub id: String,
    pub realm_id: &'a str,
    pub user_id: &'a str,
    pub kind: &'static str,
    pub label: Option<String>,
    pub lookup_key: Option<String>,
    pub secret: String,
    pub confirmed: bool,
    pub last_used_step: Option<i64>,
}

pub async fn insert(
    db: &impl Conn,
    new: NewCredential<'_>,
    now: DateTime<Utc>,
) -> StoreResult<StoredCredential> {
    credential::ActiveModel {
        id: Set(new.id),
        realm_id: Set(new.realm_id.to_string()),
        user_id: Set(new.user_id.to_string()),
        kind: Set(new.kind.to_string()),
        label: Set(new.label),
        lookup_key: Set(new.lookup_key),
        secret: Set(new.secret),
        confirmed: Set(new.confirmed),
        last_used_step: Set(new.last_used_step),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| super::conflict_or_db(e, || "credential".to_string()))
}

/// The realm's credential found by `lookup_key` (a passkey's credential id).
pub async fn by_lookup_key(
    db: &impl Conn,
    realm_id: &str,
    lookup_key: &str,
) -> StoreResult<Option<StoredCredential>> {
    Ok(credential::Entity::find()
        .filter(credential::Column::RealmId.eq(realm_id))
        .filter(credential::Column::LookupKey.eq(lookup_key))
        .one(db)
        .await?)
}

/// Every credential of `kind` the user has.
pub async fn of_kind(
    db: &impl Conn,
    user_id: &str,
    kind: &str,
) -> StoreResult<Vec<StoredCredential>> {
    Ok(credential::Entity::find()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Kind.eq(kind))
        .order_by_asc(credential::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Records a use of a passkey: its new state (counter) and when.
pub async fn record_passkey_use(
    db: &impl Conn,
    id: &str,
    secret: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut update = credential::Entity::update_many()
        .col_expr(credential::Column::LastUsedAt, Expr::value(now))
        .filter(credential::Column::Id.eq(id));
    if let Some(secret) = secret {
        update = update.col_expr(credential::Column::Secret, Expr::value(secret));
    }
    update.exec(db).await?;
    Ok(())
}

/// Deletes the user's credentials of `kind`, confirmed or not as `confirmed` says (all when
/// `None`); returns how many went.
pub async fn delete_kind(
    db: &impl Conn,
    user_id: &str,
    kind: &str,
    confirmed: Option<bool>,
) -> StoreResult<u64> {
    let mut delete = credential::Entity::delete_many()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Kind.eq(kind));
    if let Some(confirmed) = confirmed {
        delete = delete.filter(credential::Column::Confirmed.eq(confirmed));
    }
    Ok(delete.exec(db).await?.rows_affected)
}

/// Deletes one credential of the user; returns whether it existed.
pub async fn delete(db: &impl Conn, user_id: &str, id: &str) -> StoreResult<bool> {
    let result = credential::Entity::delete_many()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Renames one of the user's credentials; whether it existed.
pub async fn rename(db: &impl Conn, user_id: &str, id: &str, label: &str) -> StoreResult<bool> {
    let result = credential::Entity::update_many()
        .col_expr(credential::Column::Label, Expr::value(label))
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Confirms a pending TOTP credential whose code for time step `step` was just given; returns
/// false when it was confirmed meanwhile (or is gone).
pub async fn confirm_totp(
    db: &impl Conn,
    id: &str,
    step: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = credential::Entity::update_many()
        .col_expr(credential::Column::Confirmed, Expr::value(true))
        .col_expr(credential::Column::LastUsedStep, Expr::value(step))
        .col_expr(credential::Column::LastUsedAt, Expr::value(now))
        .filter(credential::Column::Id.eq(id))
        .filter(credential::Column::Confirmed.eq(false))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Accepts the code of time step `step` if no code of this step or a later one was accepted
/// before (RFC 6238 §5.2: each code once); returns whether it was accepted.
pub async fn accept_totp_step(
    db: &impl Conn,
    id: &str,
    step: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = credential::Entity::update_many()
        .col_expr(credential::Column::LastUsedStep, Expr::value(step))
        .col_expr(credential::Column::LastUsedAt, Expr::value(now))
        .filter(credential::Column::Id.eq(id))
        .filter(credential::Column::Confirmed.eq(true))
        .filter(
            credential::Column::LastUsedStep
                .is_null()
                .or(credential::Column::LastUsedStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Uses up the user's recovery code with this hash; returns whether there was one.
pub async fn consume_recovery_code(
    db: &impl Conn,
    user_id: &str,
    code_hash: &str,
) -> StoreResult<bool> {
    let result = credential::Entity::delete_many()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Kind.eq(kind::RECOVERY_CODE))
        .filter(credential::Column::Secret.eq(code_hash))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

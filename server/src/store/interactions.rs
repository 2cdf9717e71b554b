//! Pending logins (see `oauth::interaction`), by the hash of the handle the browser carries.

use chrono::{DateTime, Utc};
use entity::interaction;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::{json_list, string_list, Conn, StoreResult};

/// A pending login as stored.
#[derive(Debug, Clone)]
pub struct StoredInteraction {
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    pub purpose: String,
    pub request: String,
    pub user_id: Option<String>,
    pub steps_done: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<interaction::Model> for StoredInteraction {
    type Error = super::StoreError;

    fn try_from(row: interaction::Model) -> StoreResult<Self> {
        Ok(Self {
            steps_done: string_list(&row.steps_done, "interactions.steps_done")?,
            id: row.id,
            realm_id: row.realm_id,
            client_id: row.client_id,
            purpose: row.purpose,
            request: row.request,
            user_id: row.user_id,
            expires_at: row.expires_at,
        })
    }
}

pub async fn insert(
    db: &impl Conn,
    new: &StoredInteraction,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    interaction::ActiveModel {
        id: Set(new.id.clone()),
        realm_id: Set(new.realm_id.clone()),
        client_id: Set(new.client_id.clone()),
        purpose: Set(new.purpose.clone()),
        request: Set(new.request.clone()),
        user_id: Set(new.user_id.clone()),
        steps_done: Set(json_list(&new.steps_done)),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The realm's unexpired interaction with this id.
pub async fn live(
    db: &impl Conn,
    realm_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoredInteraction>> {
    interaction::Entity::find_by_id(id)
        .filter(interaction::Column::RealmId.eq(realm_id))
        .filter(interaction::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(StoredInteraction::try_from)
        .transpose()
}

/// Records the user and the steps done so far.
pub async fn record_progress(
    db: &impl Conn,
    id: &str,
    user_id: Option<&str>,
    steps_done: &[String],
) -> StoreResult<()> {
    interaction::Entity::update_many()
        .col_expr(
            interaction::Column::UserId,
            sea_orm::sea_query::Expr::value(user_id.map(str::to_string)),
        )
        .col_expr(
            interaction::Column::StepsDone,
            sea_orm::sea_query::Expr::value(json_list(steps_done)),
        )
        .filter(interaction::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the interaction; true for the one caller that deleted it, so a finished login is
/// acted on once however many requests race to finish it.
pub async fn take(db: &impl Conn, id: &str) -> StoreResult<bool> {
    Ok(interaction::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Deletes up to `batch` expired interactions; returns how many went.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    let expired: Vec<String> = interaction::Entity::find()
        .select_only()
        .column(interaction::Column::Id)
        .filter(interaction::Column::ExpiresAt.lte(now))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if expired.is_empty() {
        return Ok(0);
    }
    Ok(interaction::Entity::delete_many()
        .filter(interaction::Column::Id.is_in(expired))
        .exec(db)
        .await?
        .rows_affected)
}

//! Remembered consent per user and client.

use chrono::{DateTime, Utc};
use entity::consent;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{json_list, string_list, Conn, StoreResult};

/// The scopes the user already allowed the client.
pub async fn granted(db: &impl Conn, user_id: &str, client_id: &str) -> StoreResult<Vec<String>> {
    match find(db, user_id, client_id).await? {
        Some(row) => string_list(&row.scopes, "consents.scopes"),
        None => Ok(Vec::new()),
    }
}

async fn find(
    db: &impl Conn,
    user_id: &str,
    client_id: &str,
) -> StoreResult<Option<consent::Model>> {
    Ok(consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

/// Adds `scopes` to what the user allowed the client.
pub async fn grant(
    db: &impl Conn,
    realm_id: &str,
    user_id: &str,
    client_id: &str,
    scopes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    match find(db, user_id, client_id).await? {
        Some(row) => {
            let mut all = string_list(&row.scopes, "consents.scopes")?;
            for scope in scopes {
                if !all.contains(scope) {
                    all.push(scope.clone());
                }
            }
            let mut active: consent::ActiveModel = row.into();
            active.scopes = Set(json_list(&all));
            active.updated_at = Set(now);
            active.update(db).await?;
        }
        None => {
            consent::ActiveModel {
                id: Set(crate::crypto::random::id()),
                realm_id: Set(realm_id.to_string()),
                user_id: Set(user_id.to_string()),
                client_id: Set(client_id.to_string()),
                scopes: Set(json_list(scopes)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Forgets the user's consent to the client (revocable consent).
pub async fn revoke(db: &impl Conn, user_id: &str, client_id: &str) -> StoreResult<bool> {
    let result = consent::Entity::delete_many()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

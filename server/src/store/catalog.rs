//! A realm's catalogue: scopes, claim types and API resources.

use chrono::{DateTime, Utc};
use entity::{api_resource, claim_type, scope};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{json_list, string_list, Conn, StoreResult};
use crate::domain::{ApiResource, Catalog, ScopeDef};

#[derive(Debug, Clone)]
pub struct NewScope {
    pub name: String,
    pub description: Option<String>,
    pub claims: Vec<String>,
    pub audience: Option<String>,
    pub include_in_access_token: bool,
}

/// Inserts the scope unless one of that name exists; returns whether it was inserted.
pub async fn ensure_scope(
    db: &impl Conn,
    realm_id: &str,
    new: &NewScope,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let exists = scope::Entity::find()
        .filter(scope::Column::RealmId.eq(realm_id))
        .filter(scope::Column::Name.eq(&new.name))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    scope::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(new.name.clone()),
        description: Set(new.description.clone()),
        claims: Set(json_list(&new.claims)),
        audience: Set(new.audience.clone()),
        include_in_access_token: Set(new.include_in_access_token),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(true)
}

pub async fn scope_names(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<String>> {
    Ok(scope::Entity::find()
        .filter(scope::Column::RealmId.eq(realm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect())
}

/// Inserts the claim type unless it exists; returns whether it was inserted.
pub async fn ensure_claim_type(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
    description: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let exists = claim_type::Entity::find()
        .filter(claim_type::Column::RealmId.eq(realm_id))
        .filter(claim_type::Column::Name.eq(name))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    claim_type::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(name.to_string()),
        description: Set(description.map(str::to_string)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(true)
}

pub async fn api_resources(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<ApiResource>> {
    api_resource::Entity::find()
        .filter(api_resource::Column::RealmId.eq(realm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            Ok(ApiResource {
                scopes: string_list(&row.scopes, "api_resources.scopes")?,
                name: row.name,
                secret_hash: row.secret_hash,
                enabled: row.enabled,
            })
        })
        .collect()
}

/// Inserts the API resource unless it exists; returns whether it was inserted.
pub async fn ensure_api_resource(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
    scopes: &[String],
    secret_hash: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let exists = api_resource::Entity::find()
        .filter(api_resource::Column::RealmId.eq(realm_id))
        .filter(api_resource::Column::Name.eq(name))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    api_resource::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(name.to_string()),
        display_name: Set(None),
        scopes: Set(json_list(scopes)),
        secret_hash: Set(secret_hash),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// The realm's scopes and API resources.
pub async fn load(db: &impl Conn, realm_id: &str) -> StoreResult<Catalog> {
    let scopes = scope::Entity::find()
        .filter(scope::Column::RealmId.eq(realm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            Ok(ScopeDef {
                claims: string_list(&row.claims, "scopes.claims")?,
                name: row.name,
                audience: row.audience,
                include_in_access_token: row.include_in_access_token,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Catalog {
        scopes,
        api_resources: api_resources(db, realm_id).await?,
    })
}

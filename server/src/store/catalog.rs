//! A realm's catalogue: scopes, claim types and API resources.

use chrono::{DateTime, Utc};
use entity::{api_resource, claim_type, scope};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use super::rows::{self, Keyset, Order};
use super::{json_list, string_list, Conn, StoreResult};
use crate::domain::{ApiResource, Catalog, ScopeDef};

/// Rows as stored, for the admin service's views.
pub type ScopeRow = scope::Model;
pub type ApiResourceRow = api_resource::Model;
pub type ClaimTypeRow = claim_type::Model;

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
        role_composites: super::roles::composites(db, realm_id).await?,
    })
}

// ---- scopes, for the admin service ------------------------------------------------------

fn scope_keyed(realm_id: &str, name: &str) -> Condition {
    Condition::all()
        .add(scope::Column::RealmId.eq(realm_id))
        .add(scope::Column::Name.eq(name))
}

/// One keyset page of the realm's scopes, by name.
pub async fn scope_page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<ScopeRow>, bool)> {
    rows::page::<scope::Entity>(
        db,
        scope::Column::RealmId.eq(realm_id),
        scope::Column::Name,
        Order::Ascending,
        keyset,
    )
    .await
}

/// Every scope of the realm, by name.
pub async fn scopes_in(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<ScopeRow>> {
    rows::all::<scope::Entity>(db, scope::Column::RealmId.eq(realm_id), scope::Column::Name).await
}

pub async fn find_scope(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
) -> StoreResult<Option<ScopeRow>> {
    rows::one::<scope::Entity>(db, scope_keyed(realm_id, name)).await
}

/// Names of the realm's scopes whose audience is `audience`, by name.
pub async fn scopes_with_audience(
    db: &impl Conn,
    realm_id: &str,
    audience: &str,
) -> StoreResult<Vec<String>> {
    Ok(rows::all::<scope::Entity>(
        db,
        Condition::all()
            .add(scope::Column::RealmId.eq(realm_id))
            .add(scope::Column::Audience.eq(audience)),
        scope::Column::Name,
    )
    .await?
    .into_iter()
    .map(|s| s.name)
    .collect())
}

/// Inserts the scope; `Conflict` when the realm has one of that name.
pub async fn insert_scope(
    db: &impl Conn,
    realm_id: &str,
    new: &NewScope,
    now: DateTime<Utc>,
) -> StoreResult<ScopeRow> {
    let row = scope::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(new.name.clone()),
        description: Set(new.description.clone()),
        claims: Set(json_list(&new.claims)),
        audience: Set(new.audience.clone()),
        include_in_access_token: Set(new.include_in_access_token),
        created_at: Set(now),
        updated_at: Set(now),
    };
    rows::insert(db, row, || format!("scope `{}`", new.name)).await
}

/// What an edit changes of a scope; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ScopeChanges {
    pub description: Option<Option<String>>,
    pub claims: Option<Vec<String>>,
    pub audience: Option<Option<String>>,
    pub include_in_access_token: Option<bool>,
}

pub async fn update_scope(
    db: &impl Conn,
    row: ScopeRow,
    changes: ScopeChanges,
    now: DateTime<Utc>,
) -> StoreResult<ScopeRow> {
    let what = format!("scope `{}`", row.name);
    let mut active = row.into_active_model();
    if let Some(description) = changes.description {
        active.description = Set(description);
    }
    if let Some(claims) = &changes.claims {
        active.claims = Set(json_list(claims));
    }
    if let Some(audience) = changes.audience {
        active.audience = Set(audience);
    }
    if let Some(include) = changes.include_in_access_token {
        active.include_in_access_token = Set(include);
    }
    active.updated_at = Set(now);
    rows::update(db, active, || what).await
}

pub async fn delete_scope(db: &impl Conn, pk: &str) -> StoreResult<u64> {
    rows::delete::<scope::Entity>(db, scope::Column::Id.eq(pk)).await
}

// ---- API resources, for the admin service -----------------------------------------------

/// One keyset page of the realm's API resources, by name.
pub async fn api_resource_page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<ApiResourceRow>, bool)> {
    rows::page::<api_resource::Entity>(
        db,
        api_resource::Column::RealmId.eq(realm_id),
        api_resource::Column::Name,
        Order::Ascending,
        keyset,
    )
    .await
}

/// Every API resource of the realm, by name.
pub async fn api_resources_in(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<ApiResourceRow>> {
    rows::all::<api_resource::Entity>(
        db,
        api_resource::Column::RealmId.eq(realm_id),
        api_resource::Column::Name,
    )
    .await
}

pub async fn find_api_resource(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
) -> StoreResult<Option<ApiResourceRow>> {
    rows::one::<api_resource::Entity>(
        db,
        Condition::all()
            .add(api_resource::Column::RealmId.eq(realm_id))
            .add(api_resource::Column::Name.eq(name)),
    )
    .await
}

/// What is needed to create an API resource; the secret arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewApiResource {
    pub name: String,
    pub display_name: Option<String>,
    pub scopes: Vec<String>,
    pub secret_hash: Option<String>,
    pub enabled: bool,
}

/// Inserts the API resource; `Conflict` when the realm has one of that name.
pub async fn insert_api_resource(
    db: &impl Conn,
    realm_id: &str,
    new: &NewApiResource,
    now: DateTime<Utc>,
) -> StoreResult<ApiResourceRow> {
    let row = api_resource::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(new.name.clone()),
        display_name: Set(new.display_name.clone()),
        scopes: Set(json_list(&new.scopes)),
        secret_hash: Set(new.secret_hash.clone()),
        enabled: Set(new.enabled),
        created_at: Set(now),
        updated_at: Set(now),
    };
    rows::insert(db, row, || format!("API resource `{}`", new.name)).await
}

/// What an edit changes of an API resource; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ApiResourceChanges {
    pub display_name: Option<Option<String>>,
    pub scopes: Option<Vec<String>>,
    pub secret_hash: Option<Option<String>>,
    pub enabled: Option<bool>,
}

pub async fn update_api_resource(
    db: &impl Conn,
    row: ApiResourceRow,
    changes: ApiResourceChanges,
    now: DateTime<Utc>,
) -> StoreResult<ApiResourceRow> {
    let what = format!("API resource `{}`", row.name);
    let mut active = row.into_active_model();
    if let Some(display_name) = changes.display_name {
        active.display_name = Set(display_name);
    }
    if let Some(scopes) = &changes.scopes {
        active.scopes = Set(json_list(scopes));
    }
    if let Some(hash) = changes.secret_hash {
        active.secret_hash = Set(hash);
    }
    if let Some(enabled) = changes.enabled {
        active.enabled = Set(enabled);
    }
    active.updated_at = Set(now);
    rows::update(db, active, || what).await
}

pub async fn delete_api_resource(db: &impl Conn, pk: &str) -> StoreResult<u64> {
    rows::delete::<api_resource::Entity>(db, api_resource::Column::Id.eq(pk)).await
}

// ---- claim types, for the admin service -------------------------------------------------

/// One keyset page of the realm's claim types, by name.
pub async fn claim_type_page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<ClaimTypeRow>, bool)> {
    rows::page::<claim_type::Entity>(
        db,
        claim_type::Column::RealmId.eq(realm_id),
        claim_type::Column::Name,
        Order::Ascending,
        keyset,
    )
    .await
}

/// Names of the realm's claim types, by name.
pub async fn claim_type_names(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<String>> {
    Ok(rows::all::<claim_type::Entity>(
        db,
        claim_type::Column::RealmId.eq(realm_id),
        claim_type::Column::Name,
    )
    .await?
    .into_iter()
    .map(|c| c.name)
    .collect())
}

pub async fn find_claim_type(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
) -> StoreResult<Option<ClaimTypeRow>> {
    rows::one::<claim_type::Entity>(
        db,
        Condition::all()
            .add(claim_type::Column::RealmId.eq(realm_id))
            .add(claim_type::Column::Name.eq(name)),
    )
    .await
}

/// Inserts the claim type; `Conflict` when the realm has one of that name.
pub async fn insert_claim_type(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
    description: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<ClaimTypeRow> {
    let row = claim_type::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(name.to_string()),
        description: Set(description),
        created_at: Set(now),
        updated_at: Set(now),
    };
    rows::insert(db, row, || format!("claim type `{name}`")).await
}

/// Sets the claim type's description (`None` leaves it as it is).
pub async fn update_claim_type(
    db: &impl Conn,
    row: ClaimTypeRow,
    description: Option<Option<String>>,
    now: DateTime<Utc>,
) -> StoreResult<ClaimTypeRow> {
    let what = format!("claim type `{}`", row.name);
    let mut active = row.into_active_model();
    if let Some(description) = description {
        active.description = Set(description);
    }
    active.updated_at = Set(now);
    rows::update(db, active, || what).await
}

pub async fn delete_claim_type(db: &impl Conn, pk: &str) -> StoreResult<u64> {
    rows::delete::<claim_type::Entity>(db, claim_type::Column::Id.eq(pk)).await
}

//! A realm's roles as a managed collection: name, description, and the roles each one
//! includes (composites). Assignments to users live in `users`; clients list role names.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{role, role_composite};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::rows::{self, Keyset, Order};
use super::{Conn, StoreResult};

pub type RoleRow = role::Model;

/// One keyset page of the realm's roles, by name.
pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<RoleRow>, bool)> {
    rows::page::<role::Entity>(
        db,
        role::Column::RealmId.eq(realm_id),
        role::Column::Name,
        Order::Ascending,
        keyset,
    )
    .await
}

/// Every role of the realm, by name.
pub async fn all(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<RoleRow>> {
    rows::all::<role::Entity>(db, role::Column::RealmId.eq(realm_id), role::Column::Name).await
}

pub async fn find(db: &impl Conn, realm_id: &str, name: &str) -> StoreResult<Option<RoleRow>> {
    rows::one::<role::Entity>(
        db,
        Condition::all()
            .add(role::Column::RealmId.eq(realm_id))
            .add(role::Column::Name.eq(name)),
    )
    .await
}

/// Inserts the role; `Conflict` when the realm has one of that name.
pub async fn insert(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
    description: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<RoleRow> {
    let row = role::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        name: Set(name.to_string()),
        description: Set(description),
        created_at: Set(now),
    };
    rows::insert(db, row, || format!("role `{name}`")).await
}

/// Sets the role's description.
pub async fn set_description(
    db: &impl Conn,
    row: RoleRow,
    description: Option<String>,
) -> StoreResult<RoleRow> {
    let what = format!("role `{}`", row.name);
    let mut active = row.into_active_model();
    active.description = Set(description);
    rows::update(db, active, || what).await
}

/// Replaces the roles `role_id` includes.
pub async fn set_composites(
    db: &impl Conn,
    role_id: &str,
    child_ids: &[String],
) -> StoreResult<()> {
    role_composite::Entity::delete_many()
        .filter(role_composite::Column::RoleId.eq(role_id))
        .exec(db)
        .await?;
    if child_ids.is_empty() {
        return Ok(());
    }
    role_composite::Entity::insert_many(child_ids.iter().map(|child| {
        role_composite::ActiveModel {
            role_id: Set(role_id.to_string()),
            child_id: Set(child.clone()),
        }
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Deletes the role; its assignments to users and its composite links go with it.
pub async fn delete(db: &impl Conn, id: &str) -> StoreResult<u64> {
    rows::delete::<role::Entity>(db, role::Column::Id.eq(id)).await
}

/// The realm's composite roles: each role name that includes others, with the names of the
/// roles it includes directly (sorted). Roles without composites are absent.
pub async fn composites(
    db: &impl Conn,
    realm_id: &str,
) -> StoreResult<BTreeMap<String, Vec<String>>> {
    let roles = all(db, realm_id).await?;
    let names: HashMap<&str, &str> = roles
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let links = role_composite::Entity::find()
        .filter(
            role_composite::Column::RoleId.in_subquery(
                Query::select()
                    .column(role::Column::Id)
                    .from(role::Entity)
                    .and_where(role::Column::RealmId.eq(realm_id))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for link in links {
        if let (Some(parent), Some(child)) = (
            names.get(link.role_id.as_str()),
            names.get(link.child_id.as_str()),
        ) {
            graph
                .entry(parent.to_string())
                .or_default()
                .push(child.to_string());
        }
    }
    for children in graph.values_mut() {
        children.sort();
    }
    Ok(graph)
}

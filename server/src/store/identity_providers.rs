//! A realm's upstream identity providers (federation), by alias.

use chrono::{DateTime, Utc};
use entity::identity_provider;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, IntoActiveModel};

use super::rows::{self, Keyset, Order};
use super::{Conn, StoreResult};

pub type IdentityProviderRow = identity_provider::Model;

/// One keyset page of the realm's providers, by alias.
pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<IdentityProviderRow>, bool)> {
    rows::page::<identity_provider::Entity>(
        db,
        identity_provider::Column::RealmId.eq(realm_id),
        identity_provider::Column::Alias,
        Order::Ascending,
        keyset,
    )
    .await
}

/// The realm's enabled providers, by alias (the login page's buttons).
pub async fn enabled(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<IdentityProviderRow>> {
    rows::all::<identity_provider::Entity>(
        db,
        Condition::all()
            .add(identity_provider::Column::RealmId.eq(realm_id))
            .add(identity_provider::Column::Enabled.eq(true)),
        identity_provider::Column::Alias,
    )
    .await
}

pub async fn find(
    db: &impl Conn,
    realm_id: &str,
    alias: &str,
) -> StoreResult<Option<IdentityProviderRow>> {
    rows::one::<identity_provider::Entity>(
        db,
        Condition::all()
            .add(identity_provider::Column::RealmId.eq(realm_id))
            .add(identity_provider::Column::Alias.eq(alias)),
    )
    .await
}

pub async fn find_by_id(db: &impl Conn, id: &str) -> StoreResult<Option<IdentityProviderRow>> {
    rows::one::<identity_provider::Entity>(db, identity_provider::Column::Id.eq(id)).await
}

/// Inserts the provider; `Conflict` when the realm has one with its alias.
pub async fn insert(db: &impl Conn, row: IdentityProviderRow) -> StoreResult<IdentityProviderRow> {
    let what = format!("identity provider `{}`", row.alias);
    let active = row.into_active_model().reset_all();
    rows::insert(db, active, || what).await
}

/// Writes every column of `row` (found by its id), stamped `now`.
pub async fn replace(
    db: &impl Conn,
    mut row: IdentityProviderRow,
    now: DateTime<Utc>,
) -> StoreResult<IdentityProviderRow> {
    row.updated_at = now;
    let what = format!("identity provider `{}`", row.alias);
    let active = row.into_active_model().reset_all();
    rows::update(db, active, || what).await
}

/// Deletes the provider (its links and pending logins go with it).
pub async fn delete(db: &impl Conn, id: &str) -> StoreResult<u64> {
    rows::delete::<identity_provider::Entity>(db, identity_provider::Column::Id.eq(id)).await
}

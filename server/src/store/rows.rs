//! Generic row operations for the repositories: keyset pages, counts, updates and deletes of
//! any entity. Only `Keyset` leaves the store; the rest names SeaORM types and stays here.

use sea_orm::sea_query::{Expr, Func, IntoCondition, LikeExpr, SimpleExpr};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::{Conn, StoreResult};

/// `column` starts with `prefix`, ignoring ASCII case, alike on every backend (SQLite's LIKE
/// ignores ASCII case and Postgres' does not, so both sides are lower-cased). LIKE's wildcards
/// in `prefix` match only themselves.
pub(super) fn starts_with_ignoring_case(column: impl ColumnTrait, prefix: &str) -> SimpleExpr {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(Expr::col(column.as_column_ref())))
        .like(LikeExpr::new(pattern).escape('!'))
}

/// Which way a keyset page runs over its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    /// Natural keys, A to Z.
    Ascending,
    /// Time-ordered ids (UUIDv7), newest first.
    NewestFirst,
}

/// Where a keyset page starts and how long it may be, as the caller decoded it.
#[derive(Debug, Clone, Default)]
pub struct Keyset {
    /// The key of the last row of the previous page.
    pub after: Option<String>,
    pub limit: u64,
}

/// Rows of `E` matching `condition`, ordered by the text column `key`, starting after
/// `keyset.after`; at most `keyset.limit`, plus whether more follow.
pub(super) async fn page<E>(
    db: &impl Conn,
    condition: impl IntoCondition,
    key: E::Column,
    order: Order,
    keyset: &Keyset,
) -> StoreResult<(Vec<E::Model>, bool)>
where
    E: EntityTrait,
{
    let limit = keyset.limit;
    let mut query: Select<E> = E::find().filter(condition);
    query = match (order, keyset.after.as_deref()) {
        (Order::Ascending, Some(after)) => query.filter(key.gt(after)),
        (Order::NewestFirst, Some(after)) => query.filter(key.lt(after)),
        (_, None) => query,
    };
    query = match order {
        Order::Ascending => query.order_by_asc(key),
        Order::NewestFirst => query.order_by_desc(key),
    };
    let mut rows = query.limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// The one row of `E` matching `condition`.
pub(super) async fn one<E: EntityTrait>(
    db: &impl Conn,
    condition: impl IntoCondition,
) -> StoreResult<Option<E::Model>> {
    Ok(E::find().filter(condition).one(db).await?)
}

/// Every row of `E` matching `condition`, ordered by `key`.
pub(super) async fn all<E: EntityTrait>(
    db: &impl Conn,
    condition: impl IntoCondition,
    key: E::Column,
) -> StoreResult<Vec<E::Model>> {
    Ok(E::find()
        .filter(condition)
        .order_by_asc(key)
        .all(db)
        .await?)
}

pub(super) async fn count<E: EntityTrait>(
    db: &impl Conn,
    condition: impl IntoCondition,
) -> StoreResult<u64>
where
    E::Model: Sync,
{
    Ok(E::find().filter(condition).count(db).await?)
}

/// Writes the changed columns of `row`; `Conflict(what)` when a unique key is taken.
pub(super) async fn update<A>(
    db: &impl Conn,
    row: A,
    what: impl FnOnce() -> String,
) -> StoreResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    row.update(db)
        .await
        .map_err(|e| super::conflict_or_db(e, what))
}

/// Inserts `row`; `Conflict(what)` when a unique key is taken.
pub(super) async fn insert<A>(
    db: &impl Conn,
    row: A,
    what: impl FnOnce() -> String,
) -> StoreResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    row.insert(db)
        .await
        .map_err(|e| super::conflict_or_db(e, what))
}

/// Deletes the rows of `E` matching `condition`; returns how many.
pub(super) async fn delete<E: EntityTrait>(
    db: &impl Conn,
    condition: impl IntoCondition,
) -> StoreResult<u64> {
    Ok(E::delete_many()
        .filter(condition)
        .exec(db)
        .await?
        .rows_affected)
}

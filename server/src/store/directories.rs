//! A realm's LDAP / Active Directory directories, by name, and the links from directory
//! entries to the users made from them.

use chrono::{DateTime, Utc};
use entity::{directory, directory_link};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use super::rows::{self, Keyset, Order};
use super::{Conn, StoreResult};

pub type DirectoryRow = directory::Model;
pub type DirectoryLinkRow = directory_link::Model;

pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<DirectoryRow>, bool)> {
    rows::page::<directory::Entity>(
        db,
        directory::Column::RealmId.eq(realm_id),
        directory::Column::Name,
        Order::Ascending,
        keyset,
    )
    .await
}

/// The realm's enabled directories, by name (the order the password step asks them in).
pub async fn enabled(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<DirectoryRow>> {
    rows::all::<directory::Entity>(
        db,
        Condition::all()
            .add(directory::Column::RealmId.eq(realm_id))
            .add(directory::Column::Enabled.eq(true)),
        directory::Column::Name,
    )
    .await
}

pub async fn find(db: &impl Conn, realm_id: &str, name: &str) -> StoreResult<Option<DirectoryRow>> {
    rows::one::<directory::Entity>(
        db,
        Condition::all()
            .add(directory::Column::RealmId.eq(realm_id))
            .add(directory::Column::Name.eq(name)),
    )
    .await
}

pub async fn find_by_id(db: &impl Conn, id: &str) -> StoreResult<Option<DirectoryRow>> {
    rows::one::<directory::Entity>(db, directory::Column::Id.eq(id)).await
}

/// Inserts the directory; `Conflict` when the realm has one of its name.
pub async fn insert(db: &impl Conn, row: DirectoryRow) -> StoreResult<DirectoryRow> {
    let what = format!("directory `{}`", row.name);
    rows::insert(db, row.into_active_model().reset_all(), || what).await
}

/// Writes every column of `row`, stamped `now`.
pub async fn replace(
    db: &impl Conn,
    mut row: DirectoryRow,
    now: DateTime<Utc>,
) -> StoreResult<DirectoryRow> {
    row.updated_at = now;
    let what = format!("directory `{}`", row.name);
    rows::update(db, row.into_active_model().reset_all(), || what).await
}

/// Deletes the directory (its links go with it; the users stay).
pub async fn delete(db: &impl Conn, id: &str) -> StoreResult<u64> {
    rows::delete::<directory::Entity>(db, directory::Column::Id.eq(id)).await
}

/// The link of a directory entry.
pub async fn link_of_subject(
    db: &impl Conn,
    directory_id: &str,
    subject: &str,
) -> StoreResult<Option<DirectoryLinkRow>> {
    rows::one::<directory_link::Entity>(
        db,
        Condition::all()
            .add(directory_link::Column::DirectoryId.eq(directory_id))
            .add(directory_link::Column::Subject.eq(subject)),
    )
    .await
}

/// How many users were made from entries of the directory.
pub async fn count_links(db: &impl Conn, directory_id: &str) -> StoreResult<u64> {
    rows::count::<directory_link::Entity>(db, directory_link::Column::DirectoryId.eq(directory_id))
        .await
}

/// The user's link to a directory, if the user was made from one.
pub async fn link_of_user(db: &impl Conn, user_id: &str) -> StoreResult<Option<DirectoryLinkRow>> {
    rows::one::<directory_link::Entity>(db, directory_link::Column::UserId.eq(user_id)).await
}

pub struct NewLink<'a> {
    pub realm_id: &'a str,
    pub directory_id: &'a str,
    pub user_id: &'a str,
    pub subject: &'a str,
    pub dn: &'a str,
}

/// Inserts the link; `Conflict` when the entry or the user is linked already.
pub async fn insert_link(
    db: &impl Conn,
    new: NewLink<'_>,
    now: DateTime<Utc>,
) -> StoreResult<DirectoryLinkRow> {
    let row = directory_link::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(new.realm_id.to_string()),
        directory_id: Set(new.directory_id.to_string()),
        user_id: Set(new.user_id.to_string()),
        subject: Set(new.subject.to_string()),
        dn: Set(new.dn.to_string()),
        created_at: Set(now),
        last_login_at: Set(now),
    };
    rows::insert(db, row, || "link to the directory entry".to_string()).await
}

/// Records a sign-in through the link (and the entry's DN, which may have moved).
pub async fn touch_link(db: &impl Conn, id: &str, dn: &str, now: DateTime<Utc>) -> StoreResult<()> {
    directory_link::Entity::update_many()
        .col_expr(directory_link::Column::LastLoginAt, Expr::value(now))
        .col_expr(directory_link::Column::Dn, Expr::value(dn))
        .filter(directory_link::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

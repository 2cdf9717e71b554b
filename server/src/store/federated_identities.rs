//! Links from upstream accounts (provider + upstream subject) to local users.

use chrono::{DateTime, Utc};
use entity::{federated_identity, identity_provider};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set};

use super::rows;
use super::{Conn, StoreResult};

pub type FederatedIdentityRow = federated_identity::Model;

/// The link of this upstream account.
pub async fn find(
    db: &impl Conn,
    provider_id: &str,
    subject: &str,
) -> StoreResult<Option<FederatedIdentityRow>> {
    rows::one::<federated_identity::Entity>(
        db,
        Condition::all()
            .add(federated_identity::Column::ProviderId.eq(provider_id))
            .add(federated_identity::Column::Subject.eq(subject)),
    )
    .await
}

/// A link to insert.
pub struct NewLink<'a> {
    pub realm_id: &'a str,
    pub provider_id: &'a str,
    pub user_id: &'a str,
    pub subject: &'a str,
    pub upstream_username: Option<&'a str>,
}

/// Inserts the link; `Conflict` when the upstream account is linked already, or the user
/// already has an account of this provider.
pub async fn insert(
    db: &impl Conn,
    new: NewLink<'_>,
    now: DateTime<Utc>,
) -> StoreResult<FederatedIdentityRow> {
    let row = federated_identity::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(new.realm_id.to_string()),
        provider_id: Set(new.provider_id.to_string()),
        user_id: Set(new.user_id.to_string()),
        subject: Set(new.subject.to_string()),
        upstream_username: Set(new.upstream_username.map(str::to_string)),
        created_at: Set(now),
        last_login_at: Set(now),
    };
    rows::insert(db, row, || "link to the upstream account".to_string()).await
}

/// Records a sign-in through the link.
pub async fn touch(db: &impl Conn, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    federated_identity::Entity::update_many()
        .col_expr(federated_identity::Column::LastLoginAt, Expr::value(now))
        .filter(federated_identity::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A user's link with the provider it goes to.
pub struct UserLink {
    pub link: FederatedIdentityRow,
    pub alias: String,
    pub display_name: String,
}

/// The user's links, by provider alias.
pub async fn of_user(db: &impl Conn, user_id: &str) -> StoreResult<Vec<UserLink>> {
    let rows = federated_identity::Entity::find()
        .filter(federated_identity::Column::UserId.eq(user_id))
        .find_also_related(identity_provider::Entity)
        .order_by_asc(federated_identity::Column::CreatedAt)
        .all(db)
        .await?;
    let mut links: Vec<UserLink> = rows
        .into_iter()
        .filter_map(|(link, provider)| {
            provider.map(|p| UserLink {
                link,
                alias: p.alias,
                display_name: p.display_name,
            })
        })
        .collect();
    links.sort_by(|a, b| a.alias.cmp(&b.alias));
    Ok(links)
}

/// How many users are linked to accounts of the provider.
pub async fn count_of_provider(db: &impl Conn, provider_id: &str) -> StoreResult<u64> {
    rows::count::<federated_identity::Entity>(
        db,
        federated_identity::Column::ProviderId.eq(provider_id),
    )
    .await
}

/// Removes the user's link with the provider; returns how many went (0 or 1).
pub async fn delete(db: &impl Conn, user_id: &str, provider_id: &str) -> StoreResult<u64> {
    rows::delete::<federated_identity::Entity>(
        db,
        Condition::all()
            .add(federated_identity::Column::UserId.eq(user_id))
            .add(federated_identity::Column::ProviderId.eq(provider_id)),
    )
    .await
}

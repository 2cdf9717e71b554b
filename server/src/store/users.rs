//! Users of a realm and their roles.

use chrono::{DateTime, Utc};
use entity::{role, user, user_role};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::Value;

use super::rows::{self, Keyset, Order};
use super::{conflict_or_db, Conn, StoreError, StoreResult};

pub type StoredUser = user::Model;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: Option<String>,
    pub email: Option<String>,
    pub claims: Value,
    pub roles: Vec<String>,
    pub enabled: bool,
}

pub async fn find_by_username(
    db: &impl Conn,
    realm_id: &str,
    username: &str,
) -> StoreResult<Option<StoredUser>> {
    Ok(user::Entity::find()
        .filter(user::Column::RealmId.eq(realm_id))
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?)
}

/// The realm's user with this email address, compared without regard to case; `None` too when
/// several users share the address (it names nobody in particular).
pub async fn find_by_email(
    db: &impl Conn,
    realm_id: &str,
    email: &str,
) -> StoreResult<Option<StoredUser>> {
    use sea_orm::sea_query::{Func, SimpleExpr};
    use sea_orm::QuerySelect;
    let lowered: SimpleExpr = Func::lower(Expr::col(user::Column::Email)).into();
    let mut found = user::Entity::find()
        .filter(user::Column::RealmId.eq(realm_id))
        .filter(lowered.eq(email.to_lowercase()))
        .limit(2)
        .all(db)
        .await?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}

pub async fn insert(
    db: &impl Conn,
    realm_id: &str,
    new: &NewUser,
    now: DateTime<Utc>,
) -> StoreResult<StoredUser> {
    let row = user::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        username: Set(new.username.clone()),
        password_hash: Set(new.password_hash.clone()),
        email: Set(new.email.clone()),
        email_verified: Set(false),
        claims: Set(new.claims.clone()),
        enabled: Set(new.enabled),
        failed_login_count: Set(0),
        last_failed_login_at: Set(None),
        locked_until: Set(None),
        password_changed_at: Set(new.password_hash.as_ref().map(|_| now)),
        required_actions: Set(super::json_list(&[])),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or_db(e, || format!("user `{}`", new.username)))?;
    for role_name in &new.roles {
        let role_id = ensure_role(db, realm_id, role_name, now).await?;
        user_role::ActiveModel {
            user_id: Set(row.id.clone()),
            role_id: Set(role_id),
        }
        .insert(db)
        .await?;
    }
    Ok(row)
}

/// The role's id, creating the role when the realm lacks it.
pub async fn ensure_role(
    db: &impl Conn,
    realm_id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    if let Some(existing) = role::Entity::find()
        .filter(role::Column::RealmId.eq(realm_id))
        .filter(role::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Ok(existing.id);
    }
    match super::roles::insert(db, realm_id, name, None, now).await {
        Ok(created) => Ok(created.id),
        // Someone else added it meanwhile (outside a transaction): take theirs.
        Err(StoreError::Conflict(_)) => super::roles::find(db, realm_id, name)
            .await?
            .map(|r| r.id)
            .ok_or_else(|| StoreError::Conflict(format!("role `{name}`"))),
        Err(e) => Err(e),
    }
}

pub async fn role_names(db: &impl Conn, user_id: &str) -> StoreResult<Vec<String>> {
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .find_also_related(role::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(_, r)| r.map(|r| r.name))
        .collect())
}

/// How an attempt counted against the lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts counted in the current window, this one included.
    pub count: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// When attempts lock an account (the store's view of the lockout policy).
#[derive(Debug, Clone, Copy)]
pub struct LockRule {
    pub threshold: i32,
    /// Attempts before this instant no longer count.
    pub window_start: DateTime<Utc>,
    /// Until when the attempt that reaches the threshold locks the account.
    pub lock_until: DateTime<Utc>,
}

/// Counts a failed attempt in one statement, so that no interleaving of concurrent failures
/// loses one: the increment, the window and the threshold check are evaluated by the database
/// on the row as it is. A lock in force is kept; the failure that reaches the threshold sets it.
/// Returns the row's state after the increment, read in the same transaction (the row stays
/// locked against other writers until then).
pub async fn record_failure(
    db: &(impl Conn + TransactionTrait),
    user_id: &str,
    rule: LockRule,
    now: DateTime<Utc>,
) -> StoreResult<Option<AttemptCount>> {
    let count = || -> SimpleExpr {
        Expr::case(
            Expr::col(user::Column::LockedUntil).gt(now),
            Expr::col(user::Column::FailedLoginCount).add(1),
        )
        .case(
            Expr::col(user::Column::LastFailedLoginAt).gte(rule.window_start),
            Expr::col(user::Column::FailedLoginCount).add(1),
        )
        .finally(1)
        .into()
    };
    let locked_until: SimpleExpr = Expr::case(
        Expr::col(user::Column::LockedUntil).gt(now),
        Expr::col(user::Column::LockedUntil),
    )
    .case(Expr::expr(count()).gte(rule.threshold), rule.lock_until)
    .finally(Expr::value(Option::<DateTime<Utc>>::None))
    .into();
    let txn = db.begin().await?;
    // Every right-hand side reads the row as it was before this update (SQLite and Postgres).
    user::Entity::update_many()
        .col_expr(user::Column::LockedUntil, locked_until)
        .col_expr(user::Column::FailedLoginCount, count())
        .col_expr(user::Column::LastFailedLoginAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    let row = user::Entity::find_by_id(user_id).one(&txn).await?;
    txn.commit().await?;
    Ok(row.map(|u| AttemptCount {
        count: u.failed_login_count,
        locked_until: u.locked_until,
    }))
}

/// Lifts a lock that has run out, resetting the counter; returns whether this call lifted it.
pub async fn lift_expired_lock(
    db: &impl Conn,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::FailedLoginCount, Expr::value(0))
        .col_expr(
            user::Column::LastFailedLoginAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::LockedUntil.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A right answer resets the failure counter, unless the account is locked right now (a lock
/// that landed while it was being judged). Returns whether the account was free.
pub async fn clear_failures_unless_locked(
    db: &impl Conn,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::FailedLoginCount, Expr::value(0))
        .col_expr(
            user::Column::LastFailedLoginAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(
            Condition::any()
                .add(user::Column::LockedUntil.is_null())
                .add(user::Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Resets the failure counter and lifts any lock.
pub async fn clear_failures(db: &impl Conn, user_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    user::ActiveModel {
        id: Set(user_id.to_string()),
        failed_login_count: Set(0),
        last_failed_login_at: Set(None),
        locked_until: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// The actions an administrator asked the user to take at their next sign-in.
pub fn required_actions(user: &StoredUser) -> StoreResult<Vec<String>> {
    super::string_list(&user.required_actions, "users.required_actions")
}

/// Replaces the user's required actions.
pub async fn set_required_actions(
    db: &impl Conn,
    user_id: &str,
    actions: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    user::ActiveModel {
        id: Set(user_id.to_string()),
        required_actions: Set(super::json_list(actions)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Marks `action` done: removed from the user's required actions as they are now.
pub async fn complete_required_action(
    db: &impl Conn,
    user_id: &str,
    action: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(current) = find(db, user_id).await? else {
        return Ok(());
    };
    let actions = required_actions(&current)?;
    if !actions.iter().any(|a| a == action) {
        return Ok(());
    }
    let remaining: Vec<String> = actions.into_iter().filter(|a| a != action).collect();
    set_required_actions(db, user_id, &remaining, now).await
}

pub async fn find(db: &impl Conn, user_id: &str) -> StoreResult<Option<StoredUser>> {
    Ok(user::Entity::find_by_id(user_id).one(db).await?)
}

pub async fn set_password_hash(
    db: &impl Conn,
    user_id: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    user::ActiveModel {
        id: Set(user_id.to_string()),
        password_hash: Set(Some(hash.to_string())),
        password_changed_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Marks the user's email address verified.
pub async fn set_email_verified(
    db: &impl Conn,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    user::ActiveModel {
        id: Set(user_id.to_string()),
        email_verified: Set(true),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn set_enabled(
    db: &impl Conn,
    user_id: &str,
    enabled: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    user::ActiveModel {
        id: Set(user_id.to_string()),
        enabled: Set(enabled),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Ids of the realm's enabled users holding any of the roles `names` directly.
pub async fn enabled_holders_of(
    db: &impl Conn,
    realm_id: &str,
    names: &[String],
) -> StoreResult<Vec<String>> {
    let role_ids: Vec<String> = role::Entity::find()
        .filter(role::Column::RealmId.eq(realm_id))
        .filter(role::Column::Name.is_in(names.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if role_ids.is_empty() {
        return Ok(Vec::new());
    }
    let links = user_role::Entity::find()
        .filter(user_role::Column::RoleId.is_in(role_ids))
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    let mut holders: Vec<String> = links
        .into_iter()
        .filter_map(|(_, user)| user.filter(|u| u.enabled).map(|u| u.id))
        .collect();
    holders.sort();
    holders.dedup();
    Ok(holders)
}

/// Role names of each of `user_ids`, in one query.
pub async fn roles_of(
    db: &impl Conn,
    user_ids: &[String],
) -> StoreResult<std::collections::HashMap<String, Vec<String>>> {
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.is_in(user_ids.iter().cloned()))
        .find_also_related(role::Entity)
        .all(db)
        .await?;
    let mut roles: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (link, role) in rows {
        if let Some(role) = role {
            roles.entry(link.user_id).or_default().push(role.name);
        }
    }
    for names in roles.values_mut() {
        names.sort();
    }
    Ok(roles)
}

/// Replaces the user's roles with `names`, creating roles the realm lacks.
pub async fn set_roles(
    db: &impl Conn,
    realm_id: &str,
    user_id: &str,
    names: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    for name in names {
        let role_id = ensure_role(db, realm_id, name, now).await?;
        user_role::ActiveModel {
            user_id: Set(user_id.to_string()),
            role_id: Set(role_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// One keyset page of the realm's users by username, only those whose username starts with
/// `prefix` (ignoring ASCII case) when one is given.
pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    prefix: Option<&str>,
    keyset: &Keyset,
) -> StoreResult<(Vec<StoredUser>, bool)> {
    let mut condition = Condition::all().add(user::Column::RealmId.eq(realm_id));
    if let Some(prefix) = prefix {
        condition = condition.add(rows::starts_with_ignoring_case(
            user::Column::Username,
            prefix,
        ));
    }
    rows::page::<user::Entity>(
        db,
        condition,
        user::Column::Username,
        Order::Ascending,
        keyset,
    )
    .await
}

pub async fn find_in_realm(
    db: &impl Conn,
    realm_id: &str,
    user_id: &str,
) -> StoreResult<Option<StoredUser>> {
    rows::one::<user::Entity>(
        db,
        Condition::all()
            .add(user::Column::RealmId.eq(realm_id))
            .add(user::Column::Id.eq(user_id)),
    )
    .await
}

/// Usernames of each of `user_ids` that exists, in one query.
pub async fn usernames(
    db: &impl Conn,
    user_ids: Vec<String>,
) -> StoreResult<std::collections::HashMap<String, String>> {
    Ok(
        rows::all::<user::Entity>(db, user::Column::Id.is_in(user_ids), user::Column::Id)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect(),
    )
}

/// What an admin edit changes of a user; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<Option<String>>,
    pub email_verified: Option<bool>,
    pub claims: Option<Value>,
}

/// Writes `changes` over `row`; `Conflict` naming the new username when it is taken.
pub async fn update(
    db: &impl Conn,
    row: StoredUser,
    changes: UserChanges,
    now: DateTime<Utc>,
) -> StoreResult<StoredUser> {
    let what = format!("user `{}`", changes.username.clone().unwrap_or_default());
    let mut active = row.into_active_model();
    if let Some(username) = changes.username {
        active.username = Set(username);
    }
    if let Some(email) = changes.email {
        active.email = Set(email);
    }
    if let Some(verified) = changes.email_verified {
        active.email_verified = Set(verified);
    }
    if let Some(claims) = changes.claims {
        active.claims = Set(claims);
    }
    active.updated_at = Set(now);
    rows::update(db, active, || what).await
}

/// Marks the address of a just-created user as verified (its `updated_at` stays).
pub async fn mark_email_verified(db: &impl Conn, row: StoredUser) -> StoreResult<StoredUser> {
    let mut active = row.into_active_model();
    active.email_verified = Set(true);
    Ok(active.update(db).await?)
}

pub async fn delete(db: &impl Conn, user_id: &str) -> StoreResult<u64> {
    rows::delete::<user::Entity>(db, user::Column::Id.eq(user_id)).await
}

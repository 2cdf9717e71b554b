//! Single sign-on sessions: who signed in, when, and which clients took part (for logout).

use chrono::{DateTime, Utc};
use entity::session;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, Set};

use super::rows::{self, Keyset, Order};
use super::{json_list, string_list, Conn, StoreResult};

pub type StoredSession = session::Model;

pub struct NewSession<'a> {
    pub realm_id: &'a str,
    pub user_id: &'a str,
    pub cookie_scope: &'a str,
    pub auth_time: DateTime<Utc>,
    /// The level reached (`None` is level 1).
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub expires_at: DateTime<Utc>,
    pub device: &'a Device,
    /// The upstream provider the user signed in through (its alias).
    pub idp: Option<&'a str>,
}

/// Where a sign-in came from, as the server saw it: shown to admins and to the user in their
/// session lists, never used to decide anything.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The longest user agent kept; longer ones are cut (at a character boundary).
const USER_AGENT_MAX: usize = 256;

impl Device {
    pub fn new(ip_address: Option<String>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|ua| {
                ua.chars()
                    .filter(|c| !c.is_control())
                    .take(USER_AGENT_MAX)
                    .collect::<String>()
            })
            .filter(|ua| !ua.trim().is_empty());
        Self {
            ip_address,
            user_agent,
        }
    }
}

pub async fn create(
    db: &impl Conn,
    new: NewSession<'_>,
    now: DateTime<Utc>,
) -> StoreResult<StoredSession> {
    Ok(session::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(new.realm_id.to_string()),
        user_id: Set(new.user_id.to_string()),
        cookie_scope: Set(new.cookie_scope.to_string()),
        client_ids: Set(json_list(&[])),
        auth_time: Set(new.auth_time),
        acr: Set(new.acr.map(str::to_string)),
        amr: Set(json_list(new.amr)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(new.expires_at),
        ended_at: Set(None),
        ip_address: Set(new.device.ip_address.clone()),
        user_agent: Set(new.device.user_agent.clone()),
        idp: Set(new.idp.map(str::to_string)),
    }
    .insert(db)
    .await?)
}

/// The session, live or not.
pub async fn find(db: &impl Conn, id: &str) -> StoreResult<Option<StoredSession>> {
    Ok(session::Entity::find_by_id(id).one(db).await?)
}

/// The session if it is still live at `now`.
pub async fn live(
    db: &impl Conn,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoredSession>> {
    Ok(session::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| s.ended_at.is_none() && s.expires_at > now))
}

/// Records a further authentication in the session (a second factor: step-up), which raises
/// its `acr` and sets the methods used (`amr`).
pub async fn raise_level(
    db: &impl Conn,
    id: &str,
    acr: &str,
    amr: &[String],
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    use sea_orm::QueryFilter;
    let result = session::Entity::update_many()
        .col_expr(session::Column::Acr, Expr::value(acr))
        .col_expr(session::Column::Amr, Expr::value(json_list(amr)))
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records that `client_id` received tokens in this session.
pub async fn add_client(
    db: &impl Conn,
    session: &StoredSession,
    client_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut clients = string_list(&session.client_ids, "sessions.client_ids")?;
    if !clients.iter().any(|c| c == client_id) {
        clients.push(client_id.to_string());
    }
    session::ActiveModel {
        id: Set(session.id.clone()),
        client_ids: Set(json_list(&clients)),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Ends the session; returns it as it was when live. Of concurrent callers only one gets it
/// (the update is conditional), so only one notifies its clients.
pub async fn end(
    db: &impl Conn,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoredSession>> {
    use sea_orm::sea_query::Expr;
    use sea_orm::QueryFilter;
    let Some(found) = live(db, id, now).await? else {
        return Ok(None);
    };
    let ended = session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(Some(now)))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok((ended.rows_affected == 1).then_some(found))
}

pub fn client_ids(session: &StoredSession) -> StoreResult<Vec<String>> {
    string_list(&session.client_ids, "sessions.client_ids")
}

/// Deletes up to `batch` sessions that expired or ended more than a day ago.
pub async fn delete_expired(db: &impl Conn, now: DateTime<Utc>, batch: u64) -> StoreResult<u64> {
    use sea_orm::{ColumnTrait, Condition, QueryFilter, QuerySelect};
    let cutoff = now - chrono::Duration::days(1);
    let ids: Vec<String> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lte(cutoff))
                .add(session::Column::EndedAt.lte(cutoff)),
        )
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(session::Entity::delete_many()
        .filter(session::Column::Id.is_in(ids))
        .exec(db)
        .await?
        .rows_affected)
}

/// The user's live sessions at `now`, newest first (a user has few).
pub async fn live_of_user(
    db: &impl Conn,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<StoredSession>> {
    use sea_orm::{QueryFilter, QueryOrder};
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::EndedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .order_by_desc(session::Column::CreatedAt)
        .all(db)
        .await?)
}

/// One keyset page of the realm's live sessions at `now`, newest first.
pub async fn page_live(
    db: &impl Conn,
    realm_id: &str,
    now: DateTime<Utc>,
    keyset: &Keyset,
) -> StoreResult<(Vec<StoredSession>, bool)> {
    rows::page::<session::Entity>(
        db,
        Condition::all()
            .add(session::Column::RealmId.eq(realm_id))
            .add(session::Column::EndedAt.is_null())
            .add(session::Column::ExpiresAt.gt(now)),
        session::Column::Id,
        Order::NewestFirst,
        keyset,
    )
    .await
}

//! Token-exchange policies and the issuers whose JWTs a realm accepts as subject tokens.

use chrono::{DateTime, Utc};
use entity::{exchange_policy, trusted_issuer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use super::rows::{self, Keyset, Order};
use super::{conflict_or_db, json_list, string_list, Conn, StoreResult};

/// A policy's row as stored, for the admin service's views.
pub type PolicyRow = exchange_policy::Model;

/// Which client may exchange, for which audiences and scopes, tokens of which subject clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangePolicy {
    pub client_id: String,
    pub audiences: Vec<String>,
    pub scopes: Vec<String>,
    pub subject_clients: Vec<String>,
    pub allow_delegation: bool,
    /// How many actors a delegation chain may name at most.
    pub max_delegation_depth: i32,
}

pub async fn policy_for(
    db: &impl Conn,
    realm_id: &str,
    client_id: &str,
) -> StoreResult<Option<ExchangePolicy>> {
    let Some(row) = exchange_policy::Entity::find()
        .filter(exchange_policy::Column::RealmId.eq(realm_id))
        .filter(exchange_policy::Column::ClientId.eq(client_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(ExchangePolicy {
        audiences: string_list(&row.audiences, "exchange_policies.audiences")?,
        scopes: string_list(&row.scopes, "exchange_policies.scopes")?,
        subject_clients: string_list(&row.subject_clients, "exchange_policies.subject_clients")?,
        allow_delegation: row.allow_delegation,
        max_delegation_depth: row.max_delegation_depth,
        client_id: row.client_id,
    }))
}

pub async fn insert_policy(
    db: &impl Conn,
    realm_id: &str,
    policy: &ExchangePolicy,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    exchange_policy::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        client_id: Set(policy.client_id.clone()),
        audiences: Set(json_list(&policy.audiences)),
        scopes: Set(json_list(&policy.scopes)),
        subject_clients: Set(json_list(&policy.subject_clients)),
        allow_delegation: Set(policy.allow_delegation),
        max_delegation_depth: Set(policy.max_delegation_depth),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or_db(e, || format!("exchange policy for `{}`", policy.client_id)))?;
    Ok(())
}

/// The JWKS URL of a trusted issuer of the realm.
pub async fn trusted_jwks_url(
    db: &impl Conn,
    realm_id: &str,
    issuer: &str,
) -> StoreResult<Option<String>> {
    Ok(trusted_issuer::Entity::find()
        .filter(trusted_issuer::Column::RealmId.eq(realm_id))
        .filter(trusted_issuer::Column::Issuer.eq(issuer))
        .one(db)
        .await?
        .map(|row| row.jwks_url))
}

pub async fn insert_trusted_issuer(
    db: &impl Conn,
    realm_id: &str,
    issuer: &str,
    jwks_url: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    trusted_issuer::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        issuer: Set(issuer.to_string()),
        jwks_url: Set(jwks_url.to_string()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or_db(e, || format!("trusted issuer `{issuer}`")))?;
    Ok(())
}

// ---- for the admin service --------------------------------------------------------------

/// One keyset page of the realm's policies, by the client they govern.
pub async fn policy_page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<PolicyRow>, bool)> {
    rows::page::<exchange_policy::Entity>(
        db,
        exchange_policy::Column::RealmId.eq(realm_id),
        exchange_policy::Column::ClientId,
        Order::Ascending,
        keyset,
    )
    .await
}

/// Every policy of the realm, by the client they govern.
pub async fn policies_in(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<PolicyRow>> {
    rows::all::<exchange_policy::Entity>(
        db,
        exchange_policy::Column::RealmId.eq(realm_id),
        exchange_policy::Column::ClientId,
    )
    .await
}

pub async fn find_policy(
    db: &impl Conn,
    realm_id: &str,
    client_id: &str,
) -> StoreResult<Option<PolicyRow>> {
    rows::one::<exchange_policy::Entity>(
        db,
        Condition::all()
            .add(exchange_policy::Column::RealmId.eq(realm_id))
            .add(exchange_policy::Column::ClientId.eq(client_id)),
    )
    .await
}

/// Inserts the policy; `Conflict` when the client has one.
pub async fn insert_policy_row(
    db: &impl Conn,
    realm_id: &str,
    policy: &ExchangePolicy,
    now: DateTime<Utc>,
) -> StoreResult<PolicyRow> {
    let row = exchange_policy::ActiveModel {
        id: Set(crate::crypto::random::id()),
        realm_id: Set(realm_id.to_string()),
        client_id: Set(policy.client_id.clone()),
        audiences: Set(json_list(&policy.audiences)),
        scopes: Set(json_list(&policy.scopes)),
        subject_clients: Set(json_list(&policy.subject_clients)),
        allow_delegation: Set(policy.allow_delegation),
        max_delegation_depth: Set(policy.max_delegation_depth),
        created_at: Set(now),
        updated_at: Set(now),
    };
    rows::insert(db, row, || {
        format!("exchange policy of `{}`", policy.client_id)
    })
    .await
}

/// What an edit changes of a policy; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct PolicyChanges {
    pub audiences: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub subject_clients: Option<Vec<String>>,
    pub allow_delegation: Option<bool>,
    pub max_delegation_depth: Option<i32>,
}

pub async fn update_policy(
    db: &impl Conn,
    row: PolicyRow,
    changes: PolicyChanges,
    now: DateTime<Utc>,
) -> StoreResult<PolicyRow> {
    let what = format!("exchange policy of `{}`", row.client_id);
    let mut active = row.into_active_model();
    if let Some(audiences) = &changes.audiences {
        active.audiences = Set(json_list(audiences));
    }
    if let Some(scopes) = &changes.scopes {
        active.scopes = Set(json_list(scopes));
    }
    if let Some(subjects) = &changes.subject_clients {
        active.subject_clients = Set(json_list(subjects));
    }
    if let Some(allow) = changes.allow_delegation {
        active.allow_delegation = Set(allow);
    }
    if let Some(depth) = changes.max_delegation_depth {
        active.max_delegation_depth = Set(depth);
    }
    active.updated_at = Set(now);
    rows::update(db, active, || what).await
}

pub async fn delete_policy(db: &impl Conn, pk: &str) -> StoreResult<u64> {
    rows::delete::<exchange_policy::Entity>(db, exchange_policy::Column::Id.eq(pk)).await
}

//! Realms: lookup by name, creation with their standard catalogue.

use chrono::{DateTime, Utc};
use entity::realm;
use entity::{api_resource, client, scope, session, signing_key, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use super::rows::{self, Keyset, Order};
use super::{conflict_or_db, Conn, StoreError, StoreResult};
use crate::domain::SigningAlg;
use crate::domain::{
    CookieMode, LifetimeOverrides, Realm, RealmMfa, RealmSecurity, RegistrationPolicy,
    SecurityProfile,
};
use crate::rate_limit::RateLimits;

/// A realm's row as stored, for the admin service's views.
pub type RealmRow = realm::Model;

/// What is needed to create a realm.
#[derive(Debug, Clone)]
pub struct NewRealm {
    pub name: String,
    pub display_name: Option<String>,
    pub enabled: bool,
    pub decentralized: bool,
    pub signing_alg: SigningAlg,
    pub id_token_signing_alg: SigningAlg,
    pub cookie_mode: CookieMode,
    pub lifetimes: LifetimeOverrides,
    pub mfa: RealmMfa,
    pub security: RealmSecurity,
}

impl NewRealm {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            display_name: None,
            enabled: true,
            decentralized: false,
            signing_alg: SigningAlg::ES256,
            id_token_signing_alg: SigningAlg::RS256,
            cookie_mode: CookieMode::Realm,
            lifetimes: LifetimeOverrides::default(),
            mfa: RealmMfa::default(),
            security: RealmSecurity::default(),
        }
    }
}

pub fn to_domain(row: realm::Model) -> StoreResult<Realm> {
    let alg = |s: &str| {
        SigningAlg::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown signing alg {s}")))
    };
    Ok(Realm {
        signing_alg: alg(&row.signing_alg)?,
        id_token_signing_alg: alg(&row.id_token_signing_alg)?,
        cookie_mode: CookieMode::parse(&row.cookie_mode).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown cookie mode {}", row.cookie_mode))
        })?,
        lifetimes: LifetimeOverrides {
            access_token: row.access_token_lifetime,
            refresh_token: row.refresh_token_lifetime,
            refresh_token_sliding: row.refresh_token_sliding_lifetime,
            id_token: row.id_token_lifetime,
            code: row.code_lifetime,
            device_code: row.device_code_lifetime,
            refresh_reuse_grace: row.refresh_reuse_grace,
        },
        mfa: RealmMfa::parse(&row.mfa)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown mfa policy {}", row.mfa)))?,
        security: RealmSecurity {
            require_par: row.require_par,
            use_dpop_nonce: row.use_dpop_nonce,
            profile: row
                .profile
                .as_deref()
                .map(|p| {
                    SecurityProfile::parse(p)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown realm profile {p}")))
                })
                .transpose()?,
            allow_private_fetch: row.allow_private_fetch,
            registration: RegistrationPolicy::parse(&row.registration).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown registration policy {}", row.registration))
            })?,
            client_id_metadata_documents: row.client_id_metadata_documents,
            self_service_scopes: self_service_scopes_of(row.self_service_scopes.as_deref()),
            rate_limits: rate_limits_of(row.rate_limits.as_deref()),
        },
        id: row.id,
        name: row.name,
        display_name: row.display_name,
        enabled: row.enabled,
        decentralized: row.decentralized,
        revocation_salt: row.revocation_salt,
    })
}

/// The stored form of the rate limits: NULL for the defaults.
fn rate_limits_column(security: &RealmSecurity) -> Option<String> {
    (security.rate_limits != RateLimits::default())
        .then(|| security.rate_limits.to_json().to_string())
}

/// The rate limits a column holds.
pub fn rate_limits_of(column: Option<&str>) -> RateLimits {
    column
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .map(|value| RateLimits::from_json(&value))
        .unwrap_or_default()
}

/// The stored form of the self-service scopes: NULL for the default list.
fn self_service_scopes_column(security: &RealmSecurity) -> Option<String> {
    security
        .self_service_scopes
        .as_ref()
        .map(|scopes| scopes.join(" "))
}

/// The self-service scopes a column holds.
pub fn self_service_scopes_of(column: Option<&str>) -> Option<Vec<String>> {
    column.map(|joined| {
        joined
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

pub async fn find_by_name(db: &impl Conn, name: &str) -> StoreResult<Option<Realm>> {
    realm::Entity::find()
        .filter(realm::Column::Name.eq(name))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

pub async fn list(db: &impl Conn) -> StoreResult<Vec<Realm>> {
    realm::Entity::find()
        .order_by_asc(realm::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Inserts the realm row; `Conflict` when the name is taken.
pub async fn insert(db: &impl Conn, new: &NewRealm, now: DateTime<Utc>) -> StoreResult<Realm> {
    let row = realm::ActiveModel {
        id: Set(crate::crypto::random::id()),
        name: Set(new.name.clone()),
        display_name: Set(new.display_name.clone()),
        enabled: Set(new.enabled),
        decentralized: Set(new.decentralized),
        signing_alg: Set(new.signing_alg.as_str().to_string()),
        id_token_signing_alg: Set(new.id_token_signing_alg.as_str().to_string()),
        cookie_mode: Set(new.cookie_mode.as_str().to_string()),
        access_token_lifetime: Set(new.lifetimes.access_token),
        refresh_token_lifetime: Set(new.lifetimes.refresh_token),
        refresh_token_sliding_lifetime: Set(new.lifetimes.refresh_token_sliding),
        id_token_lifetime: Set(new.lifetimes.id_token),
        code_lifetime: Set(new.lifetimes.code),
        device_code_lifetime: Set(new.lifetimes.device_code),
        refresh_reuse_grace: Set(new.lifetimes.refresh_reuse_grace),
        mfa: Set(new.mfa.as_str().to_string()),
        require_par: Set(new.security.require_par),
        use_dpop_nonce: Set(new.security.use_dpop_nonce),
        profile: Set(new.security.profile.map(|p| p.as_str().to_string())),
        allow_private_fetch: Set(new.security.allow_private_fetch),
        registration: Set(new.security.registration.as_str().to_string()),
        client_id_metadata_documents: Set(new.security.client_id_metadata_documents),
        self_service_scopes: Set(self_service_scopes_column(&new.security)),
        rate_limits: Set(rate_limits_column(&new.security)),
        revocation_salt: Set(crate::crypto::random::opaque_token()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or_db(e, || format!("realm `{}`", new.name)))?;
    to_domain(row)
}

/// One keyset page of every realm, by name.
pub async fn page(db: &impl Conn, keyset: &Keyset) -> StoreResult<(Vec<RealmRow>, bool)> {
    rows::page::<realm::Entity>(
        db,
        Condition::all(),
        realm::Column::Name,
        Order::Ascending,
        keyset,
    )
    .await
}

pub async fn find_row(db: &impl Conn, id: &str) -> StoreResult<Option<RealmRow>> {
    rows::one::<realm::Entity>(db, realm::Column::Id.eq(id)).await
}

/// Writes `settings` (all but the name) over `row`.
pub async fn update(
    db: &impl Conn,
    row: RealmRow,
    settings: &NewRealm,
    now: DateTime<Utc>,
) -> StoreResult<RealmRow> {
    let mut active = row.into_active_model();
    active.display_name = Set(settings.display_name.clone());
    active.enabled = Set(settings.enabled);
    active.decentralized = Set(settings.decentralized);
    active.signing_alg = Set(settings.signing_alg.as_str().to_string());
    active.id_token_signing_alg = Set(settings.id_token_signing_alg.as_str().to_string());
    active.cookie_mode = Set(settings.cookie_mode.as_str().to_string());
    active.access_token_lifetime = Set(settings.lifetimes.access_token);
    active.refresh_token_lifetime = Set(settings.lifetimes.refresh_token);
    active.refresh_token_sliding_lifetime = Set(settings.lifetimes.refresh_token_sliding);
    active.id_token_lifetime = Set(settings.lifetimes.id_token);
    active.code_lifetime = Set(settings.lifetimes.code);
    active.device_code_lifetime = Set(settings.lifetimes.device_code);
    active.refresh_reuse_grace = Set(settings.lifetimes.refresh_reuse_grace);
    active.mfa = Set(settings.mfa.as_str().to_string());
    active.require_par = Set(settings.security.require_par);
    active.use_dpop_nonce = Set(settings.security.use_dpop_nonce);
    active.profile = Set(settings.security.profile.map(|p| p.as_str().to_string()));
    active.allow_private_fetch = Set(settings.security.allow_private_fetch);
    active.registration = Set(settings.security.registration.as_str().to_string());
    active.client_id_metadata_documents = Set(settings.security.client_id_metadata_documents);
    active.self_service_scopes = Set(self_service_scopes_column(&settings.security));
    active.rate_limits = Set(rate_limits_column(&settings.security));
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Deletes the realm; everything in it goes with it (foreign keys cascade).
pub async fn delete(db: &impl Conn, id: &str) -> StoreResult<u64> {
    rows::delete::<realm::Entity>(db, realm::Column::Id.eq(id)).await
}

/// How much a realm holds at `now`.
#[derive(Debug, Clone, Copy)]
pub struct RealmCounts {
    pub clients: u64,
    pub users: u64,
    pub scopes: u64,
    pub api_resources: u64,
    pub active_sessions: u64,
    pub published_keys: u64,
}

pub async fn counts(db: &impl Conn, id: &str, now: DateTime<Utc>) -> StoreResult<RealmCounts> {
    Ok(RealmCounts {
        clients: rows::count::<client::Entity>(db, client::Column::RealmId.eq(id)).await?,
        users: rows::count::<user::Entity>(db, user::Column::RealmId.eq(id)).await?,
        scopes: rows::count::<scope::Entity>(db, scope::Column::RealmId.eq(id)).await?,
        api_resources: rows::count::<api_resource::Entity>(
            db,
            api_resource::Column::RealmId.eq(id),
        )
        .await?,
        active_sessions: rows::count::<session::Entity>(
            db,
            Condition::all()
                .add(session::Column::RealmId.eq(id))
                .add(session::Column::EndedAt.is_null())
                .add(session::Column::ExpiresAt.gt(now)),
        )
        .await?,
        published_keys: rows::count::<signing_key::Entity>(
            db,
            Condition::all()
                .add(signing_key::Column::RealmId.eq(id))
                .add(
                    Condition::any()
                        .add(signing_key::Column::Active.eq(true))
                        .add(signing_key::Column::PublishUntil.gt(now)),
                ),
        )
        .await?,
    })
}

//! Realms as code: a realm's configuration as one JSON document, read from its tables and
//! written back to them.
//!
//! Each item is its row's columns, less what ties it to one database (the realm's id, the
//! owner's id where an item is nested under its owner, `updated_at`) and state the server keeps
//! for itself (lockout counters, a factor's last use). Items are matched by their natural key
//! (a client's `client_id`, a user's `username`), so a document applies as well to a realm
//! made elsewhere; only what differs is written, so the same document twice changes nothing.
//! Sealed values (encrypted with the master key) and signing keys are exported only on request.

mod import;

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};

use entity::{
    api_resource, claim_type, client, client_secret, credential, directory, directory_link,
    exchange_policy, federated_identity, identity_provider, realm, realm_smtp, role,
    role_composite, scope, signing_key, trusted_issuer, user, user_role,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use import::{import, Imported};

use super::{Conn, StoreError};

/// The `format` every document carries; a later, incompatible shape gets a new one.
pub const FORMAT: &str = "tessera.realm/v1";

/// One item: a row's columns by name, with nested items of its own where it has them.
pub type Item = serde_json::Map<String, Value>;

/// A realm's configuration. Sections left out of a hand-written document import nothing, and
/// nothing is ever deleted for being absent; only the nested lists a document does carry
/// (a client's `secrets`, a user's `roles`, …) are made to match it exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmDocument {
    pub format: String,
    pub realm: Item,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Item>,
    #[serde(default)]
    pub claim_types: Vec<Item>,
    #[serde(default)]
    pub scopes: Vec<Item>,
    #[serde(default)]
    pub api_resources: Vec<Item>,
    /// Each with its `composites`: the names of the roles it includes.
    #[serde(default)]
    pub roles: Vec<Item>,
    /// Each with its `secrets` (hashes; sealed copies only with the keys).
    #[serde(default)]
    pub clients: Vec<Item>,
    #[serde(default)]
    pub identity_providers: Vec<Item>,
    #[serde(default)]
    pub directories: Vec<Item>,
    /// Each with its `roles` (names), `federated_identities` (by `provider` alias),
    /// `directory_links` (by `directory` name) and, with the keys, `credentials`.
    #[serde(default)]
    pub users: Vec<Item>,
    #[serde(default)]
    pub exchange_policies: Vec<Item>,
    #[serde(default)]
    pub trusted_issuers: Vec<Item>,
    /// Only with the keys; private halves stay sealed with the master key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_keys: Option<Vec<Item>>,
}

impl RealmDocument {
    /// The realm's name, as the document gives it.
    pub fn realm_name(&self) -> Option<&str> {
        self.realm.get("name").and_then(Value::as_str)
    }

    pub fn realm_id(&self) -> Option<&str> {
        self.realm.get("id").and_then(Value::as_str)
    }
}

/// Why a document cannot be imported. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The document says something no realm can hold; the message names the item and field.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Store(e.into())
    }
}

type ImportResult<T> = Result<T, ImportError>;

fn invalid(message: impl Into<String>) -> ImportError {
    ImportError::Invalid(message.into())
}

// Columns every item of a table leaves out, whatever the export asked for.
const REALM_OMITS: &[&str] = &["created_at", "updated_at"];
const SMTP_OMITS: &[&str] = &["realm_id", "updated_at"];
const CATALOG_OMITS: &[&str] = &["realm_id", "created_at", "updated_at"];
const SECRET_OMITS: &[&str] = &["client_pk"];
const USER_OMITS: &[&str] = &[
    "realm_id",
    "created_at",
    "updated_at",
    "failed_login_count",
    "last_failed_login_at",
    "locked_until",
];
const CREDENTIAL_OMITS: &[&str] = &["realm_id", "user_id", "last_used_step", "last_used_at"];
const LINK_OMITS: &[&str] = &[
    "realm_id",
    "user_id",
    "provider_id",
    "directory_id",
    "created_at",
    "last_login_at",
];
const KEY_OMITS: &[&str] = &["realm_id"];

// Sealed columns, exported only with the keys.
const REALM_SEALED: &[&str] = &["revocation_salt"];
const SMTP_SEALED: &[&str] = &["password_sealed"];
const SECRET_SEALED: &[&str] = &["sealed"];
const PROVIDER_SEALED: &[&str] = &["client_secret_sealed"];
const DIRECTORY_SEALED: &[&str] = &["bind_password_sealed"];

// ---------------------------------------------------------------------------------------------
// Export

/// The document of realm `realm_id`; sealed values and signing keys only with `include_keys`.
pub async fn export(
    db: &impl Conn,
    realm_id: &str,
    include_keys: bool,
) -> Result<RealmDocument, StoreError> {
    let sealed = |columns: &'static [&'static str]| if include_keys { &[][..] } else { columns };
    let realm = realm::Entity::find_by_id(realm_id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("realm {realm_id}")))?;
    let smtp = realm_smtp::Entity::find_by_id(realm_id).one(db).await?;

    let roles =
        realm_rows::<role::Entity, _>(db, role::Column::RealmId, role::Column::Name, realm_id)
            .await?;
    let role_names: BTreeMap<&str, &str> = roles
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let composites = role_composite::Entity::find()
        .join(
            sea_orm::JoinType::InnerJoin,
            role_composite::Relation::Role.def(),
        )
        .filter(role::Column::RealmId.eq(realm_id))
        .all(db)
        .await?;
    let mut composites_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for link in &composites {
        if let Some(child) = role_names.get(link.child_id.as_str()) {
            composites_of.entry(&link.role_id).or_default().push(child);
        }
    }

    let clients = realm_rows::<client::Entity, _>(
        db,
        client::Column::RealmId,
        client::Column::ClientId,
        realm_id,
    )
    .await?;
    let secrets = client_secret::Entity::find()
        .join(
            sea_orm::JoinType::InnerJoin,
            client_secret::Relation::Client.def(),
        )
        .filter(client::Column::RealmId.eq(realm_id))
        .order_by_asc(client_secret::Column::CreatedAt)
        .order_by_asc(client_secret::Column::Id)
        .all(db)
        .await?;
    let mut secrets_of: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for secret in &secrets {
        secrets_of
            .entry(&secret.client_pk)
            .or_default()
            .push(Value::Object(item_of(
                secret,
                &[SECRET_OMITS, sealed(SECRET_SEALED)],
            )));
    }

    let providers = realm_rows::<identity_provider::Entity, _>(
        db,
        identity_provider::Column::RealmId,
        identity_provider::Column::Alias,
        realm_id,
    )
    .await?;
    let provider_alias: BTreeMap<&str, &str> = providers
        .iter()
        .map(|p| (p.id.as_str(), p.alias.as_str()))
        .collect();
    let directories = realm_rows::<directory::Entity, _>(
        db,
        directory::Column::RealmId,
        directory::Column::Name,
        realm_id,
    )
    .await?;
    let directory_name: BTreeMap<&str, &str> = directories
        .iter()
        .map(|d| (d.id.as_str(), d.name.as_str()))
        .collect();

    let users =
        realm_rows::<user::Entity, _>(db, user::Column::RealmId, user::Column::Username, realm_id)
            .await?;
    let user_roles = user_role::Entity::find()
        .join(
            sea_orm::JoinType::InnerJoin,
            user_role::Relation::User.def(),
        )
        .filter(user::Column::RealmId.eq(realm_id))
        .all(db)
        .await?;
    let mut roles_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for link in &user_roles {
        if let Some(name) = role_names.get(link.role_id.as_str()) {
            roles_of.entry(&link.user_id).or_default().push(name);
        }
    }
    let federated = realm_rows::<federated_identity::Entity, _>(
        db,
        federated_identity::Column::RealmId,
        federated_identity::Column::Subject,
        realm_id,
    )
    .await?;
    let mut federated_of: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for identity in &federated {
        let mut item = item_of(identity, &[LINK_OMITS]);
        let alias = provider_alias
            .get(identity.provider_id.as_str())
            .copied()
            .unwrap_or_default();
        item.insert("provider".into(), alias.into());
        federated_of
            .entry(&identity.user_id)
            .or_default()
            .push(Value::Object(item));
    }
    let links = realm_rows::<directory_link::Entity, _>(
        db,
        directory_link::Column::RealmId,
        directory_link::Column::Subject,
        realm_id,
    )
    .await?;
    let mut links_of: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for link in &links {
        let mut item = item_of(link, &[LINK_OMITS]);
        let name = directory_name
            .get(link.directory_id.as_str())
            .copied()
            .unwrap_or_default();
        item.insert("directory".into(), name.into());
        links_of
            .entry(&link.user_id)
            .or_default()
            .push(Value::Object(item));
    }
    let mut credentials_of: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let credentials = if include_keys {
        realm_rows::<credential::Entity, _>(
            db,
            credential::Column::RealmId,
            credential::Column::Id,
            realm_id,
        )
        .await?
    } else {
        Vec::new()
    };
    for credential in &credentials {
        credentials_of
            .entry(&credential.user_id)
            .or_default()
            .push(Value::Object(item_of(credential, &[CREDENTIAL_OMITS])));
    }

    let mut document = RealmDocument {
        format: FORMAT.to_string(),
        realm: item_of(&realm, &[REALM_OMITS, sealed(REALM_SEALED)]),
        smtp: smtp.map(|s| item_of(&s, &[SMTP_OMITS, sealed(SMTP_SEALED)])),
        claim_types: items(
            &realm_rows::<claim_type::Entity, _>(
                db,
                claim_type::Column::RealmId,
                claim_type::Column::Name,
                realm_id,
            )
            .await?,
            &[CATALOG_OMITS],
        ),
        scopes: items(
            &realm_rows::<scope::Entity, _>(
                db,
                scope::Column::RealmId,
                scope::Column::Name,
                realm_id,
            )
            .await?,
            &[CATALOG_OMITS],
        ),
        api_resources: items(
            &realm_rows::<api_resource::Entity, _>(
                db,
                api_resource::Column::RealmId,
                api_resource::Column::Name,
                realm_id,
            )
            .await?,
            &[CATALOG_OMITS],
        ),
        roles: roles
            .iter()
            .map(|r| {
                let mut item = item_of(r, &[CATALOG_OMITS]);
                let names = composites_of.remove(r.id.as_str()).unwrap_or_default();
                item.insert("composites".into(), sorted_names(names));
                item
            })
            .collect(),
        clients: clients
            .iter()
            .map(|c| {
                let mut item = item_of(c, &[CATALOG_OMITS]);
                let secrets = secrets_of.remove(c.id.as_str()).unwrap_or_default();
                item.insert("secrets".into(), Value::Array(secrets));
                item
            })
            .collect(),
        identity_providers: items(&providers, &[CATALOG_OMITS, sealed(PROVIDER_SEALED)]),
        directories: items(&directories, &[CATALOG_OMITS, sealed(DIRECTORY_SEALED)]),
        users: users
            .iter()
            .map(|u| {
                let mut item = item_of(u, &[USER_OMITS]);
                let id = u.id.as_str();
                let roles = roles_of.remove(id).unwrap_or_default();
                item.insert("roles".into(), sorted_names(roles));
                let federated = federated_of.remove(id).unwrap_or_default();
                item.insert("federated_identities".into(), Value::Array(federated));
                let links = links_of.remove(id).unwrap_or_default();
                item.insert("directory_links".into(), Value::Array(links));
                if include_keys {
                    let credentials = credentials_of.remove(id).unwrap_or_default();
                    item.insert("credentials".into(), Value::Array(credentials));
                }
                item
            })
            .collect(),
        exchange_policies: items(
            &realm_rows::<exchange_policy::Entity, _>(
                db,
                exchange_policy::Column::RealmId,
                exchange_policy::Column::ClientId,
                realm_id,
            )
            .await?,
            &[CATALOG_OMITS],
        ),
        trusted_issuers: items(
            &realm_rows::<trusted_issuer::Entity, _>(
                db,
                trusted_issuer::Column::RealmId,
                trusted_issuer::Column::Issuer,
                realm_id,
            )
            .await?,
            &[CATALOG_OMITS],
        ),
        signing_keys: None,
    };
    if include_keys {
        let keys = realm_rows::<signing_key::Entity, _>(
            db,
            signing_key::Column::RealmId,
            signing_key::Column::CreatedAt,
            realm_id,
        )
        .await?;
        document.signing_keys = Some(items(&keys, &[KEY_OMITS]));
    }
    Ok(document)
}

/// Every row of a realm's table, in the order of `by` (so exports diff cleanly).
async fn realm_rows<E, C>(
    db: &impl Conn,
    realm_column: C,
    by: C,
    realm_id: &str,
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    Ok(E::find()
        .filter(realm_column.eq(realm_id))
        .order_by_asc(by)
        .all(db)
        .await?)
}

/// A row as an item: its columns less those of every `omits` list.
fn item_of<M: Serialize>(row: &M, omits: &[&[&str]]) -> Item {
    let Ok(Value::Object(mut columns)) = serde_json::to_value(row) else {
        unreachable!("entity models serialize as JSON objects")
    };
    for column in omits.iter().flat_map(|list| list.iter()) {
        columns.remove(*column);
    }
    truncate_timestamps(&mut columns);
    columns
}

/// Timestamps to the microsecond, the finest Postgres keeps (SQLite keeps nanoseconds), so
/// a document from one database compares equal to what the other stored. Timestamp columns
/// are the ones named `*_at` or `*_until`.
pub(super) fn truncate_timestamps(item: &mut Item) {
    for (column, value) in item.iter_mut() {
        if !(column.ends_with("_at") || column.ends_with("_until")) {
            continue;
        }
        let Some(parsed) = value
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        else {
            continue;
        };
        let utc = parsed.with_timezone(&Utc);
        let micros = utc.timestamp_subsec_nanos() / 1_000 * 1_000;
        if let Some(truncated) = utc.with_nanosecond(micros) {
            *value = json!(truncated);
        }
    }
}

fn items<M: Serialize>(rows: &[M], omits: &[&[&str]]) -> Vec<Item> {
    rows.iter().map(|row| item_of(row, omits)).collect()
}

fn sorted_names(mut names: Vec<&str>) -> Value {
    names.sort_unstable();
    Value::Array(names.into_iter().map(Value::from).collect())
}

/// On Postgres, makes imports of the realm `name` take turns across processes (a transaction
/// lock, released at commit or rollback). SQLite has one writer at a time already.
pub async fn lock_realm(db: &impl Conn, name: &str) -> Result<(), StoreError> {
    crate::store::advisory_lock(db, "tessera realm import ", name).await
}

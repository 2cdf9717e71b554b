//! Realms as code: a realm exported as one JSON document and imported back, by the command
//! line (`tessera export` / `tessera import`), the admin API and JSON seed files.
//!
//! An import runs in one transaction: it applies the document, checks what it wrote the way
//! the server will read it, and commits only then (or, for a dry run, rolls back and reports).
//! The same document twice changes nothing and records nothing.

use admin_model::ImportReport;
use chrono::Duration;

use crate::changes::Change;
use crate::keys::{KeyRing, KeyRingError};
use crate::state::AppState;
use crate::store::realm_document::{self, ImportError};
use crate::store::{self, StoreError};

pub use crate::store::realm_document::{RealmDocument, FORMAT};

static IMPORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many changes an import's audit event lists by name.
const AUDITED_CHANGES: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum RealmIoError {
    /// The document cannot be imported as it stands; the message says where and why.
    #[error("{0}")]
    Invalid(String),
    #[error("realm `{0}` not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyRingError),
}

impl From<ImportError> for RealmIoError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Invalid(message) => RealmIoError::Invalid(message),
            ImportError::Store(e) => RealmIoError::Store(e),
        }
    }
}

/// The document of realm `name`. With `include_keys` it carries the signing keys and sealed
/// secrets (still encrypted with the master key), and the export is audited.
pub async fn export(
    state: &AppState,
    name: &str,
    include_keys: bool,
    actor: &str,
) -> Result<RealmDocument, RealmIoError> {
    let store = &state.caches.store;
    let realm = find(state, name).await?;
    let document = realm_document::export(&store.db, &realm.id, include_keys).await?;
    if include_keys {
        store::audit::record(
            &store.db,
            store::audit::NewEvent {
                realm_id: Some(&realm.id),
                kind: "realm.exported",
                actor,
                target: Some(&realm.name),
                detail: serde_json::json!({"include_keys": true}),
            },
            state.now(),
        )
        .await?;
    }
    Ok(document)
}

/// Brings the realm the document names in line with it, creating the realm if need be.
pub async fn import(
    state: &AppState,
    mut document: RealmDocument,
    dry_run: bool,
    actor: &str,
) -> Result<ImportReport, RealmIoError> {
    if document.format != FORMAT {
        return Err(RealmIoError::Invalid(format!(
            "`format` must be \"{FORMAT}\", not \"{}\"",
            document.format
        )));
    }
    let name = document
        .realm_name()
        .filter(|n| crate::validation::is_realm_name(n))
        .ok_or_else(|| {
            RealmIoError::Invalid(
                "realm: `name` must be a realm name (a-z, 0-9, _ and -, at most 63)".into(),
            )
        })?
        .to_string();
    if name == crate::seeding::MASTER_REALM {
        // Its administrators guard the whole server: an import must not replace them.
        return Err(RealmIoError::Invalid(
            "realm `master` cannot be imported; manage it through the admin API".into(),
        ));
    }
    // One import at a time in a process: two imports of one new realm would otherwise race
    // to create it (and SQLite refuses a second writer mid-transaction).
    let _one_at_a_time = IMPORTS.lock().await;
    let store = &state.caches.store;
    let keys = &state.caches.keys;
    let now = state.now();
    let existing = store::realms::find_by_name(&store.db, &name).await?;
    reseal_for(state, &mut document, existing.as_ref()).await?;
    check_keys(keys, &document)?;
    // A new realm without keys in its document gets its own, made before the transaction.
    let new_keys = match (&existing, &document.signing_keys) {
        (None, None) => Some(keys.generate_initial().await?),
        _ => None,
    };
    let grace = match &existing {
        Some(realm) => crate::keys::rotation_grace(store, realm).await?,
        None => 0,
    };
    let retired_until = Duration::try_seconds(grace)
        .and_then(|grace| now.checked_add_signed(grace))
        .unwrap_or(now);

    let txn = store.begin().await?;
    // Imports of one realm from several processes (replicas seeding at once) take turns.
    realm_document::lock_realm(&txn, &name).await?;
    let mut imported = realm_document::import(&txn, &document, retired_until, now).await?;
    if imported.realm_created {
        if document.claim_types.is_empty() && document.scopes.is_empty() {
            crate::seeding::standard_catalogue(&txn, &imported.realm_id, now).await?;
            imported
                .changes
                .push("created the standard claim types and scopes".into());
        }
        if let Some(set) = new_keys {
            let kids = KeyRing::insert_set(&txn, &imported.realm_id, set, now).await?;
            imported
                .changes
                .push(format!("created signing keys {}", kids.join(", ")));
        }
    }
    check_written(state, &txn, &name, &document).await?;
    for user_id in &imported.passwords_changed {
        // As with any password change: the old password's sessions end.
        store::refresh::revoke_user_families(&txn, user_id, "password changed by import", now)
            .await?;
    }
    if !imported.changes.is_empty() && !dry_run {
        store::audit::record(
            &txn,
            store::audit::NewEvent {
                realm_id: Some(&imported.realm_id),
                kind: "realm.imported",
                actor,
                target: Some(&name),
                // The first changes, and how many there were: an import of a realm with many
                // users would otherwise write one huge audit row.
                detail: serde_json::json!({
                    "realm_created": imported.realm_created,
                    "change_count": imported.changes.len(),
                    "changes": imported.changes.iter().take(AUDITED_CHANGES).collect::<Vec<_>>(),
                }),
            },
            now,
        )
        .await?;
    }
    if dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        if !imported.changes.is_empty() {
            publish(state, &name, &imported.realm_id, &document).await;
        }
    }
    Ok(ImportReport {
        realm: name,
        realm_created: imported.realm_created,
        dry_run,
        changes: imported.changes,
    })
}

async fn find(state: &AppState, name: &str) -> Result<crate::domain::Realm, RealmIoError> {
    if !crate::validation::is_realm_name(name) {
        return Err(RealmIoError::NotFound(name.into()));
    }
    store::realms::find_by_name(&state.caches.store.db, name)
        .await?
        .ok_or_else(|| RealmIoError::NotFound(name.into()))
}

/// Sealed values bound to the realm's id, sealed again for the id of the realm they land in
/// (a document of a staging realm applied to the production realm of the same name). A value
/// that opens to what is stored already keeps the stored ciphertext, so importing the same
/// document again changes nothing.
async fn reseal_for(
    state: &AppState,
    document: &mut RealmDocument,
    existing: Option<&crate::domain::Realm>,
) -> Result<(), RealmIoError> {
    let (Some(realm), Some(from)) = (existing, document.realm_id().map(str::to_string)) else {
        return Ok(());
    };
    if realm.id == from {
        return Ok(());
    }
    let Some(smtp) = &mut document.smtp else {
        return Ok(());
    };
    let Some(serde_json::Value::String(sealed)) = smtp.get("password_sealed") else {
        return Ok(());
    };
    let mailer = &state.mailer;
    let stored = store::mail::smtp(&state.caches.store.db, &realm.id)
        .await?
        .and_then(|row| row.password_sealed);
    let resealed = match stored {
        Some(stored) if mailer.same_password(sealed, &from, &stored, &realm.id) => stored,
        _ => mailer
            .reseal_password(sealed, &from, &realm.id)
            .ok_or_else(|| {
                RealmIoError::Invalid(
                    "smtp: `password_sealed` was sealed with another master key".into(),
                )
            })?,
    };
    smtp.insert("password_sealed".into(), resealed.into());
    Ok(())
}

/// Refuses keys this server could never use (sealed with another master key, of an unknown
/// algorithm, or published with another key's public half), and a key set that would leave
/// an algorithm without an active key.
fn check_keys(keys: &KeyRing, document: &RealmDocument) -> Result<(), RealmIoError> {
    let Some(listed) = &document.signing_keys else {
        return Ok(());
    };
    for key in listed {
        let field = |name: &str| key.get(name).and_then(serde_json::Value::as_str);
        let kid = field("kid").unwrap_or("?");
        let public_jwk = key.get("public_jwk").cloned().unwrap_or_default();
        let why = keys.unusable(
            field("alg").unwrap_or_default(),
            kid,
            field("private_key_encrypted").unwrap_or_default(),
            &public_jwk,
        );
        if let Some(why) = why {
            return Err(RealmIoError::Invalid(format!(
                "signing key \"{kid}\": {why}"
            )));
        }
    }
    // A realm makes a key of a missing algorithm on first use (as a new realm does its RSA
    // key); a list of keys none of which is active is a document that lost something.
    let active = listed
        .iter()
        .any(|key| key.get("active") == Some(&serde_json::Value::Bool(true)));
    if !active {
        return Err(RealmIoError::Invalid(
            "signing_keys: no active key; list at least one (keys of the other algorithms are \
             made on first use)"
                .into(),
        ));
    }
    Ok(())
}

/// Reads back what the import wrote, as the server will: settings the server cannot use
/// (a lifetime out of range, a list that is not one, a provider or directory it cannot
/// configure, a value sealed with another master key) fail the import before it commits.
async fn check_written(
    state: &AppState,
    txn: &store::Tx,
    name: &str,
    document: &RealmDocument,
) -> Result<(), RealmIoError> {
    let invalid = |what: String| {
        move |e: &dyn std::fmt::Display| RealmIoError::Invalid(format!("{what}: {e}"))
    };
    let realm = store::realms::find_by_name(txn, name)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("realm {name}")))?;
    let realm_id = realm.id.as_str();
    crate::validation::lifetimes(&realm.lifetimes).map_err(|e| invalid("realm".into())(&e))?;
    let key = |item: &realm_document::Item, field: &str| {
        item.get(field)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    for item in &document.clients {
        let client_id = key(item, "client_id");
        if let Some(client) = store::clients::find(txn, realm_id, &client_id).await? {
            crate::validation::lifetimes(&client.lifetimes)
                .map_err(|e| invalid(format!("client \"{client_id}\""))(&e))?;
        }
    }
    store::catalog::load(txn, realm_id)
        .await
        .map_err(|e| invalid("scopes, API resources or roles".into())(&e))?;
    for item in &document.exchange_policies {
        let client_id = key(item, "client_id");
        store::exchange::policy_for(txn, realm_id, &client_id)
            .await
            .map_err(|e| invalid(format!("exchange policy \"{client_id}\""))(&e))?;
    }
    for item in &document.users {
        let username = key(item, "username");
        if let Some(user) = store::users::find_by_username(txn, realm_id, &username).await? {
            store::users::required_actions(&user)
                .map_err(|e| invalid(format!("user \"{username}\""))(&e))?;
        }
    }
    for item in &document.identity_providers {
        let alias = key(item, "alias");
        let row = store::identity_providers::find(txn, realm_id, &alias).await?;
        if row
            .as_ref()
            .and_then(crate::upstream::Provider::from_row)
            .is_none()
        {
            return Err(RealmIoError::Invalid(format!(
                "identity provider \"{alias}\": its settings are not ones Tessera can use"
            )));
        }
    }
    for item in &document.directories {
        let name = key(item, "name");
        let row = store::directories::find(txn, realm_id, &name).await?;
        if row
            .as_ref()
            .and_then(crate::ldap::Directory::from_row)
            .is_none()
        {
            return Err(RealmIoError::Invalid(format!(
                "directory \"{name}\": its settings are not ones Tessera can use"
            )));
        }
    }
    crate::master_key_rotation::check_realm(txn, &state.master_key, realm_id)
        .await
        .map_err(|e| RealmIoError::Invalid(e.to_string()))?;
    Ok(())
}

/// Tells every process's caches what the import changed.
async fn publish(state: &AppState, name: &str, realm_id: &str, document: &RealmDocument) {
    let caches = &state.caches;
    caches
        .publish(Change::Realm {
            name: name.to_string(),
        })
        .await;
    let realm_id = realm_id.to_string();
    caches
        .publish(Change::Catalog {
            realm_id: realm_id.clone(),
        })
        .await;
    caches
        .publish(Change::Keys {
            realm_id: realm_id.clone(),
        })
        .await;
    for client in &document.clients {
        if let Some(client_id) = client.get("client_id").and_then(serde_json::Value::as_str) {
            caches
                .publish(Change::Client {
                    realm_id: realm_id.clone(),
                    client_id: client_id.to_string(),
                })
                .await;
        }
    }
}

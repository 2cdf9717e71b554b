//! Rotating the master key in place (`tessera master-key rotate`).
//!
//! Every value sealed with the master key (signing keys, TOTP seeds, SMTP, LDAP and upstream
//! passwords, `client_secret_jwt` secrets) is opened with the current key and sealed with the
//! new one, in one transaction: a rotation that cannot open one of them changes nothing.
//! Subkeys derived from the master key (the peppers of client secret and recovery code
//! hashes, refresh token keys) keep their root, which the rotation stores sealed with the new
//! key: what was issued before the rotation keeps working after it.

use chrono::{DateTime, Utc};

use crate::crypto::master_key::MasterKey;
use crate::store::key_state::{self, Place};
use crate::store::{self, Conn, Store, StoreError};

/// What the derivation root is sealed for.
const ROOT_CONTEXT: &[u8] = b"tessera derivation root";

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(
        "TESSERA_MASTER_KEY does not open this database's key material; if the master key \
         was rotated, start with the new key"
    )]
    WrongKey,
    #[error("the new master key is the current one")]
    SameKey,
    #[error("{0} does not open with the current master key; nothing was changed")]
    Unopenable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The master key to run with: the configured key, deriving its subkeys from the root a
/// past rotation sealed in the database (or from itself, before any rotation).
pub async fn resolve(store: &Store, configured: MasterKey) -> Result<MasterKey, RotationError> {
    let Some(sealed) = key_state::derivation_root(&store.db).await? else {
        return Ok(configured);
    };
    let root: [u8; 32] = configured
        .open(&sealed, ROOT_CONTEXT)
        .ok()
        .and_then(|root| root.try_into().ok())
        .ok_or(RotationError::WrongKey)?;
    Ok(configured.with_derivation_root(root))
}

/// Seals everything sealed with `current` with `new` instead. Returns how many values were
/// sealed again. Servers still running with `current` must be stopped first: what they seal
/// afterwards, the new key cannot open.
pub async fn rotate(
    store: &Store,
    current: &MasterKey,
    new: MasterKey,
    now: DateTime<Utc>,
) -> Result<usize, RotationError> {
    if new.same_key_as(current) {
        return Err(RotationError::SameKey);
    }
    let new = new.with_derivation_root(current.derivation_root());
    let txn = store.begin().await?;
    key_state::lock_for_rotation(&txn).await?;
    let sealed = key_state::all_sealed(&txn, None).await?;
    for (place, value) in &sealed {
        let context = context_of(place);
        let plain = current
            .open(value, &context)
            .map_err(|_| RotationError::Unopenable(describe(place)))?;
        key_state::replace_sealed(&txn, place, new.seal(&plain, &context)).await?;
    }
    let root = new.seal(&current.derivation_root(), ROOT_CONTEXT);
    key_state::put_derivation_root(&txn, root, now).await?;
    store::audit::record(
        &txn,
        store::audit::NewEvent {
            realm_id: None,
            kind: "master_key.rotated",
            actor: "cli",
            target: None,
            detail: serde_json::json!({"resealed": sealed.len()}),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(sealed.len())
}

/// Opens every sealed value with `key`; returns how many there are, or the first that does
/// not open.
pub async fn check(store: &Store, key: &MasterKey) -> Result<usize, RotationError> {
    check_in(&store.db, key, None).await
}

/// As [`check`], for one realm's values, inside a transaction.
pub async fn check_realm(
    db: &impl Conn,
    key: &MasterKey,
    realm_id: &str,
) -> Result<usize, RotationError> {
    check_in(db, key, Some(realm_id)).await
}

async fn check_in(
    db: &impl Conn,
    key: &MasterKey,
    realm_id: Option<&str>,
) -> Result<usize, RotationError> {
    let sealed = key_state::all_sealed(db, realm_id).await?;
    for (place, value) in &sealed {
        key.open(value, &context_of(place))
            .map_err(|_| RotationError::Unopenable(describe(place)))?;
    }
    Ok(sealed.len())
}

/// What a value was sealed for (the AEAD's associated data), as its owner seals it.
fn context_of(place: &Place) -> Vec<u8> {
    match place {
        Place::SigningKey { kid, .. } => kid.as_bytes().to_vec(),
        Place::Totp { id } => crate::factors::totp_context(id),
        Place::SmtpPassword { realm_id } => crate::mail::password_context(realm_id),
        Place::ProviderSecret { .. } => crate::upstream::SECRET_CONTEXT.to_vec(),
        Place::BindPassword { .. } => crate::ldap::BIND_PASSWORD_CONTEXT.to_vec(),
        Place::ClientSecret { .. } => crate::client_keys::SECRET_SEAL_CONTEXT.to_vec(),
        Place::PendingLogin { .. } => crate::upstream::PENDING_CONTEXT.to_vec(),
    }
}

fn describe(place: &Place) -> String {
    match place {
        Place::SigningKey { kid, .. } => format!("signing key {kid}"),
        Place::Totp { id } => format!("TOTP credential {id}"),
        Place::SmtpPassword { realm_id } => format!("the SMTP password of realm id {realm_id}"),
        Place::ProviderSecret { id } => format!("the client secret of identity provider {id}"),
        Place::BindPassword { id } => format!("the bind password of directory {id}"),
        Place::ClientSecret { id } => format!("client secret {id}"),
        Place::PendingLogin { id } => format!("upstream sign-in {id}, under way"),
    }
}

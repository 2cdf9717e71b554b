//! The server's own sealed key material, and every value sealed with the master key, read and
//! rewritten together when the master key is rotated.

use chrono::{DateTime, Utc};
use entity::{
    broker_login, client, client_secret, credential, directory, identity_provider, key_state,
    realm_smtp, signing_key,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, RelationTrait, Set};

use super::credentials::kind;
use super::{Conn, StoreResult};

/// The root that hashing and refresh-token keys derive from, once a rotation has set it.
const DERIVATION_ROOT: &str = "derivation_root";

/// The sealed derivation root, if a rotation has stored one.
pub async fn derivation_root(db: &impl Conn) -> StoreResult<Option<String>> {
    Ok(key_state::Entity::find_by_id(DERIVATION_ROOT)
        .one(db)
        .await?
        .map(|row| row.sealed))
}

pub async fn put_derivation_root(
    db: &impl Conn,
    sealed: String,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let row = key_state::ActiveModel {
        name: Set(DERIVATION_ROOT.to_string()),
        sealed: Set(sealed),
        updated_at: Set(now),
    };
    key_state::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(key_state::Column::Name)
                .update_columns([key_state::Column::Sealed, key_state::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Where a sealed value lives; what it was sealed for follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A realm's private signing key (sealed for its `kid`).
    SigningKey { id: String, kid: String },
    /// A user's TOTP seed, confirmed or pending (sealed for the credential's id).
    Totp { id: String },
    /// A realm's SMTP password (sealed for the realm's id).
    SmtpPassword { realm_id: String },
    /// An upstream identity provider's client secret.
    ProviderSecret { id: String },
    /// A directory's bind password.
    BindPassword { id: String },
    /// A `client_secret_jwt` client's secret.
    ClientSecret { id: String },
    /// A sign-in through an upstream provider, under way.
    PendingLogin { id: String },
}

/// Every value sealed with the master key, with where it lives: all of them, or those of
/// one realm.
pub async fn all_sealed(
    db: &impl Conn,
    realm_id: Option<&str>,
) -> StoreResult<Vec<(Place, String)>> {
    let mut found = Vec::new();
    let keys = signing_key::Entity::find()
        .apply_if(realm_id, |q, id| {
            q.filter(signing_key::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for key in keys {
        found.push((
            Place::SigningKey {
                id: key.id,
                kid: key.kid,
            },
            key.private_key_encrypted,
        ));
    }
    let totps = credential::Entity::find()
        .filter(credential::Column::Kind.eq(kind::TOTP))
        .apply_if(realm_id, |q, id| {
            q.filter(credential::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for totp in totps {
        found.push((Place::Totp { id: totp.id }, totp.secret));
    }
    let smtp = realm_smtp::Entity::find()
        .apply_if(realm_id, |q, id| {
            q.filter(realm_smtp::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for smtp in smtp {
        if let Some(sealed) = smtp.password_sealed {
            found.push((
                Place::SmtpPassword {
                    realm_id: smtp.realm_id,
                },
                sealed,
            ));
        }
    }
    let providers = identity_provider::Entity::find()
        .apply_if(realm_id, |q, id| {
            q.filter(identity_provider::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for provider in providers {
        if let Some(sealed) = provider.client_secret_sealed {
            found.push((Place::ProviderSecret { id: provider.id }, sealed));
        }
    }
    let directories = directory::Entity::find()
        .apply_if(realm_id, |q, id| {
            q.filter(directory::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for directory in directories {
        if let Some(sealed) = directory.bind_password_sealed {
            found.push((Place::BindPassword { id: directory.id }, sealed));
        }
    }
    let secrets = client_secret::Entity::find()
        .apply_if(realm_id, |q, id| {
            q.join(
                sea_orm::JoinType::InnerJoin,
                client_secret::Relation::Client.def(),
            )
            .filter(client::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for secret in secrets {
        if let Some(sealed) = secret.sealed {
            found.push((Place::ClientSecret { id: secret.id }, sealed));
        }
    }
    let logins = broker_login::Entity::find()
        .apply_if(realm_id, |q, id| {
            q.filter(broker_login::Column::RealmId.eq(id))
        })
        .all(db)
        .await?;
    for login in logins {
        found.push((Place::PendingLogin { id: login.id }, login.sealed));
    }
    Ok(found)
}

/// Writes `sealed` back where it came from.
pub async fn replace_sealed(db: &impl Conn, place: &Place, sealed: String) -> StoreResult<()> {
    match place {
        Place::SigningKey { id, .. } => {
            signing_key::Entity::update_many()
                .col_expr(signing_key::Column::PrivateKeyEncrypted, sealed.into())
                .filter(signing_key::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Place::Totp { id } => {
            credential::Entity::update_many()
                .col_expr(credential::Column::Secret, sealed.into())
                .filter(credential::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Place::SmtpPassword { realm_id } => {
            realm_smtp::Entity::update_many()
                .col_expr(realm_smtp::Column::PasswordSealed, sealed.into())
                .filter(realm_smtp::Column::RealmId.eq(realm_id))
                .exec(db)
                .await?;
        }
        Place::ProviderSecret { id } => {
            identity_provider::Entity::update_many()
                .col_expr(identity_provider::Column::ClientSecretSealed, sealed.into())
                .filter(identity_provider::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Place::BindPassword { id } => {
            directory::Entity::update_many()
                .col_expr(directory::Column::BindPasswordSealed, sealed.into())
                .filter(directory::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Place::ClientSecret { id } => {
            client_secret::Entity::update_many()
                .col_expr(client_secret::Column::Sealed, sealed.into())
                .filter(client_secret::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Place::PendingLogin { id } => {
            broker_login::Entity::update_many()
                .col_expr(broker_login::Column::Sealed, sealed.into())
                .filter(broker_login::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// On Postgres, holds off every write to the tables with sealed values until the rotation's
/// transaction ends, so no value sealed meanwhile with the old key is missed (SQLite has one
/// writer at a time already).
pub async fn lock_for_rotation(db: &impl Conn) -> StoreResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(
            "LOCK TABLE signing_keys, credentials, realm_smtp, identity_providers, directories, \
             client_secrets, broker_logins IN SHARE ROW EXCLUSIVE MODE",
        )
        .await?;
    }
    Ok(())
}

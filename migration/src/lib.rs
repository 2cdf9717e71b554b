//! Schema migrations of Tessera; they run unchanged on SQLite and Postgres.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial_schema;
mod m20261203_000001_reuse_grace_and_replays;
mod m20261203_000002_interactions;
mod m20261203_000003_second_factors;
mod m20261203_000004_email;
mod m20261204_000001_sessions_and_roles;
mod m20261205_000001_federation;
mod m20261205_000002_directories;
mod m20261206_000001_signed_requests;
mod m20261206_000002_registration;
mod m20261207_000001_realm_policies;
mod m20261208_000001_key_state;

/// Applies Tessera's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial_schema::Migration),
            Box::new(m20261203_000001_reuse_grace_and_replays::Migration),
            Box::new(m20261203_000002_interactions::Migration),
            Box::new(m20261203_000003_second_factors::Migration),
            Box::new(m20261203_000004_email::Migration),
            Box::new(m20261204_000001_sessions_and_roles::Migration),
            Box::new(m20261205_000001_federation::Migration),
            Box::new(m20261205_000002_directories::Migration),
            Box::new(m20261206_000001_signed_requests::Migration),
            Box::new(m20261206_000002_registration::Migration),
            Box::new(m20261207_000001_realm_policies::Migration),
            Box::new(m20261208_000001_key_state::Migration),
        ]
    }
}

/// Where a database stands against the migrations this build knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Known here and applied, in order.
    pub applied: Vec<String>,
    /// Known here, not applied yet, in order.
    pub pending: Vec<String>,
    /// Applied by a newer build: they only add, so this build can still run beside it during
    /// a rolling upgrade.
    pub newer: Vec<String>,
}

/// Reads the database's migration table (without creating it).
pub async fn status(db: &sea_orm::DatabaseConnection) -> Result<Status, DbErr> {
    use sea_orm::{EntityTrait, QueryOrder};
    use sea_orm_migration::seaql_migrations;

    let mut stored: Vec<String> = Vec::new();
    if SchemaManager::new(db).has_table("seaql_migrations").await? {
        stored = seaql_migrations::Entity::find()
            .order_by_asc(seaql_migrations::Column::Version)
            .all(db)
            .await?
            .into_iter()
            .map(|row| row.version)
            .collect();
    }
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let (applied, pending) = known
        .iter()
        .cloned()
        .partition(|name| stored.contains(name));
    let newer = stored
        .into_iter()
        .filter(|name| !known.contains(name))
        .collect();
    Ok(Status {
        applied,
        pending,
        newer,
    })
}

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
mod m20261207_000001_self_service_scopes;

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
            Box::new(m20261207_000001_self_service_scopes::Migration),
        ]
    }
}

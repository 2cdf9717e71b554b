//! What a realm lets clients do by themselves, and how fast: the scopes self-identifying
//! clients (open registration, client ID metadata documents) may ask for, space-separated, and
//! the request rate limits, as JSON. NULL in either means the defaults.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Added one statement each: SQLite alters one column at a time.
const COLUMNS: [Realms; 2] = [Realms::SelfServiceScopes, Realms::RateLimits];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Realms::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Realms::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Realms {
    Table,
    SelfServiceScopes,
    RateLimits,
}

//! Each realm's request rate limits (JSON: per endpoint group, per address and per client);
//! NULL for the defaults.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .add_column(ColumnDef::new(Realms::RateLimits).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .drop_column(Realms::RateLimits)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    RateLimits,
}

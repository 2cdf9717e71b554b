//! The scopes a realm lets clients ask for when they identify themselves (open dynamic
//! registration, client ID metadata documents): space-separated, NULL for the standard
//! OpenID scopes. An MCP server's realm lists its tools' scopes here.

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
                    .add_column(ColumnDef::new(Realms::SelfServiceScopes).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .drop_column(Realms::SelfServiceScopes)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    SelfServiceScopes,
}

//! Pending logins as server-side records: the authorization request (or device approval) a
//! browser is signing in for, the user once known, and the steps already done.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Interactions::Table)
                    .col(
                        ColumnDef::new(Interactions::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Interactions::RealmId).string().not_null())
                    .col(ColumnDef::new(Interactions::ClientId).string().not_null())
                    .col(ColumnDef::new(Interactions::Purpose).string().not_null())
                    .col(ColumnDef::new(Interactions::Request).text().not_null())
                    .col(ColumnDef::new(Interactions::UserId).string().null())
                    .col(
                        ColumnDef::new(Interactions::StepsDone)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Interactions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Interactions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Interactions::Table, Interactions::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_interactions_expires_at")
                    .table(Interactions::Table)
                    .col(Interactions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Interactions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Interactions {
    Table,
    Id,
    RealmId,
    ClientId,
    Purpose,
    Request,
    UserId,
    StepsDone,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

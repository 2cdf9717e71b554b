//! Email: a realm's SMTP settings (the password sealed with the master key) and single-use
//! action tokens sent by mail (password reset), stored as their hash.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RealmSmtp::Table)
                    .col(
                        ColumnDef::new(RealmSmtp::RealmId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RealmSmtp::Host).string().not_null())
                    .col(ColumnDef::new(RealmSmtp::Port).integer().not_null())
                    .col(ColumnDef::new(RealmSmtp::Security).string().not_null())
                    .col(ColumnDef::new(RealmSmtp::Username).string().null())
                    .col(ColumnDef::new(RealmSmtp::PasswordSealed).text().null())
                    .col(ColumnDef::new(RealmSmtp::FromAddress).string().not_null())
                    .col(
                        ColumnDef::new(RealmSmtp::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RealmSmtp::Table, RealmSmtp::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActionTokens::Table)
                    .col(
                        ColumnDef::new(ActionTokens::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ActionTokens::RealmId).string().not_null())
                    .col(ColumnDef::new(ActionTokens::UserId).string().not_null())
                    .col(ColumnDef::new(ActionTokens::Purpose).string().not_null())
                    .col(
                        ColumnDef::new(ActionTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ActionTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ActionTokens::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActionTokens::Table, ActionTokens::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActionTokens::Table, ActionTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_action_tokens_expires_at")
                    .table(ActionTokens::Table)
                    .col(ActionTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ActionTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RealmSmtp::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RealmSmtp {
    Table,
    RealmId,
    Host,
    Port,
    Security,
    Username,
    PasswordSealed,
    FromAddress,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ActionTokens {
    Table,
    Id,
    RealmId,
    UserId,
    Purpose,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

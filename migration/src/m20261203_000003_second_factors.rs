//! Second factors: a user's credentials besides the password (TOTP secrets sealed with the master
//! key, recovery codes stored hashed, passkeys' public keys), the second-factor policy of realms (`off`, `optional`,
//! `required`) and clients (`inherit`, `required`), and the actions an administrator asks a user
//! to take at their next sign-in.
//!
//! SQLite alters one column per statement, so each column is its own `ALTER TABLE`.

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
                    .add_column(
                        ColumnDef::new(Realms::Mfa)
                            .string()
                            .not_null()
                            .default("optional"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(
                        ColumnDef::new(Clients::Mfa)
                            .string()
                            .not_null()
                            .default("inherit"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::RequiredActions)
                            .json_binary()
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(
                        ColumnDef::new(Credentials::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Credentials::RealmId).string().not_null())
                    .col(ColumnDef::new(Credentials::UserId).string().not_null())
                    .col(ColumnDef::new(Credentials::Kind).string().not_null())
                    .col(ColumnDef::new(Credentials::Label).string().null())
                    .col(ColumnDef::new(Credentials::LookupKey).string().null())
                    .col(ColumnDef::new(Credentials::Secret).text().not_null())
                    .col(ColumnDef::new(Credentials::Confirmed).boolean().not_null())
                    .col(
                        ColumnDef::new(Credentials::LastUsedStep)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Credentials::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Credentials::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Credentials::Table, Credentials::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Credentials::Table, Credentials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credentials_user_kind")
                    .table(Credentials::Table)
                    .col(Credentials::UserId)
                    .col(Credentials::Kind)
                    .to_owned(),
            )
            .await?;
        // A passkey's credential id is found at sign-in, and belongs to one account per realm.
        manager
            .create_index(
                Index::create()
                    .name("idx_credentials_lookup_key")
                    .table(Credentials::Table)
                    .col(Credentials::RealmId)
                    .col(Credentials::LookupKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::RequiredActions)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(Clients::Mfa)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .drop_column(Realms::Mfa)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
    RealmId,
    UserId,
    Kind,
    Label,
    LookupKey,
    Secret,
    Confirmed,
    LastUsedStep,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    Mfa,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Mfa,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    RequiredActions,
}

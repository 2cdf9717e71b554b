//! Hardening of tokens in flight: a per-realm and per-client refresh reuse grace, the replay mark
//! of an authorization code, the sealed response a refresh within its grace repeats, and the
//! `acr`/`amr` of the sign-in a refresh-token family carries (ID tokens on refresh repeat them).
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
                        ColumnDef::new(Realms::RefreshReuseGrace)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(
                        ColumnDef::new(Clients::RefreshReuseGrace)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .add_column(
                        ColumnDef::new(AuthorizationCodes::ReplayedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(ColumnDef::new(RefreshTokens::SealedResponse).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokenFamilies::Table)
                    .add_column(ColumnDef::new(RefreshTokenFamilies::Acr).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokenFamilies::Table)
                    .add_column(
                        ColumnDef::new(RefreshTokenFamilies::Amr)
                            .json_binary()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [RefreshTokenFamilies::Amr, RefreshTokenFamilies::Acr] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RefreshTokenFamilies::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::SealedResponse)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .drop_column(AuthorizationCodes::ReplayedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(Clients::RefreshReuseGrace)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .drop_column(Realms::RefreshReuseGrace)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    RefreshReuseGrace,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RefreshReuseGrace,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    ReplayedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    SealedResponse,
}

#[derive(DeriveIden)]
enum RefreshTokenFamilies {
    Table,
    Acr,
    Amr,
}

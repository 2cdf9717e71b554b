//! Clients that register themselves (RFC 7591/7592) or identify by a metadata document: the
//! realm's registration policy and its client ID metadata document switch, the
//! initial access tokens administrators hand out, and what a registered client keeps (the hash
//! of its registration access token, where it came from).

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
                        ColumnDef::new(Realms::Registration)
                            .string()
                            .not_null()
                            .default("off"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Realms::Table)
                    .add_column(
                        ColumnDef::new(Realms::ClientIdMetadataDocuments)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [Clients::RegistrationTokenHash, Clients::RegisteredVia] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .add_column(ColumnDef::new(column).string().null())
                        .to_owned(),
                )
                .await?;
        }
        // Agents acting for users: how long a delegation chain (`act` nested) may grow.
        manager
            .alter_table(
                Table::alter()
                    .table(ExchangePolicies::Table)
                    .add_column(
                        ColumnDef::new(ExchangePolicies::MaxDelegationDepth)
                            .integer()
                            .not_null()
                            .default(3),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InitialAccessTokens::Table)
                    .col(
                        ColumnDef::new(InitialAccessTokens::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InitialAccessTokens::RealmId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InitialAccessTokens::TokenHash)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InitialAccessTokens::Description)
                            .string()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InitialAccessTokens::RemainingUses)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InitialAccessTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InitialAccessTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_initial_access_tokens_realm")
                            .from(InitialAccessTokens::Table, InitialAccessTokens::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_initial_access_tokens_hash")
                    .table(InitialAccessTokens::Table)
                    .col(InitialAccessTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InitialAccessTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ExchangePolicies::Table)
                    .drop_column(ExchangePolicies::MaxDelegationDepth)
                    .to_owned(),
            )
            .await?;
        for column in [Clients::RegisteredVia, Clients::RegistrationTokenHash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Realms::ClientIdMetadataDocuments, Realms::Registration] {
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

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    Registration,
    ClientIdMetadataDocuments,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RegistrationTokenHash,
    RegisteredVia,
}

#[derive(DeriveIden)]
enum ExchangePolicies {
    Table,
    MaxDelegationDepth,
}

#[derive(DeriveIden)]
enum InitialAccessTokens {
    Table,
    Id,
    RealmId,
    TokenHash,
    Description,
    RemainingUses,
    CreatedAt,
    ExpiresAt,
}

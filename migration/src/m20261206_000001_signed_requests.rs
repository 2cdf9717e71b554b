//! Keys instead of shared secrets and tokens bound to a key (CONTRACT §10): client key sets and
//! authentication methods, pushed authorization requests, single-use assertion ids, DPoP key
//! bindings of codes and refresh-token families, the resources a grant covers, and the realm
//! policies (`require_par`, `use_dpop_nonce`, `profile`, `allow_private_fetch`).
//!
//! SQLite alters one column per statement, so each column is its own `ALTER TABLE`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn flag(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

fn optional_text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).text().null().to_owned()
}

async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(column.to_owned())
                .to_owned(),
        )
        .await
}

async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            Clients::Table,
            optional_text(Clients::TokenEndpointAuthMethod),
        )
        .await?;
        add(manager, Clients::Table, optional_text(Clients::Jwks)).await?;
        add(manager, Clients::Table, optional_text(Clients::JwksUri)).await?;
        add(manager, Clients::Table, flag(Clients::RequirePar)).await?;
        add(
            manager,
            Clients::Table,
            flag(Clients::RequireSignedRequestObject),
        )
        .await?;
        add(
            manager,
            Clients::Table,
            flag(Clients::DpopBoundAccessTokens),
        )
        .await?;
        add(
            manager,
            ClientSecrets::Table,
            optional_text(ClientSecrets::Sealed),
        )
        .await?;
        add(manager, Realms::Table, flag(Realms::RequirePar)).await?;
        add(manager, Realms::Table, flag(Realms::UseDpopNonce)).await?;
        add(manager, Realms::Table, optional_text(Realms::Profile)).await?;
        add(manager, Realms::Table, flag(Realms::AllowPrivateFetch)).await?;
        add(
            manager,
            AuthorizationCodes::Table,
            optional_text(AuthorizationCodes::DpopJkt),
        )
        .await?;
        add(
            manager,
            AuthorizationCodes::Table,
            optional_text(AuthorizationCodes::Resources),
        )
        .await?;
        add(
            manager,
            RefreshTokenFamilies::Table,
            optional_text(RefreshTokenFamilies::DpopJkt),
        )
        .await?;
        add(
            manager,
            RefreshTokenFamilies::Table,
            optional_text(RefreshTokenFamilies::Resources),
        )
        .await?;

        // An assertion's `jti`, kept until the assertion expires so it is accepted once, by
        // every process sharing the database: the primary key makes the second insert fail.
        manager
            .create_table(
                Table::create()
                    .table(UsedJtis::Table)
                    .col(
                        ColumnDef::new(UsedJtis::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UsedJtis::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_used_jtis_expires_at")
                    .table(UsedJtis::Table)
                    .col(UsedJtis::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        // A pushed authorization request (RFC 9126), by the hash of its request_uri.
        manager
            .create_table(
                Table::create()
                    .table(PushedRequests::Table)
                    .col(
                        ColumnDef::new(PushedRequests::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PushedRequests::RealmId).string().not_null())
                    .col(ColumnDef::new(PushedRequests::ClientId).string().not_null())
                    .col(ColumnDef::new(PushedRequests::Params).text().not_null())
                    .col(
                        ColumnDef::new(PushedRequests::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pushed_requests_realm")
                            .from(PushedRequests::Table, PushedRequests::RealmId)
                            .to(Realms::Table, Realms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pushed_requests_expires_at")
                    .table(PushedRequests::Table)
                    .col(PushedRequests::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PushedRequests::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UsedJtis::Table).to_owned())
            .await?;
        drop(
            manager,
            RefreshTokenFamilies::Table,
            RefreshTokenFamilies::Resources,
        )
        .await?;
        drop(
            manager,
            RefreshTokenFamilies::Table,
            RefreshTokenFamilies::DpopJkt,
        )
        .await?;
        drop(
            manager,
            AuthorizationCodes::Table,
            AuthorizationCodes::Resources,
        )
        .await?;
        drop(
            manager,
            AuthorizationCodes::Table,
            AuthorizationCodes::DpopJkt,
        )
        .await?;
        drop(manager, Realms::Table, Realms::AllowPrivateFetch).await?;
        drop(manager, Realms::Table, Realms::Profile).await?;
        drop(manager, Realms::Table, Realms::UseDpopNonce).await?;
        drop(manager, Realms::Table, Realms::RequirePar).await?;
        drop(manager, ClientSecrets::Table, ClientSecrets::Sealed).await?;
        drop(manager, Clients::Table, Clients::DpopBoundAccessTokens).await?;
        drop(manager, Clients::Table, Clients::RequireSignedRequestObject).await?;
        drop(manager, Clients::Table, Clients::RequirePar).await?;
        drop(manager, Clients::Table, Clients::JwksUri).await?;
        drop(manager, Clients::Table, Clients::Jwks).await?;
        drop(manager, Clients::Table, Clients::TokenEndpointAuthMethod).await
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    TokenEndpointAuthMethod,
    Jwks,
    JwksUri,
    RequirePar,
    RequireSignedRequestObject,
    DpopBoundAccessTokens,
}

#[derive(DeriveIden)]
enum ClientSecrets {
    Table,
    Sealed,
}

#[derive(DeriveIden)]
enum Realms {
    Table,
    Id,
    RequirePar,
    UseDpopNonce,
    Profile,
    AllowPrivateFetch,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    DpopJkt,
    Resources,
}

#[derive(DeriveIden)]
enum RefreshTokenFamilies {
    Table,
    DpopJkt,
    Resources,
}

#[derive(DeriveIden)]
enum UsedJtis {
    Table,
    Id,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PushedRequests {
    Table,
    Id,
    RealmId,
    ClientId,
    Params,
    ExpiresAt,
}
